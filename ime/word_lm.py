"""The decoder's language models (`decoder.WordLM`): the system word bigram or trigram.

    lm = word_lm_for(model, lexicon)       # BigramWordLM, or TrigramWordLM for a trigram
    h = lm.start("我们是")          # the state after the committed text: its last word (是)
    for i, lp, h2 in lm.extend([h], word): ...

A state is a word id (bos at a clause start and after a word the vocabulary lacks: a learned
word or letters passed through). `extend` inlines the bigram's tables: it is the decoder's
hot loop, called once per lattice word with every hypothesis at the word's start node.

`TrigramWordLM` is the same over a `TrigramModel`: its state is the last two words, as the
pair key u·S + v (S = V + 1; the clause start is (bos, bos)). `word_lm_for` picks the one
for whatever `bigram.npz` holds (the engine's factory).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ime.lattice import LatticeWord
from lexicon.ngram import BigramModel, TrigramModel

__all__ = ["BigramWordLM", "TrigramWordLM", "word_lm_for", "MAX_HISTORY_WORD"]

MAX_HISTORY_WORD = 4  # characters: the longest word `start` looks for at the context's end


class _Vocabulary(Protocol):
    """What `start` needs of the system lexicon."""

    def word_id(self, text: str) -> int | None: ...


def _final_word(lexicon: _Vocabulary, context: str) -> tuple[int, int] | None:
    """(word id, length) of the longest final word of `context` in the vocabulary."""
    for n in range(min(MAX_HISTORY_WORD, len(context)), 0, -1):
        wid = lexicon.word_id(context[-n:])
        if wid is not None:
            return wid, n
    return None


def word_lm_for(model: BigramModel, lexicon: _Vocabulary) -> BigramWordLM:
    """The decoder's word LM for a built model: a trigram's when `bigram.npz` holds one."""
    if isinstance(model, TrigramModel):
        return TrigramWordLM(model, lexicon)
    return BigramWordLM(model, lexicon)


class BigramWordLM:
    def __init__(self, bigram: BigramModel, lexicon: _Vocabulary) -> None:
        self.bigram = bigram
        self.lexicon = lexicon
        self.bos: int = bigram.bos
        self._pairs, self._stride, self._backoff, self._low = bigram.tables()

    def start(self, context: str) -> int:
        """The state after `context`: its longest final word of the vocabulary, else bos."""
        last = _final_word(self.lexicon, context)
        return self.bos if last is None else last[0]

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


class TrigramWordLM(BigramWordLM):
    """The decoder's view of a TrigramModel: states are pair keys u·S + v."""

    def __init__(self, model: TrigramModel, lexicon: _Vocabulary) -> None:
        super().__init__(model, lexicon)
        self.model = model
        self.word_bos: int = model.bos
        self.bos = model.bos_pair  # type: ignore[assignment]
        self._triples, self._hist = model.trigram_tables()

    def start(self, context: str) -> int:
        """The state after `context`: its last two words (longest final words first), a
        missing one bos."""
        last = _final_word(self.lexicon, context)
        if last is None:
            return self.bos
        v, n = last
        before = _final_word(self.lexicon, context[:-n])
        u = self.word_bos if before is None else before[0]
        return u * self._stride + v

    def extend(self, states: Sequence[int], word: LatticeWord) -> list[tuple[int, float, int]]:
        wid = word.word_id
        stride = self._stride
        if wid < 0:
            return [(0, word.unigram, self.bos)]
        tget, hget, get = self._triples.get, self._hist.get, self._pairs.get
        backoff, low = self._backoff, self._low[wid]
        out = []
        for i, hh in enumerate(states):
            v = hh % stride
            t = tget(hh * stride + wid)
            if t is None:
                b = get(v * stride + wid)
                t = hget(hh, 0.0) + (backoff[v] + low if b is None else b)
            out.append((i, t, v * stride + wid))
        return out
