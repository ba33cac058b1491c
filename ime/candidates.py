"""What the engine hands out: candidates, the plain EngineState snapshot, commit events; and
how the candidate list is assembled from the lattice and the n-best (`assemble_candidates`,
a pure function)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ime.decoder import Sentence
from ime.lattice import RAW_WORD, USER_WORD, Lattice, LatticeWord

__all__ = ["CandidateKind", "Candidate", "EngineState", "Pick", "CommitEvent",
           "assemble_candidates", "MAX_CANDIDATES"]

MAX_CANDIDATES = 60
WORDS_PER_SPAN = 3  # words of one span shown before shorter spans get their turn
SENTENCE_MARGIN = 6.0  # nats: how far behind the best a sentence may be to come before words
RAW_SCORE = -1000.0  # the score of the letters as typed, offered when nothing else reads them


class CandidateKind(StrEnum):
    SENTENCE = "sentence"  # the whole remaining input, from the decoder's n-best
    WORD = "word"  # a word (or character) starting at the current position
    RAW = "raw"  # letters no syllable explains, passed through


@dataclass(frozen=True, slots=True)
class Candidate:
    text: str
    kind: CandidateKind
    end: int  # offset in the remaining keys up to which selecting it consumes them
    score: float
    words: tuple[LatticeWord, ...]  # the lattice words it is made of
    learned: bool = False  # it is (or contains) a word of the user lexicon

    @property
    def syllables(self) -> tuple[str, ...]:
        return tuple(s for w in self.words for s in w.syllables)

    @property
    def pinyin(self) -> str:
        return " ".join(self.syllables)


@dataclass(frozen=True, slots=True)
class EngineState:
    """A snapshot for the UI: everything needed to draw, nothing to call back."""

    keys: str  # every key of the composition
    preedit: str  # committed-so-far pieces, then the remaining keys split into syllables
    cursor: int  # cursor position in preedit (characters)
    candidates: tuple[Candidate, ...]  # the current page
    highlighted: int  # index in `candidates`
    page: int  # 0-based
    page_count: int
    page_size: int
    committed: str  # text committed by the last action, "" if none
    chinese: bool = True  # Chinese mode (False: letters go straight through)

    @property
    def composing(self) -> bool:
        return bool(self.keys)

    @property
    def has_prev_page(self) -> bool:
        return self.page > 0

    @property
    def has_next_page(self) -> bool:
        return self.page + 1 < self.page_count


@dataclass(frozen=True, slots=True)
class Pick:
    """One selection the user made while composing."""

    text: str
    syllables: tuple[str, ...]
    keys: str
    rank: int  # 0-based index in the full candidate list when it was picked
    kind: CandidateKind
    words: tuple[LatticeWord, ...]
    deficit: float = 0.0  # decoder score of the top sentence minus this one's (whole picks)


@dataclass(frozen=True, slots=True)
class CommitEvent:
    """What the learner sees: the user's true choice against the engine's prediction."""

    keys: str
    text: str
    picks: tuple[Pick, ...]
    prediction: tuple[LatticeWord, ...]  # top-1 sentence for all keys before any selection
    context: str  # text committed before this unit

    @property
    def predicted_text(self) -> str:
        return "".join(w.text for w in self.prediction)


def assemble_candidates(
    lattice: Lattice,
    sentences: Sequence[Sentence],
    sentence_slots: int,
    is_learned: Callable[[LatticeWord], bool],
    is_forgotten: Callable[[str, tuple[str, ...]], bool] | None = None,
) -> tuple[Candidate, ...]:
    """Sentences first (at most `sentence_slots`, and only those close to the best), then the
    words starting at the composition's start (exact spellings first, longest first, a few
    per length), then the rest of the n-best. `is_forgotten`: sentences the user asked to
    forget are left out (None: nothing is forgotten). Keys nothing reads still get one
    candidate: the letters as typed."""
    out: list[Candidate] = []
    seen: set[str] = set()
    n = lattice.graph.size
    if is_forgotten is not None:
        sentences = [s for s in sentences if not is_forgotten(s.text, s.syllables)]
    # the runners-up go first only when they are close: a sentence far behind the best is
    # mostly the best with a rare homophone swapped in, and words serve better there
    best = sentences[0].score if sentences else 0.0
    close = [s for s in sentences[:sentence_slots] if s.score >= best - SENTENCE_MARGIN]
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
                             w.word_id == USER_WORD or is_learned(w)))
        if len(out) >= MAX_CANDIDATES:
            break
    for s in sentences:  # the rest of the n-best, after the words
        if s.text not in seen and len(out) < MAX_CANDIDATES:
            seen.add(s.text)
            out.append(Candidate(s.text, CandidateKind.SENTENCE, n, s.score, s.words))
    if not out and n:  # nothing in the lexicon reads these keys: the letters as typed
        out.append(Candidate(lattice.graph.keys, CandidateKind.RAW, n, RAW_SCORE, ()))
    return tuple(out)
