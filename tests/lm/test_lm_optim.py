"""MuonClip: Muon and AdamW hold every parameter once, QK-clip scales exactly the heads over
tau (and then their max logit is tau), a few steps lower the loss."""

from __future__ import annotations

import pytest
import torch

from lm.model import AttnMixer, KimiLinearLM, LMConfig
from lm.optim import MuonClip, OptimizerSettings, make_optimizer, qk_clip, split_parameters

SMALL = dict(d_model=64, heads=4, head_dim=16, mlp_hidden=96, gate_rank=16, window=8)
LAYOUTS = {"hybrid": {}, "attention": {"attn_every": 1, "rope": True}, "kda": {"attn_every": 0}}


def model(seed: int = 0, **kw) -> KimiLinearLM:
    torch.manual_seed(seed)
    return KimiLinearLM(LMConfig(vocab=40, **{**SMALL, **kw}))


@pytest.mark.parametrize("layout", list(LAYOUTS), ids=list(LAYOUTS))
def test_muon_and_adamw_hold_every_parameter_once(layout: str) -> None:
    m = model(n_layers=4, **LAYOUTS[layout])
    opt = MuonClip(m, OptimizerSettings())
    muon = [p for g in opt.muon.param_groups for p in g["params"]]
    adamw = [p for g in opt.adamw.param_groups for p in g["params"]]
    ids = [id(p) for p in muon + adamw]
    assert len(ids) == len(set(ids))  # none twice
    assert set(ids) == {id(p) for p in m.parameters()}  # none left out
    assert all(p.dim() == 2 for p in muon)
    names = {id(p): n for n, p in m.named_parameters()}
    muon_names = {names[id(p)] for p in muon}
    adamw_names = {names[id(p)] for p in adamw}
    assert "embed.weight" in adamw_names  # tied to the output layer: AdamW
    assert all(n.endswith("weight") and "norm" not in n and "conv" not in n for n in muon_names)
    for part in ("norm1.weight", "conv.weight", "A_log", "dt_bias", "gate.1.bias"):
        if layout != "attention" or part == "norm1.weight":
            assert any(part in n for n in adamw_names), part
    # Muon's defaults as meant: weight decay 0.1, the update RMS matched to AdamW's
    assert all(g["weight_decay"] == 0.1 and g["adjust_lr_fn"] == "match_rms_adamw"
               for g in opt.muon.param_groups)
    assert split_parameters(m) == (
        [(names[id(p)], p) for p in muon], [(n, p) for n, p in m.named_parameters()
                                            if n in adamw_names])


def test_adamw_baseline_holds_every_parameter_once() -> None:
    m = model()
    opt = make_optimizer(m, OptimizerSettings(name="adamw"))
    ids = [id(p) for g in opt.param_groups for p in g["params"]]
    assert len(ids) == len(set(ids)) and set(ids) == {id(p) for p in m.parameters()}


@pytest.mark.parametrize("kv_heads", [4, 2], ids=["mha", "gqa"])
def test_the_clip_scales_exactly_the_heads_over_tau(kv_heads: int) -> None:
    attn = AttnMixer(LMConfig(vocab=40, **{**SMALL, "kv_heads": kv_heads}))
    wq, wk = attn.q.weight.detach().clone(), attn.k.weight.detach().clone()
    wv, wo = attn.v.weight.detach().clone(), attn.o.weight.detach().clone()
    tau = 10.0
    max_logit = torch.tensor([12.0, 3.0, 40.0, 10.0])  # heads 0 and 2 over; 3 exactly at tau
    over = qk_clip(attn, max_logit, tau)
    assert over.tolist() == [True, False, True, False]
    D = 16
    for h in range(4):
        rows = slice(h * D, (h + 1) * D)
        gamma = tau / float(max_logit[h])
        if over[h]:
            want_q = gamma**0.5 if kv_heads == 4 else gamma  # a shared key stays as it is
            assert torch.allclose(attn.q.weight[rows], wq[rows] * want_q, rtol=1e-6)
        else:
            assert torch.equal(attn.q.weight[rows], wq[rows])  # to the bit
    if kv_heads == 4:
        for h in range(4):
            rows = slice(h * D, (h + 1) * D)
            gamma = tau / float(max_logit[h])
            want = wk[rows] * gamma**0.5 if over[h] else wk[rows]
            assert torch.allclose(attn.k.weight[rows], want, rtol=1e-6)
            if not over[h]:
                assert torch.equal(attn.k.weight[rows], wk[rows])
    else:
        assert torch.equal(attn.k.weight, wk)
    assert torch.equal(attn.v.weight, wv) and torch.equal(attn.o.weight, wo)


@pytest.mark.parametrize("kv_heads", [4, 2], ids=["mha", "gqa"])
def test_after_the_clip_a_clipped_heads_max_logit_is_tau(kv_heads: int) -> None:
    """On the same input, the heads over tau come back at exactly tau, the rest as they were."""
    torch.manual_seed(0)
    attn = AttnMixer(LMConfig(vocab=40, **{**SMALL, "kv_heads": kv_heads})).train()
    with torch.no_grad():
        attn.q.weight.mul_(40.0)  # large logits, unequal across heads
        attn.k.weight[:16].mul_(3.0)
    x = torch.randn(2, 8, 64)
    attn(x, None)
    before = attn.max_logit.clone()
    tau = float(before.median())
    over = qk_clip(attn, before, tau)
    assert 0 < int(over.sum()) < 4
    attn(x, None)
    after = attn.max_logit
    for h in range(4):
        want = tau if over[h] else float(before[h])
        assert float(after[h]) == pytest.approx(want, rel=1e-4)


def test_muonclip_clips_in_training_and_counts_it() -> None:
    m = model().train()
    with torch.no_grad():
        for _, attn in m.attention_layers():
            attn.q.weight.mul_(200.0)
            attn.k.weight.mul_(200.0)
    opt = MuonClip(m, OptimizerSettings(lr=1e-3, tau=5.0))
    ids = torch.randint(3, 40, (4, 12))
    loss = m.loss(ids)
    loss.backward()
    assert float(m.attention_layers()[0][1].max_logit.max()) > 5.0
    opt.step()
    assert int(opt.clips.sum()) >= 1
    m.loss(ids)  # the next batch's logits are bounded again (the step moved little)
    assert float(m.attention_layers()[0][1].max_logit.max()) < 5.0 * 1.2


@pytest.mark.parametrize("name", ["muonclip", "adamw"])
@pytest.mark.parametrize("layout", list(LAYOUTS), ids=list(LAYOUTS))
def test_a_few_steps_lower_the_loss(name: str, layout: str) -> None:
    torch.manual_seed(0)
    m = model(**LAYOUTS[layout]).train()
    ids = torch.tensor([1] + [3, 4, 5, 6, 7, 8] * 6).expand(4, -1)
    opt = make_optimizer(m, OptimizerSettings(name=name, lr=1e-2))
    first = m.loss(ids).item()
    for _ in range(15):
        opt.zero_grad()
        loss = m.loss(ids)
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first
