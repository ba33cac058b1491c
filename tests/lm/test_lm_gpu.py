"""The reranker on a GPU (run on the device machine): the Triton paths (the chunk kernel for
a long context, `score_candidates` for the candidates from one shared state) give the same
log-probabilities as the CPU reference."""

from __future__ import annotations

import pytest

from lm.rerank import NeuralReranker

pytestmark = pytest.mark.needs_cuda

TEXTS = ["中国人民", "经济发展", "实验", "试验", "我们今天在北京开会", "时间"]


def test_gpu_log_probabilities_match_the_cpu() -> None:
    cpu = NeuralReranker.load(device="cpu")
    gpu = NeuralReranker.load(device="cuda")
    for context in ["", "做化学", "今天我们在北京开会，" * 30]:  # the last one: > 16 tokens
        want = cpu.logp(context, TEXTS)
        got = gpu.logp(context, TEXTS)
        for w, g in zip(want, got):
            assert g == pytest.approx(w, rel=1e-2, abs=0.05)


def test_gpu_extends_a_cached_context_like_the_cpu() -> None:
    cpu = NeuralReranker.load(device="cpu")
    gpu = NeuralReranker.load(device="cuda")
    for r in (cpu, gpu):
        r.context("今天天气")
    want = cpu.logp("今天天气很好，我们", ["去公园"])
    got = gpu.logp("今天天气很好，我们", ["去公园"])
    assert got[0] == pytest.approx(want[0], rel=1e-2, abs=0.05)
