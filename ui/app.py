"""The typing pad (`python main.py ui`): an editor that types through Delta Pinyin.

The editor shows the composition inline, underlined at the cursor (a QInputMethodEvent
preedit, as a system input method would send it); the candidate window follows the text
cursor. The status bar shows the mode (中/英) and the last keystroke's latency; the Input
menu toggles Chinese mode, learning, the neural LM, typing-log recording (off unless the
config turns it on) and the candidate layout, and opens the Learned words dialog (search,
forget, restore: ui/learned_dialog.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QCoreApplication, Qt
from PyQt6.QtGui import (
    QAction,
    QCloseEvent,
    QInputMethodEvent,
    QKeySequence,
    QTextCharFormat,
    QTextFormat,
)
from PyQt6.QtWidgets import QLabel, QMainWindow, QMenu, QPlainTextEdit, QWidget

from evaluation.typing_log import TypingLogRecorder
from ime.config import ConfigError, data_dir, update_config_file
from ime.engine import Engine, lm_available
from ui.bridge import ImeBridge
from ui.candidate_window import CandidateWindow, cjk_font
from ui.learned_dialog import LearnedWordsDialog

__all__ = ["PadEditor", "TypingPad", "default_log_path"]


def default_log_path() -> Path:
    """Where recording appends: `$XDG_DATA_HOME/delta-pinyin/typing-log.jsonl`."""
    return data_dir() / "typing-log.jsonl"


class PadEditor(QPlainTextEdit):
    """A plain-text editor that shows an input method's preedit inline and takes commits."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(cjk_font(1.5))
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)

    def set_preedit(self, text: str) -> None:
        """Show `text` at the cursor, underlined, with the caret after it ("" clears it)."""
        attrs: list[QInputMethodEvent.Attribute] = []
        if text:
            fmt = QTextCharFormat()
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
            kind = QInputMethodEvent.AttributeType
            attrs = [QInputMethodEvent.Attribute(kind.TextFormat, 0, len(text), QTextFormat(fmt)),
                     QInputMethodEvent.Attribute(kind.Cursor, len(text), 1)]
        QCoreApplication.sendEvent(self, QInputMethodEvent(text, attrs))

    def commit_text(self, text: str) -> None:
        """Insert `text` at the cursor (replacing the preedit)."""
        event = QInputMethodEvent("", [])
        event.setCommitString(text)
        QCoreApplication.sendEvent(self, event)

    def preedit(self) -> str:
        """The preedit now shown at the cursor ("" when none)."""
        layout = self.textCursor().block().layout()
        return layout.preeditAreaText() if layout is not None else ""


class TypingPad(QMainWindow):
    """Editor + candidate window + status bar, wired by one ImeBridge."""

    def __init__(self, engine: Engine, log_path: Path | None = None,
                 parent: QWidget | None = None, config_path: Path | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.log_path = log_path  # None: default_log_path(), looked up when recording starts
        # where the menu's settings are saved (None: $XDG_CONFIG_HOME/delta-pinyin/config.toml)
        self.config_path = config_path
        self.setWindowTitle("Delta Pinyin — typing pad")
        self.editor = PadEditor(self)
        self.editor.setPlaceholderText("Type pinyin here. Shift switches 中/英.")
        self.setCentralWidget(self.editor)
        self.candidate_window = CandidateWindow(engine.config.layout, parent=self)
        self.bridge = ImeBridge(engine, self.candidate_window, parent=self)
        self.bridge.attach(self.editor)
        self.bridge.preedit_changed.connect(self.editor.set_preedit)
        self.bridge.committed.connect(self.editor.commit_text)
        self.bridge.mode_changed.connect(self._show_mode)
        self.bridge.latency_ms.connect(self._show_latency)
        self.bridge.forgotten.connect(self._show_forgotten)
        self.bridge.notice.connect(self._show_notice)
        self.learned_dialog: LearnedWordsDialog | None = None
        self._build_status_bar()
        self._build_menus()
        self.set_recording(engine.config.recording)
        self.editor.setFocus()

    # ---- status bar -----------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.mode_label = QLabel()
        self.mode_label.setFont(cjk_font())
        self.mode_label.setToolTip("Input mode: Shift toggles Chinese / English")
        self.latency_label = QLabel("—")
        self.latency_label.setToolTip("Last keystroke: key event to candidate window updated "
                                      "(engine decoding time in brackets)")
        self.notice_label = QLabel("")
        self.notice_label.setToolTip("Learning or recording paused: the user lexicon or the "
                                     "typing log cannot be written; it resumes by itself")
        self.notice_label.setStyleSheet("color: #b00020")
        bar.addPermanentWidget(self.notice_label)
        self.recording_label = QLabel("● REC")
        self.recording_label.setToolTip("Committed text is appended to a typing log")
        bar.addPermanentWidget(self.recording_label)
        bar.addPermanentWidget(self.latency_label)
        bar.addPermanentWidget(self.mode_label)
        self._show_mode(self.bridge.chinese)

    def _show_mode(self, chinese: bool) -> None:
        self.mode_label.setText("中" if chinese else "英")
        if hasattr(self, "chinese_action"):
            self.chinese_action.setChecked(chinese)

    def _show_latency(self, ms: float) -> None:
        self.latency_label.setText(f"{ms:.1f} ms (engine {self.bridge.last_engine_ms:.1f} ms)")

    def _show_notice(self, text: str) -> None:
        self.notice_label.setText(text)

    def _show_forgotten(self, word: str, n: int) -> None:
        msg = f"Forgot {word}" if n else f"{word} was not a learned word"
        self.statusBar().showMessage(msg, 4000)

    # ---- menus ----------------------------------------------------------------------------

    def _toggle(self, menu: QMenu, text: str, checked: bool, slot: Callable[[bool], None],
                tip: str = "") -> QAction:
        """A checkable menu entry calling `slot(checked)` when toggled."""
        action = QAction(text, self, checkable=True, checked=checked)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.toggled.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        cfg = self.engine.config
        file_menu = self.menuBar().addMenu("&File")
        clear = file_menu.addAction("&Clear")
        clear.triggered.connect(self.clear)
        quit_ = file_menu.addAction("&Quit")
        quit_.setShortcut(QKeySequence.StandardKey.Quit)
        quit_.triggered.connect(self.close)

        menu = self.menuBar().addMenu("&Input")
        self.chinese_action = self._toggle(menu, "&Chinese mode (Shift)", self.bridge.chinese,
                                           self.bridge.set_chinese)
        menu.addSeparator()
        self.learning_action = self._toggle(
            menu, "&Learning", cfg.learning, self.set_learning,
            "Adapt to what you commit (user lexicon)")
        self.learning_action.setEnabled(self.engine.learner is not None)
        self.lm_action = self._toggle(
            menu, "Neural &LM reranking", cfg.lm, self.set_lm,
            "Rerank candidates with the neural language model")
        if self.engine.reranker is None and not lm_available():
            self.lm_action.setEnabled(False)
            self.lm_action.setToolTip("The neural LM is not installed (torch or its weights)")
        self.recording_action = self._toggle(
            menu, "&Record typing log", False, self.set_recording,
            "Append each committed unit (keys, text, context) to a local typing log")
        self.punctuation_action = self._toggle(
            menu, "Chinese &punctuation", cfg.chinese_punctuation, self.set_punctuation,
            "In Chinese mode , . ? \" type ， 。 ？ “” (digits keep 3.14)")
        menu.addSeparator()
        self.vertical_action = self._toggle(menu, "&Vertical candidate list",
                                            cfg.layout == "vertical", self.set_vertical)
        menu.addSeparator()
        self.learned_action = QAction("Learned &words…", self)
        self.learned_action.setStatusTip("Search, forget and restore the words learned")
        self.learned_action.setEnabled(self.engine.learner is not None)
        self.learned_action.triggered.connect(self.show_learned_words)
        menu.addAction(self.learned_action)

    def show_learned_words(self) -> LearnedWordsDialog:
        """Open (or bring up) the Learned words dialog; a word forgotten or restored there
        decodes the composition again."""
        if self.learned_dialog is None:
            self.learned_dialog = LearnedWordsDialog(self.engine, self)
            self.learned_dialog.changed.connect(self.bridge.refresh)
        else:
            self.learned_dialog.reload()
        self.learned_dialog.show()
        self.learned_dialog.raise_()
        return self.learned_dialog

    # ---- settings -------------------------------------------------------------------------

    def _set(self, **changes: object) -> None:
        """Apply settings now and keep them in config.toml for the next start (recording and
        the input mode are not kept). A file that cannot be written is reported, not fatal."""
        if all(getattr(self.engine.config, k) == v for k, v in changes.items()):
            return
        self.engine.set_config(self.engine.config.with_(**changes))
        try:
            update_config_file(changes, self.config_path)
        except ConfigError as e:
            self.statusBar().showMessage(f"Settings not saved: {e}", 8000)

    def set_learning(self, on: bool) -> None:
        self._set(learning=on)
        self.learning_action.setChecked(on)

    def set_lm(self, on: bool) -> None:
        self._set(lm=on)  # switching it on loads the model the first time (Engine.set_config)
        if on and self.engine.reranker is None:
            self._set(lm=False)
            on = False
            self.lm_action.setEnabled(False)
            self.statusBar().showMessage("The neural LM could not be loaded", 8000)
        self.lm_action.setChecked(on)
        self.bridge.refresh()

    def set_punctuation(self, on: bool) -> None:
        self._set(chinese_punctuation=on)
        self.punctuation_action.setChecked(on)

    def set_vertical(self, on: bool) -> None:
        self._set(layout="vertical" if on else "horizontal")
        self.vertical_action.setChecked(on)
        self.bridge.refresh()

    def set_recording(self, on: bool) -> None:
        """Start or stop appending committed units to the typing log (opt-in)."""
        if self.engine.config.recording != on:
            self.engine.set_config(self.engine.config.with_(recording=on))
        path = self.log_path or default_log_path()
        self.bridge.set_recorder(TypingLogRecorder(path) if on else None)
        self.recording_label.setVisible(on)
        if hasattr(self, "recording_action"):
            self.recording_action.setChecked(on)
        if on:
            self.statusBar().showMessage(f"Recording to {path}", 4000)

    @property
    def recording(self) -> bool:
        return self.bridge.recorder is not None

    def clear(self) -> None:
        self.bridge.cancel()
        self.bridge.processor.punctuator.reset()
        self.editor.clear()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self.bridge.cancel()
        self.candidate_window.hide()
        super().closeEvent(event)
