"""ImeBridge: Qt key events translated into KeyEvents, and what comes back rendered (window,
preedit, commits). What each key means is tested without Qt in tests/ime/test_keys.py."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field

import pytest
from PyQt6.QtCore import QEvent, Qt
from PyQt6.QtGui import QKeyEvent, QTextCursor
from PyQt6.QtWidgets import QApplication, QPlainTextEdit

from evaluation.typing_log import TypingLogRecorder, read_log
from ime.keys import Mod
from ui.app import PadEditor
from ui.bridge import ImeBridge, key_event

pytestmark = pytest.mark.qt


@dataclass
class Rig:
    """A bridge on an editor, with every signal it emitted."""

    bridge: ImeBridge
    editor: QPlainTextEdit
    committed: list[str] = field(default_factory=list)
    preedits: list[str] = field(default_factory=list)
    modes: list[bool] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    @property
    def window(self):
        return self.bridge.window

    def texts(self) -> list[str]:
        """The candidates the window shows now."""
        return [c.text for c in self.window.state.candidates]


def make_rig(qtbot, engine, editor: QPlainTextEdit | None = None) -> Rig:
    editor = editor if editor is not None else QPlainTextEdit()
    qtbot.addWidget(editor)
    bridge = ImeBridge(engine, parent=editor)
    qtbot.addWidget(bridge.window)
    bridge.attach(editor)
    rig = Rig(bridge, editor)
    bridge.committed.connect(rig.committed.append)
    bridge.preedit_changed.connect(rig.preedits.append)
    bridge.mode_changed.connect(rig.modes.append)
    bridge.latency_ms.connect(rig.latencies.append)
    editor.show()
    return rig


@pytest.fixture
def rig(qtbot, make_engine) -> Rig:
    return make_rig(qtbot, make_engine())


def key(qtbot, rig: Rig, k: Qt.Key, mod=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(rig.editor, k, mod)


def shift_letter(rig: Rig, letter: str) -> None:
    """Shift+letter as a keyboard sends it (QTest would send the lowercase text)."""
    k = Qt.Key(ord(letter.upper()))
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(rig.editor, QKeyEvent(kind, k, Qt.KeyboardModifier.ShiftModifier,
                                                     letter.upper()))


def test_typing_nihao_shows_nihao(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.editor, "nihao")
    assert "你好" in rig.texts()
    assert "1. 你好" in rig.window.labels()
    assert rig.window.isVisible()
    assert rig.preedits[-1] == "ni'hao" == rig.window.preedit_text()
    assert rig.editor.toPlainText() == ""  # the letters went to the IME, not the editor
    assert len(rig.latencies) == 5 and all(ms > 0 for ms in rig.latencies)


def test_space_commits_the_highlighted_candidate(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.editor, "nihao")
    top = rig.texts()[rig.window.highlighted]
    key(qtbot, rig, Qt.Key.Key_Space)
    assert rig.committed == [top] == ["你好"]
    assert rig.preedits[-1] == ""
    assert not rig.window.isVisible()
    assert not rig.bridge.composing


def test_window_clicks_select_and_page(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.editor, "zhongguoren")
    rig.window.page_requested.emit(1)  # what a click on › emits
    assert rig.window.state.page == 1
    second = rig.texts()
    qtbot.mouseClick(rig.window, Qt.MouseButton.LeftButton,
                     pos=rig.window.candidate_rect(1).center())
    assert rig.preedits[-1].startswith(second[1])


def test_keys_pass_through_without_a_composition(qtbot, make_engine) -> None:
    rig = make_rig(qtbot, make_engine(chinese_punctuation=False))
    rig.editor.setPlainText("ab")
    rig.editor.moveCursor(QTextCursor.MoveOperation.End)
    key(qtbot, rig, Qt.Key.Key_Backspace)
    qtbot.keyClicks(rig.editor, "1 ,")
    shift_letter(rig, "a")
    key(qtbot, rig, Qt.Key.Key_Return)
    assert rig.editor.toPlainText() == "a1 ,A\n"
    assert rig.committed == [] and not rig.bridge.composing


def test_shift_alone_toggles_chinese_and_english(qtbot, rig: Rig) -> None:
    qtbot.keyPress(rig.editor, Qt.Key.Key_Shift)
    qtbot.keyRelease(rig.editor, Qt.Key.Key_Shift, Qt.KeyboardModifier.ShiftModifier)
    assert rig.modes == [False] and not rig.bridge.chinese
    qtbot.keyClicks(rig.editor, "nihao")
    assert rig.editor.toPlainText() == "nihao" and not rig.bridge.composing
    # Shift used as a modifier (Shift+a) does not toggle
    qtbot.keyPress(rig.editor, Qt.Key.Key_Shift)
    shift_letter(rig, "a")
    qtbot.keyRelease(rig.editor, Qt.Key.Key_Shift, Qt.KeyboardModifier.ShiftModifier)
    assert rig.modes == [False] and rig.editor.toPlainText() == "nihaoA"
    qtbot.keyClick(rig.editor, Qt.Key.Key_Shift)
    assert rig.modes == [False, True] and rig.bridge.chinese
    qtbot.keyClicks(rig.editor, "ni")
    assert rig.bridge.composing


def pick(qtbot, rig: Rig, text: str) -> None:
    """Page forward until `text` is on the page, then press its digit."""
    for _ in range(rig.window.state.page_count):
        if text in rig.texts():
            qtbot.keyClicks(rig.editor, str(rig.texts().index(text) + 1))
            return
        key(qtbot, rig, Qt.Key.Key_Equal)
    raise AssertionError(f"{text} is not among the candidates")


def learn(qtbot, rig: Rig, keys: str, pieces: list[str]) -> None:
    """Assemble `pieces` from `keys` until the engine offers the whole as a learned word."""
    word = "".join(pieces)
    for _ in range(8):
        qtbot.keyClicks(rig.editor, keys)
        for piece in pieces:
            pick(qtbot, rig, piece)
        assert rig.committed[-1] == word
        qtbot.keyClicks(rig.editor, keys)
        learned = [c.text for c in rig.window.state.candidates if c.learned]
        key(qtbot, rig, Qt.Key.Key_Escape)
        if word in learned:
            return
    raise AssertionError(f"{word} was not learned")


@pytest.mark.parametrize("how", ["ctrl-delete", "context-menu"])
def test_forget_removes_a_learned_word(qtbot, make_engine, how: str) -> None:
    engine = make_engine(learn=True, page_size=9)
    rig = make_rig(qtbot, engine)
    keys, word = "nihaoma", "泥豪麻"  # a new word, assembled from single characters
    qtbot.keyClicks(rig.editor, keys)
    assert word not in [c.text for c in rig.bridge.context.candidates]
    key(qtbot, rig, Qt.Key.Key_Escape)
    learn(qtbot, rig, keys, ["泥", "豪", "麻"])

    qtbot.keyClicks(rig.editor, keys)
    i = rig.texts().index(word)
    forgotten: list[tuple[str, int]] = []
    rig.bridge.forgotten.connect(lambda w, n: forgotten.append((w, n)))
    if how == "ctrl-delete":
        for _ in range(i):
            key(qtbot, rig, Qt.Key.Key_Right)
        key(qtbot, rig, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)
    else:
        rig.window.context_menu(i).actions()[0].trigger()
    assert forgotten and forgotten[0][0] == word and forgotten[0][1] >= 1
    assert rig.bridge.composing  # the composition goes on, re-decoded
    assert word not in [c.text for c in rig.bridge.context.candidates]  # every page
    assert word not in rig.texts()
    key(qtbot, rig, Qt.Key.Key_Escape)
    qtbot.keyClicks(rig.editor, keys)
    assert word not in [c.text for c in rig.bridge.context.candidates]


def test_recording_writes_a_valid_private_log(qtbot, make_engine, tmp_path) -> None:
    editor = PadEditor()
    rig = make_rig(qtbot, make_engine(), editor)
    rig.bridge.committed.connect(editor.commit_text)
    rig.bridge.preedit_changed.connect(editor.set_preedit)
    log = tmp_path / "data" / "delta-pinyin" / "typing-log.jsonl"
    rig.bridge.set_recorder(TypingLogRecorder(log))
    editor.setPlainText("大家好，")
    editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(editor, "nihao ")
    qtbot.keyClicks(editor, "woshi")
    pick(qtbot, rig, "我")
    pick(qtbot, rig, "是")
    qtbot.keyClicks(editor, "abc")
    key(qtbot, rig, Qt.Key.Key_Return)  # raw letters: not recorded
    assert editor.toPlainText() == "大家好，你好我是abc"

    records, bad = read_log(log)
    assert bad == []
    assert [(r.keys, r.text, r.context) for r in records] == [
        ("nihao", "你好", "大家好，"), ("woshi", "我是", "大家好，你好")]
    assert all(r.ts is not None for r in records)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600

    rig.bridge.set_recorder(None)
    qtbot.keyClicks(editor, "nihao ")
    assert len(read_log(log)[0]) == 2


def test_a_number_keeps_its_ascii_point(qtbot, make_engine) -> None:
    editor = PadEditor()  # inserts what the bridge commits, answers surrounding-text queries
    rig = make_rig(qtbot, make_engine(), editor)
    rig.bridge.committed.connect(editor.commit_text)
    qtbot.keyClicks(editor, "1,000.5:")
    assert editor.toPlainText() == "1,000.5:"
    qtbot.keyClicks(editor, "nihao.")
    assert editor.toPlainText() == "1,000.5:你好。"


@pytest.mark.parametrize("qt_key,text,mods,keysym,out_text", [
    (Qt.Key.Key_A, "a", Qt.KeyboardModifier.NoModifier, "a", "a"),
    (Qt.Key.Key_A, "A", Qt.KeyboardModifier.ShiftModifier, "A", "A"),
    (Qt.Key.Key_Apostrophe, "'", Qt.KeyboardModifier.NoModifier, "apostrophe", "'"),
    (Qt.Key.Key_Comma, ",", Qt.KeyboardModifier.NoModifier, "comma", ","),
    (Qt.Key.Key_Minus, "-", Qt.KeyboardModifier.NoModifier, "minus", "-"),
    (Qt.Key.Key_2, "2", Qt.KeyboardModifier.NoModifier, "2", "2"),
    (Qt.Key.Key_Space, " ", Qt.KeyboardModifier.NoModifier, "space", " "),
    (Qt.Key.Key_Backspace, "\x08", Qt.KeyboardModifier.NoModifier, "BackSpace", ""),
    (Qt.Key.Key_Return, "\r", Qt.KeyboardModifier.NoModifier, "Return", ""),
    (Qt.Key.Key_Enter, "\r", Qt.KeyboardModifier.KeypadModifier, "KP_Enter", ""),
    (Qt.Key.Key_Escape, "\x1b", Qt.KeyboardModifier.NoModifier, "Escape", ""),
    (Qt.Key.Key_PageDown, "", Qt.KeyboardModifier.NoModifier, "Page_Down", ""),
    (Qt.Key.Key_Left, "", Qt.KeyboardModifier.NoModifier, "Left", ""),
    (Qt.Key.Key_Shift, "", Qt.KeyboardModifier.NoModifier, "Shift_L", ""),
    (Qt.Key.Key_Delete, "", Qt.KeyboardModifier.ControlModifier, "Delete", ""),
], ids=lambda v: v if isinstance(v, str) else None)
def test_qt_events_translate_to_keysyms(qt_key, text, mods, keysym, out_text) -> None:
    ev = key_event(QKeyEvent(QEvent.Type.KeyPress, qt_key, mods, text))
    assert (ev.keysym, ev.text, ev.release) == (keysym, out_text, False)
    if keysym != "Shift_L":  # Qt itself flips the Shift bit on Shift's own events
        assert bool(ev.mods & Mod.SHIFT) == bool(mods & Qt.KeyboardModifier.ShiftModifier)
    assert bool(ev.mods & Mod.CTRL) == bool(mods & Qt.KeyboardModifier.ControlModifier)
    release = key_event(QKeyEvent(QEvent.Type.KeyRelease, qt_key, mods, text, True))
    assert release.release and release.repeat


def test_a_shortcut_the_ime_needs_is_taken_from_the_application(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.editor, "nihao")
    ev = QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_Minus, Qt.KeyboardModifier.NoModifier,
                   "-")
    assert rig.bridge.eventFilter(rig.editor, ev) and ev.isAccepted()
    ctrl_s = QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_S,
                       Qt.KeyboardModifier.ControlModifier, "\x13")
    assert not rig.bridge.eventFilter(rig.editor, ctrl_s)


def test_a_mouse_press_in_the_editor_commits_the_letters(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.editor, "nihao")
    qtbot.mouseClick(rig.editor.viewport(), Qt.MouseButton.LeftButton)
    assert rig.committed == ["nihao"] and not rig.window.isVisible()


def test_the_window_shows_at_the_cursor_where_composing_began(qtbot, rig: Rig) -> None:
    from PyQt6.QtCore import QRect

    spot = QRect(300, 200, 2, 18)
    rig.bridge.set_cursor_rect_provider(lambda: spot)
    qtbot.keyClicks(rig.editor, "ni")
    top = rig.window.geometry().top()
    spot.moveLeft(340)  # the preedit moved the cursor: the window stays put
    qtbot.keyClicks(rig.editor, "hao")
    assert rig.window.geometry().top() == top
    assert abs(rig.window.geometry().left() - 300) <= 40


def test_an_engine_error_is_survived(qtbot, rig: Rig, monkeypatch) -> None:
    qtbot.keyClicks(rig.editor, "ni")

    def boom(*a, **k):
        raise RuntimeError("injected")

    monkeypatch.setattr(rig.bridge.context.engine, "compose", boom)
    qtbot.keyClicks(rig.editor, "h")  # the fault: reported, the composition reset
    assert not rig.bridge.composing and not rig.window.isVisible()
    monkeypatch.undo()
    qtbot.keyClicks(rig.editor, "nihao")
    key(qtbot, rig, Qt.Key.Key_Space)
    assert rig.committed == ["你好"]


def test_a_paused_recorder_shows_a_notice(qtbot, rig: Rig) -> None:
    class Full:
        def record(self, *a, **k):
            raise OSError(28, "No space left on device")

    notices: list[str] = []
    rig.bridge.notice.connect(notices.append)
    rig.bridge.set_recorder(Full())  # type: ignore[arg-type]
    qtbot.keyClicks(rig.editor, "nihao")
    key(qtbot, rig, Qt.Key.Key_Space)
    assert rig.committed == ["你好"] and notices and "No space left" in notices[-1]
