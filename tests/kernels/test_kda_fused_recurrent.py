"""Triton decode kernel and candidate scorer against the fp32 token recurrence."""

from __future__ import annotations

import pytest
import torch
from kda_env import DEVICE, HAS_TRITON

from kernels.kda import fused_recurrent_kda, kda, naive_recurrent_kda, score_candidates
from kernels.testing import random_kda_inputs, rel_rms

pytestmark = pytest.mark.skipif(not HAS_TRITON, reason="triton is not installed")

TOL = 1e-5  # no dots: fp32 elementwise everywhere

# (B, T, H, K, V, gate)
CASES = [
    (3, 1, 2, 32, 32, "none"),
    (2, 4, 2, 16, 32, "softplus"),
    (1, 9, 1, 32, 16, "bounded"),
]
IDS = [f"B{c[0]}-T{c[1]}-H{c[2]}-K{c[3]}-V{c[4]}-{c[5]}" for c in CASES]


def _gate_kwargs(x) -> dict:
    if x.gate == "none":
        return {}
    return dict(
        use_gate_in_kernel=True, A_log=x.A_log, dt_bias=x.dt_bias, lower_bound=x.lower_bound
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_decode_new_buffer(case: tuple) -> None:
    B, T, H, K, V, gate = case
    x = random_kda_inputs(B, T, H, K, V, gate=gate, with_h0=True, device=DEVICE)
    kw = dict(initial_state=x.h0, output_final_state=True, **_gate_kwargs(x))
    h0_before = x.h0.clone()
    o, s = fused_recurrent_kda(x.q, x.k, x.v, x.g, x.beta, **kw)
    o_ref, s_ref = naive_recurrent_kda(x.q, x.k, x.v, x.g, x.beta, **kw)
    assert rel_rms(o, o_ref) <= TOL and rel_rms(s, s_ref) <= TOL
    assert torch.equal(x.h0, h0_before)  # the input state is untouched


def test_decode_in_place_with_all_flags() -> None:
    x = random_kda_inputs(4, 2, 2, 32, 32, gate="softplus", with_h0=True, l2norm=False,
                          device=DEVICE)  # fmt: skip
    logits = torch.randn(4, 2, 2, device=DEVICE)
    kw = dict(use_qk_l2norm_in_kernel=True, use_beta_sigmoid_in_kernel=True, **_gate_kwargs(x))
    o_ref, s_ref = naive_recurrent_kda(
        x.q, x.k, x.v, x.g, logits, initial_state=x.h0, output_final_state=True, **kw
    )
    state = x.h0.clone()
    o, s = fused_recurrent_kda(
        x.q, x.k, x.v, x.g, logits, initial_state=state, inplace_final_state=True, **kw
    )
    assert s is state
    assert rel_rms(o, o_ref) <= TOL and rel_rms(state, s_ref) <= TOL


def test_decode_token_by_token_equals_sequence() -> None:
    x = random_kda_inputs(2, 5, 2, 16, 16, with_h0=True, device=DEVICE)
    o_all, s_all = fused_recurrent_kda(
        x.q, x.k, x.v, x.g, x.beta, initial_state=x.h0, output_final_state=True
    )
    state = x.h0.clone()
    for t in range(5):
        sl = slice(t, t + 1)
        o_t, _ = fused_recurrent_kda(
            x.q[:, sl], x.k[:, sl], x.v[:, sl], x.g[:, sl], x.beta[:, sl],
            initial_state=state, inplace_final_state=True,
        )  # fmt: skip
        assert rel_rms(o_t, o_all[:, sl]) <= TOL
    assert rel_rms(state, s_all) <= TOL


@pytest.mark.parametrize("gate", ["none", "bounded"])
def test_score_candidates_shared_state(gate: str) -> None:
    N, T, H, K, V = 5, 6, 2, 32, 16
    x = random_kda_inputs(N, T, H, K, V, gate=gate, device=DEVICE)
    state = torch.randn(H, K, V, device=DEVICE) * 0.5  # [H, K, V] shared cache
    lengths = torch.tensor([6, 1, 3, 0, 5], device=DEVICE, dtype=torch.int32)
    kw = _gate_kwargs(x)
    o, finals = score_candidates(
        x.q, x.k, x.v, x.g, x.beta, state, lengths, output_final_state=True, **kw
    )
    assert o.shape == (N, T, H, V) and finals.shape == (N, H, K, V)
    for n in range(N):
        L = int(lengths[n])
        sl = (slice(n, n + 1), slice(0, L))
        o_ref, s_ref = naive_recurrent_kda(
            x.q[sl], x.k[sl], x.v[sl], x.g[sl], x.beta[sl],
            initial_state=state[None], output_final_state=True, **kw,
        )  # fmt: skip
        if L:
            assert rel_rms(o[n, :L], o_ref[0]) <= TOL
        assert torch.all(o[n, L:] == 0)
        assert rel_rms(finals[n], s_ref[0]) <= TOL


def test_score_candidates_without_lengths_or_states() -> None:
    x = random_kda_inputs(3, 4, 1, 16, 16, device=DEVICE)
    state = torch.randn(1, 16, 16, device=DEVICE)
    o, finals = score_candidates(x.q, x.k, x.v, x.g, x.beta, state)
    assert finals is None
    o_ref, _ = naive_recurrent_kda(
        x.q, x.k, x.v, x.g, x.beta, initial_state=state.expand(3, -1, -1, -1)
    )
    assert rel_rms(o, o_ref) <= TOL
    with pytest.raises(ValueError):
        score_candidates(x.q, x.k, x.v, x.g, x.beta, state[None])


# ---- GPU ---------------------------------------------------------------------------------


@pytest.mark.needs_cuda
def test_decode_bf16_gpu_and_dispatch() -> None:
    x = random_kda_inputs(64, 1, 16, 128, 128, dtype=torch.bfloat16, with_h0=True, device="cuda")
    o_ref, s_ref = naive_recurrent_kda(
        x.q.float(), x.k.float(), x.v.float(), x.g, x.beta.float(),
        initial_state=x.h0, output_final_state=True,
    )  # fmt: skip
    o, s = kda(x.q, x.k, x.v, x.g, x.beta, x.h0, True)  # auto -> recurrent
    assert rel_rms(o, o_ref) <= 1e-2 and rel_rms(s, s_ref) <= 1e-2


@pytest.mark.needs_cuda
def test_score_candidates_gpu() -> None:
    N, T, H, K, V = 64, 16, 4, 64, 64
    x = random_kda_inputs(N, T, H, K, V, dtype=torch.bfloat16, device="cuda")
    state = torch.randn(H, K, V, device="cuda") * 0.5
    lengths = torch.randint(1, T + 1, (N,), device="cuda", dtype=torch.int32)
    o, _ = score_candidates(x.q, x.k, x.v, x.g, x.beta, state, lengths)
    for n in (0, N // 2, N - 1):
        L = int(lengths[n])
        sl = (slice(n, n + 1), slice(0, L))
        o_ref, _ = naive_recurrent_kda(
            x.q[sl].float(), x.k[sl].float(), x.v[sl].float(), x.g[sl], x.beta[sl].float(),
            initial_state=state[None],
        )  # fmt: skip
        assert rel_rms(o[n, :L], o_ref[0]) <= 1e-2
