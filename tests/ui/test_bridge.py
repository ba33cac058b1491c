"""ImeBridge: Qt key events → engine intents → candidate window and editor signals."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field

import pytest
from PyQt6.QtCore import QEvent, Qt
from PyQt6.QtGui import QKeyEvent, QTextCursor
from PyQt6.QtWidgets import QApplication, QPlainTextEdit

from evaluation.typing_log import TypingLogRecorder, read_log
from ui.app import PadEditor
from ui.bridge import ImeBridge

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


@pytest.mark.parametrize("digit", [1, 2, 4])
def test_digits_select_on_the_page(qtbot, rig: Rig, digit: int) -> None:
    qtbot.keyClicks(rig.editor, "nihao")
    shown = rig.texts()
    qtbot.keyClicks(rig.editor, str(digit))
    assert rig.committed == [shown[digit - 1]]


def test_a_digit_past_the_page_does_nothing(qtbot, make_engine) -> None:
    rig = make_rig(qtbot, make_engine(page_size=3))
    qtbot.keyClicks(rig.editor, "nihao")
    qtbot.keyClicks(rig.editor, "5")
    assert rig.committed == [] and rig.bridge.composing and rig.editor.toPlainText() == ""


def test_a_partial_pick_keeps_composing(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.editor, "zhongguoren")
    i = rig.texts().index("中国")
    qtbot.keyClicks(rig.editor, str(i + 1))
    assert rig.committed == []
    assert rig.preedits[-1] == "中国ren"
    key(qtbot, rig, Qt.Key.Key_Space)
    assert len(rig.committed) == 1
    assert rig.committed[0].startswith("中国") and len(rig.committed[0]) == 3


@pytest.mark.parametrize(("forward", "back"), [
    (Qt.Key.Key_Equal, Qt.Key.Key_Minus), (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp),
], ids=["minus-equal", "page-keys"])
def test_paging(qtbot, rig: Rig, forward: Qt.Key, back: Qt.Key) -> None:
    qtbot.keyClicks(rig.editor, "zhongguoren")
    first = rig.texts()
    assert rig.window.can_page_next and not rig.window.can_page_prev
    key(qtbot, rig, forward)
    second = rig.texts()
    assert rig.window.state.page == 1 and rig.window.can_page_prev
    assert second and not set(first) & set(second)
    key(qtbot, rig, back)
    assert rig.texts() == first and rig.window.state.page == 0
    key(qtbot, rig, back)  # already on the first page
    assert rig.window.state.page == 0


def test_window_clicks_select_and_page(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.editor, "zhongguoren")
    rig.window.page_requested.emit(1)  # what a click on › emits
    assert rig.window.state.page == 1
    second = rig.texts()
    qtbot.mouseClick(rig.window, Qt.MouseButton.LeftButton,
                     pos=rig.window.candidate_rect(1).center())
    assert rig.preedits[-1].startswith(second[1])


def test_arrows_move_the_highlight(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.editor, "nihao")
    shown = rig.texts()
    key(qtbot, rig, Qt.Key.Key_Right)
    key(qtbot, rig, Qt.Key.Key_Down)
    key(qtbot, rig, Qt.Key.Key_Left)
    assert rig.window.highlighted == 1
    key(qtbot, rig, Qt.Key.Key_Space)
    assert rig.committed == [shown[1]]


def test_backspace_equals_typing_from_scratch(qtbot, make_engine) -> None:
    engine = make_engine()
    a, b = make_rig(qtbot, engine), make_rig(qtbot, engine)
    qtbot.keyClicks(a.editor, "nihaoma")
    key(qtbot, a, Qt.Key.Key_Backspace)
    key(qtbot, a, Qt.Key.Key_Backspace)
    qtbot.keyClicks(b.editor, "nihao")
    assert a.texts() == b.texts() and "你好" in a.texts()
    assert a.preedits[-1] == "ni'hao"
    for _ in range(5):
        key(qtbot, a, Qt.Key.Key_Backspace)
    assert a.preedits[-1] == "" and not a.window.isVisible() and not a.bridge.composing


def test_escape_cancels(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.editor, "nihao")
    key(qtbot, rig, Qt.Key.Key_Escape)
    assert rig.committed == [] and rig.preedits[-1] == ""
    assert not rig.window.isVisible() and not rig.bridge.composing
    assert rig.editor.toPlainText() == ""


def test_enter_commits_the_letters(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.editor, "nihao")
    key(qtbot, rig, Qt.Key.Key_Return)
    assert rig.committed == ["nihao"]
    assert rig.editor.toPlainText() == ""  # Enter was the IME's, not a newline


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


def test_toggling_while_composing_commits_the_letters(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.editor, "nihao")
    qtbot.keyClick(rig.editor, Qt.Key.Key_Shift)
    assert rig.committed == ["nihao"] and rig.modes == [False]
    assert not rig.window.isVisible()


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


def test_punctuation_takes_the_sentence_and_types_chinese_punctuation(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.editor, "nihao")
    first = rig.texts()[0]
    qtbot.keyClicks(rig.editor, ",")
    assert rig.committed == [first, "，"]
    assert not rig.bridge.composing and rig.editor.toPlainText() == ""


def test_punctuation_without_a_composition(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.editor, '.?"\\"')
    assert rig.committed == ["。", "？", "“", "、", "”"]
    assert rig.editor.toPlainText() == ""


def test_a_number_keeps_its_ascii_point(qtbot, make_engine) -> None:
    editor = PadEditor()  # inserts what the bridge commits, answers surrounding-text queries
    rig = make_rig(qtbot, make_engine(), editor)
    rig.bridge.committed.connect(editor.commit_text)
    qtbot.keyClicks(editor, "1,000.5:")
    assert editor.toPlainText() == "1,000.5:"
    qtbot.keyClicks(editor, "nihao.")
    assert editor.toPlainText() == f"1,000.5:{rig.committed[0]}。"


def test_chinese_punctuation_can_be_turned_off(qtbot, make_engine) -> None:
    rig = make_rig(qtbot, make_engine(chinese_punctuation=False))
    qtbot.keyClicks(rig.editor, "nihao")
    qtbot.keyClicks(rig.editor, ",")
    assert rig.bridge.composing and rig.committed == []  # swallowed, composition kept
    key(qtbot, rig, Qt.Key.Key_Escape)
    qtbot.keyClicks(rig.editor, ",")
    assert rig.editor.toPlainText() == ","
