"""ImeBridge: the one place where Qt events, the engine's key processor and the candidate
window meet. It only translates and renders: what a key means is ime.keys.KeyProcessor's.

    editor ──QKeyEvent──► ImeBridge ──KeyEvent──► KeyProcessor ──► InputContext (engine)
      ▲                     │   ▲                       │
      └─ preedit_changed, ──┘   │ candidate_selected,   │ KeyResult (EngineState, commit)
         committed              │ page_requested,       ▼
                                │ forget_requested   ImeBridge ──set_state, show_at──┐
                                └──────────────── CandidateWindow ◄──────────────────┘

The bridge is an event filter on the editor (`attach`), so the editor needs no IME code of
its own: it shows the preedit and inserts commits from the signals. A mouse press in the
editor commits the composition as typed (the cursor may move), as Qt's own input methods do
on a reset; the editor's text left of the cursor is the processor's left context.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PyQt6.QtCore import QEvent, QObject, QRect, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QFocusEvent, QKeyEvent
from PyQt6.QtWidgets import QAbstractScrollArea, QApplication, QWidget

from evaluation.typing_log import TypingLogRecorder
from ime.candidates import EngineState
from ime.context import InputContext
from ime.engine import Engine
from ime.keys import KEYSYM_OF_CHAR, KeyEvent, KeyProcessor, KeyResult, Mod
from ui.candidate_window import CandidateWindow
from ui.fault import EngineFault, run_guarded

__all__ = ["ImeBridge", "key_event"]

# Qt keys that type no character, by their X keysym names
_KEYSYMS = {
    Qt.Key.Key_Backspace: "BackSpace", Qt.Key.Key_Return: "Return",
    Qt.Key.Key_Enter: "KP_Enter", Qt.Key.Key_Escape: "Escape", Qt.Key.Key_Tab: "Tab",
    Qt.Key.Key_PageUp: "Page_Up", Qt.Key.Key_PageDown: "Page_Down",
    Qt.Key.Key_Left: "Left", Qt.Key.Key_Up: "Up", Qt.Key.Key_Right: "Right",
    Qt.Key.Key_Down: "Down", Qt.Key.Key_Home: "Home", Qt.Key.Key_End: "End",
    Qt.Key.Key_Delete: "Delete", Qt.Key.Key_Insert: "Insert", Qt.Key.Key_Shift: "Shift_L",
    Qt.Key.Key_Control: "Control_L", Qt.Key.Key_Alt: "Alt_L", Qt.Key.Key_Meta: "Super_L",
    Qt.Key.Key_Space: "space",
}  # fmt: skip
_MODS = (
    (Qt.KeyboardModifier.ShiftModifier, Mod.SHIFT),
    (Qt.KeyboardModifier.ControlModifier, Mod.CTRL),
    (Qt.KeyboardModifier.AltModifier, Mod.ALT),
    (Qt.KeyboardModifier.MetaModifier, Mod.SUPER),
)


def key_event(event: QKeyEvent) -> KeyEvent:
    """The toolkit-neutral form of a Qt key event."""
    key = Qt.Key(event.key())
    text = event.text()
    mods = Mod(0)
    for qt, m in _MODS:
        if event.modifiers() & qt:
            mods |= m
    keysym = _KEYSYMS.get(key)
    if keysym is None:
        keysym = KEYSYM_OF_CHAR.get(text, text) if len(text) == 1 else f"Qt_{int(key):x}"
    if len(text) != 1 or not text.isprintable():
        text = " " if keysym == "space" else ""
    return KeyEvent(keysym, text, mods, event.type() == QEvent.Type.KeyRelease,
                    event.isAutoRepeat())


class ImeBridge(QObject):
    """Turns Qt key events into KeyEvents for the processor, renders what comes back, tells
    the editor what changed.

    `engine`: the shared Engine. `window`: the CandidateWindow to drive (one is made if None).
    `recorder`: when set, every unit committed from candidates is appended to its typing log
    with its keys and left context (docs/TYPING_LOG.md); raw commits (Enter) are not recorded.
    """

    preedit_changed = pyqtSignal(str)  # the composition to show inline ("" when none)
    committed = pyqtSignal(str)  # text to insert into the editor
    latency_ms = pyqtSignal(float)  # key event → window updated, milliseconds
    mode_changed = pyqtSignal(bool)  # True: Chinese, False: English
    forgotten = pyqtSignal(str, int)  # the word, how many lexicon entries were affected
    state_changed = pyqtSignal(object)  # the EngineState just rendered
    notice = pyqtSignal(str)  # why learning or recording is paused ("" when all is well)

    def __init__(self, engine: Engine, window: CandidateWindow | None = None,
                 recorder: TypingLogRecorder | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.window = window if window is not None else CandidateWindow(engine.config.layout)
        self.processor = KeyProcessor(engine.new_context(), recorder, self._surrounding)
        self.editor: QWidget | None = None
        self._viewport: QWidget | None = None
        self.last_engine_ms = 0.0  # engine time of the last keystroke that decoded
        self.last_latency_ms = 0.0  # end-to-end time of the last handled key
        self._preedit = ""
        self._notice = ""
        self._anchor: QRect | None = None  # global cursor rectangle where composing began
        self._cursor_rect: Callable[[], QRect | None] = self._editor_cursor_rect
        self.window.candidate_selected.connect(self.select)
        self.window.page_requested.connect(self.page)
        self.window.forget_requested.connect(self.forget)

    # ---- wiring ---------------------------------------------------------------------------

    def attach(self, editor: QWidget) -> None:
        """Filter `editor`'s key events; the window follows its text cursor."""
        for w in (self.editor, self._viewport):
            if w is not None:
                w.removeEventFilter(self)
        self.editor = editor
        # a scroll area (QPlainTextEdit, QTextEdit) gets its mouse presses on the viewport
        self._viewport = editor.viewport() if isinstance(editor, QAbstractScrollArea) else None
        for w in (editor, self._viewport):
            if w is not None:
                w.installEventFilter(self)

    def set_cursor_rect_provider(self, provider: Callable[[], QRect | None]) -> None:
        """Override where the window goes: a callable giving the global cursor rectangle."""
        self._cursor_rect = provider

    def set_recorder(self, recorder: TypingLogRecorder | None) -> None:
        self.processor.recorder = recorder

    @property
    def recorder(self) -> TypingLogRecorder | None:
        return self.processor.recorder  # type: ignore[return-value]

    @property
    def context(self) -> InputContext:
        return self.processor.context

    @property
    def chinese(self) -> bool:
        return self.processor.chinese

    @property
    def state(self) -> EngineState:
        return self.processor.state

    @property
    def composing(self) -> bool:
        return self.processor.composing

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:  # noqa: N802
        if event is None or obj is None:
            return False
        kind = event.type()
        if obj is self._viewport:
            if kind == QEvent.Type.MouseButtonPress:
                self._mouse_press()
            return False
        if obj is not self.editor:
            return False
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return self.key(event)  # type: ignore[arg-type]
        if kind == QEvent.Type.ShortcutOverride:
            # keys the IME will use must reach it as key presses, not trigger shortcuts
            if self.processor.wants(key_event(event)):  # type: ignore[arg-type]
                event.accept()
                return True
            return False
        if kind == QEvent.Type.MouseButtonPress:
            self._mouse_press()
        elif kind == QEvent.Type.FocusIn:
            self.processor.interrupt()
            if self.composing:
                self._anchor = None  # the editor may have moved meanwhile
                self._render(self.state)
        elif kind == QEvent.Type.FocusOut:
            reason = event.reason() if isinstance(event, QFocusEvent) else None
            # not for our own context menu, nor a platform that activates the window itself
            if reason != Qt.FocusReason.PopupFocusReason \
                    and QApplication.activeWindow() is not self.window:
                self.window.hide()
        return False

    # ---- keys and intents -----------------------------------------------------------------

    def key(self, event: QKeyEvent) -> bool:
        """Handle a key press or release; True when the IME consumed it."""
        return self._run(lambda: self.processor.process(key_event(event)))

    # kept for callers that distinguish the two
    key_press = key
    key_release = key

    def select(self, index: int) -> None:
        """Select candidate `index` of the current page (a click in the window)."""
        self._run(lambda: self.processor.select(index))

    def page(self, delta: int) -> None:
        self._run(lambda: self.processor.page(delta))

    def move(self, delta: int) -> None:
        self._run(lambda: self.processor.move(delta))

    def cancel(self) -> None:
        self._run(self.processor.cancel)

    def forget(self, index: int) -> int:
        """Forget candidate `index` of the current page; returns lexicon entries affected."""
        n = 0

        def run() -> KeyResult:
            nonlocal n
            r = self.processor.forget(index)
            if r.forgotten is not None:
                n = r.forgotten[1]
            return r

        self._run(run)
        return n

    def refresh(self) -> None:
        """Re-decode and redraw after a config change (page size, layout, learning …)."""
        self.window.set_layout(self.engine.config.layout)
        if self.composing:
            self._run(self.processor.refresh)

    def set_chinese(self, on: bool) -> None:
        self._run(lambda: self.processor.set_chinese(on))

    def toggle_mode(self) -> None:
        self.set_chinese(not self.chinese)

    # ---- internals ------------------------------------------------------------------------

    def _mouse_press(self) -> None:
        """A click in the editor (it may move the cursor) ends a composition: the letters are
        committed as typed, as Qt's own input methods do on a reset."""
        self.processor.interrupt()
        if self.composing:
            self._run(self.processor.commit_preedit)

    def _surrounding(self) -> str | None:
        """The editor's text left of the cursor (the processor's left context)."""
        if self.editor is None:
            return None
        q = Qt.InputMethodQuery
        text = self.editor.inputMethodQuery(q.ImSurroundingText)
        pos = self.editor.inputMethodQuery(q.ImCursorPosition)
        if isinstance(text, str) and isinstance(pos, int):
            return text[:pos]
        return None

    def _run(self, action: Callable[[], KeyResult]) -> bool:
        """Run a processor call; tell the editor what it committed, then redraw. An error in
        the engine is reported on stderr and the composition reset: the editor never loses
        its text and the next key works."""
        t0 = time.perf_counter()
        chinese, ctx = self.processor.chinese, self.context
        decoded_before = ctx.last_latency_ms
        r = run_guarded(self.processor, action)
        if isinstance(r, EngineFault):
            self._render(self.state)
            return True
        if r.committed:
            self.committed.emit(r.committed)
        if r.forgotten is not None:
            self.forgotten.emit(*r.forgotten)
        if ctx.last_latency_ms != decoded_before:
            self.last_engine_ms = ctx.last_latency_ms
        if r.state.chinese != chinese:
            self.mode_changed.emit(r.state.chinese)
        if r.handled or r.committed:
            self._render(r.state)
            self.last_latency_ms = (time.perf_counter() - t0) * 1000
            self.latency_ms.emit(self.last_latency_ms)
        notice = "; ".join(self.processor.notices())
        if notice != self._notice:
            self._notice = notice
            self.notice.emit(notice)
        return r.handled

    def _render(self, st: EngineState) -> None:
        if st.composing and self._anchor is None:
            # where the composition starts, taken before the preedit moves the cursor: the
            # window stays put while typing instead of sliding right with every letter
            self._anchor = self._cursor_rect()
        if st.preedit != self._preedit:
            self._preedit = st.preedit
            self.preedit_changed.emit(st.preedit)
        self.window.set_state(st)
        if st.composing:
            if self._anchor is not None:
                self.window.show_at(self._anchor)
            else:
                self.window.show()
        else:
            self._anchor = None
            self.window.hide()
        self.state_changed.emit(st)

    def _editor_cursor_rect(self) -> QRect | None:
        """The editor's text cursor (with the preedit) in global coordinates."""
        if self.editor is None:
            return None
        r = self.editor.inputMethodQuery(Qt.InputMethodQuery.ImCursorRectangle)
        if not isinstance(r, (QRect, QRectF)):
            return None
        r = QRectF(r).toAlignedRect()
        return QRect(self.editor.mapToGlobal(r.topLeft()), r.size())
