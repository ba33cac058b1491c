"""Kimi Delta Attention (KDA): public API.

Shapes (all functions): q, k: [B, T, H, K]; v: [B, T, H, V]; g: [B, T, H, K] log decay
(<= 0; or the raw gate projection f when use_gate_in_kernel); beta: [B, T, H] in (0, 1)
(or logits when use_beta_sigmoid_in_kernel); states [B, H, K, V] in fp32. Outputs
o: [B, T, H, V] in v's dtype.

* `kda`: dispatch. mode "auto" takes the PyTorch reference on CPU tensors or without
  triton, the Triton recurrent kernel for short no-grad calls (decoding), else the Triton
  chunk kernel (training, prefill). "chunk", "recurrent", "naive" and "naive_recurrent" force.
* `chunk_kda`: Triton chunkwise forward + backward (autograd).
* `fused_recurrent_kda`: Triton decode, state in place or new. `score_candidates`: N
  candidates from one shared [H, K, V] state in one launch.
* `naive_recurrent_kda`, `naive_chunk_kda`: fp32 references (`kernels.kda.naive`).

Triton is imported lazily, so `import kernels.kda` works on machines without it.
"""

from __future__ import annotations

import importlib.util

import torch

from kernels.kda.naive import (
    kda_gate,
    l2norm,
    naive_chunk_kda,
    naive_recurrent_kda,
    prepare_kda_inputs,
)

__all__ = [
    "kda",
    "chunk_kda",
    "fused_recurrent_kda",
    "score_candidates",
    "naive_recurrent_kda",
    "naive_chunk_kda",
    "kda_gate",
    "l2norm",
    "prepare_kda_inputs",
    "triton_available",
    "DECODE_MAX_T",
]

DECODE_MAX_T = 16  # "auto" uses the recurrent kernel up to this many tokens (no grad)


def triton_available() -> bool:
    """True when triton can be imported (it may still lack a GPU)."""
    return importlib.util.find_spec("triton") is not None


def chunk_kda(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    *,
    scale: float | None = None,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
    use_qk_l2norm_in_kernel: bool = False,
    use_gate_in_kernel: bool = False,
    A_log: torch.Tensor | None = None,
    dt_bias: torch.Tensor | None = None,
    lower_bound: float | None = None,
    use_beta_sigmoid_in_kernel: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Triton chunkwise KDA (chunk 64), differentiable in q, k, v, g, beta, initial_state.

    q, k: [B, T, H, K]; v: [B, T, H, V]; g: [B, T, H, K]; beta: [B, T, H];
    initial_state: [B, H, K, V] fp32. K, V powers of two >= 16; any T.
    Returns o: [B, T, H, V] and the final state [B, H, K, V] fp32 (or None).
    The optional preprocessing (L2 norm, gate, beta sigmoid) runs as differentiable torch ops.
    """
    from kernels.kda.chunk import chunk_kda_core

    q, k, g, beta, scale = prepare_kda_inputs(
        q, k, g, beta, scale=scale,
        use_qk_l2norm_in_kernel=use_qk_l2norm_in_kernel, use_gate_in_kernel=use_gate_in_kernel,
        A_log=A_log, dt_bias=dt_bias, lower_bound=lower_bound,
        use_beta_sigmoid_in_kernel=use_beta_sigmoid_in_kernel,
    )  # fmt: skip
    return chunk_kda_core(q, k, v, g, beta, scale, initial_state, output_final_state)


def fused_recurrent_kda(
    *args: object, **kwargs: object
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Triton decode; see `kernels.kda.fused_recurrent.fused_recurrent_kda` (same arguments)."""
    from kernels.kda.fused_recurrent import fused_recurrent_kda as impl

    return impl(*args, **kwargs)  # type: ignore[arg-type]


def score_candidates(*args: object, **kwargs: object) -> tuple[torch.Tensor, torch.Tensor | None]:
    """N candidates from one shared state [H, K, V] in one launch; outputs [N, T, H, V].

    See `kernels.kda.fused_recurrent.score_candidates` (same arguments).
    """
    from kernels.kda.fused_recurrent import score_candidates as impl

    return impl(*args, **kwargs)  # type: ignore[arg-type]


def _pick_mode(q: torch.Tensor, needs_grad: bool) -> str:
    if q.device.type != "cuda" or not triton_available():
        return "naive_recurrent" if q.shape[1] <= DECODE_MAX_T else "naive"
    if q.shape[1] <= DECODE_MAX_T and not needs_grad:
        return "recurrent"
    return "chunk"


def kda(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
    mode: str = "auto",
    *,
    scale: float | None = None,
    use_qk_l2norm_in_kernel: bool = False,
    use_gate_in_kernel: bool = False,
    A_log: torch.Tensor | None = None,
    dt_bias: torch.Tensor | None = None,
    lower_bound: float | None = None,
    use_beta_sigmoid_in_kernel: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """KDA with the path picked by `mode` ("auto", "chunk", "recurrent", "naive",
    "naive_recurrent").

    q, k: [B, T, H, K]; v: [B, T, H, V]; g: [B, T, H, K]; beta: [B, T, H];
    initial_state: [B, H, K, V] fp32. Returns o: [B, T, H, V] and the final state or None.
    The recurrent path has no autograd and returns a new final-state buffer.
    """
    flags = dict(
        scale=scale,
        use_qk_l2norm_in_kernel=use_qk_l2norm_in_kernel,
        use_gate_in_kernel=use_gate_in_kernel,
        A_log=A_log,
        dt_bias=dt_bias,
        lower_bound=lower_bound,
        use_beta_sigmoid_in_kernel=use_beta_sigmoid_in_kernel,
    )
    if mode == "auto":
        needs_grad = torch.is_grad_enabled() and any(
            x is not None and x.requires_grad for x in (q, k, v, g, beta, initial_state)
        )
        mode = _pick_mode(q, needs_grad)
    common = dict(initial_state=initial_state, output_final_state=output_final_state)
    if mode == "chunk":
        return chunk_kda(q, k, v, g, beta, **common, **flags)  # type: ignore[arg-type]
    if mode == "recurrent":
        return fused_recurrent_kda(q, k, v, g, beta, **common, **flags)
    if mode == "naive":
        return naive_chunk_kda(q, k, v, g, beta, **common, **flags)  # type: ignore[arg-type]
    if mode == "naive_recurrent":
        return naive_recurrent_kda(q, k, v, g, beta, **common, **flags)  # type: ignore[arg-type]
    raise ValueError(f"unknown KDA mode {mode!r}")
