"""`python main.py lexicon export|import` on a tiny system lexicon and a temporary user DB."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from helpers import sibling

import main
from cli.lexicon import export_entries, import_likelihood, system_logp
from ime import likelihood as lk
from ime.engine import Engine
from ime.learner import open_learner
from lexicon.build import BUILD_VERSION, FILES
from lexicon.formats import TSV_HEADER, FormatEntry, read_entries, write_entries
from lexicon.ngram import BigramModel, estimate_kneser_ney
from lexicon.trie import SystemLexicon
from lexicon.user_lexicon import UserEntry, UserLexicon

# (word, syllables, log P(reading | word)) and a corpus count per word
SYSTEM = [
    ("你", ("ni",), 0.0), ("好", ("hao",), 0.0),
    ("现", ("xian",), 0.0), ("先", ("xian",), 0.0), ("在", ("zai",), 0.0), ("再", ("zai",), 0.0),
    ("测", ("ce",), 0.0), ("侧", ("ce",), 0.0), ("试", ("shi",), 0.0), ("是", ("shi",), 0.0),
    ("词", ("ci",), 0.0), ("此", ("ci",), 0.0), ("条", ("tiao",), 0.0),
    ("行", ("xing",), math.log(0.7)), ("行", ("hang",), math.log(0.3)),
    ("你好", ("ni", "hao"), 0.0), ("现在", ("xian", "zai"), 0.0), ("测试", ("ce", "shi"), 0.0),
]
COUNTS = {"你": 50, "好": 40, "现": 5, "先": 20, "在": 60, "再": 15, "测": 2, "侧": 1, "试": 3,
          "是": 90, "词": 4, "此": 6, "条": 8, "行": 30, "你好": 25, "现在": 35, "测试": 10}
NEW_WORD = "测试词条"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built system lexicon (tries, bigram model, meta.json) that `is_built` accepts."""
    d = tmp_path_factory.mktemp("cache")
    entries = SYSTEM
    lexicon = SystemLexicon.from_entries(entries)
    V = len(lexicon.words)
    counts = np.zeros(V)
    for w, c in COUNTS.items():
        counts[lexicon.words[w]] = c
    lex_logp = np.log((counts + 0.5) / (counts.sum() + 0.5 * V))
    ids = lexicon.words
    clauses = [[ids["你好"]], [ids["现在"], ids["是"]], [ids["测试"], ids["词"], ids["条"]],
               [ids["在"], ids["行"]], [ids["你"], ids["好"]]]
    model = estimate_kneser_ney(clauses, lex_logp)
    lexicon.save(d)
    model.save(d / "bigram.npz")
    (d / "meta.json").write_text(json.dumps({"version": BUILD_VERSION}), encoding="utf-8")
    assert all((d / f).exists() for f in FILES)
    return d


@pytest.fixture
def user_db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "user.db"


def run(cache_dir: Path, user_db: Path, *argv: str) -> int:
    return main.main(["--cache-dir", str(cache_dir), "--user-db", str(user_db), "lexicon",
                      *argv])


def load(cache_dir: Path) -> tuple[SystemLexicon, BigramModel]:
    return SystemLexicon.load(cache_dir), BigramModel.load(cache_dir / "bigram.npz")


def user_rows(user_db: Path) -> list[UserEntry]:
    store = UserLexicon(user_db)
    try:
        return store.entries(include_deleted=True)
    finally:
        store.close()


def write_tsv(path: Path, rows: list[tuple[str, str, float]]) -> Path:
    path.write_text(TSV_HEADER + "\n" + "".join(f"{w}\t{p}\t{lp}\n" for w, p, lp in rows),
                    encoding="utf-8")
    return path


# ---- export ------------------------------------------------------------------------------------


def test_full_export_is_every_system_entry_best_first(cache_dir: Path, user_db: Path,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "all.tsv"
    assert run(cache_dir, user_db, "export", "--format", "tsv", "--out", str(out)) == 0
    got = read_entries(out, "tsv")
    lexicon, bigram = load(cache_dir)
    expected = {(w, s): bigram.unigram(lexicon.word_id(w)) + lp for w, s, lp in SYSTEM}
    assert {(e.word, e.syllables) for e in got} == set(expected)
    for e in got:
        assert e.logp == pytest.approx(expected[(e.word, e.syllables)])
    assert [e.logp for e in got] == sorted((e.logp for e in got), reverse=True)


def test_export_merges_learned_promoted_and_forgotten(cache_dir: Path, user_db: Path,
                                                      tmp_path: Path) -> None:
    lexicon, bigram = load(cache_dir)
    store = UserLexicon(user_db)
    tick = store.tick
    store.put_many([
        UserEntry(NEW_WORD, ("ce", "shi", "ci", "tiao"), 0.75, 0.0, 3, tick, False, "learned"),
        UserEntry("此条", ("ci", "tiao"), 0.3, 0.0, 1, tick, False, "learned"),  # below threshold
        UserEntry("现在", ("xian", "zai"), 0.3, 0.5, 5, tick, False, "system"),  # demoted
        UserEntry("现", ("xian",), 0.6, 0.5, 2, tick, False, "system"),  # promoted
        UserEntry("行", ("hang",), 0.0, 0.5, 0, tick, True, "system"),  # forgotten
    ])
    store.close()

    out = tmp_path / "all.tsv"
    assert run(cache_dir, user_db, "export", "--format", "tsv", "--out", str(out)) == 0
    rows = read_entries(out, "tsv")
    got = {(e.word, e.syllables): e.logp for e in rows if not e.forgotten}
    assert [(e.word, e.syllables) for e in rows if e.forgotten] == [("行", ("hang",))]
    assert rows[-1].forgotten  # the tombstones come after the ranked entries
    assert got[(NEW_WORD, ("ce", "shi", "ci", "tiao"))] == pytest.approx(
        min(lk.NEW_WORD_LOGP + lk.score_adjustment(0.75, system_word=False), 0.0))
    for word, sylls, L in (("现在", ("xian", "zai"), 0.3), ("现", ("xian",), 0.6)):
        base = system_logp(lexicon, bigram, word, sylls)
        assert base is not None
        assert got[(word, sylls)] == pytest.approx(
            min(base + lk.score_adjustment(L, system_word=True), 0.0))
    assert got[("现在", ("xian", "zai"))] < system_logp(lexicon, bigram, "现在", ("xian", "zai"))
    assert got[("现", ("xian",))] > system_logp(lexicon, bigram, "现", ("xian",))
    assert ("此条", ("ci", "tiao")) not in got
    assert ("行", ("hang",)) not in got and ("行", ("xing",)) in got
    assert out.stat().st_mode & 0o777 == 0o600  # it holds the user's words

    mine = tmp_path / "mine.dict.yaml"
    assert run(cache_dir, user_db, "export", "--out", str(mine), "--user-only") == 0
    assert mine.stat().st_mode & 0o777 == 0o600
    exported = [(e.word, e.syllables) for e in read_entries(mine, "rime")]
    assert sorted(exported) == sorted([("现在", ("xian", "zai")), ("现", ("xian",)),
                                       (NEW_WORD, ("ce", "shi", "ci", "tiao"))])
    logps = [got[k] for k in exported]
    assert logps == sorted(logps, reverse=True)  # best first, as in the full export


def test_export_errors_are_one_line(cache_dir: Path, user_db: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cache_dir, user_db, "export", "--out", str(tmp_path / "no" / "x.tsv")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no such directory" in err and err.count("\n") == 1
    assert run(cache_dir, user_db, "export", "--out", str(tmp_path / "x.unknown")) == 2
    assert "pass --format" in capsys.readouterr().err


# ---- import ------------------------------------------------------------------------------------


def _word_candidates(engine: Engine, keys: str) -> set[str]:
    """Lattice words of every candidate (a sentence 测试+词+条 is not the word 测试词条)."""
    return {w.text for c in engine.convert(keys) for w in c.words}


def test_imported_word_becomes_a_candidate(cache_dir: Path, user_db: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    lexicon, bigram = load(cache_dir)
    learner = open_learner(user_db)
    try:
        assert NEW_WORD not in _word_candidates(Engine(lexicon, bigram, learner=learner),
                                                "ceshicitiao")
    finally:
        learner.close()

    src = write_tsv(tmp_path / "new.tsv", [(NEW_WORD, "ce shi ci tiao", -5.0)])
    assert run(cache_dir, user_db, "import", str(src)) == 0
    assert "1 added" in capsys.readouterr().out
    (row,) = user_rows(user_db)
    assert (row.word, row.source, row.deleted) == (NEW_WORD, "import", False)
    assert lk.NEW_WORD_LOGP + lk.score_adjustment(row.likelihood, False) == pytest.approx(-5.0)

    learner = open_learner(user_db)
    try:
        engine = Engine(lexicon, bigram, learner=learner)
        assert NEW_WORD in _word_candidates(engine, "ceshicitiao")
        assert any(c.text == NEW_WORD and c.learned for c in engine.convert("ceshicitiao"))
    finally:
        learner.close()


def test_import_system_word_only_if_higher(cache_dir: Path, user_db: Path,
                                           tmp_path: Path) -> None:
    lexicon, bigram = load(cache_dir)
    base_now = system_logp(lexicon, bigram, "现", ("xian",))
    base_first = system_logp(lexicon, bigram, "先", ("xian",))
    assert base_now is not None and base_first is not None and base_now < -3.0
    src = write_tsv(tmp_path / "sys.tsv", [
        ("现", "xian", base_now + 2.4),  # higher: raised so that the score matches
        ("先", "xian", base_first - 3.0),  # lower: the system's score stays
    ])
    assert run(cache_dir, user_db, "import", str(src)) == 0
    (row,) = user_rows(user_db)
    assert row.word == "现" and row.prior == lk.SYSTEM_PRIOR and row.source == "import"
    assert base_now + lk.score_adjustment(row.likelihood, True) == pytest.approx(base_now + 2.4)


def test_import_likelihood_inverts_score_adjustment() -> None:
    L = import_likelihood(lk.NEW_WORD_LOGP + 1.5, None)
    assert lk.NEW_WORD_LOGP + lk.score_adjustment(L, False) == pytest.approx(lk.NEW_WORD_LOGP + 1.5)
    L = import_likelihood(-8.0, -9.0)
    assert -9.0 + lk.score_adjustment(L, True) == pytest.approx(-8.0)
    # clipped: a new word always takes part in decoding; nothing goes past 0.95 or below 0.05
    assert import_likelihood(lk.NEW_WORD_LOGP, None) == pytest.approx(lk.THRESHOLD)
    assert import_likelihood(-60.0, None) == lk.THRESHOLD
    assert import_likelihood(lk.NEW_WORD_LOGP + 100.0, None) == 0.95
    assert import_likelihood(-1.0, -40.0) == 0.95
    assert import_likelihood(-40.0, -1.0) == 0.05


@pytest.mark.parametrize("fmt", ["rime", "libime", "tsv"])
def test_reimporting_an_export_changes_nothing(cache_dir: Path, user_db: Path, tmp_path: Path,
                                               fmt: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"all.{fmt}"
    assert run(cache_dir, user_db, "export", "--format", fmt, "--out", str(out)) == 0
    capsys.readouterr()
    assert run(cache_dir, user_db, "import", str(out), "--format", fmt) == 0
    assert "0 added, 0 updated" in capsys.readouterr().out
    assert user_rows(user_db) == []


def test_bad_file_imports_nothing(cache_dir: Path, user_db: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    good = write_tsv(tmp_path / "good.tsv", [("此条", "ci tiao", -6.0)])
    assert run(cache_dir, user_db, "import", str(good)) == 0
    before = user_rows(user_db)
    bad = write_tsv(tmp_path / "bad.tsv", [(NEW_WORD, "ce shi ci tiao", -5.0),
                                           ("现在", "xian zia", -4.0)])
    capsys.readouterr()
    assert run(cache_dir, user_db, "import", str(bad)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "line 3" in err and "zia" in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert user_rows(user_db) == before


def test_import_scel(cache_dir: Path, user_db: Path, tmp_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    make_scel = sibling("lexicon/test_formats").make_scel

    src = tmp_path / "cell.scel"
    src.write_bytes(make_scel([(["ce", "shi", "ci", "tiao"], [NEW_WORD])]))
    assert run(cache_dir, user_db, "import", str(src)) == 0
    assert "1 added" in capsys.readouterr().out
    (row,) = user_rows(user_db)
    assert row.word == NEW_WORD and row.likelihood == pytest.approx(lk.THRESHOLD)
    truncated = tmp_path / "cut.scel"
    truncated.write_bytes(src.read_bytes()[:-5])
    assert run(cache_dir, user_db, "import", str(truncated)) == 2
    assert "byte offset" in capsys.readouterr().err


def test_forgotten_words_stay_forgotten(cache_dir: Path, user_db: Path, tmp_path: Path) -> None:
    store = UserLexicon(user_db)
    store.put_many([UserEntry(NEW_WORD, ("ce", "shi", "ci", "tiao"), 0.0, 0.0, 2, 0, True,
                              "learned")])
    store.close()
    src = write_tsv(tmp_path / "w.tsv", [(NEW_WORD, "ce shi ci tiao", -3.0)])
    assert run(cache_dir, user_db, "import", str(src)) == 0
    (row,) = user_rows(user_db)
    assert row.deleted


def _forget_two(cache_dir: Path, user_db: Path) -> None:
    """The user forgets a system word (现在) and a word learned before (测试词条)."""
    lexicon, bigram = load(cache_dir)
    store = UserLexicon(user_db)
    store.put_many([UserEntry(NEW_WORD, ("ce", "shi", "ci", "tiao"), 0.8, 0.0, 3, 0, False,
                              "learned")])
    store.close()
    learner = open_learner(user_db)
    try:
        engine = Engine(lexicon, bigram, learner=learner)
        assert engine.forget("现在") == 1 and engine.forget(NEW_WORD) == 1
    finally:
        learner.close()


def _offered(cache_dir: Path, user_db: Path, keys: str) -> set[str]:
    lexicon, bigram = load(cache_dir)
    learner = open_learner(user_db)
    try:
        return {c.text for c in Engine(lexicon, bigram, learner=learner).convert(keys)}
    finally:
        learner.close()


@pytest.mark.parametrize("user_only", [True, False], ids=["user-only", "full"])
def test_a_forgotten_word_stays_forgotten_after_export_and_import_into_a_fresh_lexicon(
        cache_dir: Path, user_db: Path, tmp_path: Path, user_only: bool,
        capsys: pytest.CaptureFixture[str]) -> None:
    _forget_two(cache_dir, user_db)
    assert "现在" in _offered(cache_dir, tmp_path / "plain.db", "xianzai")  # a system word
    out = tmp_path / "mine.tsv"
    assert run(cache_dir, user_db, "export", "--out", str(out),
               *(["--user-only"] if user_only else [])) == 0
    assert "and 2 forgotten words" in capsys.readouterr().out
    fresh = tmp_path / "other" / "user.db"
    assert run(cache_dir, fresh, "import", str(out)) == 0
    assert "2 forgotten as the file says" in capsys.readouterr().out
    forgotten = {(e.word, e.syllables) for e in user_rows(fresh) if e.deleted}
    assert forgotten == {("现在", ("xian", "zai")), (NEW_WORD, ("ce", "shi", "ci", "tiao"))}
    assert "现在" not in _offered(cache_dir, fresh, "xianzai")
    assert NEW_WORD not in _offered(cache_dir, fresh, "ceshicitiao")
    # and the next export from there carries them on
    again = tmp_path / "again.tsv"
    assert run(cache_dir, fresh, "export", "--out", str(again), "--user-only") == 0
    assert {(e.word, e.syllables) for e in read_entries(again, "tsv") if e.forgotten} \
        == forgotten


def test_a_tombstone_wins_over_an_entry_and_forgets_a_word_the_lexicon_has(
        cache_dir: Path, user_db: Path, tmp_path: Path) -> None:
    store = UserLexicon(user_db)
    store.put_many([UserEntry("此条", ("ci", "tiao"), 0.9, 0.0, 4, 0, False, "learned")])
    store.close()
    src = tmp_path / "t.tsv"
    src.write_text(f"{TSV_HEADER}\n{NEW_WORD}\tce shi ci tiao\t-2.0\n"
                   f"{NEW_WORD}\tce shi ci tiao\tforgotten\n此条\tci tiao\tforgotten\n",
                   encoding="utf-8")
    assert run(cache_dir, user_db, "import", str(src)) == 0
    rows = {e.word: e for e in user_rows(user_db)}
    assert rows[NEW_WORD].deleted and rows["此条"].deleted
    assert rows["此条"].commits == 4 and rows["此条"].source == "learned"  # the rest kept


def test_an_old_v1_export_still_imports(cache_dir: Path, user_db: Path,
                                        tmp_path: Path) -> None:
    src = tmp_path / "old.tsv"
    src.write_text(f"# delta-pinyin tsv v1\n{NEW_WORD}\tce shi ci tiao\t-5.0\n",
                   encoding="utf-8")
    assert run(cache_dir, user_db, "import", str(src)) == 0
    (row,) = user_rows(user_db)
    assert (row.word, row.deleted, row.source) == (NEW_WORD, False, "import")


def test_a_rime_export_says_it_leaves_the_forgotten_words_out(
        cache_dir: Path, user_db: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _forget_two(cache_dir, user_db)
    out = tmp_path / "mine.dict.yaml"
    assert run(cache_dir, user_db, "export", "--out", str(out), "--user-only") == 0
    captured = capsys.readouterr()
    assert "2 forgotten words are left out" in captured.err and "--format tsv" in captured.err
    assert all(e.word not in ("现在", NEW_WORD) for e in read_entries(out, "rime"))


def test_export_entries_scales(cache_dir: Path, user_db: Path, tmp_path: Path) -> None:
    """The library call behind `export`: user-only on an empty user lexicon is empty."""
    lexicon, bigram = load(cache_dir)
    store = UserLexicon(user_db)
    try:
        assert export_entries(lexicon, bigram, store, user_only=True) == []
        every = export_entries(lexicon, bigram, store)
    finally:
        store.close()
    assert len(every) == len(SYSTEM)
    out = tmp_path / "x.tsv"
    write_entries(every, out, "tsv")
    assert read_entries(out, "tsv") == [FormatEntry(e.word, e.syllables, e.logp) for e in every]


def test_skip_bad_imports_the_rest_and_says_what_was_left_out(
        cache_dir: Path, user_db: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_tsv(tmp_path / "bad.tsv", [(NEW_WORD, "ce shi ci tiao", -5.0),
                                           ("现在", "xian zia", -4.0)])
    assert run(cache_dir, user_db, "import", str(bad), "--skip-bad") == 0
    err = capsys.readouterr().err
    assert "skipped:" in err and "line 3" in err and "zia" in err
    assert [r.word for r in user_rows(user_db)] == [NEW_WORD]
    make_scel = sibling("lexicon/test_formats").make_scel
    src = tmp_path / "cell.scel"  # a group whose word has fewer characters than syllables
    src.write_bytes(make_scel([(["ce", "shi", "ci", "tiao"], ["测试"]), (["ci", "tiao"], ["词条"])]))
    assert run(cache_dir, user_db, "import", str(src)) == 2
    assert run(cache_dir, user_db, "import", str(src), "--skip-bad") == 0
    assert "byte offset" in capsys.readouterr().err


# ---- a refused user.db: every command says so in one line and changes nothing --------------


def _snapshot(directory: Path) -> dict[str, tuple[int, int, bytes]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(directory.iterdir())}


def _foreign_wal(p: Path) -> None:
    c = sqlite3.connect(p)
    c.execute("PRAGMA journal_mode = WAL")
    c.execute("CREATE TABLE notes (x)")
    c.commit()
    c.close()


def _ours_then(p: Path, statement: str) -> None:
    UserLexicon(p).close()
    c = sqlite3.connect(p)
    c.execute(statement)
    c.commit()
    c.close()


BAD_DBS = {
    "foreign-wal": (_foreign_wal, "another program's SQLite database"),
    "newer": (lambda p: _ours_then(p, "UPDATE meta SET value = '9' WHERE key = "
                                      "'schema_version'"), "schema version 9 is newer"),
    "non-numeric": (lambda p: _ours_then(p, "UPDATE meta SET value = '2b' WHERE key = "
                                            "'schema_version'"), "'2b' is not a number"),
    "truncated": (lambda p: (_ours_then(p, "SELECT 1"),
                             p.write_bytes(p.read_bytes()[:5000])), "truncated"),
}
COMMANDS = {
    "info": ["lexicon", "info"],
    "export": ["lexicon", "export", "--out", "{tmp}/out.tsv"],
    "import": ["lexicon", "import", "{tmp}/in.tsv"],
    "forget": ["lexicon", "forget", "你好"],
    "console": ["console"],
    "replay": ["replay", "{tmp}/log.jsonl", "--quiet"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("bad", list(BAD_DBS))
def test_every_command_refuses_a_bad_user_db_in_one_line_and_changes_nothing(
        cache_dir: Path, tmp_path: Path, bad: str, command: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    make, message = BAD_DBS[bad]
    data = tmp_path / "data"
    data.mkdir()
    db = data / "user.db"
    make(db)
    write_tsv(tmp_path / "in.tsv", [(NEW_WORD, "ce shi ci tiao", -5.0)])
    (tmp_path / "log.jsonl").write_text('{"keys": "nihao", "text": "你好"}\n', encoding="utf-8")
    before = _snapshot(data)
    argv = [a.format(tmp=tmp_path) for a in COMMANDS[command]]
    assert main.main(["--cache-dir", str(cache_dir), "--user-db", str(db), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {db}: ") and err.count("\n") == 1, err
    assert message in err and "Traceback" not in err and "invalid literal" not in err
    assert _snapshot(data) == before
    assert not (tmp_path / "out.tsv").exists()


# ---- repair, reset, and a lexicon another program holds --------------------------------------


def test_repair_salvages_a_damaged_user_db_and_reset_starts_empty(
        cache_dir: Path, user_db: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    store = UserLexicon(user_db)
    store.put_many(UserEntry(f"测试{i}", ("ce", "shi"), 0.6, 0.5, 1, 0, False, "import")
                   for i in range(2000))
    store.close()
    assert run(cache_dir, user_db, "repair") == 0
    assert "nothing to repair" in capsys.readouterr().out  # sound: left as it is
    cut = len(user_db.read_bytes()) // 2 // 4096 * 4096 + 100
    user_db.write_bytes(user_db.read_bytes()[:cut])  # truncated: half its pages
    assert run(cache_dir, user_db, "info") == 2
    assert "lexicon repair" in capsys.readouterr().err
    assert run(cache_dir, user_db, "repair") == 0
    out = capsys.readouterr().out
    assert "truncated" in out and "entries salvaged" in out and "kept as" in out
    backups = [p for p in user_db.parent.iterdir() if p.name.startswith("user.db.broken-")]
    assert len(backups) == 1 and len(backups[0].read_bytes()) == cut
    assert run(cache_dir, user_db, "info") == 0
    salvaged = int(capsys.readouterr().out.split("user lexicon:")[1].split()[0])
    assert 0 < salvaged < 2000
    assert run(cache_dir, user_db, "reset") == 0
    assert "the old file is kept as" in capsys.readouterr().out
    assert run(cache_dir, user_db, "info") == 0
    assert "user lexicon:   0 entries" in capsys.readouterr().out
    assert len([p for p in user_db.parent.iterdir() if ".reset-" in p.name]) == 1


def test_forget_while_another_program_holds_the_write_lock_is_an_error(
        cache_dir: Path, user_db: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import cli.lexicon

    UserLexicon(user_db).close()
    monkeypatch.setattr(cli.lexicon, "CLI_BUSY_TIMEOUT_MS", 100)
    other = sqlite3.connect(user_db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert run(cache_dir, user_db, "forget", "你好") == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "locked by another program" in err
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert run(cache_dir, user_db, "forget", "你好") == 0


def test_import_reads_and_writes_a_big_file_a_batch_at_a_time(
        cache_dir: Path, user_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """20 k entries: Python's allocations stay at a batch's worth (the list of every entry
    and every line, as before: tens of MB)."""
    import tracemalloc

    import cli.lexicon

    chars = [("测", "ce"), ("试", "shi"), ("词", "ci"), ("条", "tiao"), ("你", "ni"),
             ("好", "hao"), ("现", "xian"), ("在", "zai")]
    rows = []
    for i in range(20_000):
        picked = [chars[(i >> (3 * k)) % 8] for k in range(6)]
        rows.append(("".join(c for c, _ in picked), " ".join(s for _, s in picked), -8.0))
    src = write_tsv(tmp_path / "big.tsv", rows)
    monkeypatch.setattr(cli.lexicon, "BATCH", 1000)
    UserLexicon(user_db).close()
    tracemalloc.start()
    try:
        assert run(cache_dir, user_db, "import", str(src)) == 0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "20000 entries read; 20000 added" in capsys.readouterr().out
    assert peak < 4e6, f"{peak / 1e6:.1f} MB"
    store = UserLexicon(user_db)
    assert len(store) == 20_000 and store.integrity() == ["ok"]
    store.close()


def test_a_read_only_user_db_is_read_but_never_written(
        cache_dir: Path, user_db: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import os
    import shutil
    import subprocess

    store = UserLexicon(user_db)
    store.put_many([UserEntry(NEW_WORD, ("ce", "shi", "ci", "tiao"), 0.75, 0.0, 3, 0, False,
                              "learned")])
    store.close()
    if os.geteuid() == 0:  # root writes whatever the mode: the immutable flag stops it
        if shutil.which("chattr") is None or subprocess.run(
                ["chattr", "+i", str(user_db)], capture_output=True).returncode != 0:
            pytest.skip("running as root without chattr +i")
        undo = ["chattr", "-i", str(user_db)]
    else:
        user_db.chmod(0o444)
        undo = ["chmod", "600", str(user_db)]
    try:
        before = _snapshot(user_db.parent)
        src = write_tsv(tmp_path / "w.tsv", [("此条", "ci tiao", -6.0)])
        assert run(cache_dir, user_db, "import", str(src)) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {user_db}: cannot write (the file is read-only)")
        assert run(cache_dir, user_db, "forget", NEW_WORD) == 2
        assert "read-only" in capsys.readouterr().err
        assert run(cache_dir, user_db, "info") == 0
        assert "1 entries" in capsys.readouterr().out
        out = tmp_path / "mine.tsv"
        assert run(cache_dir, user_db, "export", "--out", str(out), "--user-only") == 0
        assert [e.word for e in read_entries(out, "tsv")] == [NEW_WORD]
        assert _snapshot(user_db.parent) == before
    finally:
        subprocess.run(undo, check=True)


# ---- lexicon learned / restore -------------------------------------------------------------


def _some_learned(user_db: Path) -> None:
    store = UserLexicon(user_db)
    store.put_many([
        UserEntry(NEW_WORD, ("ce", "shi", "ci", "tiao"), 0.8, 0.0, 3, 5, False, "learned"),
        UserEntry("此条", ("ci", "tiao"), 0.7, 0.5, 1, 9, False, "import"),
        UserEntry("测试", ("ce", "shi"), 0.55, 0.5, 0, 8, False, "system"),  # confirmed only
        UserEntry("再", ("zai",), 0.0, 0.5, 2, 7, True, "system"),  # forgotten
    ])
    store.set_tick(10)
    store.close()


def test_learned_lists_sorts_filters_and_writes_json(cache_dir: Path, user_db: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    _some_learned(user_db)
    assert run(cache_dir, user_db, "learned") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["word", "pinyin", "likelihood", "uses", "last", "use", "source"]
    assert [ln.split()[0] for ln in lines[1:]] == ["此条", NEW_WORD]  # most recent first
    assert lines[1].split()[-1] == "imported" and lines[2].split()[-1] == "learned"
    assert "1 commits ago" in lines[1] and "5 commits ago" in lines[2]
    assert run(cache_dir, user_db, "learned", "--sort", "count", "--json") == 0
    got = json.loads(capsys.readouterr().out)
    assert [r["word"] for r in got] == [NEW_WORD, "此条"]
    assert got[0] == {"word": NEW_WORD, "pinyin": "ce shi ci tiao", "uses": 3, "last_tick": 5,
                      "ticks_ago": 5, "source": "learned", "forgotten": False,
                      "likelihood": pytest.approx(lk.decay(0.8, 0.0, 5), abs=1e-6)}
    assert run(cache_dir, user_db, "learned", "--grep", "ceshi", "--all", "--json") == 0
    assert [r["word"] for r in json.loads(capsys.readouterr().out)] == ["测试", NEW_WORD]
    assert run(cache_dir, user_db, "learned", "--forgotten", "--json") == 0
    assert [(r["word"], r["forgotten"]) for r in json.loads(capsys.readouterr().out)] \
        == [("再", True)]
    assert run(cache_dir, user_db, "learned", "--limit", "1") == 0
    assert "(1 of 2 learned words; --limit 0 lists all)" in capsys.readouterr().out
    assert run(cache_dir, user_db, "learned", "--grep", "没有") == 0
    assert "no learned words matching" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--limit", "-2"], "--limit -2: give 0 (all) or more rows"),
    (["--grep", " "], "--grep needs some text"),
    (["--forgotten", "--all"], "cannot be given together"),
    (["--sort", "alphabetical"], "invalid choice: 'alphabetical'"),
    (["--limit", "many"], "invalid int value: 'many'"),
])
def test_learned_refuses_bad_options_in_one_sentence(cache_dir: Path, user_db: Path,
                                                     argv: list[str], message: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    _some_learned(user_db)
    try:
        code = run(cache_dir, user_db, "learned", *argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_learned_on_a_missing_user_db(cache_dir: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none" / "user.db"
    assert run(cache_dir, missing, "learned") == 2
    assert "no such file" in capsys.readouterr().err and not missing.exists()
    assert main.main(["--cache-dir", str(cache_dir), "lexicon", "learned"]) == 0  # default
    assert "no learned words" in capsys.readouterr().out


def test_learned_lists_a_forgotten_system_word_as_system(cache_dir: Path, user_db: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    assert run(cache_dir, user_db, "forget", "现在") == 0
    capsys.readouterr()
    assert run(cache_dir, user_db, "learned") == 0
    assert "no learned words" in capsys.readouterr().out
    assert run(cache_dir, user_db, "learned", "--forgotten", "--json") == 0
    assert [(r["word"], r["source"], r["forgotten"]) for r in json.loads(
        capsys.readouterr().out)] == [("现在", "system", True)]
    assert run(cache_dir, user_db, "learned", "--forgotten") == 0
    (row,) = capsys.readouterr().out.splitlines()[1:]
    assert row.split()[0] == "现在" and row.split()[-1] == "system"


def test_restore_undoes_forget(cache_dir: Path, user_db: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cache_dir, user_db, "forget", "现在") == 0
    assert "现在" not in _offered(cache_dir, user_db, "xianzai")
    assert run(cache_dir, user_db, "restore", "现在", "--pinyin", "xian'zai") == 0
    assert "restored 现在 (1 reading)" in capsys.readouterr().out
    assert "现在" in _offered(cache_dir, user_db, "xianzai")
    assert run(cache_dir, user_db, "restore", "现在") == 1
    assert "not forgotten; nothing to restore" in capsys.readouterr().out
    assert run(cache_dir, user_db, "restore", "现在", "--pinyin", "xian zia") == 2
