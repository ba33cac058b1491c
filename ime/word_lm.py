"""The decoder's language models (`decoder.WordLM`): the system word bigram.

    lm = BigramWordLM(bigram, lexicon)
    h = lm.start("我们是")          # the state after the committed text: its last word (是)
    for i, lp, h2 in lm.extend([h], word): ...

A state is a word id (bos at a clause start and after a word the vocabulary lacks: a learned
word or letters passed through). `extend` inlines the bigram's tables: it is the decoder's
hot loop, called once per lattice word with every hypothesis at the word's start node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ime.lattice import LatticeWord
from lexicon.ngram import BigramModel

__all__ = ["BigramWordLM", "MAX_HISTORY_WORD"]

MAX_HISTORY_WORD = 4  # characters: the longest word `start` looks for at the context's end


class _Vocabulary(Protocol):
    """What `start` needs of the system lexicon."""

    def word_id(self, text: str) -> int | None: ...


class BigramWordLM:
    def __init__(self, bigram: BigramModel, lexicon: _Vocabulary) -> None:
        self.bigram = bigram
        self.lexicon = lexicon
        self.bos: int = bigram.bos
        self._pairs, self._stride, self._backoff, self._low = bigram.tables()

    def start(self, context: str) -> int:
        """The state after `context`: its longest final word of the vocabulary, else bos."""
        for n in range(min(MAX_HISTORY_WORD, len(context)), 0, -1):
            wid = self.lexicon.word_id(context[-n:])
            if wid is not None:
                return wid
        return self.bos

    def extend(self, states: Sequence[int], word: LatticeWord) -> list[tuple[int, float, int]]:
        wid = word.word_id
        if wid < 0:
            # no bigram for it: its own unigram, the same after every history, so only the
            # best hypothesis (the first) is extended
            return [(0, word.unigram, self.bos)]
        get, stride, backoff = self._pairs.get, self._stride, self._backoff
        low = self._low[wid]
        out = []
        for i, h in enumerate(states):
            v = get(h * stride + wid)
            out.append((i, backoff[h] + low if v is None else v, wid))
        return out
