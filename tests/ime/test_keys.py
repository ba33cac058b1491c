"""KeyProcessor: every binding of the typing pad, Shift alone, punctuation, private fields;
no Qt. The application is simulated: what the processor does not handle, it types itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ime.config import Config
from ime.engine import Engine
from ime.keys import COMPOSING_KEYS, NO_MODS, KeyEvent, KeyProcessor, KeyResult, Mod


class App:
    """A text field with an input method: keys go to the processor first; what it does not
    handle the field types itself (letters, punctuation, Backspace, Return)."""

    def __init__(self, engine: Engine, text: str = "", recorder=None) -> None:
        self.text = text
        self.proc = KeyProcessor(engine.new_context(), recorder, lambda: self.text)
        self.committed: list[str] = []

    def send(self, ev: KeyEvent) -> KeyResult:
        r = self.proc.process(ev)
        if r.committed:
            self.committed.append(r.committed)
            self.text += r.committed
        elif not r.handled and not ev.release:
            if ev.keysym == "BackSpace":
                self.text = self.text[:-1]
            elif ev.keysym == "Return":
                self.text += "\n"
            else:
                self.text += ev.text
        return r

    def keys(self, chars: str) -> None:
        for ch in chars:
            self.send(KeyEvent.of(ch))

    def key(self, keysym: str, mods: Mod = NO_MODS) -> KeyResult:
        return self.send(KeyEvent(keysym, " " if keysym == "space" else "", mods))

    def shift(self) -> None:
        """Shift pressed and released alone."""
        self.send(KeyEvent("Shift_L"))
        self.send(KeyEvent("Shift_L", mods=Mod.SHIFT, release=True))

    @property
    def shown(self) -> list[str]:
        return [c.text for c in self.proc.state.candidates]


@pytest.fixture
def engine(engine_cache: Path) -> Engine:
    return Engine.load(Config(learning=False, lm=False), engine_cache, progress=False)


@pytest.fixture
def app(engine: Engine) -> App:
    return App(engine)


@pytest.fixture
def learning_engine(engine_cache: Path, tmp_path: Path) -> Iterator[Engine]:
    from ime.learner import open_learner

    learner = open_learner(tmp_path / "user.db")
    yield Engine.load(Config(lm=False, page_size=9), engine_cache, learner=learner,
                      progress=False)
    learner.close()


pytestmark = pytest.mark.needs_lexicon


def test_letters_compose_and_space_commits_the_highlighted(app: App) -> None:
    app.keys("nihao")
    assert app.proc.composing and app.text == "" and "你好" in app.shown
    assert app.proc.state.preedit == "ni'hao"
    top = app.shown[app.proc.state.highlighted]
    assert app.key("space").committed == top == "你好"
    assert app.text == "你好" and not app.proc.composing


@pytest.mark.parametrize("digit", [1, 2, 4])
def test_digits_select_on_the_page(app: App, digit: int) -> None:
    app.keys("nihao")
    shown = app.shown
    app.keys(str(digit))
    chosen = shown[digit - 1]
    if app.proc.composing:  # a word of part of the keys: picked, the rest still composing
        assert app.committed == [] and app.proc.state.preedit.startswith(chosen)
    else:
        assert app.committed == [chosen]


def test_a_digit_past_the_page_is_swallowed(engine: Engine) -> None:
    engine.set_config(engine.config.with_(page_size=3))
    app = App(engine)
    app.keys("nihao5")
    assert app.committed == [] and app.proc.composing and app.text == ""


def test_a_partial_pick_keeps_composing(app: App) -> None:
    app.keys("zhongguoren")
    app.keys(str(app.shown.index("中国") + 1))
    assert app.committed == [] and app.proc.state.preedit == "中国ren"
    app.key("space")
    assert app.committed[0].startswith("中国") and len(app.committed[0]) == 3


@pytest.mark.parametrize("forward,back", [("equal", "minus"), ("Page_Down", "Page_Up"),
                                          ("KP_Page_Down", "KP_Page_Up")])
def test_paging(app: App, forward: str, back: str) -> None:
    app.keys("zhongguoren")
    first = app.shown
    app.key(forward)
    assert app.proc.state.page == 1 and app.shown and not set(first) & set(app.shown)
    app.key(back)
    assert app.shown == first
    app.key(back)
    assert app.proc.state.page == 0


def test_the_minus_and_equal_characters_page(app: App) -> None:
    app.keys("zhongguoren=")
    assert app.proc.state.page == 1
    app.keys("-")
    assert app.proc.state.page == 0 and app.text == ""


def test_arrows_move_the_highlight(app: App) -> None:
    app.keys("nihao")
    shown = app.shown
    for k in ("Right", "Down", "Left"):
        app.key(k)
    assert app.proc.state.highlighted == 1
    app.key("space")
    assert app.committed == [shown[1]]


def test_backspace_equals_typing_from_scratch(engine: Engine) -> None:
    a, b = App(engine), App(engine)
    a.keys("nihaoma")
    a.key("BackSpace")
    a.key("BackSpace")
    b.keys("nihao")
    assert a.shown == b.shown and a.proc.state.preedit == "ni'hao"
    for _ in range(5):
        a.key("BackSpace")
    assert not a.proc.composing and a.text == ""  # the field's own Backspace was not sent


def test_escape_cancels_and_return_commits_the_letters(app: App) -> None:
    app.keys("nihao")
    assert app.key("Escape").handled
    assert app.text == "" and not app.proc.composing
    app.keys("nihao")
    assert app.key("Return").committed == "nihao"
    app.keys("nihao")
    assert app.key("KP_Enter").committed == "nihao"
    assert app.text == "nihaonihao"  # no newline: Return was the IME's


def test_every_composing_binding_is_handled(app: App) -> None:
    """Each key of COMPOSING_KEYS is consumed while composing (never reaches the field)."""
    for keysym in COMPOSING_KEYS:
        app.proc.cancel()
        app.keys("zhongguoren")
        assert app.key(keysym).handled, keysym
        assert "\n" not in app.text and " " not in app.text


def test_other_keys_are_swallowed_while_composing(app: App) -> None:
    app.keys("nihao")
    for ev in (KeyEvent("Tab"), KeyEvent.of("A", Mod.SHIFT), KeyEvent("Home")):
        assert app.send(ev).handled
    assert app.proc.composing and app.text == ""


def test_keys_pass_through_without_a_composition(engine: Engine) -> None:
    engine.set_config(engine.config.with_(chinese_punctuation=False))
    app = App(engine, "ab")
    app.key("BackSpace")
    app.keys("1 ,")
    app.send(KeyEvent.of("A", Mod.SHIFT))
    app.key("Return")
    assert app.text == "a1 ,A\n" and app.committed == [] and not app.proc.composing


def test_chords_pass_through(app: App) -> None:
    assert not app.send(KeyEvent.of("c", Mod.CTRL)).handled
    assert not app.send(KeyEvent.of("x", Mod.ALT)).handled
    app.keys("nihao")
    assert not app.send(KeyEvent.of("s", Mod.CTRL)).handled  # Ctrl+S saves, even composing
    assert app.proc.composing


def test_shift_alone_toggles_chinese_and_english(app: App) -> None:
    app.shift()
    assert not app.proc.chinese and not app.proc.state.chinese
    app.keys("nihao")
    assert app.text == "nihao" and not app.proc.composing
    # Shift used as a modifier (Shift+a) does not toggle
    app.send(KeyEvent("Shift_L"))
    app.send(KeyEvent.of("A", Mod.SHIFT))
    app.send(KeyEvent("Shift_L", mods=Mod.SHIFT, release=True))
    assert not app.proc.chinese and app.text == "nihaoA"
    app.send(KeyEvent("Shift_R"))
    app.send(KeyEvent("Shift_R", release=True))
    assert app.proc.chinese
    app.keys("ni")
    assert app.proc.composing


def test_a_focus_change_between_shift_press_and_release_does_not_toggle(app: App) -> None:
    app.send(KeyEvent("Shift_L"))
    app.proc.interrupt()
    app.send(KeyEvent("Shift_L", release=True))
    assert app.proc.chinese


def test_toggling_while_composing_commits_the_letters(app: App) -> None:
    app.keys("nihao")
    app.shift()
    assert app.committed == ["nihao"] and not app.proc.chinese and not app.proc.composing


def test_punctuation_takes_the_sentence_and_types_chinese_punctuation(app: App) -> None:
    app.keys("nihao")
    first = app.shown[0]
    r = app.send(KeyEvent.of(","))
    assert r.handled and r.committed == first + "，" and app.text == "你好，"
    assert not app.proc.composing


def test_punctuation_after_a_partial_pick_only_takes_the_highlighted(app: App) -> None:
    app.keys("zhongguoren")
    app.key("Right")
    highlighted = app.shown[1]
    r = app.send(KeyEvent.of("."))
    if app.proc.composing:  # a partial pick: no punctuation yet
        assert r.committed == "" and app.proc.state.preedit.startswith(highlighted)
    else:
        assert r.committed == highlighted + "。"


def test_punctuation_without_a_composition(app: App) -> None:
    app.keys('.?"\\"^_')
    assert app.committed == ["。", "？", "“", "、", "”", "……", "——"]


def test_a_number_keeps_its_ascii_point(app: App) -> None:
    app.keys("1,000.5:")
    assert app.text == "1,000.5:" and app.committed == []
    app.keys("nihao.")
    assert app.text == "1,000.5:你好。"


def test_chinese_punctuation_can_be_turned_off(engine: Engine) -> None:
    engine.set_config(engine.config.with_(chinese_punctuation=False))
    app = App(engine)
    app.keys("nihao,")
    assert app.proc.composing and app.committed == []  # swallowed, composition kept
    app.key("Escape")
    app.keys(",")
    assert app.text == ","


def test_the_left_context_follows_the_field(engine: Engine) -> None:
    app = App(engine, "大家好，")
    app.keys("nihao")
    assert app.proc.context.context == "大家好，"
    app.key("space")
    app.text = "别的"  # the user moved the cursor
    app.keys("n")
    assert app.proc.context.context == "别的"


def test_a_private_field_gets_plain_letters_and_nothing_is_learned(learning_engine) -> None:
    app = App(learning_engine)
    store = learning_engine.learner.store
    before = len(store)
    app.proc.set_private(True)
    app.keys("nihaoma")
    app.key("space")
    assert app.text == "nihaoma " and not app.proc.composing
    assert len(store) == before
    app.proc.set_private(False)
    app.keys("nihao")
    assert app.proc.composing


def test_ctrl_delete_forgets_the_highlighted_learned_word(learning_engine) -> None:
    app = App(learning_engine)
    word = "泥豪麻"
    for _ in range(8):  # assemble it from single characters until it is learned
        app.keys("nihaoma")
        for piece in "泥豪麻":
            while piece not in app.shown:
                app.key("equal")
            app.keys(str(app.shown.index(piece) + 1))
        app.keys("nihaoma")
        learned = [c.text for c in app.proc.state.candidates if c.learned]
        app.key("Escape")
        if word in learned:
            break
    else:
        raise AssertionError("not learned")
    app.keys("nihaoma")
    for _ in range(app.shown.index(word)):
        app.key("Right")
    r = app.key("Delete", Mod.CTRL)
    assert r.handled and r.forgotten is not None and r.forgotten[0] == word
    assert app.proc.composing and word not in [c.text for c in app.proc.context.candidates]


class BrokenRecorder:
    def __init__(self) -> None:
        self.calls = 0

    def record(self, keys, text, left, ts=None) -> None:
        self.calls += 1
        raise OSError(28, "No space left on device")


def test_a_recorder_that_cannot_write_pauses_and_the_commit_goes_through(engine) -> None:
    rec = BrokenRecorder()
    app = App(engine, recorder=rec)
    app.keys("nihao")
    assert app.key("space").committed == "你好"
    assert app.text == "你好" and rec.calls == 1
    assert any("No space left" in n for n in app.proc.notices())


def test_raw_letters_are_not_recorded(engine) -> None:
    class Recorder:
        units: list = []

        def record(self, keys, text, left, ts=None) -> None:
            self.units.append((keys, text, left))

    rec = Recorder()
    app = App(engine, "大家好，", recorder=rec)
    app.keys("nihao ")
    app.keys("abc")
    app.key("Return")
    assert rec.units == [("nihao", "你好", "大家好，")]


def test_wants_matches_process(app: App) -> None:
    """What `wants` says before a key is what `process` then does with it."""
    cases = [KeyEvent.of("a"), KeyEvent.of(","), KeyEvent.of("1"), KeyEvent("Return"),
             KeyEvent.of("c", Mod.CTRL), KeyEvent("Delete", mods=Mod.CTRL), KeyEvent("F1")]
    for composing in (False, True):
        for ev in cases:
            app.proc.cancel()
            if composing:
                app.keys("nihao")
            wants = app.proc.wants(ev)
            assert app.proc.process(ev).handled == wants, (composing, ev)


# ---- what is learned: a commit deleted at once, raw letters, fields that ask for privacy -----


def _commit_second(app: App, keys: str) -> str:
    """Type `keys` and take the second candidate (below the top: the learner gains it),
    then whatever the rest needs; returns what was committed."""
    app.keys(keys)
    app.keys("2")
    while app.proc.composing:
        app.key("space")
    return app.committed[-1]


def test_backspace_right_after_a_commit_undoes_its_learning(learning_engine) -> None:
    app = App(learning_engine)
    store = learning_engine.learner.store
    before = store.entries(include_deleted=True)
    top = learning_engine.convert("xianzai")[0].text
    text = _commit_second(app, "xianzai")
    learned = store.entries(include_deleted=True)
    assert text != top and any(e.word == text for e in learned)
    assert learning_engine.convert("xianzai")[0].text == text  # learned: it leads now
    r = app.key("BackSpace")
    assert not r.handled and app.text == text[:-1]  # the field deleted a character
    assert store.entries(include_deleted=True) == before
    assert learning_engine.convert("xianzai")[0].text == top  # as before the commit
    app.key("BackSpace")  # a second one deletes more text; nothing else to undo
    assert store.entries(include_deleted=True) == before


def test_backspace_after_more_typing_keeps_the_learning(learning_engine) -> None:
    app = App(learning_engine)
    store = learning_engine.learner.store
    text = _commit_second(app, "xianzai")
    learned = store.entries(include_deleted=True)
    app.keys("ni")  # composing again, then deleting those keys and the commit's text
    for _ in range(2 + len(text)):
        app.key("BackSpace")
    assert app.text == "" and store.entries(include_deleted=True) == learned
    # a punctuation key after the commit: Backspace deletes the punctuation, not the commit
    text = _commit_second(app, "shiyan")
    learned = store.entries(include_deleted=True)
    app.keys(",")
    app.key("BackSpace")
    assert app.text.endswith(text) and store.entries(include_deleted=True) == learned


def test_a_commit_of_raw_letters_is_not_learned(learning_engine) -> None:
    app = App(learning_engine)
    store = learning_engine.learner.store
    before = store.entries(include_deleted=True)
    app.keys("nihaov")  # v: a letter no syllable reads; candidates carry it as typed
    cands = app.proc.state.candidates
    assert any("v" in c.text for c in cands)
    app.keys(str([c.text for c in cands].index(next(c.text for c in cands if "v" in c.text))
                 + 1))
    while app.proc.composing:
        app.key("space")
    assert "v" in app.text and store.entries(include_deleted=True) == before
    app.keys("xianzai")
    app.key("Return")  # Enter: the letters as typed
    assert app.text.endswith("xianzai") and store.entries(include_deleted=True) == before
    _commit_second(app, "xianzai")  # the same processor still learns from candidates
    assert store.entries(include_deleted=True) != before


def test_a_field_that_asks_not_to_be_learned_from_composes_but_teaches_nothing(
        learning_engine) -> None:
    units = []

    class Recorder:
        def record(self, keys, text, left, ts=None) -> None:
            units.append(text)

    app = App(learning_engine, recorder=Recorder())
    store = learning_engine.learner.store
    before = store.entries(include_deleted=True)
    app.proc.set_incognito(True)
    assert app.proc.incognito
    text = _commit_second(app, "xianzai")
    assert text and app.text == text  # composed and committed as usual
    assert store.entries(include_deleted=True) == before and units == []
    app.proc.set_incognito(False)
    _commit_second(app, "xianzai")
    assert store.entries(include_deleted=True) != before and len(units) == 1
