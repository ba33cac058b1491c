"""Token-by-token KDA in Triton, for decoding and for scoring reranker candidates.

One program owns a [K, BV] slice of one (sequence, head) state in registers and walks its
tokens: decay the rows by exp(g); u = beta (v - S^T k); S += k u^T; o = S^T q. The optional
preprocessing (q/k L2 norm, gate from raw logits, beta sigmoid) runs in the same program, so
a decode step or a whole candidate batch is one launch.

* `fused_recurrent_kda`: states [B, H, K, V], one or a few tokens each, state updated in
  place or written to a new buffer.
* `score_candidates`: one cached state [H, K, V] shared by N candidates of up to T tokens;
  each program loads the shared state itself (no N copies are made), outputs [N, T, H, V].
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

__all__ = ["fused_recurrent_kda", "score_candidates"]

GATE_CODES = {"none": 0, "softplus": 1, "bounded": 2}


@triton.jit
def _recurrent_kernel(
    q, k, v, g, beta, o,  # [N, T, H, K|V], beta [N, T, H]
    S_in, S_out, lengths, A_log, dt_bias,  # states [*, H, K, V] fp32; lengths [N]; [H], [H, K]
    scale, lower_bound, T, H, stride_s_in,
    K: tl.constexpr, V: tl.constexpr, BV: tl.constexpr,
    GATE: tl.constexpr, QK_L2NORM: tl.constexpr, BETA_SIGMOID: tl.constexpr,
    HAS_S_IN: tl.constexpr, STORE_S_OUT: tl.constexpr, HAS_LENGTHS: tl.constexpr,
):  # fmt: skip
    i_v = tl.program_id(0)
    i_nh = tl.program_id(1)
    i_n = (i_nh // H).to(tl.int64)
    i_h = i_nh % H
    ck = tl.arange(0, K)
    cv = i_v * BV + tl.arange(0, BV)
    off_s = i_h * K * V + ck[:, None] * V + cv[None, :]  # [K, BV]
    if HAS_S_IN:
        S = tl.load(S_in + i_n * stride_s_in + off_s)
    else:
        S = tl.zeros([K, BV], dtype=tl.float32)
    if HAS_LENGTHS:
        L = tl.load(lengths + i_n).to(tl.int32)
    else:
        L = tl.zeros([], dtype=tl.int32) + T
    if GATE != 0:
        a = tl.exp(tl.load(A_log + i_h).to(tl.float32))
        bias = tl.load(dt_bias + i_h * K + ck).to(tl.float32)  # [K]
    # Token t + 1's loads are issued before token t's math, hiding their latency. Inputs are
    # padded to T, so clamping the index at T - 1 keeps every load in bounds without masks.
    tok0 = i_n * T * H + i_h
    q_n = tl.load(q + tok0 * K + ck)  # [K]
    k_n = tl.load(k + tok0 * K + ck)
    v_n = tl.load(v + tok0 * V + cv)  # [BV]
    g_n = tl.load(g + tok0 * K + ck)
    b_n = tl.load(beta + tok0)
    for t in range(0, L):
        tok = tok0 + t * H
        qt, kt, vt = q_n.to(tl.float32), k_n.to(tl.float32), v_n.to(tl.float32)
        gt, bt = g_n.to(tl.float32), b_n.to(tl.float32)
        tok_n = tok0 + tl.minimum(t + 1, T - 1) * H
        q_n = tl.load(q + tok_n * K + ck)
        k_n = tl.load(k + tok_n * K + ck)
        v_n = tl.load(v + tok_n * V + cv)
        g_n = tl.load(g + tok_n * K + ck)
        b_n = tl.load(beta + tok_n)
        if QK_L2NORM:
            qt = qt * tl.rsqrt(tl.sum(qt * qt) + 1e-6)
            kt = kt * tl.rsqrt(tl.sum(kt * kt) + 1e-6)
        qt = qt * scale
        if GATE == 1:
            x = gt + bias
            sp = tl.where(x > 20.0, x, tl.log(1.0 + tl.exp(tl.minimum(x, 20.0))))
            gt = -a * sp
        elif GATE == 2:
            x = a * (gt + bias)
            e = tl.exp(-tl.abs(x))  # overflow-free sigmoid
            gt = lower_bound * tl.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        if BETA_SIGMOID:
            bt = tl.sigmoid(bt)
        S = S * tl.exp(gt)[:, None]
        u = bt * (vt - tl.sum(S * kt[:, None], axis=0))  # [BV]
        S = S + kt[:, None] * u[None, :]
        ot = tl.sum(S * qt[:, None], axis=0)  # [BV]
        tl.store(o + tok * V + cv, ot.to(o.dtype.element_ty))
    for t in range(L, T):  # padded positions of short candidates
        tl.store(o + ((i_n * T + t) * H + i_h) * V + cv, tl.zeros([BV], dtype=o.dtype.element_ty))
    if STORE_S_OUT:
        tl.store(S_out + i_n * H * K * V + off_s, S)


def _launch(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    *,
    scale: float | None,
    state_in: torch.Tensor | None,
    stride_state_in: int,
    state_out: torch.Tensor | None,
    lengths: torch.Tensor | None,
    use_qk_l2norm_in_kernel: bool,
    use_gate_in_kernel: bool,
    A_log: torch.Tensor | None,
    dt_bias: torch.Tensor | None,
    lower_bound: float | None,
    use_beta_sigmoid_in_kernel: bool,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    N, T, H, K = q.shape
    V = v.shape[-1]
    for name, d in (("K", K), ("V", V)):
        if d < 16 or d & (d - 1):
            raise ValueError(f"fused_recurrent_kda needs {name} a power of two >= 16, got {d}")
    if scale is None:
        scale = K**-0.5
    gate = "none"
    if use_gate_in_kernel:
        if A_log is None or dt_bias is None:
            raise ValueError("use_gate_in_kernel needs A_log and dt_bias")
        gate = "softplus" if lower_bound is None else "bounded"
    q, k, v, g, beta = (x.contiguous() for x in (q, k, v, g, beta))
    o = out if out is not None else torch.empty(N, T, H, V, device=q.device, dtype=v.dtype)
    # Small V blocks give more programs for few sequences; larger ones cut per-token overhead.
    BV = min(V, 32 if N * H * (V // 32) >= 132 * 4 else 16)
    dummy = o
    _recurrent_kernel[(V // BV, N * H)](
        q, k, v, g, beta, o,
        state_in if state_in is not None else dummy,
        state_out if state_out is not None else dummy,
        lengths if lengths is not None else dummy,
        A_log if A_log is not None else dummy,
        dt_bias.contiguous() if dt_bias is not None else dummy,
        scale, float(lower_bound or 0.0), T, H, stride_state_in,
        K=K, V=V, BV=BV, GATE=GATE_CODES[gate],
        QK_L2NORM=use_qk_l2norm_in_kernel, BETA_SIGMOID=use_beta_sigmoid_in_kernel,
        HAS_S_IN=state_in is not None, STORE_S_OUT=state_out is not None,
        HAS_LENGTHS=lengths is not None,
        num_warps=1 if K * BV <= 2048 else 2,
    )  # fmt: skip
    return o


def fused_recurrent_kda(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    *,
    scale: float | None = None,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
    inplace_final_state: bool = False,
    use_qk_l2norm_in_kernel: bool = False,
    use_gate_in_kernel: bool = False,
    A_log: torch.Tensor | None = None,
    dt_bias: torch.Tensor | None = None,
    lower_bound: float | None = None,
    use_beta_sigmoid_in_kernel: bool = False,
    out: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Recurrent KDA for decoding (no autograd).

    q, k: [B, T, H, K]; v: [B, T, H, V]; g: [B, T, H, K] log decay (raw f when
    use_gate_in_kernel: A_log [H], dt_bias [H, K], lower_bound for the bounded gate);
    beta: [B, T, H] (logits when use_beta_sigmoid_in_kernel); initial_state: [B, H, K, V] fp32.
    Returns o: [B, T, H, V] (written into `out` if given) and the final state [B, H, K, V]:
    `initial_state` itself, updated in place, when `inplace_final_state`, else a new buffer
    (only if `output_final_state`).
    """
    B, T, H, K = q.shape
    V = v.shape[-1]
    state_out = None
    if inplace_final_state:
        if initial_state is None or initial_state.dtype != torch.float32:
            raise ValueError("inplace_final_state needs an fp32 initial_state")
        if not initial_state.is_contiguous():
            raise ValueError("inplace_final_state needs a contiguous initial_state")
        state_out = initial_state
    elif output_final_state:
        state_out = torch.empty(B, H, K, V, device=q.device, dtype=torch.float32)
    state_in = initial_state.float().contiguous() if initial_state is not None else None
    if inplace_final_state:
        state_in = initial_state
    o = _launch(
        q, k, v, g, beta, scale=scale,
        state_in=state_in, stride_state_in=H * K * V, state_out=state_out, lengths=None,
        use_qk_l2norm_in_kernel=use_qk_l2norm_in_kernel, use_gate_in_kernel=use_gate_in_kernel,
        A_log=A_log, dt_bias=dt_bias, lower_bound=lower_bound,
        use_beta_sigmoid_in_kernel=use_beta_sigmoid_in_kernel, out=out,
    )  # fmt: skip
    return o, state_out


def score_candidates(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    state: torch.Tensor,
    lengths: torch.Tensor | None = None,
    *,
    scale: float | None = None,
    output_final_state: bool = False,
    use_qk_l2norm_in_kernel: bool = False,
    use_gate_in_kernel: bool = False,
    A_log: torch.Tensor | None = None,
    dt_bias: torch.Tensor | None = None,
    lower_bound: float | None = None,
    use_beta_sigmoid_in_kernel: bool = False,
    out: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run N candidate continuations from one shared cached state, in one launch.

    q, k: [N, T, H, K]; v: [N, T, H, V]; g: [N, T, H, K]; beta: [N, T, H] (padded to T);
    state: [H, K, V] fp32, shared by every candidate and never copied per candidate;
    lengths: [N] int (tokens of each candidate, <= T; None = all T).
    Returns o: [N, T, H, V], zero past each candidate's length, and the final states
    [N, H, K, V] fp32 only if `output_final_state`.
    """
    N, T, H, K = q.shape
    V = v.shape[-1]
    if state.shape != (H, K, V):
        raise ValueError(f"state must be [H, K, V] = {(H, K, V)}, got {tuple(state.shape)}")
    state_out = None
    if output_final_state:
        state_out = torch.empty(N, H, K, V, device=q.device, dtype=torch.float32)
    o = _launch(
        q, k, v, g, beta, scale=scale,
        state_in=state.float().contiguous(), stride_state_in=0, state_out=state_out,
        lengths=lengths.contiguous() if lengths is not None else None,
        use_qk_l2norm_in_kernel=use_qk_l2norm_in_kernel, use_gate_in_kernel=use_gate_in_kernel,
        A_log=A_log, dt_bias=dt_bias, lower_bound=lower_bound,
        use_beta_sigmoid_in_kernel=use_beta_sigmoid_in_kernel, out=out,
    )  # fmt: skip
    return o, state_out
