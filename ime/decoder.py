"""Decoder: n-best sentences over a Lattice, scored by the word n-gram model.

    score(sentence) = Σ_words  log P(w | previous word) + emission(w) + word penalty

where emission is log P(reading | word) plus the penalties of the edges the word was typed
over (abbreviation, fuzzy, typo, incomplete) and the learner's adjustment. A beam of
hypotheses is kept at every node, at most `per_history` per last word (the only state a
bigram needs), so that the final node holds many distinct sentences.

Incremental: the hypotheses at node j depend only on the words ending at or before j, which
depend only on the keys before j (SyllableGraph's edges are local), so a keystroke that
appends keys keeps every node before the old last one and decodes only the new tail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ime.lattice import Lattice, LatticeWord

__all__ = ["WordLM", "Hyp", "Sentence", "Decoder", "DecodeState"]


class WordLM(Protocol):
    """The decoder's view of the n-gram model."""

    bos: int

    def logp(self, h: int, w: int) -> float:
        """log P(w | h); h = bos at the start of a clause."""
        ...


@dataclass(frozen=True, slots=True)
class Hyp:
    score: float
    word: LatticeWord | None
    prev: Hyp | None
    history: int  # LM history after this word

    def words(self) -> tuple[LatticeWord, ...]:
        out: list[LatticeWord] = []
        h: Hyp | None = self
        while h is not None and h.word is not None:
            out.append(h.word)
            h = h.prev
        return tuple(reversed(out))


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    words: tuple[LatticeWord, ...]
    score: float

    @property
    def syllables(self) -> tuple[str, ...]:
        return tuple(s for w in self.words for s in w.syllables)

    @property
    def end(self) -> int:
        return self.words[-1].end if self.words else 0


@dataclass
class DecodeState:
    """Hypotheses per node for one key string and one left history (reused across keystrokes)."""

    keys: str
    history: int
    hyps: list[list[Hyp]] = field(default_factory=list)


class Decoder:
    def __init__(self, lm: WordLM, beam: int = 10, final_beam: int = 48, per_history: int = 2,
                 nbest: int = 10, margin: float = 25.0, word_penalty: float = -2.0) -> None:
        self.lm = lm
        # added per exactly spelled word: favours fewer, longer words over chains of single
        # characters (是是 for shishi); chosen on the dev logs: +2 points P@1 news and fortunes
        self.word_penalty = word_penalty
        self.margin = margin  # hypotheses this many nats below a node's best are dropped
        self.beam = beam
        self.final_beam = final_beam
        self.per_history = per_history
        self.nbest = nbest

    def decode(self, lattice: Lattice, history: int | None = None,
               previous: DecodeState | None = None) -> tuple[list[Sentence], DecodeState]:
        keys = lattice.graph.keys
        n = len(keys)
        h0 = self.lm.bos if history is None else history
        hyps: list[list[Hyp]] = [[Hyp(0.0, None, None, h0)]]
        if previous is not None and previous.history == h0 and previous.hyps:
            # Node j's incoming words depend on keys[:j + 1] (an apostrophe at j moves the
            # edges ending there) and on whether j is the last node.
            old = previous.keys
            common = 0
            for a, b in zip(old, keys):
                if a != b:
                    break
                common += 1
            last_valid = min(common - 1, len(old) - 1, n - 1)
            if last_valid >= 1:
                hyps = previous.hyps[: last_valid + 1]
        for j in range(len(hyps), n + 1):
            hyps.append(self._extend(lattice.words_to[j], hyps,
                                     self.final_beam if j == n else self.beam))
        state = DecodeState(keys, h0, hyps)
        return self._sentences(hyps[n] if n < len(hyps) else []), state

    def word_score(self, w: LatticeWord, history: int | None = None) -> float:
        """The score of a one-word sentence, as `decode` would give it."""
        h = self.lm.bos if history is None else history
        em = w.emission + (self.word_penalty if w.exact else 0.0)
        return em + (self.lm.logp(h, w.word_id) if w.word_id >= 0 else w.unigram)

    def _extend(self, incoming: tuple[LatticeWord, ...], hyps: list[list[Hyp]],
                beam: int) -> list[Hyp]:
        """The best hypotheses ending at one node, at most `per_history` per last word."""
        lm = self.lm
        bos = lm.bos
        tables = getattr(lm, "tables", None)
        scored: list[tuple[float, LatticeWord, Hyp]] = []
        wp = self.word_penalty
        get = backoff = low = None
        if tables is not None:  # the bigram's tables inlined: the decoder's hot loop
            pairs, stride, backoff, low = tables()
            get = pairs.get
        for w in incoming:
            prevs = hyps[w.start]
            if not prevs:
                continue
            em = w.emission + (wp if w.exact else 0.0)
            wid = w.word_id
            if wid < 0:  # a learned word or raw letters: no bigram, its own unigram
                scored.append((prevs[0].score + w.unigram + em, w, prevs[0]))
            elif get is not None:
                lw = low[wid]
                for p in prevs:
                    v = get(p.history * stride + wid)
                    scored.append((p.score + em + (backoff[p.history] + lw if v is None else v),
                                   w, p))
            else:
                for p in prevs:
                    scored.append((p.score + lm.logp(p.history, wid) + em, w, p))
        if not scored:
            return []
        floor = max(x[0] for x in scored) - self.margin
        scored = [x for x in scored if x[0] >= floor]
        scored.sort(key=lambda x: -x[0])
        out: list[Hyp] = []
        per: dict[int, int] = {}
        for score, w, p in scored:
            h = w.word_id if w.word_id >= 0 else bos
            c = per.get(h, 0)
            if c >= self.per_history and h != bos:
                continue
            per[h] = c + 1
            out.append(Hyp(score, w, p, h))
            if len(out) >= beam:
                break
        return out

    def _sentences(self, final: list[Hyp]) -> list[Sentence]:
        out: list[Sentence] = []
        seen: set[str] = set()
        for h in final:
            words = h.words()
            text = "".join(w.text for w in words)
            if text in seen:
                continue
            seen.add(text)
            out.append(Sentence(text, words, h.score))
            if len(out) >= self.nbest:
                break
        return out
