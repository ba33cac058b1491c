"""The user's history bigram (ime.history) through the learner and the decoder, the cap on
what one session may add, and the decay of both, on a tiny inline lexicon where 好 leads 号
by a wide margin after every word."""

from pathlib import Path

import numpy as np
import pytest

from ime import likelihood as lk
from ime.config import Config, ConfigError, load_config
from ime.engine import Engine
from ime.history import HistoryBigram
from ime.learner import open_learner
from lexicon.ngram import estimate_kneser_ney
from lexicon.trie import SystemLexicon
from lexicon.user_lexicon import HistoryEntry

WORDS = [("中国", ("zhong", "guo"), 600), ("我", ("wo",), 900), ("好", ("hao",), 800),
         ("号", ("hao",), 30), ("中", ("zhong",), 500), ("国", ("guo",), 400),
         ("现在", ("xian", "zai"), 700), ("先在", ("xian", "zai"), 5), ("你", ("ni",), 900),
         ("泥", ("ni",), 50), ("西安", ("xi", "an"), 200), ("先", ("xian",), 400)]
CORPUS = [["我", "好"], ["中国"], ["中国", "好"], ["我"], ["现在", "你", "好"]]


def parts():
    lex = SystemLexicon.from_entries([(w, s, 0.0) for w, s, _ in WORDS])
    counts = np.zeros(len(lex))
    for w, _, c in WORDS:
        counts[lex.word_id(w)] += c
    logp = np.log((counts + 0.5) / (counts.sum() + 0.5 * len(counts)))
    return lex, estimate_kneser_ney([[lex.word_id(w) for w in s] for s in CORPUS], logp)


@pytest.fixture
def engine(tmp_path):
    lex, lm = parts()
    learner = open_learner(tmp_path / "user.db")
    e = Engine(lex, lm, Config(lm=False), learner=learner)
    yield e
    learner.close()


def top(engine: Engine, keys: str, context: str = "") -> str:
    ctx = engine.new_context(context)
    ctx.type(keys)
    return ctx.sentences[0].text


def without_history(engine: Engine, keys: str) -> str:
    """The top sentence with the same learned words but no history bonus."""
    history = engine.decoder.history
    engine.decoder.history = None
    engine.generation += 1
    try:
        return top(engine, keys)
    finally:
        engine.decoder.history = history
        engine.generation += 1


def pick_pieces(engine: Engine, keys: str, pieces: list[str], context: str = "") -> None:
    ctx = engine.new_context(context)
    ctx.type(keys)
    for piece in pieces:
        st = ctx.select_candidate([c.text for c in ctx.candidates].index(piece))
    assert st.committed == "".join(pieces)


def test_two_commits_of_a_pair_change_the_choice_after_that_previous_word_only(engine):
    assert top(engine, "zhongguohao") == "中国好" and top(engine, "wohao") == "我好"
    pick_pieces(engine, "zhongguohao", ["中国", "号"])
    assert top(engine, "zhongguohao") == "中国好"  # one commit: not yet
    pick_pieces(engine, "zhongguohao", ["中国", "号"])
    assert top(engine, "zhongguohao") == "中国号"
    assert without_history(engine, "zhongguohao") == "中国好"  # the pair made the change
    assert top(engine, "wohao") == "我好"  # after another word 好 still leads
    pair = engine.learner.store.get_pair("中国", "号")
    assert pair.commits == 2 and pair.strength == pytest.approx(0.75, abs=0.01)


def test_a_pair_across_commits_counts_when_the_second_follows_the_first(engine):
    for _ in range(2):
        ctx = engine.new_context()
        ctx.type("zhongguo")
        assert ctx.select_candidate([c.text for c in ctx.candidates].index("中国")).committed
        ctx.type("hao")  # the next composition, right after 中国
        ctx.select_candidate([c.text for c in ctx.candidates].index("号"))
    assert engine.learner.store.get_pair("中国", "号").commits == 2
    assert top(engine, "hao", context="我们的中国") == "号"
    assert top(engine, "hao", context="我") == "好"
    # text the user typed elsewhere in between: no pair across it
    pick_pieces(engine, "hao", ["号"], context="中国人说")
    assert engine.learner.store.get_pair("中国", "号").commits == 2


def test_a_rejected_pair_loses_and_a_forgotten_word_takes_its_pairs(engine):
    pick_pieces(engine, "zhongguohao", ["中国", "号"])
    pick_pieces(engine, "zhongguohao", ["中国", "号"])
    s = engine.learner.store.get_pair("中国", "号").strength
    assert top(engine, "zhongguohao") == "中国号"
    pick_pieces(engine, "zhongguohao", ["中国", "好"])  # predicted 中国号, took 中国好
    assert engine.learner.store.get_pair("中国", "号").strength == pytest.approx(
        lk.history_loss(s), abs=1e-3)
    assert engine.forget("号") > 0
    assert engine.learner.store.get_pair("中国", "号") is None
    assert "号" not in engine.learner.history.bonus


def test_history_strength_decays_like_a_likelihood_and_old_pairs_go(tmp_path):
    db = tmp_path / "user.db"
    learner = open_learner(db)
    learner.store.put_pairs([HistoryEntry("中国", "号", 1.0, 3, 0)])
    learner.store.set_tick(int(lk.HALF_LIFE))
    learner.close()
    learner = open_learner(db)  # a restart: the pairs are read, decayed to the tick
    assert learner.history.after("中国", "号") == pytest.approx(lk.history_bonus(0.5))
    assert learner.history.after("我", "号") == 0.0
    learner.close()
    h = HistoryBigram()
    h.load([HistoryEntry("中国", "号", 1.0, 3, 0)], tick=int(5 * lk.HALF_LIFE))
    assert len(h) == 0 and h.after("中国", "号") == 0.0  # 1/32 < HISTORY_FLOOR: dropped


def test_a_session_adds_at_most_its_cap_of_entries_and_entries_keep_learning(tmp_path):
    lex, lm = parts()
    learner = open_learner(tmp_path / "user.db")
    engine = Engine(lex, lm, Config(lm=False, learn_session_cap=2), learner=learner)
    assert learner.session_cap == 2
    pick_pieces(engine, "xianzai", ["先在"])  # 先在 gains, 现在 loses: two entries
    assert len(learner.store) == 2
    before = learner.store.get("先在", ("xian", "zai")).likelihood
    pick_pieces(engine, "ni", ["泥"])  # a third entry: refused
    assert learner.store.get("泥", ("ni",)) is None and len(learner.store) == 2
    pick_pieces(engine, "xianzai", ["现在"])
    pick_pieces(engine, "xianzai", ["先在"])
    assert learner.store.get("先在", ("xian", "zai")).commits == 2  # still learning
    assert learner.store.get("先在", ("xian", "zai")).likelihood >= before
    learner.close()
    learner = open_learner(tmp_path / "user.db")  # a new session may add again
    engine = Engine(lex, lm, Config(lm=False, learn_session_cap=2), learner=learner)
    pick_pieces(engine, "ni", ["泥"])
    assert learner.store.get("泥", ("ni",)) is not None
    learner.close()


def test_the_cap_is_a_checked_setting(tmp_path):
    assert Config().learn_session_cap == 2000
    with pytest.raises(ConfigError, match="learn_session_cap"):
        Config(learn_session_cap=-1).validate()
    f = tmp_path / "config.toml"
    f.write_text("learn_session_cap = 2000000\n")
    with pytest.raises(ConfigError, match=r"config.toml:1: learn_session_cap = 2000000: "
                                          r"expected an integer from 0 to 1000000"):
        load_config(f)
    f.write_text("learn_session_cap = 50\n")
    assert load_config(f).learn_session_cap == 50


def test_an_old_user_db_upgrades_and_learns_pairs(tmp_path):
    import sqlite3

    db = Path(tmp_path / "user.db")
    c = sqlite3.connect(db)
    c.executescript(
        "PRAGMA journal_mode = WAL;"
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
        "CREATE TABLE words (id INTEGER PRIMARY KEY, word TEXT NOT NULL, pinyin TEXT NOT NULL,"
        " likelihood REAL DEFAULT 0.0, prior REAL DEFAULT 0.0, commits INTEGER DEFAULT 0,"
        " last_tick INTEGER DEFAULT 0, deleted INTEGER DEFAULT 0, source TEXT DEFAULT"
        " 'learned');"
        "CREATE UNIQUE INDEX idx_words_word_pinyin ON words (word, pinyin);"
        "INSERT INTO meta VALUES ('app', 'delta-pinyin-user-lexicon'), ('schema_version', '1'),"
        " ('tick', '4');")
    c.close()
    lex, lm = parts()
    learner = open_learner(db)
    engine = Engine(lex, lm, Config(lm=False), learner=learner)
    pick_pieces(engine, "zhongguohao", ["中国", "号"])
    assert learner.store.schema_version == 3
    assert learner.store.get_pair("中国", "号") == HistoryEntry("中国", "号", 0.5, 1, 5)
    learner.close()
