"""What the engine hands out: candidates, the plain EngineState snapshot, commit events."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ime.lattice import LatticeWord

__all__ = ["CandidateKind", "Candidate", "EngineState", "Pick", "CommitEvent"]


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
