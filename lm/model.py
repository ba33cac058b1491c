"""A small character-level Kimi Linear language model: KDA layers and NoPE attention, 3 : 1.

Shapes: ids [B, T] int64; hidden [B, T, d]; logits [B, T, vocab].

Every layer is x + mixer(norm(x)) then x + mlp(norm(x)) (SwiGLU). The mixer of layer i is
attention when `LMConfig.is_attention(i)` (every `attn_every`-th layer: layers 4, 8, ...),
else KDA, as in the Kimi Linear report (docs/KDA.md):

* KDA (`KDAMixer`): q, k, v projections, each through a short causal depthwise convolution
  (kernel 4) and SiLU; q and k L2-normalised (in the kernel); a per-channel decay
  g = -exp(A_log) softplus(W_up W_down x + dt_bias); beta = sigmoid(W_b x); the gated delta
  rule (`kernels.kda`); the output RMS-normalised per head and gated by sigmoid of a
  low-rank projection of x. Its state is the delta-rule state [B, H, K, V] fp32 and the
  three convolutions' last 3 inputs, [B, 3, H*D] each: the same size after 3 characters
  or 3,000.
* Attention (`AttnMixer`): causal softmax attention over the last `window` tokens, with no
  position encoding (NoPE, as Kimi Linear; `rope` switches rotary embeddings on for the
  ablation). Multi-head: GQA with as many key/value heads as query heads (`kv_heads`) —
  at 4 heads of 64 over a 64-token window the key/value cache is 64 KB per layer, so
  MLA's latent compression or GQA's sharing would save nothing worth their quality cost,
  and with a key head per query head Kimi K2's per-head QK-clip applies exactly. Its
  cache is the window's keys and values, [B, kv_heads, W, D]. In training it records the
  largest pre-softmax logit of each head (`max_logit`), which MuonClip reads.

`State` carries one entry per layer, every tensor batch first, so committed text is run once
and each keystroke only scores its candidates from there.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from kernels.kda import kda, kda_gate, score_candidates, triton_available

__all__ = ["ARCH", "ArchitectureError", "LMConfig", "KimiLinearLM", "State", "KDAMixer",
           "AttnMixer"]

ARCH = 2  # the architecture version of new models
# 1: the first model (no convolutions, q/k/v straight from the projections), still loaded
ARCHS = (1, 2)


class ArchitectureError(ValueError):
    """A config of an architecture version this code does not build."""


@dataclass(frozen=True)
class LMConfig:
    vocab: int
    d_model: int = 256
    n_layers: int = 4
    heads: int = 4
    head_dim: int = 64
    attn_every: int = 4  # layer i is attention when (i + 1) % attn_every == 0; 0: none
    window: int = 64  # tokens an attention layer looks back over
    kv_heads: int = 0  # key/value heads of attention (GQA); 0: as many as `heads`
    rope: bool = False  # rotary position embedding in attention (False: NoPE, as Kimi Linear)
    mlp_hidden: int = 768
    gate_rank: int = 64  # rank of the decay and output-gate projections
    conv_size: int = 4  # kernel of the short convolutions on q, k, v (0: none, version 1)
    dropout: float = 0.0  # on the embeddings and each residual branch, in training only
    arch: int = ARCH  # architecture version (checkpoints of another one are refused)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LMConfig:
        fields = json.loads(text)
        arch = fields.setdefault("arch", 1)  # version 1 had no such field
        if arch not in ARCHS:
            raise ArchitectureError(
                f"architecture version {arch}; this code builds versions "
                f"{', '.join(map(str, ARCHS))} (retrain: main.py lm train)")
        if arch == 1:
            fields["conv_size"] = 0
        return cls(**fields)

    def is_attention(self, layer: int) -> bool:
        return self.attn_every > 0 and (layer + 1) % self.attn_every == 0

    @property
    def n_kv_heads(self) -> int:
        return self.kv_heads or self.heads


# Per layer, every tensor batch first: a KDA layer's (state [B, H, K, V] fp32, then the
# q, k, v convolution windows [B, conv_size - 1, H*D]), or an attention layer's
# (keys, values) [B, kv_heads, P, D] of its last P <= window tokens.
LayerState = tuple[torch.Tensor, ...]
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


class ShortConv(nn.Module):
    """Causal depthwise convolution over time (kernel `size`, no bias), then SiLU."""

    def __init__(self, channels: int, size: int) -> None:
        super().__init__()
        self.size = size
        self.weight = nn.Parameter(torch.empty(channels, 1, size))
        bound = 1 / math.sqrt(size)  # nn.Conv1d's default for a depthwise kernel
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(
        self, x: torch.Tensor, window: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, T, C]; window [B or 1, size - 1, C]: the inputs before (None: zeros, a fresh
        start). Returns y [B, T, C] and the window after the last token [B, size - 1, C]."""
        B, T, C = x.shape
        if window is None:
            window = x.new_zeros(B, self.size - 1, C)
        else:
            window = window.to(x.dtype).expand(B, -1, -1)
        xx = torch.cat([window, x], dim=1)  # [B, size - 1 + T, C]
        w = self.weight.to(x.dtype)
        if T == 1:  # decoding: one dot per channel, cheaper than a conv1d call
            y = (xx * w[:, 0].t()).sum(dim=1, keepdim=True)  # [B, 1, C]
        else:
            y = F.conv1d(xx.transpose(1, 2), w, groups=C).transpose(1, 2)  # [B, T, C]
        return F.silu(y), xx[:, -(self.size - 1):]


class KDAMixer(nn.Module):
    def __init__(self, cfg: LMConfig) -> None:
        super().__init__()
        d, H, D, r = cfg.d_model, cfg.heads, cfg.head_dim, cfg.gate_rank
        self.H, self.D = H, D
        self.q = nn.Linear(d, H * D, bias=False)
        self.k = nn.Linear(d, H * D, bias=False)
        self.v = nn.Linear(d, H * D, bias=False)
        self.conv = cfg.conv_size > 0
        if self.conv:
            self.q_conv = ShortConv(H * D, cfg.conv_size)
            self.k_conv = ShortConv(H * D, cfg.conv_size)
            self.v_conv = ShortConv(H * D, cfg.conv_size)
        self.f = nn.Sequential(nn.Linear(d, r, bias=False), nn.Linear(r, H * D, bias=False))
        self.b = nn.Linear(d, H, bias=False)
        # A = exp(A_log) ~ U(1, 16) per head; softplus(dt_bias) = dt, log-uniform in
        # [1e-3, 1e-1] per channel (Kimi Linear's initialisation)
        self.A_log = nn.Parameter(torch.empty(H).uniform_(1.0, 16.0).log_())
        dt = torch.exp(torch.empty(H * D).uniform_(math.log(1e-3), math.log(1e-1)))
        dt = dt.clamp(min=1e-4)
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))
        self.gate = nn.Sequential(nn.Linear(d, r, bias=False), nn.Linear(r, H * D, bias=True))
        self.o_norm = RMSNorm(D)
        self.o = nn.Linear(H * D, d, bias=False)
        self.mode = "auto"  # the KDA path (kernels.kda.kda's `mode`); tests force one

    def forward(
        self, x: torch.Tensor, state: LayerState | None, shared: bool = False
    ) -> tuple[torch.Tensor, LayerState | None]:
        """x [B, T, d]; state (S [B, H, K, V] fp32, q, k, v windows [B, 3, H*D]), or with
        batch 1 shared by all B rows (`shared`). Returns y [B, T, d] and the state after the
        last token (None for candidates scored on a GPU, whose states nobody reads)."""
        B, T, _ = x.shape
        H, D = self.H, self.D
        S, wq, wk, wv = state if state is not None else (None, None, None, None)
        q, k, v = self.q(x), self.k(x), self.v(x)
        if self.conv:
            q, wq = self.q_conv(q, wq)
            k, wk = self.k_conv(k, wk)
            v, wv = self.v_conv(v, wv)
        q, k, v = (t.view(B, T, H, D) for t in (q, k, v))
        g = kda_gate(self.f(x).view(B, T, H, D), self.A_log, self.dt_bias)  # [B, T, H, K] fp32
        beta = torch.sigmoid(self.b(x).float()).to(v.dtype)  # [B, T, H]
        if shared and S is not None and q.is_cuda and triton_available() and self.mode == "auto":
            # candidates: all B rows read the one cached state in one launch, never copied
            o, _ = score_candidates(
                q, k, v, g, beta, S[0], output_final_state=False, use_qk_l2norm_in_kernel=True
            )
            new = None
        else:
            if shared and S is not None:
                S = S.expand(B, -1, -1, -1)
            mode = self.mode
            if mode == "auto" and not q.is_cuda and not torch.is_grad_enabled():
                # on a CPU without gradients the token loop beats the chunk form's pairwise
                # [C, C, K] decays at these sizes (a keystroke's candidates, a context)
                mode = "naive_recurrent"
            o, S = kda(
                q, k, v, g, beta, initial_state=S, output_final_state=True, mode=mode,
                use_qk_l2norm_in_kernel=True,
            )  # fmt: skip
            new = (S, wq, wk, wv)
        o = self.o_norm(o) * torch.sigmoid(self.gate(x).view(B, T, H, D)).to(o.dtype)
        return self.o(o.reshape(B, T, H * D)), new


def _rotate(x: torch.Tensor, pos: torch.Tensor, base: float) -> torch.Tensor:
    """Rotary embedding of x [B, H, T, D] at positions pos [T] (halves rotated as pairs)."""
    half = x.shape[-1] // 2
    freq = base ** (-torch.arange(half, device=x.device, dtype=torch.float32) / half)
    ang = pos.float()[:, None] * freq[None, :]  # [T, D/2]
    cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class AttnMixer(nn.Module):
    ROPE_BASE = 10000.0

    def __init__(self, cfg: LMConfig) -> None:
        super().__init__()
        d, H, D, Hkv = cfg.d_model, cfg.heads, cfg.head_dim, cfg.n_kv_heads
        if H % Hkv:
            raise ValueError(f"heads ({H}) must be a multiple of kv_heads ({Hkv})")
        self.H, self.Hkv, self.D, self.window, self.rope = H, Hkv, D, cfg.window, cfg.rope
        self.q = nn.Linear(d, H * D, bias=False)
        self.k = nn.Linear(d, Hkv * D, bias=False)
        self.v = nn.Linear(d, Hkv * D, bias=False)
        self.o = nn.Linear(H * D, d, bias=False)
        # [H] the largest pre-softmax logit of each head in the last training forward
        self.max_logit: torch.Tensor | None = None

    def forward(
        self, x: torch.Tensor, cache: LayerState | None
    ) -> tuple[torch.Tensor, LayerState]:
        """x [B, T, d]; cache (keys, values) [B or 1, kv_heads, P, D] of the P <= window
        tokens before (keys before any rotation). Returns y [B, T, d] and the cache of the
        last `window` tokens."""
        B, T, _ = x.shape
        H, Hkv, D, W = self.H, self.Hkv, self.D, self.window
        q = self.q(x).view(B, T, H, D).transpose(1, 2)  # [B, H, T, D]
        k = self.k(x).view(B, T, Hkv, D).transpose(1, 2)  # [B, Hkv, T, D]
        v = self.v(x).view(B, T, Hkv, D).transpose(1, 2)
        P = 0
        if cache is not None:
            ck, cv = (c.expand(B, -1, -1, -1).to(k.dtype) for c in cache)
            P = ck.shape[2]
            k, v = torch.cat([ck, k], dim=2), torch.cat([cv, v], dim=2)
        new = (k[:, :, -W:].detach(), v[:, :, -W:].detach())
        # query t (position P + t) sees keys P + t - W < j <= P + t: causal, within the window
        qi = torch.arange(T, device=x.device)[:, None] + P
        kj = torch.arange(P + T, device=x.device)[None, :]
        mask = (kj <= qi) & (kj > qi - W)  # [T, P + T]
        if self.rope:  # positions relative to the cache's first key: only differences count
            q = _rotate(q, qi[:, 0], self.ROPE_BASE)
            k = _rotate(k, kj[0], self.ROPE_BASE)
        if Hkv != H:
            k, v = (t.repeat_interleave(H // Hkv, dim=1) for t in (k, v))
        if self.training:
            with torch.no_grad():  # S_max per head, for QK-clip
                s = torch.matmul(q.float(), k.float().transpose(-1, -2)) * D**-0.5
                s = s.masked_fill(~mask, -torch.inf)  # [B, H, T, P + T]
                self.max_logit = s.amax(dim=(0, 2, 3))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # [B, H, T, D]
        y = y.transpose(1, 2).reshape(B, T, H * D)
        return self.o(y), new


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
    ) -> tuple[torch.Tensor, LayerState | None]:
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

    def attention_layers(self) -> list[tuple[int, AttnMixer]]:
        """(layer index, mixer) of every attention layer."""
        return [(i, b.mixer) for i, b in enumerate(self.blocks) if b.attention]

    def set_kda_mode(self, mode: str) -> None:
        """Force one KDA path in every KDA layer ("auto", "chunk", "naive", ...)."""
        for b in self.blocks:
            if not b.attention:
                b.mixer.mode = mode

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

    def loss(self, ids: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        """Next-token cross-entropy (nats) of ids [B, T]; pad id 0 is not predicted.
        `reduction` "sum" gives the total over predicted ids (for exact averages)."""
        logits, _ = self(ids[:, :-1])
        return F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), ignore_index=0,
            reduction=reduction,
        )  # fmt: skip
