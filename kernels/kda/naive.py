"""Readable fp32 PyTorch references for Kimi Delta Attention (KDA).

Two forms of the same function, both straight from the equations in the KDA notes:

* `naive_recurrent_kda`: token by token,
      S'_t = Diag(exp(g_t)) S_{t-1}
      S_t  = S'_t + beta_t k_t (v_t - S'_t^T k_t)^T
      o_t  = S_t^T q_t
* `naive_chunk_kda`: the chunkwise (WY) form with chunk C = 64,
      G = cumsum(g) in the chunk,  Akk = strict_lower(beta_i sum_d k_id k_jd exp(G_id - G_jd)),
      Aqk = lower(sum_d q_id k_jd exp(G_id - G_jd)),  M = (I + Akk)^-1 Diag(beta),
      W = M (exp(G) * K),  U = M V,  Vnew = U - W S,  O = (exp(G) * Q) S + Aqk Vnew,
      S <- Diag(exp(G_C)) S + (exp(G_C - G) * K)^T Vnew.
  Only differences G_i - G_j with j <= i are exponentiated (never exp(-G)).

`prepare_kda_inputs` applies the optional in-kernel preprocessing (L2 norm of q/k, the gate
from raw logits, the beta sigmoid, the q scale) with differentiable torch ops; the Triton
paths reuse it so that every path computes one function.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "kda_gate",
    "l2norm",
    "prepare_kda_inputs",
    "naive_recurrent_kda",
    "naive_chunk_kda",
]


def l2norm(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """x * rsqrt(sum(x^2) + eps) over the last dim, in fp32."""
    x = x.float()
    return x * torch.rsqrt(x.pow(2).sum(-1, keepdim=True) + eps)


def kda_gate(
    f: torch.Tensor,
    A_log: torch.Tensor,
    dt_bias: torch.Tensor,
    lower_bound: float | None = None,
) -> torch.Tensor:
    """Per-channel log decay from the raw gate projection, in fp32.

    f: [B, T, H, K]; A_log: [H]; dt_bias: [H, K] (or [H*K]). Returns g: [B, T, H, K] <= 0.
    softplus variant: g = -exp(A_log) * softplus(f + dt_bias);
    bounded variant (lower_bound lb in [-5, 0)): g = lb * sigmoid(exp(A_log) * (f + dt_bias)).
    """
    H, K = f.shape[-2], f.shape[-1]
    x = f.float() + dt_bias.float().view(H, K)  # [B, T, H, K]
    a = A_log.float().exp().view(H, 1)  # [H, 1]
    if lower_bound is None:
        return -a * F.softplus(x)
    return lower_bound * torch.sigmoid(a * x)


def prepare_kda_inputs(
    q: torch.Tensor,
    k: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    *,
    scale: float | None = None,
    use_qk_l2norm_in_kernel: bool = False,
    use_gate_in_kernel: bool = False,
    A_log: torch.Tensor | None = None,
    dt_bias: torch.Tensor | None = None,
    lower_bound: float | None = None,
    use_beta_sigmoid_in_kernel: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """Apply the optional preprocessing; returns (q, k, g, beta, scale) for the core recurrence.

    q/k keep their dtype unless normalised (then fp32 cast back to the input dtype); g comes
    back fp32 log decay; beta in its dtype; scale defaults to K^-1/2.
    """
    K = q.shape[-1]
    if scale is None:
        scale = K**-0.5
    if use_qk_l2norm_in_kernel:
        q = l2norm(q).to(q.dtype)
        k = l2norm(k).to(k.dtype)
    if use_gate_in_kernel:
        if A_log is None or dt_bias is None:
            raise ValueError("use_gate_in_kernel needs A_log and dt_bias")
        g = kda_gate(g, A_log, dt_bias, lower_bound)
    else:
        g = g.float()
    if use_beta_sigmoid_in_kernel:
        beta = torch.sigmoid(beta.float()).to(beta.dtype)
    return q, k, g, beta, scale


def naive_recurrent_kda(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    *,
    scale: float | None = None,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
    **prep: object,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Token-by-token KDA in fp32.

    q, k: [B, T, H, K]; v: [B, T, H, V]; g: [B, T, H, K] log decay (or raw f with
    use_gate_in_kernel); beta: [B, T, H]; initial_state: [B, H, K, V] fp32.
    Returns o: [B, T, H, V] in v's dtype and the final state [B, H, K, V] fp32 (or None).
    `prep` takes the flags of `prepare_kda_inputs`.
    """
    q, k, g, beta, scale = prepare_kda_inputs(q, k, g, beta, scale=scale, **prep)  # type: ignore[arg-type]
    B, T, H, K = q.shape
    V = v.shape[-1]
    qf, kf, vf = q.float() * scale, k.float(), v.float()
    bf = beta.float()
    # [B, H, K, V]; every step below makes a new tensor, so the caller's state is only read
    S = (initial_state.float().expand(B, H, K, V) if initial_state is not None
         else q.new_zeros(B, H, K, V, dtype=torch.float32))
    outs = []
    for t in range(T):
        S = S * g[:, t].exp().unsqueeze(-1)  # decay rows: [B, H, K, V]
        kt = kf[:, t]  # [B, H, K]
        u = bf[:, t, :, None] * (vf[:, t] - torch.einsum("bhk,bhkv->bhv", kt, S))  # [B, H, V]
        S = S + kt.unsqueeze(-1) * u.unsqueeze(-2)
        outs.append(torch.einsum("bhk,bhkv->bhv", qf[:, t], S))  # [B, H, V]
    o = torch.stack(outs, dim=1) if outs else vf.new_zeros(B, 0, H, V)  # [B, T, H, V]
    return o.to(v.dtype), (S if output_final_state else None)


def naive_chunk_kda(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    *,
    scale: float | None = None,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
    chunk_size: int = 64,
    **prep: object,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Chunkwise KDA in fp32 (the WY form of the KDA notes); same contract as the recurrent one.

    Memory per chunk is [B, H, C, C, K] for the pairwise decays, so it also serves as a GPU
    reference at real sizes. T need not be a multiple of `chunk_size` (zero-padded tail).
    """
    q, k, g, beta, scale = prepare_kda_inputs(q, k, g, beta, scale=scale, **prep)  # type: ignore[arg-type]
    B, T, H, K = q.shape
    V = v.shape[-1]
    C = chunk_size
    NT = (T + C - 1) // C
    pad = NT * C - T

    def to_chunks(x: torch.Tensor) -> torch.Tensor:
        # [B, T, H, ...] -> [B, H, NT, C, ...] fp32, zero-padded in time
        x = x.float()
        x = F.pad(x, [0, 0] * (x.dim() - 2) + [0, pad]) if pad else x
        x = x.view(B, NT, C, H, *x.shape[3:])
        return x.transpose(1, 3).transpose(2, 3) if x.dim() == 5 else x.permute(0, 3, 1, 2)

    qc, kc, vc, gc = (to_chunks(x) for x in (q, k, v, g))  # [B, H, NT, C, K|V]
    bc = to_chunks(beta)  # [B, H, NT, C]
    qc = qc * scale
    G = gc.cumsum(-2)  # [B, H, NT, C, K] chunk-local cumulative log decay
    idx = torch.arange(C, device=q.device)
    strict = idx[:, None] > idx[None, :]  # [C, C] j < i
    lower = idx[:, None] >= idx[None, :]  # [C, C] j <= i
    eye = torch.eye(C, device=q.device)

    S = q.new_zeros(B, H, K, V, dtype=torch.float32)  # [B, H, K, V]
    if initial_state is not None:
        S = S + initial_state.float()
    outs = []
    for n in range(NT):
        Gn, kn, qn = G[:, :, n], kc[:, :, n], qc[:, :, n]  # [B, H, C, K]
        diff = Gn[..., :, None, :] - Gn[..., None, :, :]  # [B, H, C(i), C(j), K]
        decay = torch.where(lower[..., None], diff, torch.full_like(diff, -torch.inf)).exp()
        Akk = torch.einsum("bhik,bhjk,bhijk->bhij", kn, kn, decay)  # [B, H, C, C]
        Akk = Akk * bc[:, :, n, :, None] * strict
        Aqk = torch.einsum("bhik,bhjk,bhijk->bhij", qn, kn, decay) * lower  # [B, H, C, C]
        M = torch.linalg.solve_triangular(eye + Akk, torch.diag_embed(bc[:, :, n]), upper=False)
        W = M @ (Gn.exp() * kn)  # [B, H, C, K]
        U = M @ vc[:, :, n]  # [B, H, C, V]
        Vnew = U - W @ S  # [B, H, C, V]
        outs.append((Gn.exp() * qn) @ S + Aqk @ Vnew)  # [B, H, C, V]
        G_last = Gn[..., -1, :]  # [B, H, K]
        S = (
            S * G_last.exp()[..., None]
            + ((G_last[..., None, :] - Gn).exp() * kn).transpose(-1, -2) @ Vnew
        )
    o = torch.stack(outs, dim=2).reshape(B, H, NT * C, V)[:, :, :T]  # [B, H, T, V]
    o = o.transpose(1, 2).to(v.dtype)  # [B, T, H, V]
    return o, (S if output_final_state else None)
