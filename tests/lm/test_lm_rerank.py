"""The neural reranker with the shipped checkpoint: probabilities chain, an advanced handle gives
the same numbers as a fresh start, and the left context moves the right candidate up."""

from __future__ import annotations

import math

import pytest
import torch

from lm.checkpoint import DEFAULT_WEIGHTS
from lm.rerank import NeuralReranker


@pytest.fixture(scope="module")
def reranker() -> NeuralReranker:
    assert DEFAULT_WEIGHTS.exists(), "the trained LM ships with the code"
    assert DEFAULT_WEIGHTS.stat().st_size <= 20 * 2**20
    torch.manual_seed(0)
    return NeuralReranker.load(device="cpu")


def test_log_probabilities_chain(reranker: NeuralReranker) -> None:
    """log P(ab | c) = log P(a | c) + log P(b | c a): the candidate pass, the context pass and
    an advanced handle all agree."""
    h = reranker.start("我们在实验室里做")
    (whole,) = reranker.logp(h, ["化学实验"])
    (a,) = reranker.logp(h, ["化学"])
    (b,) = reranker.logp(reranker.advance(h, "化学"), ["实验"])
    assert whole == pytest.approx(a + b, abs=1e-3)
    assert whole < 0


def test_an_advanced_handle_continues_like_a_fresh_one(reranker: NeuralReranker) -> None:
    h = reranker.start("今天天气")
    before = reranker.context_tokens
    extended = reranker.logp(reranker.advance(h, "很好，我们"), ["去公园"])
    assert reranker.context_tokens - before == len("很好，我们")  # only the new characters ran
    fresh = reranker.logp(reranker.start("今天天气很好，我们"), ["去公园"])
    assert extended == pytest.approx(fresh, abs=1e-3)
    # handles are immutable: the old one still gives the old context's numbers
    assert reranker.logp(h, ["去公园"]) == pytest.approx(
        reranker.logp(reranker.start("今天天气"), ["去公园"]), abs=1e-4)


def test_a_fresh_start_reads_the_last_characters(reranker: NeuralReranker) -> None:
    from lm.rerank import MAX_CONTEXT

    long = "今天我们在北京开会，" * (MAX_CONTEXT // 5)
    assert reranker.logp(reranker.start(long), ["中国"]) == pytest.approx(
        reranker.logp(reranker.start(long[-MAX_CONTEXT:]), ["中国"]), abs=1e-4)



def test_the_prefix_trie_scores_as_one_batch_does(reranker: NeuralReranker) -> None:
    """The CPU path (shared prefixes run once, one character per row) gives the numbers of
    the one-batch path, and a second keystroke runs only the prefixes it has not seen."""
    h = reranker.start("我们今天")
    rare = next(chr(c) for c in range(0x4E00, 0x9FFF) if chr(c) not in reranker.vocab.chars)
    texts = ["去公园", "去公园玩", "去工作", "", "去", "趣" + rare + "园", "去公园玩"]
    before = reranker.candidate_tokens
    trie = reranker.logp(h, texts)
    # distinct prefixes one shorter than a text: 去, 去公, 去公园, 去工, 趣, 趣?
    assert reranker.candidate_tokens - before == 6
    assert trie == pytest.approx(reranker._logp_batch(h, texts), abs=2e-3)
    before = reranker.candidate_tokens
    again = reranker.logp(h, ["去公园玩耍", "去工作"])
    assert reranker.candidate_tokens - before == 1  # only 去公园玩 is new
    assert again == pytest.approx(reranker._logp_batch(h, ["去公园玩耍", "去工作"]), abs=2e-3)


def test_the_prefix_cache_is_bounded(reranker: NeuralReranker) -> None:
    from lm.rerank import PREFIX_CACHE

    h = reranker.start("")
    texts = ["".join(chr(0x4E00 + 37 * i + j) for j in range(6)) for i in range(60)]
    reranker.logp(h, texts)
    assert len(h.prefixes) <= PREFIX_CACHE


def test_a_character_outside_the_vocabulary_costs(reranker: NeuralReranker) -> None:
    rare = next(chr(c) for c in range(0x4E00, 0x9FFF) if chr(c) not in reranker.vocab.chars)
    common, odd = reranker.logp(reranker.start(), ["我是中国人", "我是中国" + rare])
    assert odd < common - 5


CONTEXT_CASES = [  # (left context, keys, the word the context calls for)
    ("这起交通", "shijian", "事件"),  # not 时间
    ("新药的临床", "shiyan", "试验"),  # not 实验
    ("学生走进", "jiaoshi", "教室"),  # not 教师
    ("马克思", "zhuyi", "主义"),  # not 注意
]


def test_engine_reranks_with_the_context(full_engine) -> None:
    from ime.config import Config
    from ime.engine import Engine

    # at the weight the version-1 model shipped with: the tuned 0.25 (DEFAULT_LAMBDA) weighs
    # the n-gram more, and 教室 after 学生走进 then needs more than the LM's preference
    lm = NeuralReranker.load(device="cpu", lam=0.5)
    on = Engine(full_engine.lexicon, full_engine.bigram, Config(learning=False), reranker=lm)
    off = Engine(
        full_engine.lexicon, full_engine.bigram, Config(learning=False, lm=False), reranker=lm
    )
    for context, keys, word in CONTEXT_CASES:
        assert on.convert(keys, context=context)[0].text == word, (context, keys)
    # the decoder alone misses some of them: the LM's reading of the context decides those
    assert any(off.convert(k, context=c)[0].text != w for c, k, w in CONTEXT_CASES)
    assert math.isfinite(on.convert("shiyan")[0].score)


def test_engine_load_brings_the_reranker_when_the_config_asks(engine_cache) -> None:
    from ime.config import Config
    from ime.engine import Engine

    on = Engine.load(Config(learning=False), engine_cache, progress=False)
    assert isinstance(on.reranker, NeuralReranker)
    off = Engine.load(Config(learning=False, lm=False), engine_cache, progress=False)
    assert off.reranker is None
    context, keys, word = CONTEXT_CASES[0]
    assert off.convert(keys, context=context)[0].text != word
    off.set_config(off.config.with_(lm=True))  # switched on later: loaded then
    assert isinstance(off.reranker, NeuralReranker)
    assert off.convert(keys, context=context)[0].text == word


def test_the_lm_in_the_search_is_incremental(full_engine, reranker: NeuralReranker) -> None:
    """Type, then backspace: the candidates of typing from scratch, with the LM in the beam."""
    from ime.config import Config
    from ime.engine import Engine

    e = Engine(full_engine.lexicon, full_engine.bigram,
               Config(learning=False, lm_mode="search"), reranker=reranker)
    ctx = e.new_context("我们在实验室里")
    ctx.type("zuohuaxueshiyanle")
    for _ in range(2):
        ctx.backspace()
    fresh = e.new_context("我们在实验室里")
    fresh.type("zuohuaxueshiyan")
    assert [c.text for c in ctx.candidates] == [c.text for c in fresh.candidates]
    assert [c.score for c in ctx.candidates] == pytest.approx(
        [c.score for c in fresh.candidates], abs=1e-3)


def test_prefixes_scored_together_equal_prefixes_scored_apart(reranker: NeuralReranker):
    """States shared through the trie give the numbers of separate runs from a fresh handle."""
    texts = ["中国人民", "中国人", "中华人民", "中", "中国队员"]
    together = reranker.logp(reranker.start("我爱"), texts)
    apart = [reranker.logp(reranker.start("我爱"), [t])[0] for t in texts]
    assert together == pytest.approx(apart, abs=2e-3)


def test_the_batch_padded_to_a_graphs_shape_scores_the_same(reranker: NeuralReranker) -> None:
    """The GPU path pads its batch to a CUDA graph's shape (rows to a power of two,
    characters to a multiple of 8): causal rows that are independent of each other score
    the same with and without the padding (here op by op, on the CPU)."""

    class NoGraph:  # the padded batch, scored op by op
        def score(self, handle, ids):
            assert ids.shape[0] in (4, 8, 16) and ids.shape[1] % 8 == 0
            return None

    texts = ["去公园", "去工作", "去公园散步了吗", "", "中国人民", "时间"]
    for context in ("今天天气很好，我们" * 10, "做"):
        h = reranker.start(context)
        want = reranker._logp_batch(h, texts)
        reranker.graphs = NoGraph()
        try:
            got = reranker._logp_batch(h, texts)
        finally:
            reranker.graphs = None
        assert got == pytest.approx(want, rel=1e-5, abs=1e-4)
        assert got[3] == 0.0 and want == pytest.approx(reranker.logp(h, texts), abs=1e-3)
