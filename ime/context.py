"""InputContext: one typing session on a shared Engine.

It holds the keys of the composition, the pieces already picked (a partial selection
consumes its keys and decoding continues on the rest), the page and highlight, the left
context committed before, the last keystroke's `Composition` (so the next one only decodes
what changed) and the neural LM's state handle for the committed text: advanced by what is
committed, never rerun over text it has seen.

What is learned: a commit from candidates goes to the engine's learner, unless `learns` is
off (a field that asks not to be learned from) or the commit holds letters as typed (the RAW
candidate, a sentence with a letter no syllable reads); Enter's letters as typed never do.
`last_learned` is the last commit the learner saw, for `undo_learning` (the user deleted it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ime.candidates import Candidate, CandidateKind, CommitEvent, EngineState, Pick
from ime.decoder import Sentence
from ime.lattice import RAW_WORD, Lattice, LatticeWord
from ime.segmentor import validate_keys

if TYPE_CHECKING:
    from ime.engine import Composition, Engine

__all__ = ["InputContext", "MAX_CONTEXT", "MAX_KEYS"]

MAX_CONTEXT = 64  # characters of left context kept (docs/TYPING_LOG.md)
# keys decoded at once: past it, the best sentence's first words are taken as picks (as if the
# user had chosen them) until half are left, and decoding goes on after them, so a
# keystroke's work stays bounded however long the composition grows (no dev-log clause is
# this long)
MAX_KEYS = 128


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
        self._composition: Composition | None = None
        self._generation = engine.generation
        self._lm: tuple[object, object] | None = None  # (reranker, handle after self._left)
        self._lm_picks: tuple[str, object] | None = None  # (picked text, handle after it)
        self.last_latency_ms = 0.0
        self.learns = True  # False: commits are not learned (a field that asks for privacy)
        self.last_learned: CommitEvent | None = None  # the last commit given to the learner

    # ---- what is typed -------------------------------------------------------------------

    @property
    def keys(self) -> str:
        return self._keys

    @property
    def context(self) -> str:
        """Text committed before the current composition (the left context)."""
        return self._left

    def set_context(self, text: str) -> None:
        """The text left of the cursor is now `text` (the application's, e.g. after the user
        moved the cursor). Text that extends the current context by a few characters
        advances the LM state by those characters; any other starts it afresh."""
        tail = text[-MAX_CONTEXT:]
        if tail == self._left:
            return
        added = _added(self._left, text)
        if added is not None:
            self.append_context(added)
            return
        self._left = tail
        self._lm = None
        self._lm_picks = None
        # the new context's LM state is computed now, outside a keystroke: the application
        # told us where the cursor is, and the next key is then scored from it at once
        self._handle()
        if self._keys:
            self._refresh()

    def append_context(self, text: str) -> None:
        """`text` was committed to the left of the cursor (punctuation, the application's own
        input): the LM state advances by exactly its characters."""
        if not text:
            return
        self._left = (self._left + text)[-MAX_CONTEXT:]
        self._advance_lm(text)
        if self._keys:
            self._refresh()

    def refresh(self) -> EngineState:
        """Decode again from scratch, keeping the picks (after the user lexicon or the config
        changed)."""
        self._composition = None
        if self.remaining:
            self._refresh()
        return self.state

    @property
    def offset(self) -> int:
        """Keys consumed by partial selections."""
        return self._selections[-1].end if self._selections else 0

    @property
    def picked(self) -> str:
        """The text of the pieces picked so far in this composition."""
        return "".join(s.pick.text for s in self._selections)

    @property
    def remaining(self) -> str:
        return self._keys[self.offset:]

    # ---- intents -------------------------------------------------------------------------

    def type(self, keys: str) -> EngineState:
        """Append keys (`a-z` and `'`); raises InvalidKeysError for anything else."""
        validate_keys(keys)
        self._committed = ""
        self.last_learned = None  # keys typed since: the last commit stays learned
        i = 0
        while i < len(keys):
            room = MAX_KEYS - len(self.remaining)
            if room <= 0:
                self._pick_first_word()
                continue
            self._keys += keys[i:i + room]
            i += room
            self._refresh()
        return self.state

    def _pick_first_word(self) -> None:
        """At MAX_KEYS: the best sentence's first words become picks (rank 0), until half the
        keys are left; the next keystrokes decode incrementally again from there."""
        start = self.offset
        best = self.sentences[0].words if self.sentences else ()
        if not self._selections:
            self._prediction = best
        end = 0
        for w in best:
            if len(self.remaining) - w.end < MAX_KEYS // 2 or w.end >= len(self.remaining):
                break
            pick = Pick(w.text, w.syllables, self._keys[start + end:start + w.end], 0,
                        CandidateKind.WORD, (w,))
            self._selections.append(_Selection(pick, start + w.end))
            end = w.end
        if end == 0:  # no word to take (cannot happen: words are short): the first letter
            pick = Pick(self.remaining[0], (), self.remaining[0], 0, CandidateKind.RAW, ())
            self._selections.append(_Selection(pick, start + 1))
        self._refresh()

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
        if not 0 <= index < len(self.candidates):
            raise IndexError(f"no candidate {index} (have {len(self.candidates)})")
        c = self.candidates[index]
        if not self._selections:
            self._prediction = self.sentences[0].words if self.sentences else ()
        start = self.offset
        deficit = 0.0
        top = self.candidates[0]
        if index > 0 and top.kind == CandidateKind.SENTENCE and c.end >= len(self.remaining):
            # how far the prediction led what the user chose: the learner's delta rule
            mine = (c.score if c.kind == CandidateKind.SENTENCE
                    else self.engine.decoder.word_score(c.words[0], self._start()))
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
        if not self.candidates:
            return self.state
        return self.select(self._highlight)

    def undo_learning(self) -> int:
        """The user deleted the last commit at once: what learning it wrote is reverted (0
        when it was not learned, or something was learned since). Returns the rows put back."""
        event, self.last_learned = self.last_learned, None
        learner = self.engine.learner
        undo = getattr(learner, "undo", None)
        if event is None or undo is None:
            return 0
        n = undo(event)
        if n:
            self.engine.user_changed()
        return n

    def commit_raw(self) -> EngineState:
        """Enter: commit the letters as typed (after any pieces already picked)."""
        text = "".join(s.pick.text for s in self._selections) + self.remaining
        self._reset()
        self._committed = text
        self._left = (self._left + text)[-MAX_CONTEXT:]
        self._advance_lm(text)
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
        pos = min(max(pos, 0), max(len(self.candidates) - 1, 0))
        self._page, self._highlight = divmod(pos, size)
        return self.state

    # ---- what the engine proposes ----------------------------------------------------------

    @property
    def composition(self) -> Composition | None:
        """The engine's result for the remaining keys (None when there are none)."""
        return self._composition

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        """The n-best sentences for the remaining keys (best first)."""
        return self._composition.sentences if self._composition is not None else ()

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        """All candidates, not paged."""
        return self._composition.candidates if self._composition is not None else ()

    @property
    def lattice(self) -> Lattice | None:
        return self._composition.lattice if self._composition is not None else None

    @property
    def lm_handle(self) -> object | None:
        """The neural LM's state after the committed text (None until first needed)."""
        return self._lm[1] if self._lm is not None else None

    @property
    def state(self) -> EngineState:
        size = self.engine.config.page_size
        page = self.candidates[self._page * size:(self._page + 1) * size]
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
        if self.sentences:
            for w in self.sentences[0].words:
                parts.append("'".join(w.typed))
        else:
            parts.append(rest)
        return picked + " ".join(parts)

    # ---- internals -------------------------------------------------------------------------

    def _page_count(self) -> int:
        size = self.engine.config.page_size
        return (len(self.candidates) + size - 1) // size

    def _reset(self) -> None:
        self._keys = ""
        self._selections.clear()
        self._prediction = ()
        self._page = self._highlight = 0
        self._composition = None
        self._lm_picks = None

    def _start(self):
        """The decoder LM's state before the remaining keys: after the pieces picked, else
        after the left context."""
        decoder = self.engine.decoder
        if self._selections:
            return decoder.after(self._selections[-1].pick.words)
        return self.engine.start_state(self._left)

    # ---- the neural LM's state -------------------------------------------------------------

    def _handle(self) -> object | None:
        """The neural LM's handle after the left context and the pieces picked (advanced
        from the context's handle by the picks alone), or None when not reranking."""
        engine = self.engine
        if not engine.reranking:
            return None
        reranker = engine.reranker
        if self._lm is None or self._lm[0] is not reranker:
            self._lm = (reranker, reranker.start(self._left))
            self._lm_picks = None
        picked = "".join(s.pick.text for s in self._selections)
        if not picked:
            return self._lm[1]
        if self._lm_picks is None or self._lm_picks[0] != picked:
            self._lm_picks = (picked, reranker.advance(self._lm[1], picked))
        return self._lm_picks[1]

    def _advance_lm(self, text: str) -> None:
        """Committed `text`: the handle follows by its characters (if there is one yet)."""
        self._lm_picks = None
        if self._lm is not None:
            reranker, handle = self._lm
            if reranker is self.engine.reranker:
                self._lm = (reranker, reranker.advance(handle, text))
            else:
                self._lm = None

    def _refresh(self) -> None:
        t0 = time.perf_counter()
        rest = self.remaining
        self._page = self._highlight = 0
        if not rest:
            self._composition = None
            return
        engine = self.engine
        previous = self._composition
        if self._generation != engine.generation:
            self._generation = engine.generation
            previous = None  # the user lexicon or the config changed
        self._composition = engine.compose(rest, self._start(), self._handle(), previous)
        self.last_latency_ms = (time.perf_counter() - t0) * 1000

    def _commit_selections(self) -> None:
        picks = tuple(s.pick for s in self._selections)
        text = "".join(p.text for p in picks)
        event = CommitEvent(self._keys, text, picks, self._prediction, self._left)
        self._reset()
        self._committed = text
        self.last_learned = None
        if self.learns and not _has_raw_letters(picks):
            self.engine.on_commit(event)
            self.last_learned = event
        self._left = (self._left + text)[-MAX_CONTEXT:]
        self._advance_lm(text)


def _has_raw_letters(picks: tuple[Pick, ...]) -> bool:
    """Whether a commit holds letters as typed (learned from, they would teach junk)."""
    return any(p.kind == CandidateKind.RAW or any(w.word_id == RAW_WORD for w in p.words)
               for p in picks)


def _added(left: str, text: str) -> str | None:
    """The characters `text` adds after `left` (the context kept, its last MAX_CONTEXT
    characters), or None when `text` does not continue it."""
    if not left:
        return text if len(text) <= MAX_CONTEXT else None
    n = len(text)
    for k in range(1, min(n, MAX_CONTEXT) + 1):
        if text[max(0, n - k - MAX_CONTEXT):n - k] == left:
            return text[n - k:]
    return None
