"""What the issue asks the real lexicon to do (built once per test session)."""

import json

import pytest

pytestmark = pytest.mark.needs_lexicon


@pytest.mark.parametrize("keys,top1", [
    ("woshizhongguoren", "我是中国人"),
    ("jintiantianqizhenhao", "今天天气真好"),
    ("zhongguorenmindaxue", "中国人民大学"),
    ("shurufa", "输入法"),
    ("xi'an", "西安"),
    ("xianzai", "现在"),
    ("nihao", "你好"),
])
def test_top1(full_engine, keys, top1):
    assert full_engine.convert(keys)[0].text == top1


def test_initials(full_engine):
    assert "中国人民" in [c.text for c in full_engine.convert("zgrm")[:3]]


def test_mixed_and_incomplete(full_engine):
    assert full_engine.convert("zhongguor")[0].text == "中国人"
    assert full_engine.convert("nih")[0].text.startswith("你")


def test_typo_is_corrected(full_engine):
    assert full_engine.convert("zhognguo")[0].text == "中国"


def test_fuzzy_pairs_when_configured(full_engine):
    from ime.engine import Engine

    e = Engine(full_engine.lexicon, full_engine.bigram,
               full_engine.config.with_(fuzzy=frozenset({"z/zh"})))
    assert "中国" in [c.text for c in e.convert("zongguo")[:3]]
    assert "中国" not in [c.text for c in full_engine.convert("zongguo")[:3]]


def test_build_artifacts(engine_cache):
    meta = json.loads((engine_cache / "meta.json").read_text())
    assert meta["words"] > 300_000 and meta["bigrams"] > 100_000
    assert (engine_cache / "dev_news.txt").stat().st_size > 100_000
