"""The LM on a GPU (run on the device machine): the reranker's Triton paths (the chunk kernel
for a long context, `score_candidates` for the candidates from one shared state) give the
CPU reference's log-probabilities; the model's bf16 training path (Triton chunk forward and
backward, with the convolutions) matches the fp32 reference; a MuonClip step runs there."""

from __future__ import annotations

import pytest
import torch

from lm.model import KimiLinearLM, LMConfig
from lm.rerank import NeuralReranker

pytestmark = pytest.mark.needs_cuda

TEXTS = ["中国人民", "经济发展", "实验", "试验", "我们今天在北京开会", "时间", ""]
CONTEXTS = ["", "做化学", "今天我们在北京开会，" * 30]  # the last one: > 16 tokens, the chunk path


@pytest.fixture(scope="module")
def both() -> tuple[NeuralReranker, NeuralReranker]:
    return NeuralReranker.load(device="cpu"), NeuralReranker.load(device="cuda")


@pytest.mark.parametrize("context", CONTEXTS, ids=["empty", "short", "long"])
def test_gpu_log_probabilities_match_the_cpu(both, context: str) -> None:
    cpu, gpu = both
    want = cpu.logp(cpu.start(context), TEXTS)
    got = gpu.logp(gpu.start(context), TEXTS)
    for w, g in zip(want, got):
        assert g == pytest.approx(w, rel=1e-2, abs=0.05)


def test_gpu_advances_a_handle_like_the_cpu(both) -> None:
    cpu, gpu = both
    want = cpu.logp(cpu.advance(cpu.start("今天天气"), "很好，我们"), ["去公园", "去工作"])
    h = gpu.advance(gpu.start("今天天气"), "很好，我们")
    got = gpu.logp(h, ["去公园", "去工作"])
    assert got == pytest.approx(want, rel=1e-2, abs=0.05)
    fresh = gpu.logp(gpu.start("今天天气很好，我们"), ["去公园", "去工作"])
    assert got == pytest.approx(fresh, rel=1e-2, abs=0.05)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().float(), b.detach().float()
    return float((a - b).norm() / b.norm())


def test_bf16_training_path_matches_the_fp32_reference() -> None:
    """Forward and backward through the Triton chunk kernel under bf16 autocast, against the
    fp32 naive chunk form, on a model with convolutions, over more than one chunk."""
    torch.manual_seed(0)
    cfg = LMConfig(vocab=300, d_model=128, n_layers=4, heads=2, head_dim=64, mlp_hidden=256,
                   gate_rank=32, window=64)
    m = KimiLinearLM(cfg).cuda().train()
    ids = torch.randint(3, 300, (4, 200), device="cuda")
    m.set_kda_mode("naive")
    ref_logits, _ = m(ids)
    ref_logits.float().pow(2).mean().backward()
    ref_grads = {n: p.grad.clone() for n, p in m.named_parameters()}
    m.zero_grad()
    m.set_kda_mode("auto")
    with torch.autocast("cuda", dtype=torch.bfloat16):
        logits, _ = m(ids)
    logits.float().pow(2).mean().backward()
    assert _rel(logits, ref_logits) < 3e-2
    for name in ("blocks.0.mixer.q.weight", "blocks.0.mixer.q_conv.weight",
                 "blocks.1.mixer.dt_bias", "blocks.2.mixer.b.weight", "embed.weight"):
        p = dict(m.named_parameters())[name]
        assert _rel(p.grad, ref_grads[name]) < 8e-2, name


def test_a_muonclip_step_on_the_gpu(device: str = "cuda") -> None:
    """Steps as the trainer takes them (bf16 autocast, gradients clipped to norm 1), from
    attention logits well over tau: the loss falls and the clip brings the logits down."""
    from lm.optim import MuonClip, OptimizerSettings

    torch.manual_seed(0)
    m = KimiLinearLM(LMConfig(vocab=300, d_model=128, heads=2, head_dim=64)).to(device).train()
    with torch.no_grad():
        for _, attn in m.attention_layers():
            attn.q.weight.mul_(10.0)
            attn.k.weight.mul_(10.0)
    opt = MuonClip(m, OptimizerSettings(lr=3e-3, tau=5.0))
    ids = torch.randint(3, 300, (8, 65), device=device)
    losses, logits = [], []
    for _ in range(8):
        with torch.autocast(device, dtype=torch.bfloat16):
            loss = m.loss(ids)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        logits.append(float(m.attention_layers()[0][1].max_logit.max()))
        opt.step()
        losses.append(loss.item())
    assert logits[0] > 5.0  # the clip had work to do
    assert int(opt.clips.sum()) > 0
    assert max(logits[2:]) < 5.0 * 1.5  # and the logits stayed near tau afterwards
    assert losses[-1] < losses[0]


def test_candidates_scored_through_cuda_graphs_equal_op_by_op(both) -> None:
    """The graph path (one graph per shape, the handle's state copied in when the handle
    changes) gives the op-by-op scores: for shapes seen and new, for a handle that changes
    under a graph already captured, and for a context shorter than the attention window."""
    _, gpu = both
    assert gpu.graphs is not None
    texts = [["中国人民", "经济发展", "实验", ""], ["我们今天在北京开会", "时间"] * 5,
             ["去公园", "去工作", "去公园散步了吗"]]
    contexts = ["今天天气很好，我们" * 20, "做化学", "今天天气很好，我们" * 20 + "一起"]
    for context in contexts:
        h = gpu.start(context)
        for ts in texts:
            got = gpu.logp(h, ts)
            graphs, gpu.graphs = gpu.graphs, None
            try:
                want = gpu.logp(h, ts)
            finally:
                gpu.graphs = graphs
            assert got == pytest.approx(want, rel=1e-4, abs=1e-3), (context, ts)
    assert gpu.graphs.captures > 0 and not gpu.graphs.failed
