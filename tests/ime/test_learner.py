"""The learner through the engine, as a user would see it (full lexicon)."""

import pytest

from ime.config import Config
from ime.engine import Engine
from ime.lattice import USER_WORD
from ime.learner import open_learner

pytestmark = pytest.mark.needs_lexicon


@pytest.fixture
def engine(full_engine, tmp_path):
    learner = open_learner(tmp_path / "user.db")
    e = Engine(full_engine.lexicon, full_engine.bigram, Config(), learner=learner)
    yield e
    learner.close()


def pick(engine, keys, text):
    """Type `keys` and select `text` as a whole candidate; returns its rank."""
    ctx = engine.new_context()
    ctx.type(keys)
    rank = [c.text for c in ctx.candidates].index(text)
    assert ctx.select_candidate(rank).committed == text
    return rank


def top(engine, keys):
    return engine.convert(keys)[0].text


def test_one_pick_brings_a_word_to_the_top_and_two_picks_bring_it_back(engine):
    assert top(engine, "xianzai") == "现在"
    assert pick(engine, "xianzai", "先在") > 0
    assert top(engine, "xianzai") == "先在"
    pick(engine, "xianzai", "现在")
    pick(engine, "xianzai", "现在")
    assert top(engine, "xianzai") == "现在"


def assemble(engine, keys, pieces):
    """Type `keys`, then pick the pieces one after another (each as a word candidate)."""
    ctx = engine.new_context()
    ctx.type(keys)
    for piece in pieces:
        rank = [c.text for c in ctx.candidates].index(piece)
        st = ctx.select_candidate(rank)
    assert st.committed == "".join(pieces)


def test_a_new_word_assembled_three_times_is_offered_whole_the_fourth(engine):
    word, keys = "字节序", "zijiexu"
    assert engine.lexicon.word_id(word) is None
    assert top(engine, keys) != word
    for _ in range(3):
        assemble(engine, keys, ["字节", "序"])
    ctx = engine.new_context()
    ctx.type(keys)
    assert ctx.candidates[0].text == word
    assert engine.learner.is_learned(word, ("zi", "jie", "xu"))
    whole = [w for w in ctx.lattice.words_from(0) if w.text == word]
    assert whole and whole[0].word_id == USER_WORD and whole[0].end == len(keys)


def test_two_assemblies_do_not_make_a_word_yet(engine):
    for _ in range(2):
        assemble(engine, "zijiexu", ["字节", "序"])
    ctx = engine.new_context()
    ctx.type("zijiexu")
    assert not [w for w in ctx.lattice.words_from(0) if w.word_id == USER_WORD]


def test_one_accidental_pick_of_a_long_phrase_does_not_stick(engine):
    ctx = engine.new_context()
    ctx.type("woshizhongguoren")
    texts = [c.text for c in ctx.candidates]
    junk = next(t for t in texts[1:] if len(t) == 5)
    pick(engine, "woshizhongguoren", junk)
    assert top(engine, "woshizhongguoren") == "我是中国人"


def test_forget_removes_a_learned_word_and_demotes_a_system_word(engine):
    for _ in range(3):
        assemble(engine, "zijiexu", ["字节", "序"])
    assert top(engine, "zijiexu") == "字节序"
    assert engine.forget("字节序") == 1
    assert "字节序" not in [c.text for c in engine.convert("zijiexu")]
    assert engine.forget("西安") >= 1
    assert "西安" not in [c.text for c in engine.convert("xi'an")]
    assert engine.lexicon.word_id("西安") is not None  # demoted, not deleted from the trie


def test_learning_survives_a_restart(full_engine, tmp_path):
    db = tmp_path / "user.db"
    learner = open_learner(db)
    e = Engine(full_engine.lexicon, full_engine.bigram, Config(), learner=learner)
    pick(e, "xianzai", "先在")
    learner.close()
    learner = open_learner(db)
    e = Engine(full_engine.lexicon, full_engine.bigram, Config(), learner=learner)
    assert top(e, "xianzai") == "先在"
    learner.close()


def test_learning_off_changes_nothing(full_engine, tmp_path):
    learner = open_learner(tmp_path / "user.db")
    e = Engine(full_engine.lexicon, full_engine.bigram, Config(learning=False), learner=learner)
    pick(e, "xianzai", "先在")
    assert top(e, "xianzai") == "现在" and len(learner.store) == 0
    learner.close()
