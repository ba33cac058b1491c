"""The user's history bigram: word pairs the user committed, as the decoder scores them.

    committed 打开 | 文件 (twice)  →  pair (打开, 文件), strength 0.75
    later, after 打开:  wenjian → 文件 gains HISTORY_SCALE · 0.75 nats over 问件, 温件 …

Like libime's history bigram, but kept as pairs with a strength S ∈ [0, 1] that rises with
each commit of the pair, falls when the engine predicted the pair and the user took something
else, and decays with disuse exactly as the word likelihoods do (`ime.likelihood`). The
pairs live in the user lexicon (`history` table); this is the decoder's in-memory index of
the live ones, word → {previous word: bonus in nats}, so a lattice word costs one dict
look-up and never a query. `WordLearner` writes the pairs and keeps this index up to date.
"""

from __future__ import annotations

from ime import likelihood as lk
from ime.decoder import BEFORE_CHARS
from lexicon.user_lexicon import HistoryEntry

__all__ = ["HistoryBigram", "MAX_PAIRS"]

MAX_PAIRS = 50_000  # pairs kept in memory, the most recently used


class HistoryBigram:
    """word text → {previous word's text: score bonus (nats)}, for the pairs whose decayed
    strength is still above lk.HISTORY_FLOOR."""

    def __init__(self) -> None:
        self.bonus: dict[str, dict[str, float]] = {}
        self._pairs = 0

    def __len__(self) -> int:
        return self._pairs

    def __bool__(self) -> bool:
        return self._pairs > 0

    def load(self, pairs: list[HistoryEntry], tick: int) -> None:
        """Rebuild from these pairs (their strengths decayed to `tick`)."""
        self.bonus = {}
        self._pairs = 0
        for p in pairs:
            self.set(p, tick)

    def set(self, p: HistoryEntry, tick: int) -> None:
        """A pair was written (or read): its bonus now, or none if it decayed away."""
        s = lk.decay(p.strength, 0.0, tick - p.last_tick)
        row = self.bonus.get(p.word)
        if s < lk.HISTORY_FLOOR:
            if row is not None and row.pop(p.prev, None) is not None:
                self._pairs -= 1
                if not row:
                    del self.bonus[p.word]
            return
        if row is None:
            row = self.bonus[p.word] = {}
        if p.prev not in row:
            self._pairs += 1
        row[p.prev] = lk.history_bonus(s)

    def drop_word(self, text: str) -> None:
        """Every pair with `text` on either side (the word was forgotten)."""
        row = self.bonus.pop(text, None)
        if row is not None:
            self._pairs -= len(row)
        for word in [w for w, r in self.bonus.items() if text in r]:
            del self.bonus[word][text]
            self._pairs -= 1
            if not self.bonus[word]:
                del self.bonus[word]

    def after(self, before: str, word: str) -> float:
        """The bonus of `word` right after the committed text `before`: its longest final
        previous word with a pair (0.0 when none)."""
        row = self.bonus.get(word)
        if not row or not before:
            return 0.0
        for n in range(min(BEFORE_CHARS, len(before)), 0, -1):  # what a Start keeps
            b = row.get(before[-n:])
            if b is not None:
                return b
        return 0.0
