"""ImeBridge: the one place where Qt key events, the engine and the candidate window meet.

    editor ──key events──► ImeBridge ──intents──► InputContext (engine)
      ▲                     │   ▲                       │
      └─ preedit_changed, ──┘   │ candidate_selected,   │ EngineState
         committed              │ page_requested,       ▼
                                │ forget_requested   ImeBridge ──set_state, show_at──┐
                                └──────────────── CandidateWindow ◄──────────────────┘

Keys while composing (Chinese mode): `a`–`z` and `'` type; Backspace deletes; Space takes
the highlighted candidate; 1–9 pick on the page; `-`/`=` and PageUp/PageDown page; the
arrows move the highlight; Enter commits the letters as typed; Esc cancels; Ctrl+Delete
forgets the highlighted word; a punctuation key takes the highlighted candidate and, when
that ends the composition, types its Chinese punctuation (`nihao,` → 你好，). With no
composition a lowercase letter starts one, a punctuation key types Chinese punctuation
(ime/punctuation.py; `chinese_punctuation` in the config) and every other key goes to the
editor; a mouse press in the editor commits the composition as typed. Shift pressed and
released alone toggles Chinese/English (a composition in progress is committed as typed, as
other pinyin IMEs do). In English mode all keys pass.

The bridge is an event filter on the editor (`attach`), so the editor needs no IME code of
its own: it shows the preedit and inserts commits from the signals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from PyQt6.QtCore import QEvent, QObject, QRect, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QFocusEvent, QKeyEvent
from PyQt6.QtWidgets import QAbstractScrollArea, QApplication, QWidget

from evaluation.typing_log import TypingLogRecorder
from ime.candidates import EngineState
from ime.context import InputContext
from ime.engine import Engine
from ime.punctuation import Punctuator
from ui.candidate_window import CandidateWindow

__all__ = ["ImeBridge"]

_PAGE_KEYS = {
    Qt.Key.Key_Minus: -1, Qt.Key.Key_Equal: +1,
    Qt.Key.Key_PageUp: -1, Qt.Key.Key_PageDown: +1,
}
_MOVE_KEYS = {
    Qt.Key.Key_Left: -1, Qt.Key.Key_Up: -1,
    Qt.Key.Key_Right: +1, Qt.Key.Key_Down: +1,
}
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_CHORD = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
          | Qt.KeyboardModifier.MetaModifier)


class ImeBridge(QObject):
    """Turns key events into engine intents, renders the result, tells the editor what changed.

    `engine`: the shared Engine. `window`: the CandidateWindow to drive (one is made if None).
    `recorder`: when set, every unit committed from candidates is appended to its typing log
    with its keys and left context (TYPING_LOG.md); raw commits (Enter) are not recorded.
    """

    preedit_changed = pyqtSignal(str)  # the composition to show inline ("" when none)
    committed = pyqtSignal(str)  # text to insert into the editor
    latency_ms = pyqtSignal(float)  # key event → window updated, milliseconds
    mode_changed = pyqtSignal(bool)  # True: Chinese, False: English
    forgotten = pyqtSignal(str, int)  # the word, how many lexicon entries were affected
    state_changed = pyqtSignal(object)  # the EngineState just rendered

    def __init__(self, engine: Engine, window: CandidateWindow | None = None,
                 recorder: TypingLogRecorder | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.window = window if window is not None else CandidateWindow(engine.config.layout)
        self.recorder = recorder
        self.context: InputContext = engine.new_context()
        self.editor: QWidget | None = None
        self._viewport: QWidget | None = None
        self.last_engine_ms = 0.0  # engine time of the last keystroke that decoded
        self.last_latency_ms = 0.0  # end-to-end time of the last handled key
        self._chinese = True
        self._shift_alone = False
        self._preedit = ""
        self._anchor: QRect | None = None  # global cursor rectangle where composing began
        self._cursor_rect: Callable[[], QRect | None] = self._editor_cursor_rect
        self.punctuator = Punctuator()
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
        self.recorder = recorder

    @property
    def chinese(self) -> bool:
        return self._chinese

    @property
    def state(self) -> EngineState:
        return replace(self.context.state, chinese=self._chinese)

    @property
    def composing(self) -> bool:
        return bool(self.context.keys)

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
        if kind == QEvent.Type.KeyPress:
            return self.key_press(event)  # type: ignore[arg-type]
        if kind == QEvent.Type.KeyRelease:
            return self.key_release(event)  # type: ignore[arg-type]
        if kind == QEvent.Type.ShortcutOverride:
            # keys the IME will use must reach it as key presses, not trigger shortcuts
            if self._wants(event):  # type: ignore[arg-type]
                event.accept()
                return True
            return False
        if kind == QEvent.Type.MouseButtonPress:
            self._mouse_press()
        elif kind == QEvent.Type.FocusIn:
            self._shift_alone = False
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

    # ---- keys -----------------------------------------------------------------------------

    def _wants(self, event: QKeyEvent) -> bool:
        """Would `key_press` consume this key (without doing anything)?"""
        if not self._chinese:
            return False
        mods = event.modifiers()
        if mods & _CHORD:
            return self.composing and event.key() == Qt.Key.Key_Delete \
                and mods & Qt.KeyboardModifier.ControlModifier
        text = event.text()
        if not self.composing:
            return len(text) == 1 and ("a" <= text <= "z" or self._punctuation(text))
        return True

    def key_press(self, event: QKeyEvent) -> bool:
        """Handle a key press; True when the IME consumed it (the editor must not see it)."""
        key = event.key()
        if key == Qt.Key.Key_Shift:
            if not event.isAutoRepeat():
                # platforms differ on whether Shift's own press carries ShiftModifier
                self._shift_alone = not event.modifiers() & _CHORD
            return False
        self._shift_alone = False
        if not self._chinese:
            return False
        t0 = time.perf_counter()
        mods = event.modifiers()
        text = event.text()
        ctx = self.context
        if mods & _CHORD:
            if self.composing and key == Qt.Key.Key_Delete \
                    and mods & Qt.KeyboardModifier.ControlModifier:
                self.forget(self.state.highlighted)
                return True
            return False
        if not self.composing:
            if len(text) == 1 and "a" <= text <= "z":
                self._sync_context()
                self._apply(lambda: ctx.type(text), t0)
                return True
            if self._punctuation(text):
                self._sync_context()
                return self._type_punctuation(text)
            return False
        # composing: every key below belongs to the IME
        if len(text) == 1 and ("a" <= text <= "z" or text == "'"):
            self._apply(lambda: ctx.type(text), t0)
        elif key == Qt.Key.Key_Backspace:
            self._apply(ctx.backspace, t0)
        elif key == Qt.Key.Key_Space:
            self._apply(ctx.commit, t0)
        elif len(text) == 1 and "1" <= text <= "9":
            i = int(text) - 1
            if i < len(ctx.state.candidates):
                self._apply(lambda: ctx.select(i), t0)
        elif key in _PAGE_KEYS:
            self._apply(lambda: ctx.page(_PAGE_KEYS[key]), t0)
        elif key in _MOVE_KEYS:
            self._apply(lambda: ctx.move(_MOVE_KEYS[key]), t0)
        elif key in _ENTER_KEYS:
            self._apply(ctx.commit_raw, t0, raw=True)
        elif key == Qt.Key.Key_Escape:
            self._apply(ctx.cancel, t0)
        elif self._punctuation(text):
            self._apply(ctx.commit, t0)  # the highlighted candidate, as Space does
            if not self.composing:  # a partial pick keeps composing: no punctuation yet
                self._type_punctuation(text)
        # anything else (capitals, Tab …) is swallowed so the composition stays
        return True

    def key_release(self, event: QKeyEvent) -> bool:
        """Shift released with no other key since it was pressed toggles the mode."""
        if event.key() == Qt.Key.Key_Shift and not event.isAutoRepeat():
            alone = self._shift_alone
            self._shift_alone = False
            if alone:
                self.toggle_mode()
        return False

    # ---- intents (also connected to the window's signals) ---------------------------------

    def select(self, index: int) -> None:
        """Select candidate `index` of the current page."""
        if 0 <= index < len(self.context.state.candidates):
            self._apply(lambda: self.context.select(index), time.perf_counter())

    def page(self, delta: int) -> None:
        if self.composing:
            self._apply(lambda: self.context.page(delta), time.perf_counter())

    def move(self, delta: int) -> None:
        if self.composing:
            self._apply(lambda: self.context.move(delta), time.perf_counter())

    def cancel(self) -> None:
        self._apply(self.context.cancel, time.perf_counter())

    def forget(self, index: int) -> int:
        """Forget candidate `index` of the current page; returns lexicon entries affected."""
        cands = self.context.state.candidates
        if not 0 <= index < len(cands):
            return 0
        c = cands[index]
        n = self.engine.forget(c.text, c.syllables or None)
        # the engine has no refresh intent: setting the same context re-decodes from
        # scratch (keeping the pieces already picked), so the forgotten word disappears
        self._apply(self._redecode, time.perf_counter())
        self.forgotten.emit(c.text, n)
        return n

    def refresh(self) -> None:
        """Re-decode and redraw after a config change (page size, layout, learning …)."""
        self.window.set_layout(self.engine.config.layout)
        if self.composing:
            self._apply(self._redecode, time.perf_counter())

    def set_chinese(self, on: bool) -> None:
        if on == self._chinese:
            return
        if self.composing:  # keep what was typed, as letters
            self._apply(self.context.commit_raw, time.perf_counter(), raw=True)
        self._chinese = on
        self.mode_changed.emit(on)

    def toggle_mode(self) -> None:
        self.set_chinese(not self._chinese)

    # ---- internals ------------------------------------------------------------------------

    def _punctuation(self, text: str) -> bool:
        """Is `text` a punctuation key that Chinese punctuation handles, and is that on?"""
        return (self.engine.config.chinese_punctuation and len(text) == 1
                and Punctuator.handles(text))

    def _type_punctuation(self, key: str) -> bool:
        """Type the Chinese form of punctuation key `key`; False to let the key through."""
        out = self.punctuator.convert(key, self.context.context)
        if out is None:
            return False
        self.context.set_context(self.context.context + out)
        self.committed.emit(out)
        return True

    def _mouse_press(self) -> None:
        """A click in the editor (it may move the cursor) ends a composition: the letters are
        committed as typed, as Qt's own input methods do on a reset."""
        self._shift_alone = False
        if self.composing:
            self._apply(self.context.commit_raw, time.perf_counter(), raw=True)

    def _redecode(self) -> EngineState:
        return self.context.refresh()

    def _sync_context(self) -> None:
        """At the start of a composition, take the left context from the editor's text."""
        if self.editor is None:
            return
        q = Qt.InputMethodQuery
        text = self.editor.inputMethodQuery(q.ImSurroundingText)
        pos = self.editor.inputMethodQuery(q.ImCursorPosition)
        if isinstance(text, str) and isinstance(pos, int) and text[:pos] != self.context.context:
            self.context.set_context(text[:pos])

    def _apply(self, action: Callable[[], EngineState], t0: float, raw: bool = False) -> None:
        """Run an engine intent, then tell the editor and redraw; `raw`: an Enter-style commit."""
        ctx = self.context
        keys, left = ctx.keys, ctx.context
        decoded_before = ctx.last_latency_ms
        st = replace(action(), chinese=self._chinese)
        if st.committed:
            self.committed.emit(st.committed)
            if self.recorder is not None and not raw:
                self.recorder.record(keys, st.committed, left, ts=time.time())
        if ctx.last_latency_ms != decoded_before:
            self.last_engine_ms = ctx.last_latency_ms
        self._render(st)
        self.last_latency_ms = (time.perf_counter() - t0) * 1000
        self.latency_ms.emit(self.last_latency_ms)

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
