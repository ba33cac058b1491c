"""Our PyQt6 candidate window as the IBus engine's candidate view (config
`candidate_window = "qt"`, the default on X11).

One `CandidateWindow` serves the whole engine process: only the focused input context shows
candidates, so the window is drawn for whichever session showed it last (its owner), at the
cursor rectangle that session's client reported, and its clicks go back to that session. The
window is a frameless tool tip that is never activated (ui/candidate_window.py), so it never
takes the keyboard from the application: a right-click on a candidate forgets it at once,
without the window's context menu (a menu grabs the keyboard, and the application, losing
it, would end the composition first).
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QEvent, QObject, QRect
from PyQt6.QtGui import QContextMenuEvent

from ime.candidates import EngineState
from ui.candidate_window import CandidateWindow
from ui.ibus.session import Rect, Session

__all__ = ["QtCandidateView"]


class QtCandidateView:
    def __init__(self, layout: str = "horizontal",
                 trace: Callable[..., None] | None = None) -> None:
        self.window = CandidateWindow(layout)
        self.window.setWindowTitle("Delta Pinyin candidates")
        self.owner: Session | None = None
        self.trace = trace
        self.window.candidate_selected.connect(lambda i: self._to_owner("select", i))
        self.window.page_requested.connect(lambda d: self._to_owner("page", d))
        self.window.forget_requested.connect(lambda i: self._to_owner("forget", i))
        if trace is not None:
            self.window.painted.connect(self._painted)
        # a right-click forgets at once: the window's own context menu would grab the
        # keyboard, and the application, losing it, would end the composition first
        self._menu_filter = _RightClickForgets(self)
        self.window.installEventFilter(self._menu_filter)

    def show(self, owner: Session, state: EngineState, cursor: Rect | None) -> None:
        self.owner = owner
        engine = owner.service.engine
        if engine is not None and engine.config.layout != self.window.layout_name:
            self.window.set_layout(engine.config.layout)
        self.window.set_state(state)
        if cursor is not None:  # a Qt client reports its cursor only after the first key
            self.window.show_at(QRect(*cursor))

    def hide(self, owner: Session) -> None:
        if self.owner is owner or self.owner is None:
            self.window.hide()
            if self.trace is not None:
                self.trace("window_hidden")

    def _to_owner(self, intent: str, arg: int) -> None:
        if self.owner is not None and self.owner.composing:
            getattr(self.owner, intent)(arg)

    def right_click(self, event: QContextMenuEvent) -> None:
        i = self.window.candidate_at(event.pos())
        if i is not None:
            self._to_owner("forget", i)

    def _painted(self) -> None:
        g = self.window.frameGeometry()
        st = self.window.state
        assert self.trace is not None
        cells = []
        for i in range(len(st.candidates) if st is not None else 0):
            r = self.window.candidate_rect(i)
            cells.append([r.x(), r.y(), r.width(), r.height()])
        self.trace("paint", geometry=[g.x(), g.y(), g.width(), g.height()],
                   keys=st.keys if st is not None else "",
                   candidates=[c.text for c in st.candidates] if st is not None else [],
                   cells=cells)


class _RightClickForgets(QObject):
    def __init__(self, view: QtCandidateView) -> None:
        super().__init__()
        self.view = view

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:  # noqa: N802
        if event is not None and event.type() == QEvent.Type.ContextMenu:
            self.view.right_click(event)  # type: ignore[arg-type]
            return True
        return False
