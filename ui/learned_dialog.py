"""The typing pad's Learned words dialog: search, forget and restore what the engine learned.

    ┌ Learned words ───────────────────────────────────────────────────┐
    │ [search: a word, or pinyin letters      ] [Recent ▾] [ ] Forgotten │
    │  word    pinyin     likelihood  uses  last use        source     │
    │  先在    xian zai   0.970       3     2 commits ago   learned    │
    │  …                                                               │
    │ 2 learned words                        [Forget] [Restore] [Close] │
    └──────────────────────────────────────────────────────────────────┘

It lists through `ime.user_dictionary` (the queries of `python main.py lexicon learned`),
forgets through `Engine.forget` (as Ctrl+Delete and `lexicon forget` do) and restores
through `ime.user_dictionary.restore` (as `lexicon restore` does); `changed` tells the pad
to decode its composition again.
"""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ime.engine import Engine
from ime.user_dictionary import LearnedWord, count_learned, learned_words, restore
from lexicon.user_lexicon import UserLexiconError
from ui.candidate_window import cjk_font

__all__ = ["LearnedWordsDialog", "SHOWN_ROWS"]

SHOWN_ROWS = 500  # rows listed at most; a search narrows a larger dictionary
COLUMNS = ("Word", "Pinyin", "Likelihood", "Uses", "Last use", "Source")
SORT_LABELS = (("recent", "Recent first"), ("count", "Most used"), ("likelihood", "Likelihood"))


class LearnedWordsDialog(QDialog):
    """Lists the user lexicon's learned (or forgotten) words; Forget and Restore act on the
    selected rows."""

    changed = pyqtSignal()  # the user lexicon changed (a word forgotten or restored)

    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.rows: list[LearnedWord] = []
        self.setWindowTitle("Learned words")
        self.resize(640, 420)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search: a word, part of one, or pinyin letters")
        self.search.setClearButtonEnabled(True)
        self.sort = QComboBox()
        for key, label in SORT_LABELS:
            self.sort.addItem(label, key)
        self.show_forgotten = QCheckBox("Forgotten")
        self.show_forgotten.setToolTip("List the forgotten words (Restore offers one again)")
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.sort)
        top.addWidget(self.show_forgotten)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setFont(cjk_font())
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

        self.status = QLabel()
        self.forget_button = QPushButton("&Forget")
        self.forget_button.setToolTip("Never offer the selected words again")
        self.restore_button = QPushButton("&Restore")
        self.restore_button.setToolTip("Offer the selected forgotten words again")
        close = QPushButton("Close")
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.forget_button)
        bottom.addWidget(self.restore_button)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

        self.search.textChanged.connect(self.reload)
        self.sort.currentIndexChanged.connect(self.reload)
        self.show_forgotten.toggled.connect(self.reload)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.forget_button.clicked.connect(self.forget_selected)
        self.restore_button.clicked.connect(self.restore_selected)
        close.clicked.connect(self.close)
        self.reload()

    # ---- the list ---------------------------------------------------------------------------

    @property
    def forgotten_view(self) -> bool:
        return self.show_forgotten.isChecked()

    def reload(self) -> None:
        """Query again with the search text, the sort and the view."""
        learner = self.engine.learner
        self.rows = []
        if learner is None:
            self._fill()
            self.status.setText("No user lexicon: learning is off")
            return
        grep = self.search.text().strip() or None
        sort = self.sort.currentData()
        try:
            self.rows = learned_words(learner.store, sort, grep, SHOWN_ROWS,
                                      self.forgotten_view)
            total = (len(self.rows) if len(self.rows) < SHOWN_ROWS
                     else count_learned(learner.store, grep, self.forgotten_view))
        except UserLexiconError as e:
            self._fill()
            self.status.setText(str(e))
            return
        self._fill()
        what = "forgotten" if self.forgotten_view else "learned"
        shown = f"{len(self.rows)} of {total}" if total > len(self.rows) else str(total)
        self.status.setText(f"{shown} {what} word{'s' if total != 1 else ''}"
                            + (f" matching {grep!r}" if grep else ""))

    def _fill(self) -> None:
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            last = "now" if r.ticks_ago == 0 else f"{r.ticks_ago} commits ago"
            for j, text in enumerate((r.word, r.pinyin, f"{r.likelihood:.3f}", str(r.uses),
                                      last, r.source)):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self._update_buttons()

    def _update_buttons(self) -> None:
        any_selected = bool(self.selected())
        self.forget_button.setEnabled(any_selected and not self.forgotten_view)
        self.restore_button.setEnabled(any_selected and self.forgotten_view)

    def selected(self) -> list[LearnedWord]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.rows[i] for i in rows if i < len(self.rows)]

    def select_word(self, word: str) -> bool:
        """Select the row of `word` (the first, if it has several readings)."""
        for i, r in enumerate(self.rows):
            if r.word == word:
                self.table.selectRow(i)
                return True
        return False

    # ---- forget and restore -----------------------------------------------------------------

    def forget_selected(self) -> int:
        """Forget the selected words (each under its listed reading); returns entries marked."""
        return self._act(lambda r: self.engine.forget(r.word, r.syllables), "Forgot")

    def restore_selected(self) -> int:
        """Offer the selected forgotten words again; returns entries restored."""
        return self._act(lambda r: restore(self.engine, r.word, r.syllables), "Restored")

    def _act(self, fn, verb: str) -> int:
        picked = self.selected()
        if not picked:
            return 0
        try:
            n = sum(fn(r) for r in picked)
        except UserLexiconError as e:
            self.status.setText(str(e))
            return 0
        paused = getattr(self.engine.learner, "paused", None)
        self.reload()
        if n:
            self.changed.emit()
            self.status.setText(f"{verb} {', '.join(r.word for r in picked)}")
        elif paused:
            self.status.setText(f"Not written: {paused}")
        return n
