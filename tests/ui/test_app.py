"""The typing pad: inline preedit, commits into the editor, status bar, menus, the CLI entry."""

from __future__ import annotations

import stat

import pytest
from PyQt6.QtCore import QRect, Qt
from PyQt6.QtGui import QTextCharFormat, QTextCursor
from PyQt6.QtWidgets import QApplication

from evaluation.typing_log import read_log
from ime.config import data_dir
from ui.app import TypingPad, default_log_path

pytestmark = pytest.mark.qt


@pytest.fixture
def pad(qtbot, make_engine) -> TypingPad:
    p = TypingPad(make_engine(learn=True))
    qtbot.addWidget(p)
    p.resize(700, 400)
    p.show()
    qtbot.waitExposed(p)
    return p


def test_space_commits_nihao_into_the_editor(qtbot, pad: TypingPad) -> None:
    qtbot.keyClicks(pad.editor, "nihao")
    assert "你好" in [c.text for c in pad.candidate_window.state.candidates]
    assert pad.editor.toPlainText() == ""  # the preedit is not document text
    qtbot.keyClick(pad.editor, Qt.Key.Key_Space)
    assert pad.editor.toPlainText() == "你好"
    assert pad.editor.preedit() == ""
    assert not pad.candidate_window.isVisible()
    qtbot.keyClicks(pad.editor, "zhongguoren1")
    assert pad.editor.toPlainText() == "你好中国人"


def test_preedit_is_shown_inline_and_underlined(qtbot, pad: TypingPad) -> None:
    qtbot.keyClicks(pad.editor, "xianzai")
    assert pad.editor.preedit() == "xian'zai"
    layout = pad.editor.textCursor().block().layout()
    underlined = [f for f in layout.formats()
                  if f.format.underlineStyle() != QTextCharFormat.UnderlineStyle.NoUnderline]
    assert underlined and underlined[0].length == len("xian'zai")
    qtbot.keyClick(pad.editor, Qt.Key.Key_Escape)
    assert pad.editor.preedit() == "" and pad.editor.toPlainText() == ""


def test_candidate_window_sits_under_the_text_cursor(qtbot, pad: TypingPad) -> None:
    pad.editor.setPlainText("第一行\n第二行")
    pad.editor.moveCursor(QTextCursor.MoveOperation.End)
    start = pad.editor.cursorRect()
    cursor = QRect(pad.editor.viewport().mapToGlobal(start.topLeft()), start.size())
    qtbot.keyClicks(pad.editor, "nihao")
    win = pad.candidate_window.geometry()
    assert pad.candidate_window.isVisible()
    assert abs(win.left() - cursor.left()) <= 2  # anchored where the composition started
    assert cursor.bottom() <= win.top() <= cursor.bottom() + 3


def test_the_window_never_takes_the_editors_focus(qtbot, pad: TypingPad) -> None:
    qtbot.keyClicks(pad.editor, "nihao")
    qtbot.wait(50)  # let the platform deliver show/expose/activation events
    assert pad.candidate_window.isVisible()
    assert QApplication.focusWidget() is pad.editor
    assert QApplication.activeWindow() is pad
    qtbot.waitUntil(lambda: pad.candidate_window.paint_count > 0, timeout=2000)


def test_status_bar_shows_mode_and_latency(qtbot, pad: TypingPad) -> None:
    assert pad.mode_label.text() == "中"
    qtbot.keyClicks(pad.editor, "ni")
    assert "ms" in pad.latency_label.text() and "engine" in pad.latency_label.text()
    qtbot.keyClick(pad.editor, Qt.Key.Key_Escape)
    qtbot.keyClick(pad.editor, Qt.Key.Key_Shift)
    assert pad.mode_label.text() == "英" and not pad.chinese_action.isChecked()
    pad.chinese_action.trigger()
    assert pad.mode_label.text() == "中" and pad.bridge.chinese


def test_menu_toggles_learning_and_layout(qtbot, pad: TypingPad) -> None:
    assert pad.learning_action.isEnabled() and pad.learning_action.isChecked()
    pad.learning_action.trigger()
    assert pad.engine.config.learning is False
    pad.learning_action.trigger()
    assert pad.engine.config.learning is True
    pad.vertical_action.trigger()
    assert pad.engine.config.layout == "vertical"
    assert pad.candidate_window.layout_name == "vertical"


def test_the_lm_switch_loads_the_model_when_first_turned_on(qtbot, pad: TypingPad) -> None:
    # the pad's engine started with lm = false: nothing loaded, but the switch can load it
    assert pad.engine.reranker is None
    assert pad.lm_action.isEnabled() and not pad.lm_action.isChecked()
    pad.lm_action.trigger()
    assert pad.engine.config.lm and pad.engine.reranker is not None
    assert pad.lm_action.isChecked()
    pad.lm_action.trigger()
    assert not pad.engine.config.lm and not pad.lm_action.isChecked()


def test_the_lm_switch_is_off_where_the_model_cannot_load(qtbot, make_engine,
                                                          monkeypatch) -> None:
    import ui.app

    monkeypatch.setattr(ui.app, "lm_available", lambda: False)
    pad = TypingPad(make_engine(learn=True))
    qtbot.addWidget(pad)
    assert not pad.lm_action.isEnabled()
    assert "not installed" in pad.lm_action.toolTip()


def test_recording_is_off_by_default_and_opt_in(qtbot, pad: TypingPad) -> None:
    log = default_log_path()
    assert log == data_dir() / "typing-log.jsonl" and "delta-pinyin" in str(log)
    assert not pad.recording and not pad.recording_action.isChecked()
    qtbot.keyClicks(pad.editor, "nihao ")
    assert not log.exists()

    pad.recording_action.trigger()
    assert pad.recording and pad.engine.config.recording
    qtbot.keyClicks(pad.editor, "zhongguoren ")
    records, bad = read_log(log)
    assert bad == [] and [(r.keys, r.text, r.context) for r in records] == [
        ("zhongguoren", "中国人", "你好")]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600

    pad.recording_action.trigger()
    qtbot.keyClicks(pad.editor, "nihao ")
    assert len(read_log(log)[0]) == 1


def test_clicking_a_candidate_commits_it(qtbot, pad: TypingPad) -> None:
    qtbot.keyClicks(pad.editor, "nihao")
    second = pad.candidate_window.state.candidates[1].text
    qtbot.mouseClick(pad.candidate_window, Qt.MouseButton.LeftButton,
                     pos=pad.candidate_window.candidate_rect(1).center())
    assert pad.editor.toPlainText() == second


def test_main_has_the_ui_command() -> None:
    from cli.main import build_parser
    from cli.ui import cmd_ui

    args = build_parser().parse_args(["ui", "--record", "--layout", "vertical"])
    assert args.func is cmd_ui and args.record and args.layout == "vertical"


def test_a_click_in_the_editor_commits_the_letters(qtbot, pad: TypingPad) -> None:
    pad.editor.setPlainText("你好")
    pad.editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(pad.editor, "nihao")
    assert pad.editor.preedit() == "ni'hao"
    qtbot.mouseClick(pad.editor.viewport(), Qt.MouseButton.LeftButton,
                     pos=pad.editor.viewport().rect().center())
    assert pad.editor.toPlainText() == "你好nihao"
    assert pad.editor.preedit() == "" and not pad.candidate_window.isVisible()


def test_menu_settings_are_kept_for_the_next_start(qtbot, make_engine, tmp_path) -> None:
    from ime.config import load_config

    path = tmp_path / "config" / "delta-pinyin" / "config.toml"  # XDG_CONFIG_HOME is tmp
    path.parent.mkdir(parents=True)
    path.write_text("# mine\npage_size = 7\n")
    pad = TypingPad(make_engine(learn=True))
    qtbot.addWidget(pad)
    pad.learning_action.trigger()  # on → off
    pad.vertical_action.trigger()
    pad.punctuation_action.trigger()
    cfg = load_config(path)
    assert (cfg.learning, cfg.layout, cfg.chinese_punctuation) == (False, "vertical", False)
    assert cfg.page_size == 7 and path.read_text().startswith("# mine\n")
    assert pad.engine.config.layout == "vertical" and not pad.engine.config.learning
    pad.set_recording(True)
    assert load_config(path).recording is False  # recording is chosen per session
    pad.set_recording(False)


def test_an_unwritable_config_is_reported_not_fatal(qtbot, make_engine, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    pad = TypingPad(make_engine(learn=True), config_path=blocker / "config.toml")
    qtbot.addWidget(pad)
    pad.punctuation_action.trigger()
    assert pad.engine.config.chinese_punctuation is False  # applied for this session
    assert "Settings not saved" in pad.statusBar().currentMessage()


def test_the_lm_switch_reports_a_model_that_fails_to_load(qtbot, pad: TypingPad,
                                                          monkeypatch) -> None:
    import ime.engine

    monkeypatch.setattr(ime.engine, "load_reranker", lambda device="auto", threads=1: None)
    pad.lm_action.trigger()
    assert not pad.engine.config.lm and not pad.lm_action.isChecked()
    assert not pad.lm_action.isEnabled()
    assert "could not be loaded" in pad.statusBar().currentMessage()


def test_backspace_right_after_a_commit_deletes_it_unlearned(qtbot, pad: TypingPad) -> None:
    store = pad.engine.learner.store
    before = store.entries(include_deleted=True)
    qtbot.keyClicks(pad.editor, "xianzai")
    word = pad.candidate_window.state.candidates[1].text
    qtbot.keyClick(pad.editor, Qt.Key.Key_2)
    while pad.bridge.composing:
        qtbot.keyClick(pad.editor, Qt.Key.Key_Space)
    text = pad.editor.toPlainText()
    assert text.startswith(word) and store.entries(include_deleted=True) != before
    qtbot.keyClick(pad.editor, Qt.Key.Key_Backspace)
    assert pad.editor.toPlainText() == text[:-1]  # the editor deleted a character
    assert store.entries(include_deleted=True) == before  # and nothing was learned
