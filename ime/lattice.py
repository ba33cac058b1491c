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

from ime.segmentor import EdgeKind, SyllableEdge, SyllableGraph, reusable_nodes
from lexicon.trie import Pattern, WordHit

__all__ = ["LatticeWord", "Lattice", "LatticeBuilder", "WordSource", "RAW_WORD", "USER_WORD"]

MAX_WORD_SYLLABLES = 8
MAX_CACHED = 6000  # spans and lookups kept across keystrokes (a cache, not a lexicon: ~40 MB)
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

    def lookup(self, patterns: tuple[Pattern, ...]
               ) -> list[tuple[str, tuple[str, ...], float | None]]:
        """(text, syllables, log-unigram) of the learned words matching the patterns; the
        unigram is None for a system word the user promoted (the system's own applies)."""
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
    words_to: tuple[tuple[LatticeWord, ...], ...]  # [n + 1] words ending at each node
    walks_to: tuple[tuple[tuple[SyllableEdge, ...], ...], ...]  # [n + 1] edge paths that
    # end at each node and still begin some word (reused by the next keystroke)

    def words_from(self, start: int) -> list[LatticeWord]:
        """Words starting at `start`, longest first (as laid: best prior first per span)."""
        out: list[LatticeWord] = []
        for ws in reversed(self.words_to):
            out.extend(w for w in ws if w.start == start)
        return out


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
        self._spans: dict[tuple[int, int, str, bool], tuple[LatticeWord, ...]] = {}
        self.generation = 0  # bumped by user_changed

    def user_changed(self) -> None:
        """The user lexicon changed: spans (which carry its adjustments) are stale, and so
        is every lattice built before (`generation`). System lookups stay cached."""
        self.generation += 1
        self._spans.clear()

    def graph_changed(self) -> None:
        """The segmentor changed (fuzzy pairs, typos): a span's words came from its edges, so
        every span is stale, and so is every lattice built before. Lookups by pattern stay."""
        self.generation += 1
        self._spans.clear()

    def build(self, graph: SyllableGraph, previous: Lattice | None = None) -> Lattice:
        """Lay the words over `graph`, node by node.

        Node j's words and walks depend only on the edges ending at or before j: those of
        `previous` are reused for the nodes `reusable_nodes` keeps.
        """
        keys = graph.keys
        n = len(keys)
        edges_to: list[list[SyllableEdge]] = [[] for _ in range(n + 1)]
        for es in graph.edges_from:
            for e in es:
                edges_to[e.end].append(e)
        words_to: list[tuple[LatticeWord, ...]] = []
        walks_to: list[tuple[tuple[SyllableEdge, ...], ...]] = []
        if previous is not None:
            keep = reusable_nodes(previous.graph.keys, keys)
            if keep > 0:
                words_to = list(previous.words_to[:keep])
                walks_to = list(previous.walks_to[:keep])
        if not words_to:
            words_to, walks_to = [()], [()]
        spans = self._spans
        for j in range(len(words_to), n + 1):
            raw: list[LatticeWord] = []
            walks: list[tuple[SyllableEdge, ...]] = []
            for e in edges_to[j]:
                if e.kind == EdgeKind.RAW:
                    raw.append(self._raw(keys, e))
                    continue
                for walk in [(e,)] + [w + (e,) for w in walks_to[e.start]
                                      if len(w) < MAX_WORD_SYLLABLES]:
                    if self._has_prefix(tuple((x.pattern, x.is_prefix) for x in walk)):
                        walks.append(walk)
            by_start: dict[int, list[tuple[SyllableEdge, ...]]] = {}
            for walk in walks:
                by_start.setdefault(walk[0].start, []).append(walk)
            words: list[LatticeWord] = []
            for i in sorted(by_start):
                key = (i, j, keys[i:j], j == n)
                ws = spans.get(key)
                if ws is None:
                    if len(spans) > MAX_CACHED:
                        spans.clear()
                    ws = spans[key] = self._span_words(keys, i, j, by_start[i])
                words.extend(ws)
            words.extend(raw)
            words_to.append(tuple(words))
            walks_to.append(tuple(walks))
        return Lattice(graph, tuple(words_to), tuple(walks_to))

    def _span_words(self, keys: str, start: int, end: int,
                    walks: list[tuple[SyllableEdge, ...]]) -> tuple[LatticeWord, ...]:
        user = self.user
        found: list[LatticeWord] = []
        for walk in walks:
            patterns = tuple((x.pattern, x.is_prefix) for x in walk)
            penalty = sum(x.penalty for x in walk)
            typed = tuple(keys[x.start:x.end].strip("'") for x in walk)
            exact = all(x.kind in _EXACT for x in walk)
            hits = self._lookup(patterns)
            if user is not None:
                hits = hits + self._user_hits(patterns, hits)
            for prior, text, wid, sylls, lp in hits:
                emission = lp + penalty
                if user is not None:
                    adj = user.adjustment(text, sylls)
                    if adj == -math.inf:
                        continue  # forgotten by the user
                    emission += adj
                found.append(LatticeWord(start, end, text, wid, sylls, keys[start:end], typed,
                                         emission, prior - lp, prior - lp + emission, exact))
        found.sort(key=lambda w: -w.prior)
        out: list[LatticeWord] = []
        seen: set[str] = set()
        for w in found:
            if w.text not in seen:
                seen.add(w.text)
                out.append(w)
                if len(out) >= self.per_span:
                    break
        return tuple(out)

    def _has_prefix(self, patterns: tuple[Pattern, ...]) -> bool:
        v = self._prefixes.get(patterns)
        if v is None:
            if len(self._prefixes) > 4 * MAX_CACHED:
                self._prefixes.clear()
            v = self._prefixes[patterns] = self.system.has_prefix(patterns)
        # the user lexicon changes with every commit: asked live (set lookups)
        return v or (self.user is not None and self.user.has_prefix(patterns))

    def _lookup(self, patterns: tuple[Pattern, ...]) -> list[tuple[float, str, int, tuple, float]]:
        """System words: (prior, text, word id, syllables, log P(reading | word)), best first.

        Independent of the user lexicon, so learning never invalidates it.
        """
        v = self._lookups.get(patterns)
        if v is None:
            if len(self._lookups) > MAX_CACHED:
                self._lookups.clear()
            hits = [(self.unigram(wid) + lp, self.system.text(wid), wid, sylls, lp)
                    for wid, sylls, lp in self.system.lookup(patterns)]
            hits.sort(key=lambda h: -h[0])
            v = self._lookups[patterns] = hits[: self.per_span * 2]
        return v

    def _user_hits(self, patterns: tuple[Pattern, ...], hits: list
                   ) -> list[tuple[float, str, int, tuple, float]]:
        """Learned words, and promoted system words below the cut, for these patterns."""
        assert self.user is not None
        known = {(h[1], h[3]) for h in hits}
        out = []
        for text, sylls, uni in self.user.lookup(patterns):
            if (text, sylls) in known:
                continue
            wid = self.system.word_id(text)
            if uni is None and wid is not None:  # a promoted system word
                lps = [lp for w, _, lp in self.system.lookup(tuple((s, False) for s in sylls))
                       if w == wid]
                if lps:
                    out.append((self.unigram(wid) + lps[0], text, wid, sylls, lps[0]))
            elif uni is not None:
                out.append((uni, text, USER_WORD if wid is None else wid, sylls, 0.0))
        return out

    def _raw(self, keys: str, e: SyllableEdge) -> LatticeWord:
        return LatticeWord(e.start, e.end, e.pattern, RAW_WORD, (e.pattern,), keys[e.start:e.end],
                           (e.pattern,), e.penalty, -20.0, e.penalty - 20.0, False)
