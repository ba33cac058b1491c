"""The neural reranker with the shipped checkpoint: probabilities chain, the context cache gives
the same numbers as a fresh start, and the left context moves the right candidate up."""

from __future__ import annotations

import math

import pytest
import torch

from ime.decoder import Sentence
from lm.checkpoint import DEFAULT_WEIGHTS
from lm.rerank import NeuralReranker


@pytest.fixture(scope="module")
def reranker() -> NeuralReranker:
    assert DEFAULT_WEIGHTS.exists(), "the trained LM ships with the code"
    assert DEFAULT_WEIGHTS.stat().st_size <= 20 * 2**20
    torch.manual_seed(0)
    return NeuralReranker.load(device="cpu")


def sentences(*texts_scores: tuple[str, float]) -> list[Sentence]:
    return [Sentence(t, (), s) for t, s in texts_scores]


def test_log_probabilities_chain(reranker: NeuralReranker) -> None:
    """log P(ab | c) = log P(a | c) + log P(b | c a): the candidate pass, the context pass and
    the cache all agree."""
    (whole,) = reranker.logp("我们在实验室里做", ["化学实验"])
    (a,) = reranker.logp("我们在实验室里做", ["化学"])
    (b,) = reranker.logp("我们在实验室里做化学", ["实验"])
    assert whole == pytest.approx(a + b, abs=1e-3)
    assert whole < 0


def test_a_cached_context_continues_like_a_fresh_one(reranker: NeuralReranker) -> None:
    reranker.context("今天天气")  # cached; the next context extends it
    extended = reranker.logp("今天天气很好，我们", ["去公园"])
    fresh = NeuralReranker(reranker.model, reranker.vocab).logp("今天天气很好，我们", ["去公园"])
    assert extended == pytest.approx(fresh, abs=1e-3)


def test_a_long_extension_starts_fresh_on_the_last_characters(reranker: NeuralReranker) -> None:
    """A cached short context is not run forward through a long extension: the result is
    the same as a fresh start on the last MAX_CONTEXT characters."""
    from lm.rerank import MAX_CONTEXT

    reranker.context("")
    long = "今天我们在北京开会，" * (MAX_CONTEXT // 5)
    fresh = NeuralReranker(reranker.model, reranker.vocab)
    assert reranker.logp(long, ["中国"]) == pytest.approx(fresh.logp(long, ["中国"]), abs=1e-4)
    assert fresh.logp(long, ["中国"]) == pytest.approx(
        fresh.logp(long[-MAX_CONTEXT:], ["中国"]), abs=1e-4
    )


def test_the_left_context_picks_the_homophone(reranker: NeuralReranker) -> None:
    cands = sentences(("试验", -10.0), ("实验", -10.3), ("十堰", -11.0))
    out = reranker.rerank("做化学", cands)
    assert out[0].text == "实验"
    # the LM's favourite keeps its decoder score; the others fall behind by their LM deficit
    assert out[0].score == -10.3
    assert all(s.score <= old.score for s in out for old in cands if old.text == s.text)


def test_lambda_zero_keeps_the_order_and_the_tail_stays_behind(reranker: NeuralReranker) -> None:
    cands = sentences(*[(t, -float(i)) for i, t in enumerate(["时间", "事件", "实践", "世间"])])
    keep = NeuralReranker(reranker.model, reranker.vocab, lam=0.0)
    assert [s.text for s in keep.rerank("我们没有", cands)] == ["时间", "事件", "实践", "世间"]
    top2 = NeuralReranker(reranker.model, reranker.vocab, top=2)
    out = top2.rerank("我们没有", cands)
    assert [s.text for s in out[2:]] == ["实践", "世间"]  # only the first two were rescored


def test_a_character_outside_the_vocabulary_costs(reranker: NeuralReranker) -> None:
    rare = next(chr(c) for c in range(0x4E00, 0x9FFF) if chr(c) not in reranker.vocab.chars)
    common, odd = reranker.logp("", ["我是中国人", "我是中国" + rare])
    assert odd < common - 5


def test_engine_reranks_with_the_context(full_engine) -> None:
    from ime.config import Config
    from ime.engine import Engine

    lm = NeuralReranker.load(device="cpu")
    on = Engine(full_engine.lexicon, full_engine.bigram, Config(learning=False), reranker=lm)
    off = Engine(
        full_engine.lexicon, full_engine.bigram, Config(learning=False, lm=False), reranker=lm
    )
    assert on.convert("shiyan", context="做化学")[0].text == "实验"
    assert off.convert("shiyan", context="做化学")[0].text == "试验"
    assert on.convert("shijian", context="理论联系")[0].text == "实践"
    assert off.convert("shijian", context="理论联系")[0].text == "时间"
    assert math.isfinite(on.convert("shiyan")[0].score)


def test_engine_load_brings_the_reranker_when_the_config_asks(engine_cache) -> None:
    from ime.config import Config
    from ime.engine import Engine

    on = Engine.load(Config(learning=False), engine_cache, progress=False)
    assert isinstance(on.reranker, NeuralReranker)
    off = Engine.load(Config(learning=False, lm=False), engine_cache, progress=False)
    assert off.reranker is None
    assert off.convert("shiyan", context="做化学")[0].text == "试验"
    off.set_config(off.config.with_(lm=True))  # switched on later: loaded then
    assert isinstance(off.reranker, NeuralReranker)
    assert off.convert("shiyan", context="做化学")[0].text == "实验"
