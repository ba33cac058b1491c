"""InputContext: one typing session on a shared Engine.

It holds the keys of the composition, the pieces already picked (a partial selection
consumes its keys and decoding continues on the rest), the page and highlight, the left
context committed before, and the decoder state of the last keystroke so the next one only
decodes what changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ime.candidates import Candidate, CandidateKind, CommitEvent, EngineState, Pick
from ime.decoder import DecodeState, Sentence
from ime.lattice import RAW_WORD, USER_WORD, Lattice, LatticeWord
from ime.segmentor import validate_keys

if TYPE_CHECKING:
    from ime.engine import Engine

__all__ = ["InputContext", "MAX_CONTEXT"]

MAX_CONTEXT = 64  # characters of left context kept (TYPING_LOG.md)
MAX_CANDIDATES = 60
WORDS_PER_SPAN = 3  # words of one span shown before shorter spans get their turn
SENTENCE_MARGIN = 6.0  # nats: how far behind the best a sentence may be to come before words


@dataclass(frozen=True, slots=True)
class _Selection:
    pick: Pick
    end: int  # offset in the composition's keys after this piece


class InputContext:
    def __init__(self, engine: Engine, context: str = "") -> None:
        self.engine = engine
        self._left = context[-MAX_CONTEXT:]
        self._keys = ""
        self._selections: list[_Selection] = []
        self._prediction: tuple[LatticeWord, ...] = ()
        self._page = 0
        self._highlight = 0
        self._committed = ""
        self._decode_state: DecodeState | None = None
        self._lattice: Lattice | None = None
        self._generation = engine.lattice_builder.generation
        self._sentences: list[Sentence] = []
        self._candidates: list[Candidate] = []
        self.last_latency_ms = 0.0

    # ---- what is typed -------------------------------------------------------------------

    @property
    def keys(self) -> str:
        return self._keys

    @property
    def context(self) -> str:
        """Text committed before the current composition (the left context)."""
        return self._left

    def set_context(self, text: str) -> None:
        self._left = text[-MAX_CONTEXT:]
        self._decode_state = None
        if self._keys:
            self._refresh()

    def refresh(self) -> EngineState:
        """Decode again, keeping the picks (after the user lexicon changed, e.g. a forget)."""
        self._decode_state = None
        self._lattice = None
        if self.remaining:
            self._refresh()
        return self.state

    @property
    def offset(self) -> int:
        """Keys consumed by partial selections."""
        return self._selections[-1].end if self._selections else 0

    @property
    def remaining(self) -> str:
        return self._keys[self.offset:]

    # ---- intents -------------------------------------------------------------------------

    def type(self, keys: str) -> EngineState:
        """Append keys (`a-z` and `'`); raises InvalidKeysError for anything else."""
        validate_keys(keys)
        self._committed = ""
        if keys:
            self._keys += keys
            self._refresh()
        return self.state

    def backspace(self) -> EngineState:
        """Delete the last key; with no keys left after the picks, undo the last pick."""
        self._committed = ""
        if len(self._keys) > self.offset:
            self._keys = self._keys[:-1]
        elif self._selections:
            self._selections.pop()
        if not self._selections:
            self._prediction = ()
        if self._keys:
            self._refresh()
        else:
            self._reset()
        return self.state

    def select(self, index: int) -> EngineState:
        """Select candidate `index` of the current page (0-based)."""
        return self.select_candidate(self._page * self.engine.config.page_size + index)

    def select_candidate(self, index: int) -> EngineState:
        """Select candidate `index` of the whole list (0-based)."""
        self._committed = ""
        if not 0 <= index < len(self._candidates):
            raise IndexError(f"no candidate {index} (have {len(self._candidates)})")
        c = self._candidates[index]
        if not self._selections:
            self._prediction = self._sentences[0].words if self._sentences else ()
        start = self.offset
        deficit = 0.0
        top = self._candidates[0]
        if index > 0 and top.kind == CandidateKind.SENTENCE and c.end >= len(self.remaining):
            # how far the prediction led what the user chose: the learner's delta rule
            mine = (c.score if c.kind == CandidateKind.SENTENCE
                    else self.engine.decoder.word_score(c.words[0], self._history()))
            deficit = max(top.score - mine, 0.0)
        pick = Pick(c.text, c.syllables, self._keys[start:start + c.end], index, c.kind, c.words,
                    deficit)
        self._selections.append(_Selection(pick, start + c.end))
        if self.offset >= len(self._keys):
            self._commit_selections()
        else:
            self._refresh()
        return self.state

    def commit(self) -> EngineState:
        """Space: select the highlighted candidate."""
        if not self._candidates:
            return self.state
        return self.select(self._highlight)

    def commit_raw(self) -> EngineState:
        """Enter: commit the letters as typed (after any pieces already picked)."""
        text = "".join(s.pick.text for s in self._selections) + self.remaining
        self._reset()
        self._committed = text
        self._left = (self._left + text)[-MAX_CONTEXT:]
        return self.state

    def cancel(self) -> EngineState:
        self._reset()
        self._committed = ""
        return self.state

    def page(self, delta: int) -> EngineState:
        self._committed = ""
        pages = self._page_count()
        self._page = min(max(self._page + delta, 0), max(pages - 1, 0))
        self._highlight = 0
        return self.state

    def move(self, delta: int) -> EngineState:
        """Move the highlight, crossing page boundaries."""
        self._committed = ""
        size = self.engine.config.page_size
        pos = self._page * size + self._highlight + delta
        pos = min(max(pos, 0), max(len(self._candidates) - 1, 0))
        self._page, self._highlight = divmod(pos, size)
        return self.state

    # ---- what the engine proposes ----------------------------------------------------------

    @property
    def sentences(self) -> list[Sentence]:
        """The n-best sentences for the remaining keys (best first)."""
        return self._sentences

    @property
    def candidates(self) -> list[Candidate]:
        """All candidates, not paged."""
        return self._candidates

    @property
    def lattice(self) -> Lattice | None:
        return self._lattice

    @property
    def state(self) -> EngineState:
        size = self.engine.config.page_size
        page = self._candidates[self._page * size:(self._page + 1) * size]
        preedit = self.preedit()
        return EngineState(
            keys=self._keys,
            preedit=preedit,
            cursor=len(preedit),
            candidates=tuple(page),
            highlighted=min(self._highlight, max(len(page) - 1, 0)),
            page=self._page,
            page_count=self._page_count(),
            page_size=size,
            committed=self._committed,
        )

    def preedit(self) -> str:
        """Picked text, then the remaining keys split as the best sentence reads them."""
        picked = "".join(s.pick.text for s in self._selections)
        rest = self.remaining
        if not rest:
            return picked
        parts: list[str] = []
        if self._sentences:
            for w in self._sentences[0].words:
                parts.append("'".join(w.typed))
        else:
            parts.append(rest)
        return picked + " ".join(parts)

    # ---- internals -------------------------------------------------------------------------

    def _page_count(self) -> int:
        size = self.engine.config.page_size
        return (len(self._candidates) + size - 1) // size

    def _reset(self) -> None:
        self._keys = ""
        self._selections.clear()
        self._prediction = ()
        self._page = self._highlight = 0
        self._decode_state = None
        self._lattice = None
        self._sentences = []
        self._candidates = []

    def _history(self) -> int | None:
        """LM history: the last picked word, else the last word of the left context."""
        if self._selections:
            w = self._selections[-1].pick.words
            if w and w[-1].word_id >= 0:
                return w[-1].word_id
            return None
        return self.engine.history_of(self._left)

    def _refresh(self) -> None:
        t0 = time.perf_counter()
        rest = self.remaining
        self._page = self._highlight = 0
        if not rest:
            self._sentences, self._candidates, self._lattice = [], [], None
            return
        engine = self.engine
        if self._generation != engine.lattice_builder.generation:
            self._generation = engine.lattice_builder.generation
            self._lattice, self._decode_state = None, None  # the user lexicon changed
        graph = engine.segmentor.segment(rest)
        lattice = engine.lattice_builder.build(graph, self._lattice)
        sentences, self._decode_state = engine.decoder.decode(
            lattice, self._history(), self._decode_state)
        if engine.reranker is not None:
            sentences = engine.rerank(
                self._left + "".join(s.pick.text for s in self._selections), sentences)
        self._lattice, self._sentences = lattice, sentences
        self._candidates = self._assemble(lattice, sentences)
        self.last_latency_ms = (time.perf_counter() - t0) * 1000

    def _assemble(self, lattice: Lattice, sentences: list[Sentence]) -> list[Candidate]:
        """Sentences first, then words starting here (exact spellings first, longest first)."""
        slots = self.engine.config.sentence_slots
        out: list[Candidate] = []
        seen: set[str] = set()
        n = lattice.graph.size
        engine = self.engine
        if engine.learner is not None and engine.learner.words.forgotten:
            sentences = [s for s in sentences if not engine.is_forgotten(s.text, s.syllables)]
        # the runners-up go first only when they are close: a sentence far behind the best is
        # mostly the best with a rare homophone swapped in, and words serve better there
        best = sentences[0].score if sentences else 0.0
        close = [s for s in sentences[:slots] if s.score >= best - SENTENCE_MARGIN]
        for s in close:
            if s.text not in seen:
                seen.add(s.text)
                out.append(Candidate(s.text, CandidateKind.SENTENCE, n, s.score, s.words,
                                     any(w.word_id == USER_WORD for w in s.words)))
        words = sorted(lattice.words_from(0), key=lambda w: (not w.exact, -w.end, -w.prior))
        # longest first, but only the best few of each length before the next length: the
        # piece a user needs is more often a common short word than a rare long homophone
        rank: dict[tuple[bool, int], int] = {}
        first, rest = [], []
        for w in words:
            k = (w.exact, w.end)
            rank[k] = rank.get(k, 0) + 1
            (first if rank[k] <= WORDS_PER_SPAN else rest).append(w)
        for w in first + rest:
            if w.text in seen:
                continue
            seen.add(w.text)
            kind = CandidateKind.RAW if w.word_id == RAW_WORD else CandidateKind.WORD
            out.append(Candidate(w.text, kind, w.end, w.prior, (w,),
                                 w.word_id == USER_WORD or self.engine.is_learned(w)))
            if len(out) >= MAX_CANDIDATES:
                break
        for s in sentences:  # the rest of the n-best, after the words
            if s.text not in seen and len(out) < MAX_CANDIDATES:
                seen.add(s.text)
                out.append(Candidate(s.text, CandidateKind.SENTENCE, n, s.score, s.words))
        return out

    def _commit_selections(self) -> None:
        picks = tuple(s.pick for s in self._selections)
        text = "".join(p.text for p in picks)
        event = CommitEvent(self._keys, text, picks, self._prediction, self._left)
        self._reset()
        self._committed = text
        self.engine.on_commit(event)
        self._left = (self._left + text)[-MAX_CONTEXT:]
