"""Segmentor: key string → SyllableGraph, every way the keys can be read as syllables.

Nodes are offsets into the key string; an edge is one syllable typed over `keys[start:end]`.

    keys:   x  i  a  n  z  a  i
    node:  0  1  2  3  4  5  6  7
           ├─xi─┤├an─┤├──zai──┤        xi'an'zai
           ├────xian──┤├──zai──┤        xian'zai
           ├x┤ (abbreviation, penalised)

An edge's `pattern` is a whole syllable (full, fuzzy or typo-corrected spellings) or a
prefix that any syllable starting with it matches (an abbreviation by initial, `zgrm`, or the
incomplete last syllable, `zhongguor`). Every edge carries a log-domain penalty so that the
exact spelling wins when the lexicon and the language model have no opinion.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

from pinyin.spelling import InvalidKeysError, validate_keys
from pinyin.syllables import (
    fuzzy_variants,
    is_initial,
    is_syllable,
    is_syllable_prefix,
)

__all__ = ["EdgeKind", "SyllableEdge", "SyllableGraph", "Segmentor", "InvalidKeysError",
           "Penalties", "validate_keys", "reusable_nodes"]

MAX_SYLLABLE_LEN = 6
_STARTS_A_SYLLABLE = frozenset(c for c in "abcdefghijklmnopqrstuvwxyz" if is_syllable_prefix(c))


def reusable_nodes(old: str, new: str) -> int:
    """How many leading nodes of the graph of `old` keys keep their incoming edges in the
    graph of `new` keys: the one rule by which lattice and decoder reuse a keystroke's work.

    The edges ending at node j depend only on keys[:j + 1] (an apostrophe at j moves the
    edges that would end there past it) and on whether j is the last node (an unfinished
    syllable may end only there). So nodes 0 … k - 1 carry over, k = min(common prefix,
    len(old), len(new)).
    """
    common = 0
    for a, b in zip(old, new):
        if a != b:
            break
        common += 1
    return min(common, len(old), len(new))


class EdgeKind(IntEnum):
    FULL = 0  # a complete syllable, spelled exactly
    FUZZY = 1  # a syllable reached through a fuzzy pair (z/zh, an/ang, …)
    TYPO = 2  # a common typo corrected (gn→ng, transposed letters)
    INITIAL = 3  # an initial standing for any syllable with it (`zgrm`)
    PARTIAL = 4  # the incomplete last syllable (`zhongguor`)
    RAW = 5  # a letter no syllable explains; passed through as typed


@dataclass(frozen=True, slots=True)
class Penalties:
    """Log-domain costs (natural log) added to a path for each edge of that kind."""

    fuzzy: float = -2.0
    typo: float = -4.0
    initial: float = -2.5
    partial: float = -0.5
    completion: float = -3.0
    raw: float = -20.0


@dataclass(frozen=True, slots=True)
class SyllableEdge:
    start: int  # key offset
    end: int  # key offset after the syllable (past any apostrophes that follow it)
    pattern: str  # a syllable, or a syllable prefix for INITIAL/PARTIAL, or a letter for RAW
    kind: EdgeKind
    penalty: float

    @property
    def is_prefix(self) -> bool:
        return self.kind in (EdgeKind.INITIAL, EdgeKind.PARTIAL)

    def matches(self, syllable: str) -> bool:
        if self.is_prefix:
            return syllable.startswith(self.pattern)
        return syllable == self.pattern


@dataclass(frozen=True, slots=True)
class SyllableGraph:
    keys: str
    edges_from: tuple[tuple[SyllableEdge, ...], ...]  # [n + 1] edges leaving each node

    @property
    def size(self) -> int:
        return len(self.keys)

    def edges(self) -> list[SyllableEdge]:
        return [e for es in self.edges_from for e in es]


class Segmentor:
    """Builds the SyllableGraph of a key string (`'` forces a boundary)."""

    def __init__(
        self,
        fuzzy: frozenset[str] = frozenset(),
        typos: bool = True,
        penalties: Penalties | None = None,
    ) -> None:
        self.fuzzy = frozenset(fuzzy)
        self.typos = typos
        self.penalties = penalties or Penalties()
        # edges leaving a node, by the keys they can read (see `_leaving`): a keystroke
        # re-segments the whole composition, and this keeps it from re-deriving them
        self._memo: dict[tuple[str, bool], tuple[tuple[str, int, EdgeKind, float], ...]] = {}

    def segment(self, keys: str) -> SyllableGraph:
        validate_keys(keys)
        n = len(keys)
        lead = n - len(keys.lstrip("'"))  # leading apostrophes: edges of the first letter leave 0
        raw: list[list[SyllableEdge]] = [[] for _ in range(n + 1)]
        for i in range(lead, n):
            if keys[i] != "'":
                raw[i] = self._leaving(keys, i)
        if lead:
            raw[0] = [replace(e, start=0) for e in raw[lead]] if lead < n else []
            raw[lead] = []
        return SyllableGraph(keys, tuple(tuple(es) for es in raw))

    def _leaving(self, keys: str, i: int) -> list[SyllableEdge]:
        """The edges leaving node i. They read keys[i:i + MAX_SYLLABLE_LEN + 1], the
        apostrophes after it, and whether that reaches the end: memoised by exactly that."""
        n = len(keys)
        k = min(n, i + MAX_SYLLABLE_LEN + 1)
        while k < n and keys[k] == "'":
            k += 1
        window = (keys[i:k], k == n)
        rel = self._memo.get(window)
        if rel is None:
            if len(self._memo) > 20000:
                self._memo.clear()
            edges = self._edges_at(keys, i)
            if keys[i] not in _STARTS_A_SYLLABLE:
                # A letter no syllable starts with (i, u, v) is also passed through as typed
                # (`iii`), so that decoding never dies. The rule looks at the letter alone:
                # whether a longer edge leaves it depends on keys typed later, and the edges
                # ending at a node must not (`reusable_nodes`).
                edges.append(SyllableEdge(i, _skip_apostrophes(keys, i + 1), keys[i],
                                          EdgeKind.RAW, self.penalties.raw))
            rel = self._memo[window] = tuple((e.pattern, e.end - i, e.kind, e.penalty)
                                             for e in edges)
        return [SyllableEdge(i, i + d, p, kind, pen) for p, d, kind, pen in rel]

    def _edges_at(self, keys: str, i: int) -> list[SyllableEdge]:
        n, pen = len(keys), self.penalties
        out: list[SyllableEdge] = []
        for j in range(i + 1, min(n, i + MAX_SYLLABLE_LEN) + 1):
            s = keys[i:j]
            if s[-1] == "'":
                break
            end = _skip_apostrophes(keys, j)
            at_end = end == n
            if is_syllable(s):
                out.append(SyllableEdge(i, end, s, EdgeKind.FULL, 0.0))
                for f in fuzzy_variants(s, self.fuzzy) if self.fuzzy else ():
                    out.append(SyllableEdge(i, end, f, EdgeKind.FUZZY, pen.fuzzy))
            if at_end and is_syllable_prefix(s) and not (is_syllable(s) and not _extends(s)):
                # the last syllable may still be being typed; a complete one pays more to be
                # read as the start of a longer one (`fa` → fang)
                cost = pen.completion if is_syllable(s) else pen.partial
                out.append(SyllableEdge(i, end, s, EdgeKind.PARTIAL, cost))
            elif is_initial(s):
                out.append(SyllableEdge(i, end, s, EdgeKind.INITIAL, pen.initial))
            if self.typos and not is_syllable(s) and not (at_end and is_syllable_prefix(s)):
                for t in _typo_fixes(s):
                        out.append(SyllableEdge(i, end, t, EdgeKind.TYPO, pen.typo))
        return out


def _skip_apostrophes(keys: str, j: int) -> int:
    while j < len(keys) and keys[j] == "'":
        j += 1
    return j


def _extends(s: str) -> bool:
    """Whether some longer syllable starts with `s` (`zhon` → zhong; `zhong` → no)."""
    return any(is_syllable_prefix(s + c) for c in "abcdefghijklmnopqrstuvwxyz")


def _typo_fixes(s: str) -> list[str]:
    fixes: set[str] = set()
    if "gn" in s:
        t = s.replace("gn", "ng")
        if is_syllable(t):
            fixes.add(t)
    if len(s) >= 3:
        for k in range(len(s) - 1):
            t = s[:k] + s[k + 1] + s[k] + s[k + 2:]
            if t != s and is_syllable(t):
                fixes.add(t)
    return sorted(fixes)
