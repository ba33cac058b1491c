"""bf16 check of the Triton chunk kernels on a GPU, errors printed (exit 1 on a miss).

Run:  python3 benchmarks/kda_gpu_check.py

The assertions of tests/kernels `test_chunk_bf16_gpu` (o, final state and every gradient in
bf16 against the fp32 chunk reference, relative RMS <= 1e-2), with each error printed, plus a
case with the exact diagonal path forced (a negative FAST_DROP_LIMIT), and the forward under
no_grad (the inference path) against the same reference.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kernels.kda.chunk as chunk  # noqa: E402
from kernels.kda import kda, naive_chunk_kda  # noqa: E402
from kernels.testing import random_kda_inputs, rel_rms  # noqa: E402

# (B, T, H, K, V, gate, FAST_DROP_LIMIT)
CASES = [
    (1, 2048, 16, 128, 128, "none", chunk.FAST_DROP_LIMIT),
    (2, 1000, 4, 64, 64, "softplus", chunk.FAST_DROP_LIMIT),
    (1, 300, 4, 128, 128, "softplus", -1.0),
]
NAMES = ["q", "k", "v", "g", "beta", "h0"]


def check(B: int, T: int, H: int, K: int, V: int, gate: str) -> dict[str, float]:
    x = random_kda_inputs(
        B, T, H, K, V, dtype=torch.bfloat16, gate=gate, with_h0=True, requires_grad=True,
        device="cuda", seed=1,
    )  # fmt: skip
    kw: dict = dict(initial_state=x.h0, output_final_state=True)
    if gate != "none":
        kw.update(use_gate_in_kernel=True, A_log=x.A_log, dt_bias=x.dt_bias)
        kw.update(lower_bound=x.lower_bound)
    with torch.no_grad():  # the inference path: Aqk and N stored in the input dtype
        o_inf, s_inf = kda(x.q, x.k, x.v, x.g, x.beta, mode="chunk", **kw)
    o, s = kda(x.q, x.k, x.v, x.g, x.beta, mode="chunk", **kw)
    ref_in = [t.detach().float().requires_grad_() for t in x.tensors()]
    o_ref, s_ref = naive_chunk_kda(*ref_in[:5], **{**kw, "initial_state": ref_in[5]})
    do, ds = torch.randn_like(o_ref), torch.randn_like(s_ref)
    got = torch.autograd.grad((o.float() * do).sum() + (s * ds).sum(), x.tensors())
    ref = torch.autograd.grad((o_ref * do).sum() + (s_ref * ds).sum(), ref_in)
    errs = {"o": rel_rms(o, o_ref), "state": rel_rms(s, s_ref)}
    errs["o_nograd"] = rel_rms(o_inf, o_ref)
    errs["state_nograd"] = rel_rms(s_inf, s_ref)
    for name, a, b in zip(NAMES, got, ref):
        errs[name] = rel_rms(a, b) if torch.isfinite(a).all() else float("inf")
    return errs


def main() -> int:
    if not torch.cuda.is_available():
        print("kda_gpu_check: needs a CUDA device", file=sys.stderr)
        return 2
    ok = True
    default = chunk.FAST_DROP_LIMIT
    for B, T, H, K, V, gate, limit in CASES:
        chunk.FAST_DROP_LIMIT = limit
        t0 = time.time()
        try:
            errs = check(B, T, H, K, V, gate)
        finally:
            chunk.FAST_DROP_LIMIT = default
        good = all(e <= 1e-2 for e in errs.values())
        ok &= good
        shown = " ".join(f"{n}={e:.2e}" for n, e in errs.items())
        print(
            f"B{B} T{T} H{H} K{K} V{V} {gate} limit={limit}: {'PASS' if good else 'FAIL'} "
            f"{shown} ({time.time() - t0:.1f} s)",
            flush=True,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
