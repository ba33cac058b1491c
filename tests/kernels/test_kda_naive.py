"""The two fp32 references agree: chunkwise WY form vs token recurrence, with gradients."""

from __future__ import annotations

import pytest
import torch

from kernels.kda import kda, kda_gate, naive_chunk_kda, naive_recurrent_kda
from kernels.testing import random_kda_inputs, rel_rms

# (B, T, H, K, V): T multiple of 64, with a tail, shorter than a chunk
SHAPES = [(1, 64, 1, 16, 16), (2, 100, 2, 32, 16), (1, 130, 2, 16, 32), (2, 7, 1, 32, 32)]
IDS = [f"B{b}-T{t}-H{h}-K{k}-V{v}" for b, t, h, k, v in SHAPES]


def _gate_kwargs(x) -> dict:
    if x.gate == "none":
        return {}
    return dict(
        use_gate_in_kernel=True, A_log=x.A_log, dt_bias=x.dt_bias, lower_bound=x.lower_bound
    )


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
@pytest.mark.parametrize("gate", ["none", "softplus", "bounded"])
@pytest.mark.parametrize("with_h0", [False, True], ids=["no_h0", "h0"])
def test_chunk_matches_recurrent(shape: tuple[int, ...], gate: str, with_h0: bool) -> None:
    B, T, H, K, V = shape
    x = random_kda_inputs(B, T, H, K, V, gate=gate, with_h0=with_h0)
    kw = dict(initial_state=x.h0, output_final_state=True, **_gate_kwargs(x))
    o_ref, s_ref = naive_recurrent_kda(x.q, x.k, x.v, x.g, x.beta, **kw)
    o, s = naive_chunk_kda(x.q, x.k, x.v, x.g, x.beta, **kw)
    assert o.shape == (B, T, H, V) and s.shape == (B, H, K, V)
    assert rel_rms(o, o_ref) <= 1e-5
    assert rel_rms(s, s_ref) <= 1e-5


@pytest.mark.parametrize("gate", ["none", "softplus"])
def test_chunk_gradients_match_recurrent(gate: str) -> None:
    x = random_kda_inputs(1, 80, 2, 16, 16, gate=gate, with_h0=True, requires_grad=True)
    kw = dict(initial_state=x.h0, output_final_state=True, **_gate_kwargs(x))
    o_ref, s_ref = naive_recurrent_kda(x.q, x.k, x.v, x.g, x.beta, **kw)
    o, s = naive_chunk_kda(x.q, x.k, x.v, x.g, x.beta, **kw)
    do, ds = torch.randn_like(o), torch.randn_like(s)
    ref = torch.autograd.grad((o_ref * do).sum() + (s_ref * ds).sum(), x.tensors())
    got = torch.autograd.grad((o * do).sum() + (s * ds).sum(), x.tensors())
    for name, a, b in zip("q k v g beta h0".split(), got, ref):
        assert rel_rms(a, b) <= 1e-5, name


def test_strong_decay_stays_finite() -> None:
    """Softplus gate with large logits: G falls by thousands in a chunk; no exp(-G) overflow."""
    x = random_kda_inputs(1, 128, 1, 16, 16, gate="softplus")
    f = x.g * 8 + 8  # large logits whatever the draw: softplus ≈ f, decay in the hundreds
    kw = dict(output_final_state=True, **_gate_kwargs(x))
    assert kda_gate(f, x.A_log, x.dt_bias)[:, :64].sum(1).min() < -300
    o_ref, s_ref = naive_recurrent_kda(x.q, x.k, x.v, f, x.beta, **kw)
    o, s = naive_chunk_kda(x.q, x.k, x.v, f, x.beta, **kw)
    assert torch.isfinite(o).all() and torch.isfinite(s).all()
    # fp32 with decays in the hundreds: agreement to ~1e-4, finite above all
    assert rel_rms(o, o_ref) <= 1e-3 and rel_rms(s, s_ref) <= 1e-3


def test_gate_variants() -> None:
    f = torch.randn(2, 5, 3, 16)
    A_log, dt_bias = torch.randn(3), torch.randn(3, 16)
    g = kda_gate(f, A_log, dt_bias)
    expected = -A_log.exp().view(3, 1) * torch.nn.functional.softplus(f + dt_bias)
    torch.testing.assert_close(g, expected)
    gb = kda_gate(f, A_log, dt_bias, lower_bound=-5.0)
    torch.testing.assert_close(gb, -5.0 * torch.sigmoid(A_log.exp().view(3, 1) * (f + dt_bias)))
    assert (gb <= 0).all() and (gb >= -5.0).all()


def test_flags_match_manual_preprocessing() -> None:
    """l2norm / beta-sigmoid flags equal doing the same by hand."""
    x = random_kda_inputs(1, 20, 2, 16, 16, l2norm=False)
    logits = torch.randn(1, 20, 2)
    o_flag, _ = naive_recurrent_kda(
        x.q, x.k, x.v, x.g, logits, use_qk_l2norm_in_kernel=True, use_beta_sigmoid_in_kernel=True
    )
    qn = torch.nn.functional.normalize(x.q, dim=-1, eps=1e-12)
    kn = torch.nn.functional.normalize(x.k, dim=-1, eps=1e-12)
    o_man, _ = naive_recurrent_kda(qn, kn, x.v, x.g, torch.sigmoid(logits))
    assert rel_rms(o_flag, o_man) <= 1e-5


def test_decay_and_delta_rule_single_token() -> None:
    """One token from a known state equals the decode step written out by hand."""
    x = random_kda_inputs(1, 1, 1, 16, 16, with_h0=True)
    o, s = naive_recurrent_kda(
        x.q, x.k, x.v, x.g, x.beta, initial_state=x.h0, output_final_state=True, scale=1.0
    )
    S = x.h0[0, 0] * x.g[0, 0, 0].exp()[:, None]  # [K, V]
    k, v, q, b = x.k[0, 0, 0], x.v[0, 0, 0], x.q[0, 0, 0], x.beta[0, 0, 0]
    S = S + b * torch.outer(k, v - S.T @ k)
    torch.testing.assert_close(s[0, 0], S)
    torch.testing.assert_close(o[0, 0, 0], S.T @ q)


def test_dispatch_on_cpu_uses_reference() -> None:
    x = random_kda_inputs(1, 70, 1, 16, 16, with_h0=True)
    o_ref, s_ref = naive_recurrent_kda(
        x.q, x.k, x.v, x.g, x.beta, initial_state=x.h0, output_final_state=True
    )
    for T in (70, 3):
        o, s = kda(x.q[:, :T], x.k[:, :T], x.v[:, :T], x.g[:, :T], x.beta[:, :T], x.h0, True)
        o_t, s_t = naive_recurrent_kda(
            x.q[:, :T], x.k[:, :T], x.v[:, :T], x.g[:, :T], x.beta[:, :T],
            initial_state=x.h0, output_final_state=True,
        )  # fmt: skip
        assert rel_rms(o, o_t) <= 1e-5 and rel_rms(s, s_t) <= 1e-5
    assert rel_rms(o_t, o_ref[:, :3]) <= 1e-6
    with pytest.raises(ValueError):
        kda(x.q, x.k, x.v, x.g, x.beta, mode="nonsense")
