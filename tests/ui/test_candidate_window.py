"""CandidateWindow: renders an EngineState, lays out by font metrics, emits intents only."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PyQt6.QtCore import QPoint, QRect, QSize, Qt
from PyQt6.QtGui import QFontDatabase, QPalette, QRawFont

from ime.candidates import Candidate, CandidateKind, EngineState
from ui.candidate_window import CandidateWindow, cjk_font, place_popup

pytestmark = pytest.mark.qt


def cand(text: str, kind: CandidateKind = CandidateKind.WORD, learned: bool = False) -> Candidate:
    return Candidate(text, kind, len(text), 0.0, (), learned)


def state(texts: list[str], highlighted: int = 0, page: int = 0, page_count: int = 1,
          preedit: str = "ni'hao") -> EngineState:
    return EngineState(keys=preedit.replace("'", "").replace(" ", ""), preedit=preedit,
                       cursor=len(preedit), candidates=tuple(cand(t) for t in texts),
                       highlighted=highlighted, page=page, page_count=page_count, page_size=5,
                       committed="")


NIHAO = ["你好", "你号", "倪好", "拟好", "昵好"]


@pytest.fixture
def window(qtbot) -> CandidateWindow:
    w = CandidateWindow()
    qtbot.addWidget(w)
    return w


def test_numbered_candidates_and_preedit(window: CandidateWindow) -> None:
    window.set_state(state(NIHAO, highlighted=2))
    assert window.labels() == ["1. 你好", "2. 你号", "3. 倪好", "4. 拟好", "5. 昵好"]
    assert window.preedit_text() == "ni'hao"
    assert window.highlighted == 2


def test_highlighted_candidate_is_drawn_with_the_highlight_colour(window: CandidateWindow) -> None:
    window.set_state(state(NIHAO, highlighted=1))
    image = window.grab().toImage()
    dpr = image.devicePixelRatio()
    highlight = window.palette().color(QPalette.ColorRole.Highlight)

    def colour_at(i: int):
        r = window.candidate_rect(i)  # just inside the left edge, at mid-height: background
        p = QPoint(round((r.left() + 2) * dpr), round(r.center().y() * dpr))
        return image.pixelColor(p)

    assert colour_at(1) == highlight
    assert colour_at(0) != highlight
    window.set_state(state(NIHAO, highlighted=0))
    image = window.grab().toImage()
    assert colour_at(0) == highlight


@pytest.mark.parametrize(("page", "pages", "prev", "next_"), [
    (0, 1, False, False), (0, 3, False, True), (1, 3, True, True), (2, 3, True, False),
], ids=["single", "first", "middle", "last"])
def test_page_arrows_follow_the_page(window: CandidateWindow, page: int, pages: int,
                                     prev: bool, next_: bool) -> None:
    window.set_state(state(NIHAO, page=page, page_count=pages))
    assert (window.can_page_prev, window.can_page_next) == (prev, next_)


def test_horizontal_and_vertical_layouts(window: CandidateWindow) -> None:
    window.set_state(state(NIHAO))
    row = [window.candidate_rect(i) for i in range(5)]
    assert len({r.top() for r in row}) == 1
    assert all(a.right() < b.left() for a, b in zip(row, row[1:]))
    wide = window.sizeHint()
    window.set_layout("vertical")
    col = [window.candidate_rect(i) for i in range(5)]
    assert len({r.left() for r in col}) == 1
    assert all(a.bottom() < b.top() for a, b in zip(col, col[1:]))
    assert window.sizeHint().height() > wide.height()
    assert window.sizeHint().width() < wide.width()
    with pytest.raises(ValueError):
        window.set_layout("diagonal")


def test_sizes_come_from_the_font(window: CandidateWindow) -> None:
    """No hard pixel sizes: a larger font (or a HiDPI scale factor) gives a larger window."""
    window.set_state(state(NIHAO))
    small = window.sizeHint()
    font = window.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    window.setFont(font)
    window.set_state(state(NIHAO))
    big = window.sizeHint()
    assert big.width() > 1.6 * small.width() and big.height() > 1.6 * small.height()


def test_cjk_font_prefers_noto_sans_cjk_sc() -> None:
    installed = set(QFontDatabase.families())
    font = cjk_font()
    if "Noto Sans CJK SC" in installed:
        assert font.families()[0] == "Noto Sans CJK SC"
    if not any("CJK" in f for f in installed):
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    assert QRawFont.fromFont(font).supportsCharacter("你")


def test_click_selects_and_arrows_page(qtbot, window: CandidateWindow) -> None:
    window.set_state(state(NIHAO, page=0, page_count=2))
    window.show()
    with qtbot.waitSignal(window.candidate_selected) as sig:
        qtbot.mouseClick(window, Qt.MouseButton.LeftButton, pos=window.candidate_rect(3).center())
    assert sig.args == [3]
    with qtbot.waitSignal(window.page_requested) as sig:
        qtbot.mouseClick(window, Qt.MouseButton.LeftButton, pos=window.next_rect().center())
    assert sig.args == [1]
    with qtbot.assertNotEmitted(window.page_requested):  # no previous page: disabled
        qtbot.mouseClick(window, Qt.MouseButton.LeftButton, pos=window.prev_rect().center())


def test_context_menu_forgets_a_word(qtbot, window: CandidateWindow) -> None:
    st = state(NIHAO)
    st = replace(st, candidates=st.candidates + (cand("nh", CandidateKind.RAW),))
    window.set_state(st)
    menu = window.context_menu(2)
    (action,) = menu.actions()
    assert action.text() == "Forget this word" and action.isEnabled()
    with qtbot.waitSignal(window.forget_requested) as sig:
        action.trigger()
    assert sig.args == [2]
    assert not window.context_menu(5).actions()[0].isEnabled()  # raw letters: not a word


SCREEN = QRect(0, 0, 1000, 800)
POPUP = QSize(300, 60)


@pytest.mark.parametrize(("cursor", "expected"), [
    (QRect(100, 100, 2, 20), QPoint(100, 120)),  # below the cursor
    (QRect(100, 760, 2, 20), QPoint(100, 700)),  # no room below: flipped above
    (QRect(900, 100, 2, 20), QPoint(700, 120)),  # clamped to the right edge
    (QRect(-50, 100, 2, 20), QPoint(0, 120)),  # clamped to the left edge
    (QRect(100, 790, 2, 30), QPoint(100, 730)),  # cursor partly off screen: above, on screen
], ids=["below", "flip", "right-edge", "left-edge", "bottom-edge"])
def test_place_popup(cursor: QRect, expected: QPoint) -> None:
    pos = place_popup(cursor, POPUP, SCREEN)
    assert pos == expected
    assert SCREEN.contains(QRect(pos, POPUP))


def test_show_at_stays_on_screen(window: CandidateWindow) -> None:
    window.set_state(state(NIHAO))
    avail = window.screen().availableGeometry()
    window.show_at(QRect(avail.right() - 5, avail.bottom() - 5, 2, 20))
    assert window.isVisible()
    assert avail.contains(window.geometry())
    assert window.geometry().bottom() <= avail.bottom() - 5  # flipped above the cursor
