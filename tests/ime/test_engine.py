"""The engine's seams: compose and its caches, the session's LM handle, the decoder's LM
interface, the reranking rule. Tiny inline lexicon and stand-in LMs (no torch)."""

from __future__ import annotations

import dataclasses

import pytest

from ime.config import Config
from ime.decoder import Decoder, Sentence
from ime.engine import Composition, Engine
from lexicon.testing import tiny_parts


class CountingLM:
    """A stand-in neural LM: fixed log-probabilities per text, and a count of the context
    characters it has been run over (start + advance)."""

    def __init__(self, prefs: dict[str, float] | None = None, lam: float = 1.0,
                 top: int = 10) -> None:
        self.prefs = prefs or {}
        self.lam, self.top = lam, top
        self.context_chars = 0
        self.starts = 0

    def start(self, text: str = "") -> tuple[str]:
        self.starts += 1
        self.context_chars += len(text)
        return (text,)

    def advance(self, handle: tuple[str], text: str) -> tuple[str]:
        self.context_chars += len(text)
        return (handle[0] + text,)

    def logp(self, handle: tuple[str], texts) -> list[float]:
        self.last_context = handle[0]
        return [self.prefs.get(t, -10.0) for t in texts]


def engine(**config) -> Engine:
    lex, lm = tiny_parts()
    return Engine(lex, lm, Config(learning=False, **config))


def engine_of(words: list[tuple[str, tuple[str, ...], int]], **config) -> Engine:
    """An engine over `words` (word, syllables, count), unigram counts only."""
    import numpy as np

    from lexicon.ngram import estimate_kneser_ney
    from lexicon.trie import SystemLexicon

    lex = SystemLexicon.from_entries([(w, s, 0.0) for w, s, _ in words])
    counts = np.zeros(len(lex))
    for w, _, c in words:
        counts[lex.word_id(w)] += c
    lm = estimate_kneser_ney([[lex.word_id(w)] for w, _, _ in words], np.log(counts / counts.sum()))
    return Engine(lex, lm, Config(learning=False, **config))


# ---- compose and its caches ------------------------------------------------------------------


def test_compose_returns_an_immutable_composition() -> None:
    e = engine()
    comp = e.compose("nihao")
    assert isinstance(comp, Composition)
    assert comp.candidates[0].text == "你好" and comp.sentences[0].text == "你好"
    assert comp.lattice.graph is comp.graph and comp.keys == "nihao"
    with pytest.raises(dataclasses.FrozenInstanceError):
        comp.keys = "x"  # type: ignore[misc]


def test_compose_from_a_previous_composition_equals_from_scratch() -> None:
    e = engine()
    prev = None
    for n in range(1, len("woshizhongguoren") + 1):
        prev = e.compose("woshizhongguoren"[:n], previous=prev)
        fresh = engine().compose("woshizhongguoren"[:n])
        assert [c.text for c in prev.candidates] == [c.text for c in fresh.candidates]


FUZZY_WORDS = [("总", ("zong",), 100), ("中", ("zhong",), 500), ("国", ("guo",), 400),
               ("中国", ("zhong", "guo"), 600), ("总归", ("zong", "gui"), 10)]


@pytest.mark.parametrize("keys", ["zongg", "zongguo", "zong"])
def test_toggling_a_fuzzy_pair_changes_the_very_next_conversion(keys: str) -> None:
    """After set_config the lattice's cached spans must not serve the old readings."""
    e = engine_of(FUZZY_WORDS)
    ctx = e.new_context()
    ctx.type(keys)  # caches the spans, read without fuzzy pairs
    plain = [c.text for c in ctx.candidates]
    e.set_config(e.config.with_(fuzzy=frozenset({"z/zh"})))
    fuzzy = [c.text for c in engine_of(FUZZY_WORDS, fuzzy=frozenset({"z/zh"})).convert(keys)]
    assert fuzzy != plain and fuzzy[0] == "中国"[:len(fuzzy[0])]
    assert [c.text for c in e.convert(keys)] == fuzzy
    ctx.backspace()
    ctx.type(keys[-1])  # the context's next keystroke too: its old lattice is stale
    assert [c.text for c in ctx.candidates] == fuzzy
    e.set_config(e.config.with_(fuzzy=frozenset()))
    assert [c.text for c in e.convert(keys)] == plain


def test_a_config_change_is_seen_by_a_composition_in_progress() -> None:
    e = engine()
    ctx = e.new_context()
    ctx.type("xian")
    assert ctx.state.page_size == 5
    e.set_config(e.config.with_(page_size=2))
    ctx.type("zai")
    assert len(ctx.state.candidates) == 2


# ---- the decoder's LM interface --------------------------------------------------------------


class PreferLM:
    """A word LM of its own (not the bigram): every word scores -1 except `liked` words,
    which score 0; its state counts the words so far (a different state shape)."""

    bos = ("start", 0)

    def __init__(self, liked: set[str]) -> None:
        self.liked = liked

    def start(self, context: str):
        return self.bos

    def extend(self, states, word):
        lp = 0.0 if word.text in self.liked else -1.0
        return [(i, lp, ("n", s[1] + 1)) for i, s in enumerate(states)]


def test_the_decoder_runs_any_word_lm_through_its_interface() -> None:
    e = engine()
    lattice = e.compose("xianzai").lattice
    by_bigram, _ = e.decoder.decode(lattice)
    assert by_bigram[0].text == "现在"
    liked, _ = Decoder(PreferLM({"先在"})).decode(lattice)
    assert liked[0].text == "先在"
    for s in liked:  # scores are what the plugged-in LM says, plus emissions and penalties
        expected = sum((0.0 if w.text == "先在" else -1.0) + w.emission
                       + (Decoder(PreferLM(set())).word_penalty if w.exact else 0.0)
                       for w in s.words)
        assert s.score == pytest.approx(expected)


def test_the_engine_decodes_with_the_word_lm_it_is_given() -> None:
    e = engine()
    e.decoder = Decoder(PreferLM({"先在"}))
    e.word_lm = e.decoder.lm
    assert e.convert("xianzai")[0].text == "先在"


# ---- the neural reranker: the rule, and the session's handle ---------------------------------


def test_the_lms_favourite_keeps_its_decoder_score_and_the_rest_fall_behind() -> None:
    e = engine()
    e.reranker = CountingLM({"先在": 0.0, "现在": -5.0})
    sents = [Sentence("现在", (), -10.0), Sentence("先在", (), -10.3), Sentence("西安在", (), -11)]
    out = e._rerank(e.reranker.start(), sents)
    assert [s.text for s in out] == ["先在", "现在", "西安在"]
    assert out[0].score == -10.3 and out[1].score == pytest.approx(-15.0)


def test_lambda_zero_keeps_the_order_and_only_the_top_are_rescored() -> None:
    e = engine()
    sents = [Sentence(t, (), -float(i)) for i, t in enumerate(["时间", "事件", "实践", "世间"])]
    e.reranker = CountingLM({"世间": 0.0}, lam=0.0)
    assert [s.text for s in e._rerank(("",), sents)] == ["时间", "事件", "实践", "世间"]
    e.reranker = CountingLM({"事件": 0.0, "世间": 0.0}, top=2)
    out = e._rerank(("",), sents)
    assert [s.text for s in out] == ["事件", "时间", "实践", "世间"]


def test_the_left_context_and_the_picks_reach_the_reranker() -> None:
    e = engine()
    lm = e.reranker = CountingLM()
    ctx = e.new_context("你好，")
    ctx.type("xiannihao")
    assert lm.last_context == "你好，"
    ctx.select(next(i for i, c in enumerate(ctx.state.candidates) if c.text == "先"))
    assert ctx.remaining == "nihao" and lm.last_context == "你好，先"
    for _ in range(6):  # nihao deleted, then the pick undone: the context's own handle
        ctx.backspace()
    assert ctx.remaining == "xian"
    assert lm.last_context == "你好，"


def test_after_300_committed_characters_the_lm_runs_only_what_is_committed() -> None:
    """The context's LM handle is advanced by each commit: no restart when the 64-character
    context window slides."""
    e = engine()
    lm = e.reranker = CountingLM()
    ctx = e.new_context()
    committed = 0
    while committed < 300:
        ctx.type("nihao")
        ctx.commit()  # 你好
        committed += 2
    assert lm.starts == 1  # one fresh start, at the first keystroke
    before = lm.context_chars
    ctx.type("xianzai")
    ctx.commit()
    ctx.type("nihao")
    ctx.commit()
    assert lm.starts == 1 and lm.context_chars - before == len("现在") + len("你好")
    # the application's own text: a continuation advances, anything else starts afresh
    ctx.append_context("。")
    assert lm.starts == 1 and lm.context_chars - before == 5
    ctx.set_context(ctx.context + "我")
    assert lm.starts == 1 and lm.context_chars - before == 6
    ctx.set_context("别的文字")
    ctx.type("nihao")
    assert lm.starts == 2 and lm.last_context == "别的文字"


def test_turning_the_lm_off_stops_reranking() -> None:
    e = engine()
    lm = e.reranker = CountingLM({"泥号": 0.0, "你好": -30.0, "你号": -30.0, "泥好": -30.0})
    assert e.convert("nihao")[0].text == "泥号"
    e.set_config(e.config.with_(lm=False))
    assert e.convert("nihao")[0].text == "你好"
    assert lm.starts == 1


# ---- one rule for what a keystroke may reuse -------------------------------------------------


@pytest.mark.parametrize("typed,edits,final", [
    ("uide", 1, "uid"), ("uidea", 2, "uid"), ("xian'", 1, "xian"), ("xi'an", 2, "xi'"),
    ("zhongguoren", 3, "zhongguo"), ("nihaoi", 1, "nihao"),
])
def test_type_then_backspace_equals_typing_from_scratch(typed: str, edits: int, final: str):
    e = engine()
    ctx = e.new_context()
    ctx.type(typed)
    for _ in range(edits):
        ctx.backspace()
    assert ctx.keys == final
    assert [c.text for c in ctx.candidates] == [c.text for c in e.convert(final)]


def test_incremental_equals_from_scratch_on_the_full_lexicon(full_engine) -> None:
    """Letters that start no syllable (u, i, v) once made the two paths disagree."""
    for typed, final in (("uide", "uid"), ("uidea", "uid"), ("ide", "id"), ("vbe", "vb")):
        ctx = full_engine.new_context()
        ctx.type(typed)
        while ctx.keys != final:
            ctx.backspace()
        assert [c.text for c in ctx.candidates] == [c.text for c in full_engine.convert(final)]


# ---- bounded work ----------------------------------------------------------------------------


def test_a_long_composition_stays_bounded_and_commits_everything() -> None:
    from ime.context import MAX_KEYS

    e = engine()
    ctx = e.new_context()
    unit, text = "woshizhongguoren", "我是中国人"
    per_key = []
    for ch in unit * 40:  # 640 keys in one composition
        before = e.decoder.nodes_decoded
        ctx.type(ch)
        per_key.append(e.decoder.nodes_decoded - before)
        assert len(ctx.remaining) <= MAX_KEYS
    assert max(per_key) <= MAX_KEYS + 1  # a re-decode after taking words, never more
    late = per_key[-300:]
    assert sum(late) / len(late) < 4  # flat: mostly the one or two new nodes
    ctx.commit()
    assert ctx.state.committed == text * 40


def test_typing_many_keys_at_once_takes_the_same_path() -> None:
    e = engine()
    keys = "nihao" * 60
    assert e.convert(keys)[0].text == "你好" * 60
    ctx = e.new_context()
    for ch in keys:
        ctx.type(ch)
    assert ctx.picked + ctx.candidates[0].text == e.convert(keys)[0].text


def test_forgetting_the_highlighted_twice_leaves_candidates(engine_cache, tmp_path) -> None:
    from ime.keys import KeyEvent, KeyProcessor
    from ime.learner import open_learner

    learner = open_learner(tmp_path / "user.db")
    try:
        e = Engine.load(Config(lm=False), engine_cache, learner=learner, progress=False)
        p = KeyProcessor(e.new_context())
        p.process(KeyEvent.of("a"))
        first, second = (c.text for c in p.state.candidates[:2])
        p.forget(0)
        p.forget(0)
        shown = [c.text for c in p.state.candidates]
        assert shown and first not in shown and second not in shown
        p.process(KeyEvent.of("a"))
        p.process(KeyEvent("BackSpace"))
        assert [c.text for c in p.state.candidates] == shown
        assert [c.text for c in e.convert("a")] == [c.text for c in p.context.candidates]
    finally:
        learner.close()


# ---- the neural LM inside the search ---------------------------------------------------------


class PrefixLM(CountingLM):
    """A stand-in neural LM that scores text by its characters: each character in `liked`
    costs 0, any other -1 (so prefixes are scored consistently, as a real LM's are)."""

    def __init__(self, liked: str, **kw) -> None:
        super().__init__(**kw)
        self.liked = liked
        self.calls = 0

    def logp(self, handle, texts) -> list[float]:
        self.calls += 1
        self.last_context = handle[0]
        return [-float(sum(c not in self.liked for c in t)) for t in texts]


HOMOPHONES = [("事", ("shi",), 50), ("件", ("jian",), 50), ("时", ("shi",), 50),
              ("间", ("jian",), 50), ("事件", ("shi", "jian"), 100), ("时间", ("shi", "jian"), 100),
              ("我", ("wo",), 100)]


def test_the_search_picks_what_the_neural_lm_prefers_when_the_ngram_ties() -> None:
    e = engine_of(HOMOPHONES, lm_mode="search")
    plain = [s.text for s in e.compose("shijian").sentences[:2]]
    assert sorted(plain) == ["事件", "时间"]  # the word LM alone: a tie
    for liked, best in (("事件", "事件"), ("时间", "时间")):
        e.reranker = PrefixLM(liked)
        comp = e.compose("woshijian", neural=e.reranker.start(""))
        assert comp.sentences[0].text == "我" + best
        assert comp.candidates[0].text == "我" + best


def test_search_and_rerank_modes_both_use_the_lm() -> None:
    e = engine_of(HOMOPHONES)
    e.reranker = PrefixLM("时间我")
    for mode in ("search", "rerank"):
        e.set_config(e.config.with_(lm_mode=mode))
        assert e.convert("woshijian")[0].text == "我时间"
    e.set_config(e.config.with_(lm=False))
    assert e.reranker.calls and e.compose("woshijian").sentences[0].text in ("我事件", "我时间")


@pytest.mark.parametrize("typed,edits", [("woshijianwo", 2), ("shijianwoshi", 3), ("wo", 1)])
def test_type_then_backspace_equals_from_scratch_with_the_lm_in_the_search(typed, edits):
    e = engine_of(HOMOPHONES, lm_mode="search")
    e.reranker = PrefixLM("时间")
    ctx = e.new_context("你好")
    ctx.type(typed)
    for _ in range(edits):
        ctx.backspace()
    fresh = e.new_context("你好")
    fresh.type(ctx.keys)
    assert [(c.text, c.score) for c in ctx.candidates] == \
        [(c.text, c.score) for c in fresh.candidates]
