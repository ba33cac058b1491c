"""A small character-level Kimi Linear language model: KDA and NoPE attention layers, 3 : 1.

Shapes: ids [B, T] int64; hidden [B, T, d]; logits [B, T, vocab].

Every layer is x + mixer(norm(x)) then x + mlp(norm(x)) (SwiGLU). The mixer of layer i is
attention when (i + 1) % attn_every == 0 (layers 4, 8, ...), else KDA:
* KDA (`KDAMixer`): q, k, v of H heads (q, k L2-normalised in the kernel), a per-channel
  decay g = -exp(A_log) softplus(f + dt_bias) from a low-rank projection f, beta = sigmoid,
  then the delta rule with gates (`kernels.kda`); the output is RMS-normalised per head and
  gated by sigmoid of a low-rank projection of x. Its state is [B, H, K, V] fp32, the same
  size after 3 characters or 3,000.
* Attention (`AttnMixer`): causal softmax attention with no position encoding over a window
  of the last `window` tokens. Its cache is the window's keys and values, [B, H, W, D].

`State` carries both per layer, so committed text is run once and each keystroke only
scores its candidates from there (`score`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from kernels.kda import kda, kda_gate, score_candidates, triton_available

__all__ = ["LMConfig", "KimiLinearLM", "State"]


@dataclass(frozen=True)
class LMConfig:
    vocab: int
    d_model: int = 256
    n_layers: int = 4
    heads: int = 4
    head_dim: int = 64
    attn_every: int = 4  # layer i is attention when (i + 1) % attn_every == 0
    window: int = 64  # tokens an attention layer looks back over
    mlp_hidden: int = 768
    gate_rank: int = 64  # rank of the decay and output-gate projections
    dropout: float = 0.0  # on the embeddings and each residual branch, in training only

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LMConfig:
        return cls(**json.loads(text))

    def is_attention(self, layer: int) -> bool:
        return (layer + 1) % self.attn_every == 0


# Per layer: a KDA state [B, H, K, V] fp32, or an attention cache (keys, values) [B, H, W, D].
LayerState = torch.Tensor | tuple[torch.Tensor, torch.Tensor]
State = list[LayerState | None]


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight.float()).to(x.dtype)


class KDAMixer(nn.Module):
    def __init__(self, cfg: LMConfig) -> None:
        super().__init__()
        d, H, D, r = cfg.d_model, cfg.heads, cfg.head_dim, cfg.gate_rank
        self.H, self.D = H, D
        self.q = nn.Linear(d, H * D, bias=False)
        self.k = nn.Linear(d, H * D, bias=False)
        self.v = nn.Linear(d, H * D, bias=False)
        self.f = nn.Sequential(nn.Linear(d, r, bias=False), nn.Linear(r, H * D, bias=False))
        self.b = nn.Linear(d, H, bias=False)
        self.A_log = nn.Parameter(torch.log(torch.linspace(1.0, 16.0, H)))
        # softplus(dt_bias) spread over [1e-3, 1e-1] (log-uniform), as in Mamba / Kimi Linear
        dt = torch.exp(torch.linspace(math.log(1e-3), math.log(1e-1), H * D))
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))
        self.gate = nn.Sequential(nn.Linear(d, r, bias=False), nn.Linear(r, H * D, bias=True))
        self.o_norm = RMSNorm(D)
        self.o = nn.Linear(H * D, d, bias=False)

    def forward(
        self, x: torch.Tensor, state: torch.Tensor | None, shared: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x [B, T, d]; state [B, H, K, V] fp32, or [1, H, K, V] shared by all B rows (`shared`).
        Returns y [B, T, d] and the state after the last token ([B, H, K, V]; None for
        candidates scored on a GPU, whose states nobody reads)."""
        B, T, _ = x.shape
        H, D = self.H, self.D
        q = self.q(x).view(B, T, H, D)
        k = self.k(x).view(B, T, H, D)
        v = self.v(x).view(B, T, H, D)
        g = kda_gate(self.f(x).view(B, T, H, D), self.A_log, self.dt_bias)  # [B, T, H, K] fp32
        beta = torch.sigmoid(self.b(x).float()).to(v.dtype)  # [B, T, H]
        if shared and state is not None and q.is_cuda and triton_available():
            # candidates: all B rows read the one cached state in one launch, never copied
            o, new_state = score_candidates(
                q, k, v, g, beta, state[0], output_final_state=False, use_qk_l2norm_in_kernel=True
            )
        else:
            if shared and state is not None:
                state = state.expand(B, -1, -1, -1)
            # on a CPU without gradients the token loop beats the chunk form's pairwise
            # [C, C, K] decays at these sizes (a keystroke's candidates, a context)
            cpu_infer = not q.is_cuda and not torch.is_grad_enabled()
            o, new_state = kda(
                q, k, v, g, beta, initial_state=state, output_final_state=True,
                mode="naive_recurrent" if cpu_infer else "auto", use_qk_l2norm_in_kernel=True,
            )  # fmt: skip
        o = self.o_norm(o) * torch.sigmoid(self.gate(x).view(B, T, H, D)).to(o.dtype)
        return self.o(o.reshape(B, T, H * D)), new_state


class AttnMixer(nn.Module):
    def __init__(self, cfg: LMConfig) -> None:
        super().__init__()
        d, H, D = cfg.d_model, cfg.heads, cfg.head_dim
        self.H, self.D, self.window = H, D, cfg.window
        self.qkv = nn.Linear(d, 3 * H * D, bias=False)
        self.o = nn.Linear(H * D, d, bias=False)

    def forward(
        self, x: torch.Tensor, cache: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """x [B, T, d]; cache (keys, values) [B or 1, H, P, D] of the P <= window tokens before.
        Returns y [B, T, d] and the cache of the last `window` tokens."""
        B, T, _ = x.shape
        H, D, W = self.H, self.D, self.window
        q, k, v = self.qkv(x).view(B, T, 3, H, D).permute(2, 0, 3, 1, 4)  # each [B, H, T, D]
        P = 0
        if cache is not None:
            ck, cv = (c.expand(B, -1, -1, -1).to(k.dtype) for c in cache)
            P = ck.shape[2]
            k, v = torch.cat([ck, k], dim=2), torch.cat([cv, v], dim=2)
        # query t (position P + t) sees keys P + t - W < j <= P + t: causal, within the window
        qi = torch.arange(T, device=x.device)[:, None] + P
        kj = torch.arange(P + T, device=x.device)[None, :]
        mask = (kj <= qi) & (kj > qi - W)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # [B, H, T, D]
        y = y.transpose(1, 2).reshape(B, T, H * D)
        return self.o(y), (k[:, :, -W:].detach(), v[:, :, -W:].detach())


class SwiGLU(nn.Module):
    def __init__(self, d: int, hidden: int) -> None:
        super().__init__()
        self.up = nn.Linear(d, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.up(x).chunk(2, dim=-1)
        return self.down(F.silu(a) * b)


class Block(nn.Module):
    def __init__(self, cfg: LMConfig, layer: int) -> None:
        super().__init__()
        self.attention = cfg.is_attention(layer)
        self.norm1 = RMSNorm(cfg.d_model)
        self.mixer = AttnMixer(cfg) if self.attention else KDAMixer(cfg)
        self.norm2 = RMSNorm(cfg.d_model)
        self.mlp = SwiGLU(cfg.d_model, cfg.mlp_hidden)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(
        self, x: torch.Tensor, state: LayerState | None, shared: bool
    ) -> tuple[torch.Tensor, LayerState]:
        if self.attention:
            y, new = self.mixer(self.norm1(x), state)
        else:
            y, new = self.mixer(self.norm1(x), state, shared)
        x = x + self.drop(y)
        return x + self.drop(self.mlp(self.norm2(x))), new


class KimiLinearLM(nn.Module):
    def __init__(self, cfg: LMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg, i) for i in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def forward(
        self, ids: torch.Tensor, state: State | None = None, shared: bool = False
    ) -> tuple[torch.Tensor, State]:
        """ids [B, T] -> logits [B, T, vocab] (fp32) and the state after the last token.

        `state` continues from earlier text: per layer as `State` says, with batch B, or with
        batch 1 shared by all B rows when `shared` (candidates after one context)."""
        x = self.drop(self.embed(ids))
        states = state if state is not None else [None] * len(self.blocks)
        new: State = []
        for block, s in zip(self.blocks, states):
            x, s2 = block(x, s, shared)
            new.append(s2)
        logits = F.linear(self.norm(x), self.embed.weight)  # tied input / output embedding
        return logits.float(), new

    def loss(self, ids: torch.Tensor) -> torch.Tensor:
        """Mean next-token cross-entropy (nats) of ids [B, T]; pad id 0 is not predicted."""
        logits, _ = self(ids[:, :-1])
        return F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), ignore_index=0
        )
