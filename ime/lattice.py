"""Lattice: lexicon words laid over the spans of a SyllableGraph.

    node:   0     2      4     7           (xi'an'zai / xian'zai)
            ├─西──┤├─安──┤├─在──┤
            ├────现──────┤├─在──┤
            ├──────────现在─────┤
            ├──西安──────┤

For each start node a depth-first walk follows the graph's edges while the lexicon still
has words beginning with the patterns walked (`has_prefix`); every pattern tuple that is a
whole word becomes a LatticeWord from that node to the walk's node. Lookups are memoised by
pattern tuple, so a keystroke that appends a letter re-walks but rarely re-queries the tries.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ime.segmentor import EdgeKind, SyllableEdge, SyllableGraph
from lexicon.trie import Pattern, WordHit

__all__ = ["LatticeWord", "Lattice", "LatticeBuilder", "WordSource", "RAW_WORD", "USER_WORD"]

MAX_WORD_SYLLABLES = 8
RAW_WORD = -2  # word id of a letter passed through as typed
USER_WORD = -1  # word id of a user word the system vocabulary lacks
_EXACT = (EdgeKind.FULL, EdgeKind.PARTIAL)  # spelled as typed (the last one maybe unfinished)


class WordSource(Protocol):
    """What the lattice needs of the system lexicon."""

    def has_prefix(self, patterns: tuple[Pattern, ...]) -> bool: ...

    def lookup(self, patterns: tuple[Pattern, ...]) -> list[WordHit]: ...

    def text(self, word_id: int) -> str: ...

    def word_id(self, text: str) -> int | None: ...


class UserWords(Protocol):
    """What the lattice needs of the user lexicon (learned words and adjustments)."""

    def has_prefix(self, patterns: tuple[Pattern, ...]) -> bool: ...

    def lookup(self, patterns: tuple[Pattern, ...]) -> list[tuple[str, tuple[str, ...], float]]:
        """(text, syllables, log-unigram) of learned words matching the patterns."""
        ...

    def adjustment(self, text: str, syllables: tuple[str, ...]) -> float:
        """Log-domain score change the learner gives this word (0 when none)."""
        ...


@dataclass(frozen=True, slots=True)
class LatticeWord:
    start: int  # graph node (key offset)
    end: int  # graph node after the word
    text: str
    word_id: int  # system vocabulary id, USER_WORD or RAW_WORD
    syllables: tuple[str, ...]  # the word's own syllables (what it is read as)
    keys: str  # the keys it covers, as typed
    typed: tuple[str, ...]  # the keys of each syllable, as typed (`zh`, `guo`)
    emission: float  # log P(reading | word) + edge penalties + user adjustment
    unigram: float  # log P(word) of the system vocabulary, or of the user lexicon
    prior: float  # static score used to keep the best words per span (unigram + emission)
    exact: bool  # spelled as typed: no abbreviation, fuzzy or typo edge

    @property
    def pinyin(self) -> str:
        return "'".join(self.syllables)


@dataclass(frozen=True, slots=True)
class Lattice:
    graph: SyllableGraph
    words_from: tuple[tuple[LatticeWord, ...], ...]  # [n + 1] words leaving each node
    words_to: tuple[tuple[LatticeWord, ...], ...]  # [n + 1] words ending at each node


class LatticeBuilder:
    """Builds lattices over one WordSource; caches lookups across keystrokes."""

    def __init__(
        self,
        system: WordSource,
        unigram: Callable[[int], float],
        user: UserWords | None = None,
        per_span: int = 24,
    ) -> None:
        self.system = system
        self.unigram = unigram
        self.user = user
        self.per_span = per_span
        self._lookups: dict[tuple[Pattern, ...], list[tuple[float, str, int, tuple, float]]] = {}
        self._prefixes: dict[tuple[Pattern, ...], bool] = {}

    def clear_cache(self) -> None:
        self._lookups.clear()
        self._prefixes.clear()

    def build(self, graph: SyllableGraph) -> Lattice:
        n = graph.size
        words_from: list[tuple[LatticeWord, ...]] = []
        words_to: list[list[LatticeWord]] = [[] for _ in range(n + 1)]
        for i in range(n + 1):
            ws = self.words_at(graph, i)
            words_from.append(ws)
            for w in ws:
                words_to[w.end].append(w)
        return Lattice(graph, tuple(words_from), tuple(tuple(ws) for ws in words_to))

    def words_at(self, graph: SyllableGraph, start: int) -> tuple[LatticeWord, ...]:
        """Every word starting at node `start`, the best `per_span` per end node."""
        by_end: dict[int, list[LatticeWord]] = {}
        keys = graph.keys
        user = self.user
        stack: list[tuple[int, tuple[SyllableEdge, ...]]] = [(start, ())]
        while stack:
            node, path = stack.pop()
            for e in graph.edges_from[node]:
                if e.kind == EdgeKind.RAW:
                    if not path:
                        by_end.setdefault(e.end, []).append(self._raw(keys, e))
                    continue
                walk = path + (e,)
                patterns = tuple((x.pattern, x.is_prefix) for x in walk)
                if not self._has_prefix(patterns):
                    continue
                penalty = sum(x.penalty for x in walk)
                typed = tuple(keys[x.start:x.end].strip("'") for x in walk)
                exact = all(x.kind in _EXACT for x in walk)
                for prior, text, wid, sylls, lp in self._lookup(patterns):
                    emission = lp + penalty
                    if user is not None:
                        adj = user.adjustment(text, sylls)
                        if adj == -math.inf:
                            continue  # forgotten by the user
                        emission += adj
                    by_end.setdefault(e.end, []).append(LatticeWord(
                        start, e.end, text, wid, sylls, keys[start:e.end], typed, emission,
                        prior - lp, prior - lp + emission, exact))
                if len(walk) < MAX_WORD_SYLLABLES:
                    stack.append((e.end, walk))
        out: list[LatticeWord] = []
        for end in sorted(by_end, reverse=True):
            ws = by_end[end]
            ws.sort(key=lambda w: -w.prior)
            seen: set[str] = set()
            kept = 0
            for w in ws:
                if w.text in seen:
                    continue
                seen.add(w.text)
                out.append(w)
                kept += 1
                if kept >= self.per_span:
                    break
        return tuple(out)

    def _has_prefix(self, patterns: tuple[Pattern, ...]) -> bool:
        v = self._prefixes.get(patterns)
        if v is None:
            if len(self._prefixes) > 200_000:
                self._prefixes.clear()
            v = self.system.has_prefix(patterns) or (
                self.user is not None and self.user.has_prefix(patterns))
            self._prefixes[patterns] = v
        return v

    def _lookup(self, patterns: tuple[Pattern, ...]) -> list[tuple[float, str, int, tuple, float]]:
        """(prior, text, word id, syllables, log P(reading | word)), best prior first."""
        v = self._lookups.get(patterns)
        if v is None:
            if len(self._lookups) > 50_000:
                self._lookups.clear()
            hits: list[tuple[float, str, int, tuple, float]] = []
            for wid, sylls, lp in self.system.lookup(patterns):
                hits.append((self.unigram(wid) + lp, self.system.text(wid), wid, sylls, lp))
            if self.user is not None:
                known = {(h[1], h[3]) for h in hits}
                for text, sylls, uni in self.user.lookup(patterns):
                    if (text, sylls) not in known:
                        wid = self.system.word_id(text)
                        wid = USER_WORD if wid is None else wid
                        hits.append((uni, text, wid, sylls, 0.0))
            hits.sort(key=lambda h: -h[0])
            # a generous cap: the learner's adjustment may lift a word past others
            v = self._lookups[patterns] = hits[: self.per_span * 4]
        return v

    def _raw(self, keys: str, e: SyllableEdge) -> LatticeWord:
        return LatticeWord(e.start, e.end, e.pattern, RAW_WORD, (e.pattern,), keys[e.start:e.end],
                           (e.pattern,), e.penalty, -20.0, e.penalty - 20.0, False)
