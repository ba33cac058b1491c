"""CandidateWindow: draws one `EngineState` and emits what the user asked for.

    ┌──────────────────────────────────────────────┐
    │ zhong'guo ren                                │   preedit (the engine's syllable split)
    │ [1 中国人]  2 中国任  3 中国  4 种果  5 中   ‹ › │   horizontal layout (or one per line)
    └──────────────────────────────────────────────┘

The window never calls the engine: clicks become `candidate_selected(i)`, the arrows and the
mouse wheel become `page_requested(±1)`, and the context menu's "Forget this word" becomes
`forget_requested(i)` (i is the index on the current page). `ui.bridge.ImeBridge` wires them.
Every size comes from font metrics, so the window scales with the font and the screen's
device pixel ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PyQt6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import (
    QContextMenuEvent,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QWheelEvent,
)
from PyQt6.QtWidgets import QApplication, QMenu, QWidget

from ime.candidates import CandidateKind, EngineState

__all__ = ["CandidateWindow", "CJK_FAMILIES", "cjk_font", "place_popup", "LAYOUTS"]

LAYOUTS = ("horizontal", "vertical")

# Tried in order; the first installed one draws the Han characters (Simplified forms first).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)


def cjk_font(scale: float = 1.0, base: QFont | None = None) -> QFont:
    """The application font with the installed CJK families in front (fallback order).

    `scale` multiplies the point size, so the result follows the user's font settings.
    """
    font = QFont(base if base is not None else QApplication.font())
    installed = set(QFontDatabase.families())
    families = [f for f in CJK_FAMILIES if f in installed]
    families.append(font.family())  # the UI font last: whatever the CJK fonts lack
    font.setFamilies(list(dict.fromkeys(families)))
    if scale != 1.0:
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * scale)
        elif font.pixelSize() > 0:
            font.setPixelSize(max(1, round(font.pixelSize() * scale)))
    return font


def place_popup(cursor: QRect, size: QSize, available: QRect) -> QPoint:
    """Top-left of a popup of `size` under the text cursor `cursor`, kept on `available`.

    Below the cursor when it fits, above it when it does not (flip), then clamped so the
    whole popup is on the screen's available geometry. All rectangles are global.
    """
    x = cursor.left()
    y = cursor.bottom() + 1
    if y + size.height() > available.bottom() + 1 and cursor.top() - size.height() >= \
            available.top():
        y = cursor.top() - size.height()
    x = min(max(x, available.left()), available.right() + 1 - size.width())
    y = min(max(y, available.top()), available.bottom() + 1 - size.height())
    # a popup wider or taller than the screen keeps its top-left corner on it
    return QPoint(max(x, available.left()), max(y, available.top()))


@dataclass(frozen=True, slots=True)
class _Cell:
    """One candidate as laid out: its box, and where its number and text are drawn."""

    index: int
    box: QRectF
    label: str  # "1."
    text: str
    learned: bool


class CandidateWindow(QWidget):
    """A frameless popup showing the preedit, numbered candidates and page arrows."""

    candidate_selected = pyqtSignal(int)  # index on the current page
    page_requested = pyqtSignal(int)  # -1 previous page, +1 next page
    forget_requested = pyqtSignal(int)  # index on the current page
    painted = pyqtSignal()  # after every paintEvent (for latency measurements)

    def __init__(self, layout: str = "horizontal", parent: QWidget | None = None) -> None:
        # a frameless tool-tip-type window (as fcitx5-qt's): never activated, never takes the
        # editor's focus, no window-manager placement; on Wayland it is a popup of `parent`
        super().__init__(parent, Qt.WindowType.ToolTip | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint
                         | Qt.WindowType.WindowDoesNotAcceptFocus
                         | Qt.WindowType.X11BypassWindowManagerHint
                         | Qt.WindowType.NoDropShadowWindowHint)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMouseTracking(True)
        self.setFont(cjk_font(1.25))
        self._layout = "horizontal"
        self._state: EngineState | None = None
        self._cells: list[_Cell] = []
        self._preedit_box = QRectF()
        self._prev_box = QRectF()
        self._next_box = QRectF()
        self._size = QSize(1, 1)
        self.paint_count = 0
        self.set_layout(layout)

    # ---- what it shows --------------------------------------------------------------------

    @property
    def state(self) -> EngineState | None:
        return self._state

    @property
    def layout_name(self) -> str:
        return self._layout

    def set_layout(self, layout: str) -> None:
        """"horizontal" (candidates in a row) or "vertical" (one per line)."""
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
        self._layout = layout
        self._relayout()

    def set_state(self, state: EngineState) -> None:
        """Show `state`; the window resizes to fit and repaints."""
        self._state = state
        self._relayout()

    def labels(self) -> list[str]:
        """The candidates as drawn: "1. 你好", "2. 你号", …"""
        return [f"{c.label} {c.text}" for c in self._cells]

    def preedit_text(self) -> str:
        return self._state.preedit if self._state is not None else ""

    @property
    def highlighted(self) -> int:
        """Index of the highlighted candidate on this page (-1 when there is none)."""
        return self._state.highlighted if self._state and self._state.candidates else -1

    @property
    def can_page_prev(self) -> bool:
        return self._state is not None and self._state.has_prev_page

    @property
    def can_page_next(self) -> bool:
        return self._state is not None and self._state.has_next_page

    def candidate_rect(self, index: int) -> QRect:
        """The box of candidate `index` in window coordinates (for tests and hit-testing)."""
        return self._cells[index].box.toAlignedRect()

    def prev_rect(self) -> QRect:
        return self._prev_box.toAlignedRect()

    def next_rect(self) -> QRect:
        return self._next_box.toAlignedRect()

    def candidate_at(self, pos: QPointF | QPoint) -> int | None:
        p = QPointF(pos)
        for c in self._cells:
            if c.box.contains(p):
                return c.index
        return None

    # ---- placement ------------------------------------------------------------------------

    def show_at(self, cursor: QRect) -> None:
        """Show under the global text-cursor rectangle `cursor`, flipped above if needed."""
        screen = QGuiApplication.screenAt(cursor.center()) or self.screen() \
            or QGuiApplication.primaryScreen()
        self.resize(self._size)
        self.move(place_popup(cursor, self._size, screen.availableGeometry()))
        if not self.isVisible():
            self.show()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return self._size

    # ---- layout from font metrics ---------------------------------------------------------

    def _metrics(self) -> tuple[QFontMetricsF, QFontMetricsF, float]:
        fm = QFontMetricsF(self.font())
        small = QFontMetricsF(self._small_font())
        return fm, small, fm.height()

    def _small_font(self) -> QFont:
        f = QFont(self.font())
        if f.pointSizeF() > 0:
            f.setPointSizeF(f.pointSizeF() * 0.8)
        return f

    def _relayout(self) -> None:
        fm, small, line = self._metrics()
        pad = line * 0.35  # margin around everything
        gap = line * 0.6  # between candidates
        inner = line * 0.25  # inside a candidate's box
        st = self._state
        self._cells = []
        y = pad
        preedit = st.preedit if st is not None else ""
        self._preedit_box = QRectF(pad, y, small.horizontalAdvance(preedit), small.height())
        y += small.height() + pad * 0.5
        x = pad
        right = pad + self._preedit_box.width()
        arrows_w = fm.horizontalAdvance("‹") + fm.horizontalAdvance("›") + gap
        for i, c in enumerate(st.candidates if st is not None else ()):
            label = f"{i + 1}."
            w = small.horizontalAdvance(label) + inner + fm.horizontalAdvance(c.text) + 2 * inner
            if c.learned:
                w += small.horizontalAdvance("•")
            box = QRectF(x, y, w, line + inner)
            self._cells.append(_Cell(i, box, label, c.text, c.learned))
            if self._layout == "horizontal":
                x += w + gap
                right = max(right, box.right())
            else:
                y += box.height() + inner * 0.5
                right = max(right, box.right())
        if self._layout == "vertical" and self._cells:  # one column: equal widths
            widest = max(c.box.width() for c in self._cells)
            self._cells = [_Cell(c.index, QRectF(c.box.left(), c.box.top(), widest,
                                                 c.box.height()), c.label, c.text, c.learned)
                           for c in self._cells]
            right = max(right, pad + widest)
        if self._layout == "horizontal":
            arrows_x = (right + gap) if self._cells else pad
            arrows_y = y
            bottom = y + line + inner
        else:
            arrows_x = max(right - arrows_w + gap, pad)
            arrows_y = y + inner
            bottom = arrows_y + line
        aw = fm.horizontalAdvance("‹") + inner
        self._prev_box = QRectF(arrows_x, arrows_y, aw, line + inner)
        self._next_box = QRectF(arrows_x + aw + inner, arrows_y, aw, line + inner)
        right = max(right, self._next_box.right())
        self._size = QSize(math.ceil(right + pad), math.ceil(bottom + pad))
        if self.size() != self._size:
            self.resize(self._size)
        self.update()

    # ---- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        pal = self.palette()
        fm, small_fm, _ = self._metrics()
        small = self._small_font()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        p.setPen(pal.color(QPalette.ColorRole.Mid))
        p.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        dim = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        text = pal.color(QPalette.ColorRole.Text)
        # preedit: the syllable split as the engine reads it
        p.setFont(small)
        p.setPen(text)
        p.drawText(self._preedit_box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   self.preedit_text())
        radius = fm.height() * 0.2
        highlighted = self.highlighted
        for c in self._cells:
            on = c.index == highlighted
            if on:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(pal.color(QPalette.ColorRole.Highlight))
                p.drawRoundedRect(c.box, radius, radius)
            fg = pal.color(QPalette.ColorRole.HighlightedText) if on else text
            inner = fm.height() * 0.25
            x = c.box.left() + inner
            p.setFont(small)
            p.setPen(fg if on else dim)
            label_w = small_fm.horizontalAdvance(c.label)
            p.drawText(QRectF(x, c.box.top(), label_w, c.box.height()),
                       Qt.AlignmentFlag.AlignVCenter, c.label)
            x += label_w + inner
            p.setFont(self.font())
            p.setPen(fg)
            text_w = fm.horizontalAdvance(c.text)
            p.drawText(QRectF(x, c.box.top(), text_w, c.box.height()),
                       Qt.AlignmentFlag.AlignVCenter, c.text)
            if c.learned:  # a word the user taught: the one "Forget this word" acts on
                p.setFont(small)
                p.setPen(fg if on else pal.color(QPalette.ColorRole.Highlight))
                p.drawText(QRectF(x + text_w, c.box.top(), small_fm.horizontalAdvance("•"),
                                  c.box.height() * 0.6), Qt.AlignmentFlag.AlignTop, "•")
        p.setFont(self.font())
        for box, glyph, enabled in ((self._prev_box, "‹", self.can_page_prev),
                                    (self._next_box, "›", self.can_page_next)):
            p.setPen(text if enabled else dim)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, glyph)
        p.end()
        self.paint_count += 1
        self.painted.emit()

    # ---- mouse ------------------------------------------------------------------------------

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mouseReleaseEvent(event)
        pos = event.position()
        i = self.candidate_at(pos)
        if i is not None:
            self.candidate_selected.emit(i)
        elif self._prev_box.contains(pos) and self.can_page_prev:
            self.page_requested.emit(-1)
        elif self._next_box.contains(pos) and self.can_page_next:
            self.page_requested.emit(+1)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        pos = event.position()
        over = (self.candidate_at(pos) is not None
                or (self._prev_box.contains(pos) and self.can_page_prev)
                or (self._next_box.contains(pos) and self.can_page_next))
        self.setCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt's name)
        dy = event.angleDelta().y()
        if dy < 0 and self.can_page_next:
            self.page_requested.emit(+1)
        elif dy > 0 and self.can_page_prev:
            self.page_requested.emit(-1)
        event.accept()

    def context_menu(self, index: int) -> QMenu:
        """The right-click menu of candidate `index` ("Forget this word")."""
        menu = QMenu(self)
        action = menu.addAction("Forget this word")
        c = self._state.candidates[index] if self._state is not None else None
        # raw letters are not a word; everything else can be forgotten (system words demoted)
        action.setEnabled(c is not None and c.kind != CandidateKind.RAW)
        action.triggered.connect(lambda: self.forget_requested.emit(index))
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt's name)
        i = self.candidate_at(event.pos())
        if i is None:
            return
        menu = self.context_menu(i)
        menu.exec(event.globalPos())
        menu.deleteLater()
