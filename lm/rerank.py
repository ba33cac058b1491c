"""The neural reranker: log-probabilities of candidate texts after the committed context.

The engine holds a `LMHandle` per typing session: the model's state (KDA states and the
attention window) after the committed text and its next-character distribution. Committing
text advances the handle by exactly those characters (`advance`); a keystroke runs only
the candidates, all from the handle's one state in one batch (`logp`; on a GPU the KDA
layers read the shared state in one launch, `kernels.kda.score_candidates`). Handles are
immutable, so a session can keep the handle after its context and one after its picks.

The engine combines the scores (ime.engine.Engine._rerank):
decoder score + lam * (log P_LM(sentence | context) - the best candidate's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from lm.checkpoint import DEFAULT_WEIGHTS, load_checkpoint
from lm.data import BOS, PAD, UNK, Vocab
from lm.model import KimiLinearLM, State

__all__ = ["NeuralReranker", "LMHandle", "DEFAULT_LAMBDA"]

DEFAULT_LAMBDA = 0.5  # tuned on the news and fortunes dev logs (benchmarks/rerank.py)
TOP = 10  # sentences rescored per keystroke (the rest keep their place after them)
MAX_CONTEXT = 200  # characters of left context a fresh start reads
# A character outside the vocabulary scores as UNK (the mass of every rare character) minus
# this: about the log of how many characters share that mass.
UNK_PENALTY = 8.0


@dataclass(frozen=True, slots=True, eq=False)
class LMHandle:
    """The model after some text: its state and log P(next character) [vocab]."""

    state: State
    next_logp: torch.Tensor
    chars: int  # characters run into it since its fresh start (BOS excluded)


class NeuralReranker:
    def __init__(
        self, model: KimiLinearLM, vocab: Vocab, lam: float = DEFAULT_LAMBDA, top: int = TOP
    ) -> None:
        self.model = model.eval()
        self.vocab = vocab
        self.lam = lam
        self.top = top
        self.device = next(model.parameters()).device
        self.context_tokens = 0  # tokens run for contexts (start + advance), for tests

    @classmethod
    def load(cls, path: Path | None = None, device: str = "auto", **kw) -> NeuralReranker:
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        model, vocab = load_checkpoint(path or DEFAULT_WEIGHTS, device)
        reranker = cls(model, vocab, **kw)
        reranker.logp(reranker.start("你好"), ["中国", "人民"])  # warm up, not at a keystroke
        reranker.context_tokens = 0
        return reranker

    # ---- context ------------------------------------------------------------------------------

    @torch.no_grad()
    def _run(self, ids: list[int], state: State | None, chars: int) -> LMHandle:
        self.context_tokens += len(ids)
        x = torch.tensor([ids], dtype=torch.long, device=self.device)
        logits, state = self.model(x, state)
        return LMHandle(state, torch.log_softmax(logits[0, -1], dim=-1), chars)

    def start(self, text: str = "") -> LMHandle:
        """A fresh handle after BOS and the last MAX_CONTEXT characters of `text`."""
        tail = text[-MAX_CONTEXT:]
        return self._run([BOS] + self.vocab.encode(tail), None, len(tail))

    def advance(self, handle: LMHandle, text: str) -> LMHandle:
        """The handle after `text` more characters: only they are run."""
        if not text:
            return handle
        return self._run(self.vocab.encode(text), handle.state, handle.chars + len(text))

    # ---- candidates ---------------------------------------------------------------------------

    @torch.no_grad()
    def logp(self, handle: LMHandle, texts: Sequence[str]) -> list[float]:
        """log P_LM(text | the handle's context) of each text (natural log), one batch."""
        state, first = handle.state, handle.next_logp
        enc = [self.vocab.encode(t) for t in texts]
        n = max(1, max(len(e) for e in enc))
        ids = torch.full((len(enc), n), PAD, dtype=torch.long)
        for i, e in enumerate(enc):
            ids[i, : len(e)] = torch.tensor(e, dtype=torch.long)
        ids = ids.to(self.device)
        out = first[ids[:, 0]]  # the first character comes from the context's distribution
        if n > 1:
            logits, _ = self.model(ids[:, :-1], state, shared=True)  # [N, n-1, vocab]
            lp = torch.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:, None])[..., 0]
            out = out + (lp * (ids[:, 1:] != PAD)).sum(dim=1)
        out = out - UNK_PENALTY * (ids == UNK).sum(dim=1)
        lengths = torch.tensor([len(e) for e in enc], device=self.device)
        return torch.where(lengths > 0, out, torch.zeros_like(out)).tolist()
