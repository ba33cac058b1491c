"""The neural reranker: the decoder's n-best rescored by the character LM given the left context.

The committed context is run through the model once; its state (KDA states and the attention
window) and next-character distribution are cached per context string. A keystroke then only
runs the candidates, all from that one cached state in one batch: on a GPU the KDA layers read
the shared state in one launch (`kernels.kda.score_candidates`).

Score of a sentence = decoder score + lam * (log P_LM(sentence | context) - the best of the
rescored sentences' log P_LM), so that the LM's favourite keeps its decoder score and the others
fall behind it by their LM deficit (the candidate list's margins stay in the decoder's units).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

import torch

from ime.decoder import Sentence
from lm.checkpoint import DEFAULT_WEIGHTS, load_checkpoint
from lm.data import BOS, PAD, UNK, Vocab
from lm.model import KimiLinearLM, State

__all__ = ["NeuralReranker", "DEFAULT_LAMBDA"]

DEFAULT_LAMBDA = 0.5  # tuned on the news and fortunes dev logs (benchmarks/rerank.py)
TOP = 10  # sentences rescored per keystroke (the rest keep their place after them)
MAX_CONTEXT = 200  # characters of left context a fresh start reads
CACHE = 8  # contexts kept
# A character outside the vocabulary scores as UNK (the mass of every rare character) minus
# this: about the log of how many characters share that mass.
UNK_PENALTY = 8.0


class NeuralReranker:
    def __init__(
        self, model: KimiLinearLM, vocab: Vocab, lam: float = DEFAULT_LAMBDA, top: int = TOP
    ) -> None:
        self.model = model.eval()
        self.vocab = vocab
        self.lam = lam
        self.top = top
        self.device = next(model.parameters()).device
        self._cache: OrderedDict[str, tuple[State, torch.Tensor]] = OrderedDict()

    @classmethod
    def load(cls, path: Path | None = None, device: str = "auto", **kw) -> NeuralReranker:
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        model, vocab = load_checkpoint(path or DEFAULT_WEIGHTS, device)
        reranker = cls(model, vocab, **kw)
        reranker.logp("你好", ["中国", "人民"])  # warm up here, not on the first keystroke
        reranker._cache.clear()
        return reranker

    # ---- context ------------------------------------------------------------------------------

    @torch.no_grad()
    def _run(self, ids: list[int], state: State | None) -> tuple[State, torch.Tensor]:
        x = torch.tensor([ids], dtype=torch.long, device=self.device)
        logits, state = self.model(x, state)
        return state, torch.log_softmax(logits[0, -1], dim=-1)

    def context(self, text: str) -> tuple[State, torch.Tensor]:
        """State after `text` and log P(next character), [vocab]. Continues from the longest
        cached context that `text` extends by at most MAX_CONTEXT characters, else starts
        fresh on its last MAX_CONTEXT characters."""
        hit = self._cache.get(text)
        if hit is not None:
            self._cache.move_to_end(text)
            return hit
        base = max((k for k in self._cache if text.startswith(k)), key=len, default=None)
        if base is not None and len(text) - len(base) <= MAX_CONTEXT:
            state, _ = self._cache[base]
            out = self._run(self.vocab.encode(text[len(base) :]), state)
        else:
            out = self._run([BOS] + self.vocab.encode(text[-MAX_CONTEXT:]), None)
        self._cache[text] = out
        if len(self._cache) > CACHE:
            self._cache.popitem(last=False)
        return out

    # ---- candidates ---------------------------------------------------------------------------

    @torch.no_grad()
    def logp(self, context: str, texts: list[str]) -> list[float]:
        """log P_LM(text | context) of each text (natural log), one batch."""
        state, first = self.context(context)
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

    def rerank(self, context: str, sentences: list[Sentence]) -> list[Sentence]:
        head, tail = sentences[: self.top], sentences[self.top :]
        if len(head) < 2:
            return sentences
        lps = self.logp(context, [s.text for s in head])
        best = max(lps)
        rescored = [replace(s, score=s.score + self.lam * (lp - best)) for s, lp in zip(head, lps)]
        rescored.sort(key=lambda s: -s.score)
        return rescored + tail
