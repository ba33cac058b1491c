"""Helpers shared by kernel tests and benchmarks: error metric and random KDA inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["KDAInputs", "rel_rms", "random_kda_inputs"]


def rel_rms(a: torch.Tensor, b: torch.Tensor) -> float:
    """Relative RMS error rms(a - b) / rms(b), computed in float64; b is the reference."""
    a64, b64 = a.detach().double(), b.detach().double()
    num = (a64 - b64).pow(2).mean().sqrt()
    den = b64.pow(2).mean().sqrt().clamp_min(1e-30)
    return float(num / den)


@dataclass(frozen=True)
class KDAInputs:
    """One set of KDA inputs. `g` is the log decay unless `gate` says it is raw gate logits."""

    q: torch.Tensor  # [B, T, H, K]
    k: torch.Tensor  # [B, T, H, K]
    v: torch.Tensor  # [B, T, H, V]
    g: torch.Tensor  # [B, T, H, K] log decay (<= 0), or raw f when gate != "none"
    beta: torch.Tensor  # [B, T, H] in (0, 1)
    h0: torch.Tensor | None  # [B, H, K, V] fp32
    A_log: torch.Tensor | None  # [H] fp32, only for an in-kernel gate
    dt_bias: torch.Tensor | None  # [H, K] fp32, only for an in-kernel gate
    lower_bound: float | None  # bounded gate's lb in [-5, 0)
    gate: str  # "none" (g is log decay), "softplus" or "bounded"

    def tensors(self) -> list[torch.Tensor]:
        """The differentiable inputs, in the order q, k, v, g, beta[, h0]."""
        out = [self.q, self.k, self.v, self.g, self.beta]
        return out + ([self.h0] if self.h0 is not None else [])


def random_kda_inputs(
    B: int,
    T: int,
    H: int,
    K: int,
    V: int,
    *,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
    gate: str = "none",
    with_h0: bool = False,
    l2norm: bool = True,
    requires_grad: bool = False,
    seed: int | None = None,
) -> KDAInputs:
    """Fresh random KDA inputs at realistic scales (never zeros).

    q, k are L2-normalised when `l2norm` (what the layer feeds the kernel); v ~ N(0, 1);
    beta = sigmoid(N(0, 1)). With gate="none", g = logsigmoid(N(0, 1)) / 2 per channel, a
    decay a model actually produces; with "softplus"/"bounded", g holds the raw gate
    projection f and A_log, dt_bias are drawn as in the Kimi Linear init.
    """
    gen = torch.Generator(device="cpu")
    gen.manual_seed(seed if seed is not None else torch.seed() % (2**31))

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen)

    q, k = randn(B, T, H, K), randn(B, T, H, K)  # [B, T, H, K]
    if l2norm:
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
    v = randn(B, T, H, V)  # [B, T, H, V]
    beta = torch.sigmoid(randn(B, T, H))  # [B, T, H]
    A_log = dt_bias = None
    lower_bound = None
    if gate == "none":
        g = F.logsigmoid(randn(B, T, H, K)) / 2  # [B, T, H, K], about -0.4 per token
    else:
        g = randn(B, T, H, K)  # raw f
        A_log = torch.log(torch.empty(H).uniform_(1, 16, generator=gen))  # [H]
        dt = torch.exp(torch.empty(H, K).uniform_(math.log(1e-3), math.log(1e-1), generator=gen))
        dt = dt.clamp_min(1e-4)
        dt_bias = dt + torch.log(-torch.expm1(-dt))  # inverse softplus, [H, K]
        if gate == "bounded":
            lower_bound = -5.0
    h0 = randn(B, H, K, V) * 0.5 if with_h0 else None  # [B, H, K, V]

    def put(x: torch.Tensor | None, dt_: torch.dtype) -> torch.Tensor | None:
        if x is None:
            return None
        return x.to(device=device, dtype=dt_).requires_grad_(requires_grad)

    return KDAInputs(
        q=put(q, dtype),
        k=put(k, dtype),
        v=put(v, dtype),
        g=put(g, torch.float32 if gate == "none" else dtype),
        beta=put(beta, dtype),
        h0=put(h0, torch.float32),
        A_log=None if A_log is None else A_log.to(device),
        dt_bias=None if dt_bias is None else dt_bias.to(device),
        lower_bound=lower_bound,
        gate=gate,
    )
