"""Engine: what every typing session shares (lexicons, language models, config, learner), and
the one call that turns keys into candidates.

    engine = Engine.load()                 # builds the system lexicon on first use
    ctx = engine.new_context()
    ctx.type("nihao"); ctx.commit()        # → ctx.state.committed == "你好"

    comp = engine.compose("nihao", start, neural, previous)   # what InputContext calls

`compose` runs the pipeline (segmentor → lattice → decoder → reranker → candidates) and
returns an immutable `Composition`; given the previous keystroke's, it reuses the lattice
nodes and decoder hypotheses the keys still share (`segmentor.reusable_nodes`). The engine
keeps its caches consistent: a config change or a user-lexicon change bumps `generation`,
and a composition of an older generation is never reused.

Many InputContexts can share one Engine. The engine imports no Qt and runs without torch:
the neural reranker is optional (`Reranker` protocol).
"""

from __future__ import annotations

import sys
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from ime.candidates import Candidate, CommitEvent, assemble_candidates
from ime.config import Config
from ime.context import InputContext
from ime.decoder import BEFORE_CHARS, Decoder, DecodeState, Neural, Sentence, Start
from ime.lattice import USER_WORD, Lattice, LatticeBuilder, LatticeWord, UserWords
from ime.segmentor import Segmentor, SyllableGraph
from ime.word_lm import word_lm_for
from lexicon.build import default_cache_dir, ensure_built
from lexicon.ngram import BigramModel
from lexicon.trie import SystemLexicon

__all__ = ["Engine", "Composition", "Reranker", "Learner", "load_reranker", "lm_available",
           "SEARCH_LAMBDA", "SEARCH_WIDTH"]

# the neural LM inside the search (config lm_mode = "search"): weight of its log-probability
# against the word LM's path score, and how many extensions per node it scores (tuned on
# the first 30 records of the four full-pinyin dev logs: benchmarks/RESULTS.md, issue 15)
SEARCH_LAMBDA = 0.3
SEARCH_WIDTH = 24


def lm_available() -> bool:
    """Whether the neural reranker can be loaded here (torch installed, weights shipped),
    without importing torch."""
    import importlib.util

    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("lm") is None:
        return False
    from lm import DEFAULT_WEIGHTS

    return DEFAULT_WEIGHTS.is_file()


def load_reranker(device: str = "auto", threads: int = 1) -> Reranker | None:
    """The shipped neural reranker (lm/), or None where torch or its weights are missing: the
    engine then ranks by its n-gram model alone. `threads`: torch's intra-op threads (an
    input method shares the CPU with the application being typed into)."""
    try:
        import torch

        from lm.checkpoint import CheckpointError
        from lm.rerank import NeuralReranker
    except ImportError:
        return None
    torch.set_num_threads(threads)
    if device == "cuda" and not torch.cuda.is_available():
        device = "cpu"
    try:
        return NeuralReranker.load(device=device)
    except (CheckpointError, OSError) as exc:
        print(f"delta-pinyin: neural LM not loaded ({exc}); ranking by the n-gram model",
              file=sys.stderr)
        return None


class Reranker(Protocol):
    """The neural LM as the engine uses it: a state handle per committed text, advanced by
    what is committed, and log-probabilities of candidate texts after a handle.

    Handles are immutable; `advance` returns a new one and runs only the new characters."""

    lam: float  # weight of the LM's log-probability against the decoder's score
    top: int  # sentences rescored per keystroke

    def start(self, text: str = "") -> object:
        """A handle after `text` (a fresh start; reads at most the model's context limit)."""
        ...

    def advance(self, handle: object, text: str) -> object:
        """The handle after `text` more characters."""
        ...

    def logp(self, handle: object, texts: Sequence[str]) -> list[float]:
        """log P_LM(text | handle's text) of each text, natural log."""
        ...


class Learner(Protocol):
    """Learns from what the user commits; also the user-lexicon view the lattice reads."""

    words: UserWords

    def bind(self, lexicon: SystemLexicon) -> None: ...

    def learn(self, event: CommitEvent) -> None: ...

    def forget(self, text: str, syllables: tuple[str, ...] | None = None) -> int: ...

    def is_learned(self, text: str, syllables: tuple[str, ...]) -> bool: ...

    def is_forgotten(self, text: str, syllables: tuple[str, ...]) -> bool: ...


@dataclass(frozen=True, slots=True)
class Composition:
    """One keystroke's result for the keys after the user's picks."""

    keys: str
    start: Hashable  # the decoder LM's state before the keys
    graph: SyllableGraph
    lattice: Lattice
    decode: DecodeState
    sentences: tuple[Sentence, ...]  # n-best, best first (reranked when the LM is on)
    candidates: tuple[Candidate, ...]  # the whole list, not paged
    generation: int  # the engine's generation it was made in


class Engine:
    def __init__(
        self,
        lexicon: SystemLexicon,
        bigram: BigramModel,
        config: Config | None = None,
        learner: Learner | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.config = (config or Config()).validate()
        self.lexicon = lexicon
        self.bigram = bigram
        self.learner = learner
        if learner is not None:
            learner.bind(lexicon)
        self.reranker = reranker
        self._lm_tried = True  # Engine.load clears it when it left the LM out (set_config)
        self.segmentor = Segmentor(fuzzy=self.config.fuzzy, typos=self.config.typos)
        self.lattice_builder = LatticeBuilder(
            lexicon, bigram.unigram, learner.words if learner is not None else None)
        self.word_lm = word_lm_for(bigram, lexicon)
        self.decoder = Decoder(self.word_lm)
        # the learner's history bigram scores word pairs in the decoder (ime.history)
        self.decoder.history = getattr(learner, "history", None)
        self._configure_learner()
        self.generation = 0  # bumped whenever a cached lattice or decoding may be stale
        self.search_lam = SEARCH_LAMBDA
        self.search_width = SEARCH_WIDTH

    @classmethod
    def load(cls, config: Config | None = None, cache_dir: Path | None = None,
             learner: Learner | None = None, progress: bool = True) -> Engine:
        """Load the built system data, building it first if it is missing; with the neural
        reranker when the config asks for it and torch and the shipped weights are there."""
        directory = ensure_built(cache_dir or default_cache_dir(), progress=progress)
        config = (config or Config()).validate()
        reranker = load_reranker(config.device, config.threads) if config.lm else None
        engine = cls(SystemLexicon.load(directory), BigramModel.load(directory / "bigram.npz"),
                     config, learner, reranker)
        engine._lm_tried = config.lm  # switched on later: loaded then (set_config)
        return engine

    def new_context(self, context: str = "") -> InputContext:
        return InputContext(self, context)

    # ---- the pipeline ----------------------------------------------------------------------

    @property
    def reranking(self) -> bool:
        """Whether compositions are reranked by the neural LM (loaded and switched on)."""
        return self.reranker is not None and self.config.lm

    def compose(self, keys: str, start: Hashable | None = None, neural: object | None = None,
                previous: Composition | None = None) -> Composition:
        """Candidates for `keys` (non-empty) after decoder LM state `start` (None: a clause
        start) and neural LM handle `neural` (None: no reranking), reusing `previous`."""
        h0 = self.word_lm.bos if start is None else start
        if previous is not None and previous.generation != self.generation:
            previous = None
        graph = self.segmentor.segment(keys)
        lattice = self.lattice_builder.build(graph, previous.lattice if previous else None)
        search = None
        if neural is not None and self.reranking and self.config.lm_mode == "search":
            search = Neural(self.reranker, neural, self.search_lam, self.search_width)
        sentences, decoded = self.decoder.decode(
            lattice, h0, previous.decode if previous is not None else None, search)
        if neural is not None and self.reranking and search is None:
            sentences = self._rerank(neural, sentences)
        learner = self.learner
        forgotten = self.is_forgotten if learner is not None and learner.words.forgotten else None
        candidates = assemble_candidates(lattice, sentences, self.config.sentence_slots,
                                         self.is_learned, forgotten)
        return Composition(keys, h0, graph, lattice, decoded, tuple(sentences), candidates,
                           self.generation)

    def _rerank(self, handle: object, sentences: list[Sentence]) -> list[Sentence]:
        """The n-best's head rescored: decoder score + lam * (its LM log-probability - the
        best of the head's), so the LM's favourite keeps its decoder score and the others
        fall behind it by their LM deficit (the candidate margins stay in decoder units)."""
        assert self.reranker is not None
        top = self.reranker.top
        head, tail = sentences[:top], sentences[top:]
        if len(head) < 2:
            return sentences
        lps = self.reranker.logp(handle, [s.text for s in head])
        best = max(lps)
        lam = self.reranker.lam
        rescored = [replace(s, score=s.score + lam * (lp - best)) for s, lp in zip(head, lps)]
        rescored.sort(key=lambda s: -s.score)
        return rescored + tail

    # ---- used by InputContext --------------------------------------------------------------

    def start_state(self, text: str) -> Start:
        """Where a decode after committed `text` starts: the decoder LM's state after it,
        and its end (the history bigram's previous word)."""
        return Start(self.word_lm.start(text), text[-BEFORE_CHARS:])

    def on_commit(self, event: CommitEvent) -> None:
        if self.learner is not None and self.config.learning:
            self.learner.learn(event)
            self.user_changed()

    def user_changed(self) -> None:
        """The user lexicon changed: lattices (which carry its words) are stale."""
        self.lattice_builder.user_changed()
        self.generation += 1

    def is_learned(self, w: LatticeWord) -> bool:
        if w.word_id == USER_WORD:
            return True
        return self.learner is not None and self.learner.is_learned(w.text, w.syllables)

    def is_forgotten(self, text: str, syllables: tuple[str, ...]) -> bool:
        """The user asked to forget this word: no candidate may offer it, whole or composed."""
        return self.learner is not None and self.learner.is_forgotten(text, syllables)

    # ---- conveniences ----------------------------------------------------------------------

    def convert(self, keys: str, context: str = "") -> list[Candidate]:
        """All candidates for `keys` typed at once (no learning). Past MAX_KEYS keys the
        words the context took on its own (ime.context) lead every candidate's text."""
        ctx = self.new_context(context)
        ctx.type(keys)
        picked = ctx.picked
        if picked:
            return [replace(c, text=picked + c.text) for c in ctx.candidates]
        return list(ctx.candidates)

    def forget(self, text: str, syllables: tuple[str, ...] | None = None) -> int:
        """Forget a word (learned, or demote a system word); returns entries affected."""
        if self.learner is None:
            return 0
        n = self.learner.forget(text, syllables)
        self.user_changed()
        return n

    def _configure_learner(self) -> None:
        if self.learner is not None and hasattr(self.learner, "session_cap"):
            self.learner.session_cap = self.config.learn_session_cap

    def set_config(self, config: Config) -> None:
        """Apply a new config to future keystrokes, dropping every cache it makes stale:
        fuzzy pairs and typos change the syllable graph, hence every lattice span."""
        config = config.validate()
        old = self.config
        if config.lm and (self.reranker is None and not self._lm_tried
                          or self.reranker is not None and config.device != old.device):
            self.reranker = load_reranker(config.device, config.threads)
            self._lm_tried = True
        elif config.threads != old.threads and self.reranker is not None:
            import torch

            torch.set_num_threads(config.threads)
        self.config = config
        self._configure_learner()
        if (config.fuzzy, config.typos) != (old.fuzzy, old.typos):
            self.segmentor = Segmentor(fuzzy=config.fuzzy, typos=config.typos)
            self.lattice_builder.graph_changed()
        self.generation += 1  # page size, slots, LM on/off: every composition is recomposed
