"""The neural reranker: log-probabilities of candidate texts after the committed context.

The engine holds a `LMHandle` per typing session: the model's state (KDA states and the
attention window) after the committed text and its next-character distribution. Committing
text advances the handle by exactly those characters (`advance`). Handles are immutable, so
a session can keep the handle after its context and one after its picks.

A keystroke scores the candidate texts (`logp`). On a CPU each handle keeps a trie of the
candidate prefixes it has scored (the model's state after each, `PREFIX_CACHE` of them):
the candidates of one keystroke share most of their prefixes, and those of the next extend
them, so only prefixes never seen run, one character per row, one batch per depth. On a GPU
all candidates run from the handle's one state in one launch per KDA layer
(`kernels.kda.score_candidates`), where recomputing is cheaper than bookkeeping; and that
batch runs as a CUDA graph (`_Graphs`): launched one kernel at a time from Python it is
~280 small launches, ~6 ms of CPU time for ~0.6 ms of GPU work, replayed as one graph it is
one launch. A graph is captured per shape (rows and characters rounded up, the attention
windows' lengths), at its first use; the padding rows and characters change no score (the
model is causal, rows are independent).

The engine combines the scores (ime.engine.Engine._rerank):
decoder score + lam * (log P_LM(sentence | context) - the best candidate's).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lm.checkpoint import DEFAULT_WEIGHTS, load_checkpoint
from lm.data import BOS, PAD, UNK, Vocab
from lm.model import KimiLinearLM, State

__all__ = ["NeuralReranker", "LMHandle", "DEFAULT_LAMBDA"]

DEFAULT_LAMBDA = 0.25  # tuned on the four full-pinyin dev logs (benchmarks/rerank.py, issue 14)
TOP = 10  # sentences rescored per keystroke (the rest keep their place after them)
MAX_CONTEXT = 200  # characters of left context a fresh start reads
# A character outside the vocabulary scores as UNK (the mass of every rare character) minus
# this: about the log of how many characters share that mass.
UNK_PENALTY = 8.0
PREFIX_CACHE = 192  # candidate prefixes kept per handle (each ~0.35 MB of model state)
GRAPHS = 64  # CUDA graphs kept (one per shape), least recently used dropped


@dataclass(frozen=True, slots=True)
class _Prefix:
    """A candidate prefix after a handle: the model's state after it (batch 1), log P(next
    character | context + prefix) [vocab], and log P(prefix | context)."""

    state: State
    next_logp: torch.Tensor
    logp: float


@dataclass(frozen=True, slots=True, eq=False)
class LMHandle:
    """The model after some text: its state and log P(next character) [vocab]."""

    state: State
    next_logp: torch.Tensor
    chars: int  # characters run into it since its fresh start (BOS excluded)
    # candidate prefixes scored after it (a cache: the handle's meaning never changes)
    prefixes: OrderedDict[str, _Prefix] = field(default_factory=OrderedDict, repr=False)


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
        self.candidate_tokens = 0  # tokens run for candidate prefixes (the CPU path)
        # candidate scoring as CUDA graphs on a GPU (None: launched op by op)
        self.graphs = _Graphs(self) if self.device.type == "cuda" else None

    @classmethod
    def load(cls, path: Path | None = None, device: str = "auto", **kw) -> NeuralReranker:
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        model, vocab = load_checkpoint(path or DEFAULT_WEIGHTS, device)
        reranker = cls(model, vocab, **kw)
        reranker.logp(reranker.start("你好"), ["中国", "人民"])  # warm up, not at a keystroke
        if reranker.graphs is not None:  # the usual shapes once a context fills the window
            h = reranker.start("你好" * MAX_CONTEXT)
            for n in (4, 8, 16, 24):
                reranker.logp(h, ["中" * n] * reranker.top)
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
        """log P_LM(text | the handle's context) of each text (natural log)."""
        if self.device.type == "cuda":
            return self._logp_batch(handle, texts)
        root = _Prefix(handle.state, handle.next_logp, 0.0)
        cache = handle.prefixes
        encoded = [self.vocab.encode(t) for t in texts]
        missing: dict[int, dict[str, int]] = {}  # depth -> {prefix: id of its last char}
        for t, ids in zip(texts, encoded):
            for i in range(1, len(t)):
                p = t[:i]
                if p not in cache:
                    missing.setdefault(i, {})[p] = ids[i - 1]
        for depth in sorted(missing):  # parents (one shorter) exist once the depth before ran
            rows = list(missing[depth].items())
            parents = [cache[p[:-1]] if depth > 1 else root for p, _ in rows]
            state = [_stack([q.state[j] for q in parents]) for j in range(len(root.state))]
            ids = torch.tensor([[c] for _, c in rows], dtype=torch.long, device=self.device)
            self.candidate_tokens += len(rows)
            logits, new = self.model(ids, state)  # [B, 1, vocab]
            lsm = torch.log_softmax(logits[:, 0], dim=-1)
            for b, ((p, c), q) in enumerate(zip(rows, parents)):
                cache[p] = _Prefix([_row(s, b) for s in new], lsm[b],
                                   q.logp + float(q.next_logp[c]))
        out = []
        for t, ids in zip(texts, encoded):
            if not t:
                out.append(0.0)
                continue
            q = cache[t[:-1]] if len(t) > 1 else root
            unk = sum(1 for c in ids if c == UNK)
            out.append(q.logp + float(q.next_logp[ids[-1]]) - UNK_PENALTY * unk)
        for t in texts:  # the prefixes just used stay longest
            for i in range(1, len(t)):
                if t[:i] in cache:
                    cache.move_to_end(t[:i])
        while len(cache) > PREFIX_CACHE:
            cache.popitem(last=False)
        return out

    @torch.no_grad()
    def _logp_batch(self, handle: LMHandle, texts: Sequence[str]) -> list[float]:
        """All texts from the handle's one state in one batch (the GPU path)."""
        if not texts:
            return []
        enc = [self.vocab.encode(t) for t in texts]
        n = max(1, max(len(e) for e in enc))
        if self.graphs is not None:
            rows, n = _round_up(len(enc), 4, pow2=True), _round_up(n, 8)
        else:
            rows = len(enc)
        ids = torch.full((rows, n), PAD, dtype=torch.long)
        for i, e in enumerate(enc):
            ids[i, : len(e)] = torch.tensor(e, dtype=torch.long)
        out = None
        if self.graphs is not None:
            out = self.graphs.score(handle, ids)
        if out is None:
            out = self._score(handle.state, handle.next_logp, ids.to(self.device)).tolist()
        return [x if e else 0.0 for x, e in zip(out, enc)]

    def _score(self, state: State, first: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """log P of each row of ids [N, n] (PAD after its end) after `state`; `first`: log P
        of the first character [vocab]. Rows of PAD alone score first[PAD]."""
        out = first[ids[:, 0]]  # the first character comes from the context's distribution
        if ids.shape[1] > 1:
            logits, _ = self.model(ids[:, :-1], state, shared=True)  # [N, n-1, vocab]
            lp = torch.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:, None])[..., 0]
            out = out + (lp * (ids[:, 1:] != PAD)).sum(dim=1)
        return out - UNK_PENALTY * (ids == UNK).sum(dim=1)


def _round_up(n: int, step: int, pow2: bool = False) -> int:
    """n rounded up to a multiple of `step` (to a power of two >= step with `pow2`)."""
    if pow2:
        return max(step, 1 << (n - 1).bit_length())
    return -(-n // step) * step


class _Graphs:
    """`NeuralReranker._score` as CUDA graphs, one per shape: (rows, characters, the shapes
    of the handle's state). Each graph reads static buffers: the ids, a copy of the handle's
    state and next-character distribution (copied only when the handle changes: a
    keystroke's candidates follow the same context as the last one's), and writes the
    scores. All graphs share one memory pool; a graph's output is read right after its
    replay, before any other runs. A shape that fails to capture is scored op by op."""

    def __init__(self, reranker: NeuralReranker) -> None:
        self.r = reranker
        self.pool = torch.cuda.graph_pool_handle()
        # key -> (graph, ids buffer, state buffer, first buffer, output, handle copied in)
        self.graphs: OrderedDict[tuple, list] = OrderedDict()
        self.failed: set[tuple] = set()
        self.captures = 0  # graphs captured (for tests)

    def score(self, handle: LMHandle, ids: torch.Tensor) -> list[float] | None:
        key = (tuple(ids.shape), _shapes(handle.state))
        if key in self.failed:
            return None
        g = self.graphs.get(key)
        if g is None:
            try:
                g = self._capture(handle, ids)
            except RuntimeError:
                self.failed.add(key)
                torch.cuda.synchronize()
                return None
            self.graphs[key] = g
            while len(self.graphs) > GRAPHS:
                self.graphs.popitem(last=False)
        self.graphs.move_to_end(key)
        graph, ids_buf, state_buf, first_buf, out, copied = g
        ids_buf.copy_(ids)
        if copied is not handle:
            _copy_into(state_buf, handle.state)
            first_buf.copy_(handle.next_logp)
            g[5] = handle
        graph.replay()
        return out.tolist()[: ids.shape[0]]

    def _capture(self, handle: LMHandle, ids: torch.Tensor) -> list:
        ids_buf = ids.to(self.r.device)
        state_buf = _clone(handle.state)
        first_buf = handle.next_logp.clone()
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):  # warm-up: kernels compiled, workspaces made
            for _ in range(2):
                self.r._score(state_buf, first_buf, ids_buf)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self.pool):
            out = self.r._score(state_buf, first_buf, ids_buf)
        self.captures += 1
        return [graph, ids_buf, state_buf, first_buf, out, handle]


def _shapes(state) -> tuple:
    if state is None:
        return ()
    if isinstance(state, (list, tuple)):
        return tuple(_shapes(s) for s in state)
    return tuple(state.shape)


def _clone(state):
    if state is None:
        return None
    if isinstance(state, list):
        return [_clone(s) for s in state]
    if isinstance(state, tuple):
        return tuple(_clone(s) for s in state)
    return state.clone()


def _copy_into(dst, src) -> None:
    if dst is None:
        return
    if isinstance(dst, (list, tuple)):
        for d, s in zip(dst, src):
            _copy_into(d, s)
        return
    dst.copy_(src)


def _stack(states: list):
    """Batch-1 layer states as one batch: a tensor (a KDA state), or a tuple of them (an
    attention window's keys and values; a layer's convolution windows), or None."""
    first = states[0]
    if first is None:
        return None
    if isinstance(first, tuple):
        return tuple(_stack([s[i] for s in states]) for i in range(len(first)))
    return torch.cat(states)


def _row(state, b: int):
    """Row b of a batched layer state, batch 1 (a copy: the batch may then be freed)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(_row(s, b) for s in state)
    return state[b:b + 1].clone()
