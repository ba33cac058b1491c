"""Engine: what every typing session shares (lexicons, language models, config, learner).

    engine = Engine.load()                 # builds the system lexicon on first use
    ctx = engine.new_context()
    ctx.type("nihao"); ctx.commit()        # → ctx.state.committed == "你好"

Many InputContexts can share one Engine. The engine imports no Qt and runs without torch:
the neural reranker is optional (`Reranker` protocol).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Protocol

from ime.candidates import Candidate, CommitEvent
from ime.config import Config
from ime.context import InputContext
from ime.decoder import Decoder, Sentence
from ime.lattice import USER_WORD, LatticeBuilder, LatticeWord, UserWords
from ime.segmentor import Segmentor
from lexicon.build import default_cache_dir, ensure_built
from lexicon.ngram import BigramModel
from lexicon.trie import SystemLexicon

__all__ = ["Engine", "Reranker", "Learner", "load_reranker", "lm_available"]

MAX_HISTORY_WORD = 4


def lm_available() -> bool:
    """Whether the neural reranker can be loaded here (torch installed, weights shipped),
    without importing torch."""
    import importlib.util

    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("lm") is None:
        return False
    from lm import DEFAULT_WEIGHTS

    return DEFAULT_WEIGHTS.is_file()


def load_reranker(device: str = "auto") -> Reranker | None:
    """The shipped neural reranker (lm/), or None where torch or its weights are missing: the
    engine then ranks by its n-gram model alone."""
    try:
        import torch

        from lm.checkpoint import CheckpointError
        from lm.rerank import NeuralReranker
    except ImportError:
        return None
    if device == "cuda" and not torch.cuda.is_available():
        device = "cpu"
    try:
        return NeuralReranker.load(device=device)
    except (CheckpointError, OSError) as exc:
        print(f"delta-pinyin: neural LM not loaded ({exc}); ranking by the n-gram model",
              file=sys.stderr)
        return None


class Reranker(Protocol):
    """Rescores the decoder's n-best given the committed left context (the neural LM)."""

    def rerank(self, context: str, sentences: list[Sentence]) -> list[Sentence]: ...


class Learner(Protocol):
    """Learns from what the user commits; also the user-lexicon view the lattice reads."""

    words: UserWords

    def bind(self, lexicon: SystemLexicon) -> None: ...

    def learn(self, event: CommitEvent) -> None: ...

    def forget(self, text: str, syllables: tuple[str, ...] | None = None) -> int: ...

    def is_learned(self, text: str, syllables: tuple[str, ...]) -> bool: ...

    def is_forgotten(self, text: str, syllables: tuple[str, ...]) -> bool: ...


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
        self.decoder = Decoder(bigram)

    @classmethod
    def load(cls, config: Config | None = None, cache_dir: Path | None = None,
             learner: Learner | None = None, progress: bool = True) -> Engine:
        """Load the built system data, building it first if it is missing; with the neural
        reranker when the config asks for it and torch and the shipped weights are there."""
        directory = ensure_built(cache_dir or default_cache_dir(), progress=progress)
        config = (config or Config()).validate()
        engine = cls(SystemLexicon.load(directory), BigramModel.load(directory / "bigram.npz"),
                     config, learner, load_reranker(config.device) if config.lm else None)
        engine._lm_tried = config.lm  # switched on later: loaded then (set_config)
        return engine

    def new_context(self, context: str = "") -> InputContext:
        return InputContext(self, context)

    # ---- used by InputContext --------------------------------------------------------------

    def history_of(self, text: str) -> int | None:
        """The LM history after `text`: its longest final word, or None (clause start)."""
        for n in range(min(MAX_HISTORY_WORD, len(text)), 0, -1):
            wid = self.lexicon.word_id(text[-n:])
            if wid is not None:
                return wid
        return None

    def rerank(self, context: str, sentences: list[Sentence]) -> list[Sentence]:
        if self.reranker is None or not self.config.lm or len(sentences) < 2:
            return sentences
        return self.reranker.rerank(context, sentences)

    def on_commit(self, event: CommitEvent) -> None:
        if self.learner is not None and self.config.learning:
            self.learner.learn(event)
            self.lattice_builder.user_changed()

    def is_learned(self, w: LatticeWord) -> bool:
        if w.word_id == USER_WORD:
            return True
        return self.learner is not None and self.learner.is_learned(w.text, w.syllables)

    def is_forgotten(self, text: str, syllables: tuple[str, ...]) -> bool:
        """The user asked to forget this word: no candidate may offer it, whole or composed."""
        return self.learner is not None and self.learner.is_forgotten(text, syllables)

    # ---- conveniences ----------------------------------------------------------------------

    def convert(self, keys: str, context: str = "") -> list[Candidate]:
        """All candidates for `keys` typed at once (no learning)."""
        ctx = self.new_context(context)
        ctx.type(keys)
        return list(ctx.candidates)

    def forget(self, text: str, syllables: tuple[str, ...] | None = None) -> int:
        """Forget a word (learned, or demote a system word); returns entries affected."""
        if self.learner is None:
            return 0
        n = self.learner.forget(text, syllables)
        self.lattice_builder.user_changed()
        return n

    def set_config(self, config: Config) -> None:
        """Apply a new config (page size, fuzzy pairs, learning, …) to future keystrokes."""
        if config.lm and self.reranker is None and not self._lm_tried:
            self.reranker = load_reranker(config.device)
            self._lm_tried = True
        self.config = config.validate()
        self.segmentor = Segmentor(fuzzy=self.config.fuzzy, typos=self.config.typos)
