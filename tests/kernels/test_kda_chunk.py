"""Triton chunk KDA (forward and backward) against the fp32 token recurrence.

Without a GPU these run in Triton's CPU interpreter (set in conftest.py) at small fp32
shapes; `needs_cuda` tests run bf16 at real sizes against the fp32 chunk reference.
"""

from __future__ import annotations

import pytest
import torch
from kda_env import DEVICE, HAS_TRITON, TRITON_FP32_TOL

import kernels.kda.chunk as chunk_mod
from kernels.kda import chunk_kda, kda, naive_chunk_kda, naive_recurrent_kda
from kernels.testing import random_kda_inputs, rel_rms

pytestmark = pytest.mark.skipif(not HAS_TRITON, reason="triton is not installed")

# (B, T, H, K, V, gate, with_h0): tails (T % 64 != 0), several chunks, both gates
CASES = [
    (1, 64, 1, 32, 32, "none", False),
    (2, 100, 2, 32, 16, "none", True),
    (1, 130, 2, 16, 32, "softplus", True),
    (2, 40, 1, 32, 32, "bounded", False),
    (1, 129, 1, 32, 32, "bounded", True),
    (1, 1, 1, 16, 16, "none", True),  # one token: three empty 16-row blocks
    (2, 17, 1, 32, 16, "softplus", False),  # a block with one valid row
]
IDS = [f"B{c[0]}-T{c[1]}-H{c[2]}-K{c[3]}-V{c[4]}-{c[5]}-{'h0' if c[6] else 'no_h0'}" for c in CASES]
GRAD_NAMES = ["q", "k", "v", "g", "beta", "h0"]


def _gate_kwargs(x) -> dict:
    if x.gate == "none":
        return {}
    return dict(
        use_gate_in_kernel=True, A_log=x.A_log, dt_bias=x.dt_bias, lower_bound=x.lower_bound
    )


@pytest.fixture(params=["dots", "exact"])
def diagonal_path(request, monkeypatch) -> str:
    """Both ways of summing the pairwise decays of a 16-row block: tensor-core dots around
    the block's middle row (any block whose decay stays under the limit) and the exact
    element-by-element sum (forced by a negative limit)."""
    import kernels.kda.chunk as chunk

    if request.param == "exact":
        monkeypatch.setattr(chunk, "FAST_DROP_LIMIT", -1.0)
    return request.param


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_chunk_forward_backward_match_recurrent(case: tuple, diagonal_path: str) -> None:
    B, T, H, K, V, gate, with_h0 = case
    x = random_kda_inputs(
        B, T, H, K, V, gate=gate, with_h0=with_h0, requires_grad=True, device=DEVICE
    )
    kw = dict(initial_state=x.h0, output_final_state=True, **_gate_kwargs(x))
    o, s = chunk_kda(x.q, x.k, x.v, x.g, x.beta, **kw)
    with torch.device(DEVICE):
        o_ref, s_ref = naive_recurrent_kda(x.q, x.k, x.v, x.g, x.beta, **kw)
    assert o.shape == (B, T, H, V) and s.shape == (B, H, K, V) and s.dtype == torch.float32
    assert rel_rms(o, o_ref) <= TRITON_FP32_TOL
    assert rel_rms(s, s_ref) <= TRITON_FP32_TOL
    do, ds = torch.randn_like(o), torch.randn_like(s)
    got = torch.autograd.grad((o * do).sum() + (s * ds).sum(), x.tensors())
    ref = torch.autograd.grad((o_ref * do).sum() + (s_ref * ds).sum(), x.tensors())
    for name, a, b in zip(GRAD_NAMES, got, ref):
        assert torch.isfinite(a).all(), name
        assert rel_rms(a, b) <= TRITON_FP32_TOL, name


# Wider heads: several K blocks (and K-block shares of dN / dbeta) and V blocks in the kernels.
WIDE_CASES = [
    (1, 130, 1, 128, 64, "softplus", True),
    (1, 100, 1, 64, 128, "bounded", False),
]
WIDE_IDS = [f"B{c[0]}-T{c[1]}-H{c[2]}-K{c[3]}-V{c[4]}-{c[5]}" for c in WIDE_CASES]


@pytest.mark.parametrize("case", WIDE_CASES, ids=WIDE_IDS)
def test_chunk_wide_heads_match_recurrent(case: tuple, diagonal_path: str) -> None:
    test_chunk_forward_backward_match_recurrent(case, diagonal_path)


def test_chunk_strong_decay_without_final_state() -> None:
    """Softplus gate with huge logits (G drops by hundreds per chunk) and o-only gradients."""
    x = random_kda_inputs(1, 96, 1, 16, 16, gate="softplus", requires_grad=True, device=DEVICE)
    f = (x.g * 8).detach().requires_grad_()
    ins = [x.q, x.k, x.v, f, x.beta]
    kw = _gate_kwargs(x)
    o, s = chunk_kda(*ins, **kw)
    assert s is None
    o_ref, _ = naive_recurrent_kda(*ins, **kw)
    assert rel_rms(o, o_ref) <= TRITON_FP32_TOL
    do = torch.randn_like(o)
    got = torch.autograd.grad((o * do).sum(), ins)
    ref = torch.autograd.grad((o_ref * do).sum(), ins)
    for name, a, b in zip(GRAD_NAMES, got, ref):
        assert rel_rms(a, b) <= TRITON_FP32_TOL, name


def test_chunk_steep_block_among_gentle_ones() -> None:
    """One 16-row block whose decay falls far past the dot limit (summed exactly) in chunks
    whose other blocks take the dots, in the forward and every gradient."""
    x = random_kda_inputs(1, 150, 2, 64, 32, with_h0=True, requires_grad=True, device=DEVICE)
    steep = torch.zeros_like(x.g)
    steep[:, 16:32, 0, :8] = -12.0  # head 0, channels 0-7: ~190 inside one block
    steep[:, 70:90, 1] = -9.0  # head 1, every channel, across a block boundary
    g = (x.g + steep).detach().requires_grad_()
    ins = [x.q, x.k, x.v, g, x.beta, x.h0]
    kw = dict(initial_state=x.h0, output_final_state=True)
    o, s = chunk_kda(*ins[:5], **kw)
    o_ref, s_ref = naive_recurrent_kda(*ins[:5], **kw)
    assert rel_rms(o, o_ref) <= TRITON_FP32_TOL
    assert rel_rms(s, s_ref) <= TRITON_FP32_TOL
    do = torch.randn_like(o)
    got = torch.autograd.grad((o * do).sum() + s.sum(), ins)
    ref = torch.autograd.grad((o_ref * do).sum() + s_ref.sum(), ins)
    for name, a, b in zip(GRAD_NAMES, got, ref):
        assert torch.isfinite(a).all(), name
        assert rel_rms(a, b) <= TRITON_FP32_TOL, name


def test_chunk_inference_forward_keeps_nothing_and_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under no_grad (inputs that require grad included) the forward keeps no buffers for a
    backward (no G, h, Vnew; Aqk and N in the input dtype) and gives the training output."""
    x = random_kda_inputs(2, 130, 2, 32, 64, with_h0=True, requires_grad=True, device=DEVICE)
    ins = (x.q, x.k, x.v, x.g, x.beta)
    kw = dict(initial_state=x.h0, output_final_state=True)
    calls: list[bool] = []
    real = chunk_mod._chunk_fwd

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args[-1])  # save_for_bwd
        return real(*args, **kwargs)

    monkeypatch.setattr(chunk_mod, "_chunk_fwd", spy)
    with torch.no_grad():
        o, s = chunk_kda(*ins, **kw)
    o_train, s_train = chunk_kda(*ins, **kw)
    assert calls == [False, True]
    assert not o.requires_grad and o_train.requires_grad
    assert torch.equal(o, o_train.detach()) and torch.equal(s, s_train.detach())
    o_ref, s_ref = naive_recurrent_kda(*ins, **kw)
    assert rel_rms(o, o_ref) <= TRITON_FP32_TOL
    assert rel_rms(s, s_ref) <= TRITON_FP32_TOL


def test_chunk_fp16_forward() -> None:
    x = random_kda_inputs(1, 70, 1, 32, 32, dtype=torch.float16, with_h0=True, device=DEVICE)
    o, s = chunk_kda(x.q, x.k, x.v, x.g, x.beta, initial_state=x.h0, output_final_state=True)
    assert o.dtype == torch.float16
    o_ref, s_ref = naive_recurrent_kda(
        x.q, x.k, x.v, x.g, x.beta, initial_state=x.h0, output_final_state=True
    )
    assert rel_rms(o, o_ref.float()) <= 1e-2
    assert rel_rms(s, s_ref) <= 1e-2


def test_chunk_fp16_with_fast_decay_stays_finite() -> None:
    """Blocks whose decay falls by ~20-60 take the dots around their middle row; in fp16 those
    factors (up to exp(+-40)) would overflow, so fp16 keeps fp32 operands there."""
    x = random_kda_inputs(1, 70, 1, 32, 32, dtype=torch.float16, with_h0=True, device=DEVICE)
    g = x.g * 3  # about -1.2 per token and channel
    o, s = chunk_kda(x.q, x.k, x.v, g, x.beta, initial_state=x.h0, output_final_state=True)
    o_ref, s_ref = naive_recurrent_kda(
        x.q, x.k, x.v, g, x.beta, initial_state=x.h0, output_final_state=True
    )
    assert torch.isfinite(o).all() and torch.isfinite(s).all()
    assert rel_rms(o, o_ref.float()) <= 1e-2
    assert rel_rms(s, s_ref) <= 1e-2


def test_chunk_rejects_odd_head_dim() -> None:
    x = random_kda_inputs(1, 8, 1, 24, 16, device=DEVICE)
    with pytest.raises(ValueError):
        chunk_kda(x.q, x.k, x.v, x.g, x.beta)


@pytest.mark.parametrize("shape", [(1, 1, 65536), (2, 1, 40000), (1, 64 * 65535 + 1, 1)])
def test_chunk_rejects_shapes_past_the_launch_grid(shape: tuple) -> None:
    """More sequences x heads, or more chunks, than a CUDA grid axis holds: a clear error
    before any launch (the inputs are broadcast views, nothing is allocated)."""
    B, T, H = shape
    q = torch.zeros(1, 1, 1, 16).expand(B, T, H, 16)
    beta = torch.zeros(1, 1, 1).expand(B, T, H)
    with pytest.raises(ValueError, match="at most"):
        chunk_kda(q, q, q, q, beta)


# ---- GPU, real sizes, bf16 ---------------------------------------------------------------

GPU_CASES = [(1, 2048, 16, 128, 128, "none"), (2, 1000, 4, 64, 64, "softplus")]
GPU_IDS = [f"B{c[0]}-T{c[1]}-H{c[2]}-K{c[3]}-V{c[4]}-{c[5]}" for c in GPU_CASES]


@pytest.mark.needs_cuda
@pytest.mark.parametrize("case", GPU_CASES, ids=GPU_IDS)
def test_chunk_bf16_gpu(case: tuple) -> None:
    B, T, H, K, V, gate = case
    x = random_kda_inputs(
        B, T, H, K, V, dtype=torch.bfloat16, gate=gate, with_h0=True, requires_grad=True,
        device="cuda",
    )  # fmt: skip
    kw = dict(initial_state=x.h0, output_final_state=True, **_gate_kwargs(x))
    o, s = kda(x.q, x.k, x.v, x.g, x.beta, mode="chunk", **kw)
    assert o.dtype == torch.bfloat16
    ref_in = [t.detach().float().requires_grad_() for t in x.tensors()]
    o_ref, s_ref = naive_chunk_kda(*ref_in[:5], **{**kw, "initial_state": ref_in[5]})
    assert rel_rms(o, o_ref) <= 1e-2
    assert rel_rms(s, s_ref) <= 1e-2
    do, ds = torch.randn_like(o_ref), torch.randn_like(s_ref)
    got = torch.autograd.grad((o.float() * do).sum() + (s * ds).sum(), x.tensors())
    ref = torch.autograd.grad((o_ref * do).sum() + (s_ref * ds).sum(), ref_in)
    errs = {n: rel_rms(a, b) for n, a, b in zip(GRAD_NAMES, got, ref)}
    assert all(e <= 1e-2 for e in errs.values()), errs


@pytest.mark.needs_cuda
def test_chunk_bf16_inference_gpu() -> None:
    """bf16 under no_grad: Aqk and N stored in bf16 (the training path keeps them in fp32
    and casts at the same points), against the training output and the fp32 reference."""
    x = random_kda_inputs(
        2, 1000, 4, 128, 128, dtype=torch.bfloat16, with_h0=True, requires_grad=True,
        device="cuda",
    )  # fmt: skip
    ins = (x.q, x.k, x.v, x.g, x.beta)
    kw = dict(initial_state=x.h0, output_final_state=True)
    with torch.no_grad():
        o, s = chunk_kda(*ins, **kw)
    o_train, s_train = chunk_kda(*ins, **kw)
    torch.cuda.synchronize()
    assert rel_rms(o, o_train.detach()) <= 1e-3
    assert rel_rms(s, s_train.detach()) <= 1e-3
    ref_in = [t.detach().float() for t in ins]
    o_ref, s_ref = naive_chunk_kda(
        *ref_in, initial_state=x.h0.detach().float(), output_final_state=True
    )
    assert rel_rms(o, o_ref) <= 1e-2
    assert rel_rms(s, s_ref) <= 1e-2
