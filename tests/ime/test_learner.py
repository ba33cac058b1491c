"""The learner through the engine, as a user would see it (full lexicon), and the user
lexicon's faults as the engine meets them (tiny lexicon): a write that fails pauses
learning and never reaches the caller."""

import itertools
import math
import os
import random
import shutil
import sqlite3
import stat
import subprocess
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import pytest

from ime import likelihood as lk
from ime.candidates import CandidateKind, CommitEvent, Pick
from ime.config import Config
from ime.engine import Engine
from ime.lattice import USER_WORD
from ime.learner import LearnedWords, open_learner
from lexicon.testing import tiny_parts
from lexicon.trie import encode
from lexicon.user_lexicon import UserEntry, UserLexicon

needs_lexicon = pytest.mark.needs_lexicon


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


@needs_lexicon
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


@needs_lexicon
def test_a_new_word_assembled_three_times_is_offered_whole_the_fourth(engine):
    word, keys = "字节序", "zijiexu"
    assert engine.lexicon.word_id(word) is None
    ctx = engine.new_context()
    ctx.type(keys)
    assert not [w for w in ctx.lattice.words_from(0) if w.text == word]  # not a word yet
    for _ in range(3):
        assemble(engine, keys, ["字节", "序"])
    ctx = engine.new_context()
    ctx.type(keys)
    assert ctx.candidates[0].text == word
    assert engine.learner.is_learned(word, ("zi", "jie", "xu"))
    whole = [w for w in ctx.lattice.words_from(0) if w.text == word]
    assert whole and whole[0].word_id == USER_WORD and whole[0].end == len(keys)


@needs_lexicon
def test_two_assemblies_do_not_make_a_word_yet(engine):
    for _ in range(2):
        assemble(engine, "zijiexu", ["字节", "序"])
    ctx = engine.new_context()
    ctx.type("zijiexu")
    assert not [w for w in ctx.lattice.words_from(0) if w.word_id == USER_WORD]


@needs_lexicon
def test_one_accidental_pick_of_a_long_phrase_does_not_stick(engine):
    keys = "woshizhongguoren"
    ctx = engine.new_context()
    ctx.type(keys)
    assert ctx.candidates[0].text == "我是中国人"
    junk = "卧室中国人"  # picked whole, below the top (the list may not show one that long)
    engine.on_commit(CommitEvent(keys, junk, (Pick(junk, ("wo", "shi", "zhong", "guo", "ren"),
                                                   keys, 5, CandidateKind.SENTENCE, ()),),
                                 ctx.sentences[0].words, ""))
    assert engine.learner.store.get(junk, ("wo", "shi", "zhong", "guo", "ren")) is not None
    assert top(engine, keys) == "我是中国人"


@needs_lexicon
def test_forget_removes_a_learned_word_and_demotes_a_system_word(engine):
    for _ in range(3):
        assemble(engine, "zijiexu", ["字节", "序"])
    assert top(engine, "zijiexu") == "字节序"
    assert engine.forget("字节序") == 1
    assert "字节序" not in [c.text for c in engine.convert("zijiexu")]
    assert engine.forget("西安") >= 1
    assert "西安" not in [c.text for c in engine.convert("xi'an")]
    assert engine.lexicon.word_id("西安") is not None  # demoted, not deleted from the trie


@needs_lexicon
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


@needs_lexicon
def test_learning_off_changes_nothing(full_engine, tmp_path):
    learner = open_learner(tmp_path / "user.db")
    e = Engine(full_engine.lexicon, full_engine.bigram, Config(learning=False), learner=learner)
    pick(e, "xianzai", "先在")
    assert top(e, "xianzai") == "现在" and len(learner.store) == 0
    learner.close()


# ---- faults: the user lexicon cannot be written --------------------------------------------


def tiny_engine_with(db: Path, **kw) -> Engine:
    lex, lm = tiny_parts()
    return Engine(lex, lm, Config(lm=False), learner=open_learner(db, **kw))


def choose(engine: Engine, keys: str, text: str) -> str:
    """Type `keys`, select `text` (a whole candidate); returns what was committed."""
    ctx = engine.new_context()
    ctx.type(keys)
    rank = [c.text for c in ctx.candidates].index(text)
    return ctx.select_candidate(rank).committed


def test_a_locked_user_lexicon_pauses_learning_and_the_commit_goes_through(tmp_path):
    import time

    db = tmp_path / "user.db"
    engine = tiny_engine_with(db, busy_timeout_ms=1000)
    learner = engine.learner
    assert choose(engine, "xianzai", "先在") == "先在" and learner.paused is None
    other = sqlite3.connect(db, isolation_level=None)  # another writer, holding the lock
    other.execute("BEGIN IMMEDIATE")
    t0 = time.perf_counter()
    assert choose(engine, "xi'an", "西安") == "西安"  # no exception, the text is committed
    assert time.perf_counter() - t0 >= 1.0  # it waited the busy timeout
    assert learner.paused is not None and "locked" in learner.paused
    assert str(db) in learner.paused
    t0 = time.perf_counter()
    assert engine.forget("先在") == 0  # nor does forgetting raise
    assert time.perf_counter() - t0 < 0.6  # and the retries do not wait that long again
    assert "locked" in learner.paused
    assert engine.convert("xianzai")[0].text == "先在"  # what was learned is still offered
    other.execute("ROLLBACK")
    choose(engine, "woshi", "我是")  # the next commit writes again
    assert learner.paused is None
    assert learner.store.get("先在", ("xian", "zai")) is not None
    assert engine.forget("先在") == 1
    learner.close()
    other.close()


def test_a_full_disk_pauses_learning_and_it_resumes(tmp_path):
    db = tmp_path / "user.db"
    engine = tiny_engine_with(db)
    learner = engine.learner
    choose(engine, "xianzai", "先在")
    conn = learner.store.conn  # SQLITE_FULL, as a full disk gives it
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    keys = {"中国": "zhongguo", "人民": "renmin", "我": "wo", "是": "shi", "你好": "nihao",
            "西安": "xi'an", "现在": "xianzai", "人": "ren"}
    for pieces in itertools.permutations(keys, 3):  # new sequences until a page is needed
        ctx = engine.new_context()
        ctx.type("'".join(keys[p] for p in pieces))
        for piece in pieces:
            st = ctx.select_candidate([c.text for c in ctx.candidates].index(piece))
        assert st.committed == "".join(pieces)  # the commit goes through, full or not
        if learner.paused:
            break
    assert learner.paused is not None and "disk is full" in learner.paused
    conn.execute("PRAGMA max_page_count = 1073741823")
    choose(engine, "nihao", "你好")
    choose(engine, "xianzai", "现在")
    assert learner.paused is None
    assert learner.store.get("先在", ("xian", "zai")) is not None  # nothing learned was lost
    assert learner.store.integrity() == ["ok"]
    learner.close()


@contextmanager
def read_only(path: Path):
    """`path` cannot be written, even by root (chattr +i)."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(
                ["chattr", "+i", str(path)], capture_output=True).returncode != 0:
            pytest.skip("running as root without chattr +i: cannot make a file read-only")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    path.chmod(0o444)
    try:
        yield
    finally:
        path.chmod(mode)


def test_a_read_only_user_db_pauses_learning_until_it_can_be_written(tmp_path):
    db = tmp_path / "user.db"
    engine = tiny_engine_with(db)
    choose(engine, "xianzai", "先在")
    engine.learner.close()
    listing = sorted(p.name for p in tmp_path.iterdir())
    with read_only(db):
        engine = tiny_engine_with(db)
        learner = engine.learner
        assert learner.paused is not None and "read-only" in learner.paused
        assert engine.convert("xianzai")[0].text == "先在"  # read: what it learned is there
        assert choose(engine, "xi'an", "西安") == "西安"  # the commit goes through
        assert engine.forget("先在") == 0 and "read-only" in learner.paused
        assert sorted(p.name for p in tmp_path.iterdir()) == listing  # nothing written
    choose(engine, "woshi", "我是")  # writable again: the learner reopens it and learns
    assert learner.paused is None and learner.store.read_only is None
    assert engine.forget("先在") == 1
    assert "先在" not in [c.text for c in engine.convert("xianzai")]
    learner.close()


# ---- what reaches the user lexicon ------------------------------------------------------------


def test_only_words_that_pass_check_word_are_learned(tmp_path):
    learner = open_learner(tmp_path / "user.db")
    lex, lm = tiny_parts()
    learner.bind(lex)

    def pick(text, sylls, rank=1):
        return Pick(text, sylls, "".join(sylls), rank, CandidateKind.WORD, ())

    for text in ("a\x00", "先\u200b在", "ab", "先在\n"):
        learner.learn(CommitEvent("xianzai", text, (pick(text, ("xian", "zai")),), (), ""))
    # pieces: the assembled "x" + 先 is not a word either, 先 alone is
    learner.learn(CommitEvent("xxian", "x先", (pick("x", ("x",)), pick("先", ("xian",))), (),
                              ""))
    assert [e.word for e in learner.store.entries(include_deleted=True)] == ["先"]
    learner.close()


def test_opening_a_large_user_lexicon_reads_little_of_it(tmp_path):
    """100 k entries: the learner queries them, it never holds them (the old view: ~60 MB)."""
    db = tmp_path / "user.db"
    store = UserLexicon(db)
    rng = random.Random(0)
    chars = [("西", "xi"), ("安", "an"), ("先", "xian"), ("在", "zai"), ("人", "ren"),
             ("中", "zhong"), ("国", "guo"), ("民", "min"), ("我", "wo"), ("是", "shi")]
    rows = {}
    while len(rows) < 100_000:
        picked = [rng.choice(chars) for _ in range(rng.choice((2, 3, 4, 5, 6)))]
        rows[("".join(c for c, _ in picked), tuple(s for _, s in picked))] = None
    store.put_many(UserEntry(w, s, 0.7, lk.THRESHOLD, 0, 0, False, "import") for w, s in rows)
    store.close()
    tracemalloc.start()
    engine = tiny_engine_with(db)
    for keys in ("xianzai", "zgr", "xi'an", "woshizhongguoren"):
        engine.convert(keys)
    choose(engine, "xianzai", "先在")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8e6, f"{peak / 1e6:.1f} MB allocated"
    assert engine.learner.words.lookup((("zhong", False), ("guo", False), ("ren", False)))
    engine.learner.close()


@pytest.fixture
def in_memory(request, monkeypatch):
    """The two ways the view answers: from its in-memory set of readings (a small user
    lexicon), or by queries (a large one: KNOWN_READINGS forced to 0)."""
    import ime.learner

    if not request.param:
        monkeypatch.setattr(ime.learner, "KNOWN_READINGS", 0)
    return request.param


@pytest.mark.parametrize("in_memory", [True, False], ids=["small", "large"], indirect=True)
def test_a_word_learned_after_its_first_letters_were_looked_up_is_offered_by_them(
        tmp_path, in_memory):
    engine = tiny_engine_with(tmp_path / "user.db")
    choose(engine, "xianzai", "先在")  # the user lexicon is not empty: its answers memoised

    def words(keys: str) -> dict:
        ctx = engine.new_context()
        ctx.type(keys)
        return {w.text: w for w in ctx.lattice.words_from(0)}

    assert "中国人民" not in words("zgrm")  # asked, answered "nothing", memoised
    for _ in range(3):
        ctx = engine.new_context()
        ctx.type("zhongguorenmin")
        for piece in ("中国人", "民"):
            st = ctx.select_candidate([c.text for c in ctx.candidates].index(piece))
        assert st.committed == "中国人民"
    found = words("zgrm")
    assert "中国人民" in found and found["中国人民"].word_id == USER_WORD
    engine.learner.close()


def reference_view(entries: list[UserEntry], tick: int, is_system):
    """The learner's view computed naively from every entry (the previous in-memory view)."""
    adjust, offered = {}, {}
    for e in entries:
        key = (e.word, e.syllables)
        if e.deleted:
            adjust[key] = -math.inf
            continue
        L = lk.decay(e.likelihood, e.prior, tick - e.last_tick)
        system = is_system(e.word, e.syllables)
        adjust[key] = lk.score_adjustment(L, system)
        if (system and adjust[key] > 0) or (not system and L >= lk.THRESHOLD):
            offered[key] = None if system else lk.new_word_logp(L)
    return adjust, offered


@pytest.mark.parametrize("in_memory", [True, False], ids=["small", "large"], indirect=True)
def test_the_queried_view_equals_the_naive_one(tmp_path, in_memory):
    lex, _ = tiny_parts()
    store = UserLexicon(tmp_path / "user.db")
    rng = random.Random(3)
    chars = [("西", "xi"), ("安", "an"), ("先", "xian"), ("现", "xian"), ("在", "zai"),
             ("人", "ren"), ("中", "zhong"), ("国", "guo"), ("民", "min"), ("你", "ni"),
             ("好", "hao")]
    rows = {}
    for w, s, _ in [(w, s, 0) for w, s in [("现在", ("xian", "zai")), ("西安", ("xi", "an"))]]:
        rows[(w, s)] = UserEntry(w, s, 0.8, 0.5, 1, 40, False, "system")
    while len(rows) < 3000:
        picked = [rng.choice(chars) for _ in range(rng.choice((1, 2, 2, 3, 4)))]
        key = ("".join(c for c, _ in picked), tuple(s for _, s in picked))
        rows[key] = UserEntry(*key, rng.random(), rng.choice((0.0, 0.5)), rng.randrange(4),
                              rng.randrange(3000), rng.random() < 0.05, "learned")
    store.put_many(rows.values())
    store.set_tick(3000)

    def is_system(w, s):
        wid = lex.word_id(w)
        return wid is not None and any(x == wid for x, _ in lex.full.get(encode(s), ()))

    view = LearnedWords(store, is_system)
    view.refresh(3000)
    assert (view._known is not None) == in_memory
    adjust, offered = reference_view(list(rows.values()), 3000, is_system)
    for (w, s), adj in adjust.items():
        assert view.adjustment(w, s) == adj
    assert view.adjustment("没有", ("mei", "you")) == 0.0
    assert view.forgotten == {k for k, e in rows.items() if e.deleted}
    sylls = sorted({s for _, s in rows})
    for s in sylls:
        full = tuple((x, False) for x in s)
        assert sorted(view.lookup(full)) == sorted(
            (w, s2, lp) for (w, s2), lp in offered.items() if s2 == s)
        initials = tuple((x[0], True) for x in s)
        assert sorted(view.lookup(initials)) == sorted(
            (w, s2, lp) for (w, s2), lp in offered.items()
            if len(s2) == len(s) and all(a[0] == b[0] for a, b in zip(s2, s)))
        for i in range(1, len(s) + 1):  # every prefix of an offered word is found
            if any(s2[:i] == s[:i] for (_, s2) in offered):
                assert view.has_prefix(full[:i]) and view.has_prefix(initials[:i])
    assert not view.has_prefix((("hao", False), ("hao", False), ("hao", False),
                                ("hao", False), ("hao", False)))
    store.close()


def test_a_first_letter_look_up_in_a_large_lexicon_returns_the_best_words(tmp_path,
                                                                          monkeypatch):
    """Thousands may match 'xa': the lattice keeps a span's 24 best, the view the best 48
    new words (and every promoted system word)."""
    import ime.learner

    monkeypatch.setattr(ime.learner, "KNOWN_READINGS", 0)
    lex, _ = tiny_parts()
    store = UserLexicon(tmp_path / "user.db")
    chars = [("西", "xi"), ("先", "xian"), ("戏", "xi"), ("喜", "xi"), ("现", "xian")]
    seconds = [("安", "an"), ("爱", "ai"), ("按", "an"), ("暗", "an"), ("昂", "ang"),
               ("案", "an"), ("岸", "an")]
    rows = [UserEntry(a + b, (pa, pb), 0.5 + 0.45 * i / 35, 0.0, 1, 0, False, "learned")
            for i, ((a, pa), (b, pb)) in enumerate((x, y) for x in chars for y in seconds)]
    rows += [UserEntry(f"西{c}", ("xi", "an"), 0.5 + 0.001 * i, 0.0, 1, 0, False, "learned")
             for i, c in enumerate("一二三四五六七八九十百千万亿兆京垓秭穰沟涧正载极恒河沙"
                                   "阿僧祇那由他不可思议无量大数甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳"
                                   "午未申酉戌亥金木水火土日月星辰山川江海湖泊风雨雷电春夏秋冬东"
                                   "南西北上下左右前后里外")]
    rows.append(UserEntry("西安", ("xi", "an"), 0.9, 0.5, 1, 0, False, "system"))
    store.put_many(rows)
    view = LearnedWords(store, lambda w, s: w == "西安")
    view.refresh(0)
    hits = view.lookup((("x", True), ("a", True)))
    assert ("西安", ("xi", "an"), None) in hits  # promoted: always there
    new = [h for h in hits if h[2] is not None]
    assert len(new) == ime.learner.MAX_NEW_WORD_HITS < len(rows) - 1
    score = {(e.word, e.syllables): view.adjustment(e.word, e.syllables) for e in rows}
    cut = min(score[(w, s)] for w, s, _ in new)
    assert all(score[k] <= cut for k in score if (k[0], k[1], -7.0) not in new
               and k != ("西安", ("xi", "an")))  # none left out is better than one kept
    # a pattern that fixes the first syllable is asked of the readings that begin with it
    assert {w for w, _, _ in view.lookup((("xian", False), ("a", True)))} == {
        a + b for (a, pa) in chars if pa == "xian" for (b, pb) in seconds if pb.startswith("a")}
    store.close()
