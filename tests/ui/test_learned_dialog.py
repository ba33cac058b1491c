"""The typing pad's Learned words dialog: it lists what the pad learned, searches, forgets and
restores (offscreen Qt)."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt

from ui.app import TypingPad
from ui.learned_dialog import COLUMNS, LearnedWordsDialog

pytestmark = pytest.mark.qt


@pytest.fixture
def pad(qtbot, make_engine) -> TypingPad:
    p = TypingPad(make_engine(learn=True))
    qtbot.addWidget(p)
    p.show()
    qtbot.waitExposed(p)
    return p


def offered(pad: TypingPad, keys: str) -> list[str]:
    return [c.text for c in pad.engine.convert(keys)]


def learn_second(qtbot, pad: TypingPad, keys: str) -> str:
    """Type `keys` in the pad and take the second candidate (so it is learned)."""
    qtbot.keyClicks(pad.editor, keys)
    word = pad.candidate_window.state.candidates[1].text
    qtbot.keyClick(pad.editor, Qt.Key.Key_2)
    while pad.bridge.composing:
        qtbot.keyClick(pad.editor, Qt.Key.Key_Space)
    return word


def table(dialog: LearnedWordsDialog) -> list[list[str]]:
    t = dialog.table
    return [[t.item(i, j).text() for j in range(len(COLUMNS))] for i in range(t.rowCount())]


def test_the_dialog_lists_searches_forgets_and_restores(qtbot, pad: TypingPad) -> None:
    word = learn_second(qtbot, pad, "xianzai")
    other = learn_second(qtbot, pad, "shiyan")
    assert offered(pad, "xianzai")[0] == word  # learned: it leads now
    pad.learned_action.trigger()
    dialog = pad.learned_dialog
    assert dialog is not None and dialog.isVisible()
    rows = table(dialog)
    assert [r[0] for r in rows] == [other, word]  # most recent first
    assert rows[1][1:2] == ["xian zai"] and rows[1][3] == "1" and rows[1][5] == "learned"
    assert "2 learned words" in dialog.status.text()

    qtbot.keyClicks(dialog.search, "xianzai")  # pinyin letters find it
    assert [r[0] for r in table(dialog)] == [word]
    dialog.search.clear()
    assert len(table(dialog)) == 2

    assert not dialog.forget_button.isEnabled()  # nothing selected yet
    assert dialog.select_word(word) and dialog.forget_button.isEnabled()
    with qtbot.waitSignal(dialog.changed):
        qtbot.mouseClick(dialog.forget_button, Qt.MouseButton.LeftButton)
    assert [r[0] for r in table(dialog)] == [other]
    assert word not in offered(pad, "xianzai")  # the engine no longer offers it

    dialog.show_forgotten.setChecked(True)
    assert [r[0] for r in table(dialog)] == [word] and "1 forgotten word" in dialog.status.text()
    assert not dialog.restore_button.isEnabled()
    assert dialog.select_word(word) and dialog.restore_button.isEnabled()
    assert not dialog.forget_button.isEnabled()
    with qtbot.waitSignal(dialog.changed):
        qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    assert table(dialog) == [] and word in offered(pad, "xianzai")
    assert pad.show_learned_words() is dialog  # opened again: the same dialog, reloaded


def test_the_sort_box_orders_the_list(qtbot, pad: TypingPad) -> None:
    from lexicon.user_lexicon import UserEntry

    store = pad.engine.learner.store
    store.put_many([UserEntry("先在", ("xian", "zai"), 0.6, 0.5, 5, 3, False, "system"),
                    UserEntry("西安人", ("xi", "an", "ren"), 0.9, 0.0, 1, 2, False, "learned"),
                    UserEntry("你号", ("ni", "hao"), 0.7, 0.5, 2, 4, False, "import")])
    store.set_tick(4)
    dialog = pad.show_learned_words()
    expected = {"recent": ["你号", "先在", "西安人"], "count": ["先在", "你号", "西安人"],
                "likelihood": ["西安人", "你号", "先在"]}
    for key, words in expected.items():
        dialog.sort.setCurrentIndex(dialog.sort.findData(key))
        assert [r[0] for r in table(dialog)] == words, key
    assert table(dialog)[1][5] == "imported"


def test_without_a_user_lexicon_the_dialog_says_so(qtbot, make_engine) -> None:
    dialog = LearnedWordsDialog(make_engine(learn=False))
    qtbot.addWidget(dialog)
    assert table(dialog) == [] and "learning is off" in dialog.status.text()
    assert dialog.forget_selected() == 0
