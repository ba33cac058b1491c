"""Decoder: n-best sentences over a Lattice, scored by a word language model.

    score(sentence) = Σ_words  log P_LM(w | state) + emission(w) + word penalty

where emission is log P(reading | word) plus the penalties of the edges the word was typed
over (abbreviation, fuzzy, typo, incomplete) and the learner's adjustment. The language
model is seen through `WordLM` only: each hypothesis carries the model's opaque state after
its words (a bigram's is the last word), a word extends all the hypotheses at its start node
in one call, and a node keeps at most `per_history` hypotheses per state, so that the final
node holds many distinct sentences. A trigram or a neural model plug in by implementing the
same three members.

The user's history bigram (`ime.history`, the pairs of words the user committed) adds its
bonus to a word after the previous word's text: the word before it on the path, or, at the
first node, the committed text's last word. So a decode starts from a `Start`: the word
LM's state and the end of the text before (`Engine.start_state`, `Decoder.after`). One dict
look-up per lattice word; only the words with pairs look at their hypotheses' previous words.

Incremental: the hypotheses at node j depend only on the words ending at or before j, which
depend only on the keys `segmentor.reusable_nodes` keeps, so a keystroke that appends keys
keeps every node before the old last one and decodes only the new tail.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ime.lattice import Lattice, LatticeWord
from ime.segmentor import reusable_nodes

__all__ = ["WordLM", "Hyp", "Sentence", "Decoder", "DecodeState", "Neural", "NeuralScorer",
           "Start", "History", "BEFORE_CHARS"]

BEFORE_CHARS = 8  # characters of the text before that a Start keeps (history bigram)


class WordLM(Protocol):
    """The decoder's view of a word language model. States are opaque and hashable (equal
    states are interchangeable: the beam recombines on them)."""

    bos: Hashable  # the state at a clause start, and after a word the model has no history for

    def start(self, context: str) -> Hashable:
        """The state after the committed text `context` ("" for none)."""
        ...

    def extend(self, states: Sequence[Hashable], word: LatticeWord
               ) -> Iterable[tuple[int, float, Hashable]]:
        """Extend the hypotheses whose states are `states` by `word`: for each one it extends,
        (its index in `states`, log P(word | state), the state after the word). A model may
        extend only some (the best first), e.g. where all would score alike."""
        ...


class History(Protocol):
    """The user's history bigram as the decoder sees it (ime.history.HistoryBigram)."""

    bonus: dict[str, dict[str, float]]  # word → {previous word: nats}

    def __bool__(self) -> bool: ...

    def after(self, before: str, word: str) -> float:
        """The bonus of `word` right after the text `before` (its final previous word)."""
        ...


@dataclass(frozen=True, slots=True)
class Start:
    """Where a decode starts: the word LM's state after the text before, and that text's
    last BEFORE_CHARS characters (the history bigram's previous word at the first node)."""

    state: Hashable
    before: str = ""


def _unwrap(start: Hashable | None, bos: Hashable) -> tuple[Hashable, str]:
    if isinstance(start, Start):
        return start.state, start.before
    return (bos if start is None else start), ""


class NeuralScorer(Protocol):
    """A neural LM as the search sees it: log P(text | the handle's context) of texts."""

    def logp(self, handle: object, texts: Sequence[str]) -> list[float]: ...


@dataclass(frozen=True, slots=True)
class Neural:
    """The neural LM inside the search: at every node the `width` best extensions by the
    word LM are scored by `scorer` after `handle`, and ranked by word-LM score + `lam` ·
    log P_neural(the hypothesis's text | context)."""

    scorer: NeuralScorer
    handle: object
    lam: float
    width: int = 24


@dataclass(frozen=True, slots=True)
class Hyp:
    score: float  # what hypotheses are ranked by: `base`, plus lam · neural log p in a search
    word: LatticeWord | None
    prev: Hyp | None
    state: Hashable  # the LM's state after this word
    base: float = 0.0  # the word LM's path score (emissions and penalties included)
    text: str = ""  # the characters of the path

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


@dataclass(frozen=True, slots=True)
class DecodeState:
    """Hypotheses per node for one key string, one start state and one neural LM handle
    (reused by the next keystroke); `states[j]` are the LM states of `hyps[j]`, as
    `WordLM.extend` takes them."""

    keys: str
    start: Hashable
    hyps: tuple[tuple[Hyp, ...], ...]
    states: tuple[tuple[Hashable, ...], ...]
    neural: Neural | None = None
    before: str = ""  # the Start's text before


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
        self.nodes_decoded = 0  # lattice nodes extended so far (what a keystroke costs)
        self.history: History | None = None  # the user's history bigram (the learner's)

    def decode(self, lattice: Lattice, start: Hashable | None = None,
               previous: DecodeState | None = None, neural: Neural | None = None
               ) -> tuple[list[Sentence], DecodeState]:
        """The n-best sentences over `lattice` from `start` (a Start, an LM state, or None: a
        clause start), reusing the nodes of `previous` that the keys still share; with
        `neural`, the neural LM ranks inside the beam."""
        keys = lattice.graph.keys
        n = len(keys)
        h0, before = _unwrap(start, self.lm.bos)
        hyps: list[tuple[Hyp, ...]] = [(Hyp(0.0, None, None, h0),)]
        states: list[tuple[Hashable, ...]] = [(h0,)]
        if previous is not None and previous.start == h0 and previous.before == before \
                and previous.hyps and _same_neural(previous.neural, neural):
            keep = reusable_nodes(previous.keys, keys)
            if keep > 1:
                hyps, states = list(previous.hyps[:keep]), list(previous.states[:keep])
        self.nodes_decoded += n + 1 - len(hyps)
        for j in range(len(hyps), n + 1):
            node = self._extend(lattice.words_to[j], hyps, states,
                                self.final_beam if j == n else self.beam, neural, before)
            hyps.append(node)
            states.append(tuple(h.state for h in node))
        state = DecodeState(keys, h0, tuple(hyps), tuple(states), neural, before)
        return self._sentences(hyps[n] if n < len(hyps) else ()), state

    def word_score(self, w: LatticeWord, start: Hashable | None = None) -> float:
        """The score of a one-word sentence, as `decode` would give it."""
        h, before = _unwrap(start, self.lm.bos)
        lp = next(iter(self.lm.extend((h,), w)))[1]
        bonus = self.history.after(before, w.text) if self.history else 0.0
        return w.emission + (self.word_penalty if w.exact else 0.0) + lp + bonus

    def after(self, words: Iterable[LatticeWord], start: Hashable | None = None) -> Hashable:
        """Where a decode after `words` (the pieces a user picked) starts, from `start`: a
        Start (None or a Start given), or the LM state alone (an LM state given)."""
        h, before = _unwrap(start, self.lm.bos)
        for w in words:
            h = next(iter(self.lm.extend((h,), w)))[2]
            before += w.text
        if start is not None and not isinstance(start, Start):
            return h
        return Start(h, before[-BEFORE_CHARS:])

    def _extend(self, incoming: tuple[LatticeWord, ...], hyps: list[tuple[Hyp, ...]],
                states: list[tuple[Hashable, ...]], beam: int, neural: Neural | None = None,
                before: str = "") -> tuple[Hyp, ...]:
        """The best hypotheses ending at one node, at most `per_history` per LM state."""
        extend = self.lm.extend
        bos = self.lm.bos
        wp = self.word_penalty
        history = self.history
        pairs = history.bonus if history else None
        scored: list[tuple[float, LatticeWord, Hyp, Hashable]] = []
        for w in incoming:
            prevs = hyps[w.start]
            if not prevs:
                continue
            em = w.emission + (wp if w.exact else 0.0)
            row = pairs.get(w.text) if pairs else None
            if row is None:
                for i, lp, st in extend(states[w.start], w):
                    p = prevs[i]
                    scored.append((p.base + em + lp, w, p, st))
                continue
            for i, lp, st in extend(states[w.start], w):  # a word with history pairs
                p = prevs[i]
                bonus = (row.get(p.word.text, 0.0) if p.word is not None
                         else history.after(before, w.text))
                scored.append((p.base + em + lp + bonus, w, p, st))
        if not scored:
            return ()
        floor = max(x[0] for x in scored) - self.margin
        scored = [x for x in scored if x[0] >= floor]
        scored.sort(key=lambda x: -x[0])
        if neural is None:
            ranked = [(base, base, w, p, st) for base, w, p, st in scored]
        else:  # the word LM's best few, ranked again with the neural LM's view of their text
            head = scored[:neural.width]
            lps = neural.scorer.logp(neural.handle, [p.text + w.text for _, w, p, _ in head])
            ranked = [(base + neural.lam * lp, base, w, p, st)
                      for (base, w, p, st), lp in zip(head, lps)]
            ranked.sort(key=lambda x: -x[0])
        out: list[Hyp] = []
        per: dict[Hashable, int] = {}
        for score, base, w, p, st in ranked:
            c = per.get(st, 0)
            if c >= self.per_history and st != bos:
                continue
            per[st] = c + 1
            out.append(Hyp(score, w, p, st, base, p.text + w.text))
            if len(out) >= beam:
                break
        return tuple(out)

    def _sentences(self, final: Sequence[Hyp]) -> list[Sentence]:
        """The distinct texts among the final node's hypotheses, best first."""
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


def _same_neural(a: Neural | None, b: Neural | None) -> bool:
    """Hypotheses ranked with `a` serve a decode with `b`: the same handle and weights."""
    if a is None or b is None:
        return a is b
    return a.scorer is b.scorer and a.handle is b.handle and (a.lam, a.width) == (b.lam, b.width)
