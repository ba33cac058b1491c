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
         ("号", ("hao",), 300), ("中", ("zhong",), 500), ("国", ("guo",), 400),
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
    pick_pieces(engine, "wohao", ["我", "号"])  # two single characters: never a pair
    assert engine.learner.store.get_pair("我", "号") is None
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
    pick_pieces(engine, "xianzai", ["先在"])  # one entry each: 先在, then 泥
    pick_pieces(engine, "ni", ["泥"])
    assert len(learner.store) == 2 and learner.session_added == 2
    before = learner.store.get("先在", ("xian", "zai")).likelihood
    pick_pieces(engine, "hao", ["号"])  # a third entry: refused
    assert learner.store.get("号", ("hao",)) is None and len(learner.store) == 2
    pick_pieces(engine, "xianzai", ["现在"])  # 先在 loses what it gained; 现在 is no entry
    assert learner.store.get("先在", ("xian", "zai")).likelihood < before
    assert learner.store.get("现在", ("xian", "zai")) is None
    pick_pieces(engine, "xianzai", ["先在"])
    assert learner.store.get("先在", ("xian", "zai")).commits == 2  # still learning
    learner.close()
    learner = open_learner(tmp_path / "user.db")  # a new session may add again
    engine = Engine(lex, lm, Config(lm=False, learn_session_cap=2), learner=learner)
    pick_pieces(engine, "hao", ["号"])
    assert learner.store.get("号", ("hao",)) is not None
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


# ---- the formulas (ime.likelihood) and the index (ime.history) ------------------------------


def test_a_rejection_takes_back_what_learning_gave_a_system_word_and_no_more():
    promoted = lk.gain(lk.SYSTEM_PRIOR, lk.selection_gain(2))
    once = lk.system_loss(promoted, 2)
    assert lk.SYSTEM_PRIOR < once < promoted
    floor = promoted
    for _ in range(20):
        floor = lk.system_loss(floor, 2)
    assert floor == lk.SYSTEM_PRIOR  # back to the dictionary's word, never below
    assert lk.system_loss(0.4, 2) == 0.4  # below it (a file of an older version): unchanged
    assert lk.loss(0.8, 0.5) == pytest.approx(0.4)  # a learned new word still loses half


def test_a_picked_character_stops_at_its_ceiling_and_a_word_goes_on():
    c = w = lk.SYSTEM_PRIOR
    for _ in range(30):
        c = lk.gain(c, lk.selection_gain(1), lk.gain_ceiling(1, True))
        w = lk.gain(w, lk.selection_gain(2), lk.gain_ceiling(2, True))
    assert c <= lk.CHAR_CEILING and c == pytest.approx(lk.CHAR_CEILING, abs=1e-2)
    assert w == pytest.approx(0.9, abs=1e-2)
    assert lk.gain_ceiling(1, False) == 0.9  # a learned one-character word: the usual


def test_pair_strength_rises_falls_and_the_longest_previous_word_matches():
    s1 = lk.history_gain(0.0)
    s2 = lk.history_gain(s1)
    assert (s1, s2) == (0.5, 0.75) and lk.history_loss(s2) == 0.375
    assert lk.history_bonus(s2) == pytest.approx(0.75 * lk.HISTORY_SCALE)
    h = HistoryBigram()
    h.load([HistoryEntry("国", "号", 0.5, 1, 10), HistoryEntry("中国", "号", 1.0, 2, 10)], 10)
    assert h.after("我们中国", "号") == lk.history_bonus(1.0)  # 中国, not 国
    assert h.after("美国", "号") == lk.history_bonus(0.5)
    assert h.after("", "号") == 0.0 and h.after("中国", "好") == 0.0
    h.drop_word("中国")
    assert len(h) == 1 and h.after("我们中国", "号") == lk.history_bonus(0.5)
