"""The SQLite user lexicon: privacy, transactions, concurrency, crashes, foreign files."""

import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path

import pytest

from lexicon.user_lexicon import (
    SCHEMA_VERSION,
    HistoryEntry,
    UserEntry,
    UserLexicon,
    UserLexiconError,
)

ROOT = Path(__file__).resolve().parents[2]


def bump(key, cur, tick):
    n = cur.commits + 1 if cur else 1
    return UserEntry(key[0], key[1], 0.5, 0.0, n, tick, False, "learned")


def test_created_private_with_wal(tmp_path):
    u = UserLexicon(tmp_path / "d" / "user.db")
    assert stat.S_IMODE(os.stat(tmp_path / "d" / "user.db").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "d").st_mode) == 0o700
    mode = u.db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    u.close()


def test_update_is_read_modify_write_with_a_tick(tmp_path):
    u = UserLexicon(tmp_path / "u.db")
    key = ("西安", ("xi", "an"))
    u.update([key], bump)
    u.update([key], bump)
    e = u.get(*key)
    assert e.commits == 2 and e.last_tick == 2 and u.tick == 2
    u.close()


def test_failed_transaction_leaves_nothing(tmp_path):
    u = UserLexicon(tmp_path / "u.db")
    entries = [UserEntry("一", ("yi",), 0.6, 0.0, 0, 0, False, "import"), None]
    with pytest.raises(AttributeError):
        u.put_many(entries)  # the second entry breaks the import half-way
    assert len(u) == 0
    u.close()


@pytest.mark.parametrize("content", [b"hello, not a database\n", b"SQLite format 3\x00" + b"\x07" * 200])
def test_foreign_or_corrupt_files_are_refused_and_untouched(tmp_path, content):
    p = tmp_path / "user.db"
    p.write_bytes(content)
    with pytest.raises(UserLexiconError, match="user lexicon|corrupt|SQLite"):
        UserLexicon(p)
    assert p.read_bytes() == content


def test_another_programs_sqlite_database_is_refused(tmp_path):
    p = tmp_path / "other.db"
    with sqlite3.connect(p) as c:
        c.execute("CREATE TABLE notes (x)")
        c.execute("INSERT INTO notes VALUES (1)")
    before = p.read_bytes()
    with pytest.raises(UserLexiconError, match="not a Delta Pinyin user lexicon"):
        UserLexicon(p)
    assert p.read_bytes() == before


WRITER = textwrap.dedent("""
    import sys
    from lexicon.user_lexicon import UserEntry, UserLexicon
    u = UserLexicon(sys.argv[1])
    def bump(key, cur, tick):
        n = cur.commits + 1 if cur else 1
        return UserEntry(key[0], key[1], 0.5, 0.0, n, tick, False, "learned")
    for i in range(int(sys.argv[2])):
        u.update([("西安", ("xi", "an")), ("w" + sys.argv[3] + str(i % 7), ("wo",))], bump)
        print(i + 1, flush=True)
""")


def test_two_processes_learning_at_once_lose_no_update(tmp_path):
    db = tmp_path / "u.db"
    UserLexicon(db).close()
    n = 150
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(n), tag], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for tag in ("a", "b")]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    u = UserLexicon(db)
    assert u.get("西安", ("xi", "an")).commits == 2 * n
    assert u.tick == 2 * n
    assert u.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    u.close()


def test_sigkill_mid_learning_keeps_every_committed_transaction(tmp_path):
    db = tmp_path / "u.db"
    UserLexicon(db).close()
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(db), "100000", "k"], cwd=ROOT,
                         stdout=subprocess.PIPE, text=True)
    done = 0
    for line in p.stdout:
        done = int(line)
        if done >= 200:
            break
    p.send_signal(signal.SIGKILL)
    p.wait()
    u = UserLexicon(db)
    assert u.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    got = u.get("西安", ("xi", "an")).commits
    assert got >= done and got == u.tick  # everything acknowledged is there, nothing torn
    u.close()


def test_sigkill_in_the_middle_of_a_replay_with_learning(tmp_path, tiny_cache):
    """A real replay (engine, learner, SQLite) killed mid-way leaves a sound database."""
    import json
    import time

    log = tmp_path / "log.jsonl"
    units = [("xianzai", "先在"), ("xianzai", "现在"), ("nihao", "你好"), ("xi'an", "西安"),
             ("zhongguoren", "中国人"), ("woshi", "我是")]
    log.write_text("".join(json.dumps({"keys": k, "text": t}, ensure_ascii=False) + "\n"
                           for _ in range(3000) for k, t in units), encoding="utf-8")
    db = tmp_path / "user.db"
    p = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--cache-dir", str(tiny_cache),
                          "--user-db", str(db), "replay", str(log), "--quiet"], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until learning has written for a while
        time.sleep(0.5)
        if db.exists() and db.stat().st_size > 0:
            try:
                u = UserLexicon(db)
                ticks = u.tick
                u.close()
            except UserLexiconError:
                continue
            if ticks > 200:
                break
    p.send_signal(signal.SIGKILL)
    p.wait()
    u = UserLexicon(db)
    assert u.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert u.tick > 200
    # every row was written by a whole transaction: none is newer than the tick
    assert max(e.last_tick for e in u.entries(include_deleted=True)) <= u.tick
    assert u.get("先在", ("xian", "zai")) is not None
    u.close()


# ---- refused files: one sentence, and nothing in their directory changes ---------------------


def snapshot(directory: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every entry of `directory`: size, mtime and bytes (what a refusal must not change)."""
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(directory.iterdir())}


def our_file(path: Path, rows: int = 0) -> Path:
    u = UserLexicon(path)
    u.put_many(UserEntry(f"词{i}", ("ci", "yi"), 0.6, 0.0, 1, 0, False, "learned")
               for i in range(rows))
    u.close()
    return path


def sql(path: Path, *statements: str) -> None:
    """Run statements on a file as another program would (plain sqlite3), then close."""
    c = sqlite3.connect(path)
    for s in statements:
        c.execute(s)
    c.commit()
    c.close()


def foreign_wal(p: Path) -> None:
    c = sqlite3.connect(p)
    assert c.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    c.execute("CREATE TABLE notes (x)")
    c.execute("INSERT INTO notes VALUES (1)")
    c.commit()
    c.close()


def newer(p: Path) -> None:
    our_file(p)
    sql(p, "UPDATE meta SET value = '9' WHERE key = 'schema_version'")


def non_numeric(p: Path) -> None:
    our_file(p)
    sql(p, "UPDATE meta SET value = 'two' WHERE key = 'schema_version'")


def other_columns(p: Path) -> None:
    our_file(p, 10)
    sql(p, "ALTER TABLE words ADD COLUMN colour TEXT")


def truncated(p: Path) -> None:
    our_file(p, 3000)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def damaged_schema(p: Path) -> None:
    our_file(p, 10)
    data = bytearray(p.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # the schema's b-tree page, after the header
    p.write_bytes(bytes(data))


REFUSED = {
    "foreign-wal": (foreign_wal, "another program's SQLite database, with tables notes"),
    "newer-schema": (newer, "schema version 9 is newer than this program's"),
    "non-numeric-schema": (non_numeric, "schema version 'two' is not a number"),
    "other-columns": (other_columns, "does not know \\(colour\\)"),
    "truncated": (truncated, "truncated"),
    "damaged-schema": (damaged_schema, "damaged .*lexicon repair"),
    "not-sqlite": (lambda p: p.write_bytes(b"hello\n" * 100), "not an SQLite file"),
}


@pytest.mark.parametrize("make", list(REFUSED), ids=list(REFUSED))
def test_a_refused_file_is_one_sentence_and_its_directory_is_unchanged(tmp_path, make):
    build, message = REFUSED[make]
    d = tmp_path / "data"
    d.mkdir()
    p = d / "user.db"
    build(p)
    before = snapshot(d)
    with pytest.raises(UserLexiconError, match=message) as e:
        UserLexicon(p)
    assert str(e.value).startswith(str(p)) and "\n" not in str(e.value)
    assert "invalid literal" not in str(e.value)
    assert snapshot(d) == before  # no -wal, -shm or journal created, nothing rewritten


def test_a_file_that_another_program_has_open_in_wal_mode_is_refused_untouched(tmp_path):
    p = tmp_path / "other.db"
    foreign_wal(p)
    c = sqlite3.connect(p)  # the other program, still running, with data in its -wal
    c.execute("INSERT INTO notes VALUES (2)")
    c.commit()
    before = snapshot(tmp_path)
    assert (tmp_path / "other.db-wal").exists()
    with pytest.raises(UserLexiconError, match="another program's"):
        UserLexicon(p)
    assert snapshot(tmp_path) == before
    c.close()


def test_a_version_1_file_is_brought_up_to_date_when_opened(tmp_path):
    """A user.db of the previous release (schema 1: no pinyin index, no readings table)."""
    p = tmp_path / "user.db"
    sql(p, "PRAGMA journal_mode = WAL",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
        "CREATE TABLE [words] ([id] INTEGER PRIMARY KEY, [word] TEXT NOT NULL, [pinyin] TEXT "
        "NOT NULL, [likelihood] FLOAT DEFAULT 0.0, [prior] FLOAT DEFAULT 0.0, [commits] "
        "INTEGER DEFAULT 0, [last_tick] INTEGER DEFAULT 0, [deleted] INTEGER DEFAULT 0, "
        "[source] TEXT DEFAULT 'learned')",
        "CREATE UNIQUE INDEX idx_words_word_pinyin ON words (word, pinyin)",
        "INSERT INTO meta VALUES ('app', 'delta-pinyin-user-lexicon'), "
        "('schema_version', '1'), ('tick', '7')",
        "INSERT INTO words (word, pinyin, likelihood, prior, commits, last_tick, deleted, "
        "source) VALUES ('字节序', 'zi jie xu', 0.7, 0.0, 3, 7, 0, 'learned'), "
        "('先在', 'xian zai', 0.0, 0.5, 1, 5, 1, 'system')")
    u = UserLexicon(p)
    assert u.schema_version == SCHEMA_VERSION and u.tick == 7
    assert [e.word for e in u.with_initials("zjx")] == ["字节序"]
    assert u.has_pinyin_prefix(("zi", "jie")) and not u.has_pinyin_prefix(("zi", "ji"))
    assert u.forgotten() == [("先在", ("xian", "zai"))]
    assert u.history(10) == [] and u.history_size() == 0
    assert u.integrity() == ["ok"]
    u.close()


def _version_2_file(p: Path) -> None:
    """A user.db as the release before the history bigram wrote it (schema 2)."""
    sql(p, "PRAGMA journal_mode = WAL",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
        "CREATE TABLE words (id INTEGER PRIMARY KEY, word TEXT NOT NULL, pinyin TEXT NOT NULL, "
        "likelihood REAL DEFAULT 0.0, prior REAL DEFAULT 0.0, commits INTEGER DEFAULT 0, "
        "last_tick INTEGER DEFAULT 0, deleted INTEGER DEFAULT 0, source TEXT DEFAULT "
        "'learned')",
        "CREATE UNIQUE INDEX idx_words_word_pinyin ON words (word, pinyin)",
        "CREATE INDEX idx_words_pinyin ON words (pinyin)",
        "CREATE INDEX idx_words_forgotten ON words (deleted) WHERE deleted = 1",
        "CREATE TABLE readings (initials TEXT NOT NULL, pinyin TEXT NOT NULL, "
        "PRIMARY KEY (initials, pinyin)) WITHOUT ROWID",
        "INSERT INTO meta VALUES ('app', 'delta-pinyin-user-lexicon'), "
        "('schema_version', '2'), ('tick', '12')",
        "INSERT INTO words (word, pinyin, likelihood, prior, commits, last_tick) VALUES "
        "('字节序', 'zi jie xu', 0.7, 0.0, 3, 12)",
        "INSERT INTO readings VALUES ('zjx', 'zi jie xu')")


def test_a_version_2_file_gains_the_history_table_when_opened(tmp_path):
    p = tmp_path / "user.db"
    _version_2_file(p)
    u = UserLexicon(p)
    assert u.schema_version == SCHEMA_VERSION == 3 and u.tick == 12
    assert [e.word for e in u.with_initials("zjx")] == ["字节序"]
    assert u.history(10) == []

    def pair(key, cur, tick):
        return HistoryEntry(*key, 0.5 if cur is None else 0.9, 1 if cur is None else 2, tick)

    u.update_with_history([], lambda k, c, t: None, [("文件", "系统")], pair)
    u.update_with_history([], lambda k, c, t: None, [("文件", "系统")], pair)
    assert u.history(10) == [HistoryEntry("文件", "系统", 0.9, 2, 14)]
    u.close()
    u = UserLexicon(p)  # opened again: nothing to upgrade, the pair kept
    assert u.get_pair("文件", "系统") == HistoryEntry("文件", "系统", 0.9, 2, 14)
    assert u.integrity() == ["ok"]
    u.close()


def test_a_read_only_version_2_file_reads_with_an_empty_history(tmp_path):
    p = tmp_path / "user.db"
    _version_2_file(p)
    u = UserLexicon(p, read_only=True)
    assert u.read_only == "opened read-only" and u.history(10) == []
    assert [e.word for e in u.with_pinyin("zi jie xu")] == ["字节序"]
    u.close()
    u = UserLexicon(p)
    assert u.schema_version == SCHEMA_VERSION  # untouched by the read-only look until now
    u.close()


def test_history_pairs_are_written_with_the_words_and_deleted_by_word_or_age(tmp_path):
    u = UserLexicon(tmp_path / "u.db")

    def word(key, cur, tick):
        return UserEntry(key[0], key[1], 0.7, 0.0, 1, tick, False, "learned")

    def pair(key, cur, tick):
        return HistoryEntry(*key, 0.5, 1, tick)

    entries, pairs = u.update_with_history([("字节序", ("zi", "jie", "xu"))], word,
                                           [("网络", "字节序"), ("字节序", "转换")], pair)
    assert [e.word for e in entries] == ["字节序"] and len(pairs) == 2 and u.tick == 1
    u.update_with_history([], word, [("打开", "文件")], pair)
    assert u.history_size() == 3
    assert u.delete_pairs(of_word="字节序") == 2
    assert [(h.prev, h.word) for h in u.history(10)] == [("打开", "文件")]
    assert u.delete_pairs(before_tick=3) == 1 and u.history_size() == 0
    u.close()


# ---- queries: what the lattice asks ---------------------------------------------------------


def test_prefix_tests_and_lookups_are_by_whole_syllables(tmp_path):
    u = UserLexicon(tmp_path / "u.db")
    u.put_many([UserEntry("西安人", ("xi", "an", "ren"), 0.7, 0.0, 3, 0, False, "learned"),
                UserEntry("先人", ("xian", "ren"), 0.7, 0.0, 3, 0, False, "learned"),
                UserEntry("西", ("xi",), 0.0, 0.5, 0, 0, True, "system")])
    assert u.has_pinyin_prefix(("xi", "an")) and u.has_pinyin_prefix(("xi", "an", "ren"))
    assert not u.has_pinyin_prefix(("xi", "a"))  # 'xi an' does not begin with syllable 'a'
    assert not u.has_pinyin_prefix(("xi", "an", "ren", "min"))
    assert u.has_initials_prefix("xa") and u.has_initials_prefix("xr")
    assert not u.has_initials_prefix("xz")
    assert {e.word for e in u.with_initials("xar")} == {"西安人"}
    assert {e.word for e in u.with_pinyin("xi")} == {"西"}  # forgotten ones too
    assert u.forgotten() == [("西", ("xi",))]
    u.close()


def test_a_failed_import_changes_nothing_and_duplicates_keep_the_best_weight(tmp_path):
    u = UserLexicon(tmp_path / "u.db")
    u.put_many([UserEntry("已有", ("yi", "you"), 0.6, 0.0, 1, 0, False, "learned")])

    def rows(fail: bool):
        for i in range(50_000):
            yield (f"词{i}", ("ci", "yi"), -5.0)
        yield ("词3", ("ci", "yi"), -1.0)
        if fail:
            raise ValueError("line 50002: bad pinyin")

    seen = []

    def plan(batch, tick):
        seen.extend(batch)
        return [UserEntry(w, s, 0.6 if lp < -2 else 0.9, 0.5, 0, tick, False, "import")
                for w, s, lp, cur in batch]

    with pytest.raises(ValueError, match="line 50002"):
        u.merge(rows(True), plan)
    assert seen == [] and [e.word for e in u.entries()] == ["已有"]
    assert u.merge(rows(False), plan, batch=7000) == 50_000
    assert len(seen) == 50_000 and len(u) == 50_001
    assert u.get("词3", ("ci", "yi")).likelihood == 0.9  # the best logp of its two lines
    assert "import_rows" not in [r[0] for r in u.db.execute(
        "SELECT name FROM temp.sqlite_master")]
    u.close()


# ---- read-only files and directories -------------------------------------------------------


@contextmanager
def read_only(path: Path):
    """`path` (file or directory) cannot be written, even by root (chattr +i)."""
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
    path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        path.chmod(mode)


@pytest.mark.parametrize("what", ["file", "directory"])
def test_a_read_only_user_db_opens_read_only_and_writes_nothing(tmp_path, what):
    d = tmp_path / "data"
    p = our_file(d / "user.db", 5)
    before = snapshot(d)
    with read_only(p if what == "file" else d):
        u = UserLexicon(p)
        assert u.read_only is not None and ("read-only" in u.read_only)
        assert len(u) == 5 and u.with_pinyin("ci yi")  # reads work
        with pytest.raises(UserLexiconError, match="read-only") as e:
            u.update([("新", ("xin",))], bump)
        assert e.value.kind == "read-only"
        assert not u.reopen()  # still read-only
        u.close()
        assert snapshot(d) == before
    u = UserLexicon(p)  # writable again
    assert u.read_only is None
    u.close()


def test_a_read_only_directory_without_the_file_is_a_clear_error(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    with read_only(d):
        with pytest.raises(UserLexiconError, match="cannot create it .*read-only"):
            UserLexicon(d / "user.db")
    assert list(d.iterdir()) == []


# ---- repair and reset ---------------------------------------------------------------------------


def damage_the_page_of(p: Path, word: str) -> None:
    """Overwrite the words table's page that holds `word`'s row (likelihood 0.6) with junk."""
    import struct

    data = bytearray(p.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    at = data.find(word.encode() + b"ci yi" + struct.pack(">d", 0.6))
    assert at > 0
    start = at // page * page
    data[start:start + page] = b"\x5a" * page
    p.write_bytes(bytes(data))


def test_repair_salvages_the_readable_rows_and_keeps_the_old_file(tmp_path):
    from lexicon.user_lexicon import repair

    p = tmp_path / "user.db"
    u = UserLexicon(p)
    u.put_many(UserEntry(f"词{i}", ("ci", "yi"), 0.6, 0.0, 1, i, False, "learned")
               for i in range(3000))
    u.set_tick(3000)
    u.close()
    damage_the_page_of(p, "词1500")
    damaged = p.read_bytes()
    report = repair(p)
    assert report.problem is not None and report.backup is not None
    assert report.backup.name.startswith("user.db.broken-") and report.backup.parent == tmp_path
    assert report.backup.read_bytes() == damaged  # the old file, kept as it was
    assert 2500 < report.salvaged < 3000 and report.dropped > 0  # one page's rows lost
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    u = UserLexicon(p)
    assert u.integrity() == ["ok"] and len(u) == report.salvaged and u.tick == 3000
    assert u.get("词0", ("ci", "yi")) is not None and u.get("词1500", ("ci", "yi")) is None
    u.close()
    assert repair(p).problem is None  # sound now: nothing more to do
    assert sorted(x.name for x in tmp_path.iterdir()) == sorted(["user.db",
                                                                  report.backup.name])


def test_repair_of_a_foreign_file_moves_it_aside_and_starts_empty(tmp_path):
    from lexicon.user_lexicon import repair

    p = tmp_path / "user.db"
    foreign_wal(p)
    before = p.read_bytes()
    report = repair(p)
    assert "another program's" in report.problem and report.salvaged == 0
    assert report.backup.read_bytes() == before
    u = UserLexicon(p)
    assert len(u) == 0
    u.close()


def test_reset_keeps_the_old_file_and_starts_empty(tmp_path):
    from lexicon.user_lexicon import reset

    p = our_file(tmp_path / "user.db", 20)
    old = p.read_bytes()
    backup = reset(p)
    assert backup is not None and backup.name.startswith("user.db.reset-")
    assert backup.read_bytes() == old
    u = UserLexicon(p)
    assert len(u) == 0 and u.tick == 0 and u.integrity() == ["ok"]
    u.close()
    assert stat.S_IMODE(p.stat().st_mode) == 0o600


# ---- SIGKILL at random moments: learning, import, export ---------------------------------------

KILLS = 20
HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也你对生能"
PINYIN = {"的": "de", "一": "yi", "是": "shi", "在": "zai", "不": "bu", "了": "le", "有": "you",
          "和": "he", "人": "ren", "这": "zhe", "中": "zhong", "大": "da", "为": "wei",
          "上": "shang", "个": "ge", "国": "guo", "我": "wo", "以": "yi", "要": "yao",
          "他": "ta", "时": "shi", "来": "lai", "用": "yong", "们": "men", "生": "sheng",
          "到": "dao", "作": "zuo", "地": "di", "于": "yu", "出": "chu", "就": "jiu",
          "分": "fen", "对": "dui", "成": "cheng", "会": "hui", "可": "ke", "也": "ye",
          "你": "ni", "能": "neng"}


def han_words(start: int, n: int) -> list[tuple[str, str]]:
    """n distinct 4-character words (with their pinyin), the start-th onwards."""
    chars = sorted(set(HAN))
    out = []
    for i in range(start, start + n):
        cs = [chars[(i // len(chars) ** k) % len(chars)] for k in range(4)]
        out.append(("".join(cs), " ".join(PINYIN[c] for c in cs)))
    return out


def kill_at_random(argv: list[str], delay: float, rng) -> list[str]:
    """Start `argv`, wait for its first line ('ready'), SIGKILL it 0..delay s later; the
    lines it printed (its acknowledgements) before it died."""
    import threading
    import time

    p = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in p.stdout:
            lines.append(line.strip())
            ready.set()
        ready.set()

    t = threading.Thread(target=read, daemon=True)
    t.start()
    assert ready.wait(60), "the worker never started"
    assert p.poll() is None, p.stderr.read()
    time.sleep(rng.uniform(0, delay))
    p.send_signal(signal.SIGKILL)
    p.wait()
    t.join(10)
    return [x for x in lines[1:] if x]


LEARNER = textwrap.dedent("""
    import sys
    from ime.candidates import CandidateKind, CommitEvent, Pick
    from ime.learner import open_learner
    from lexicon.testing import tiny_parts
    sys.path.insert(0, "tests/lexicon")
    from test_user_lexicon import han_words
    learner = open_learner(sys.argv[1])
    learner.bind(tiny_parts()[0])
    print("ready", flush=True)
    for word, pinyin in han_words(int(sys.argv[2]), 100000):
        sylls = tuple(pinyin.split())
        learner.learn(CommitEvent("".join(sylls), word, (Pick(word, sylls, "".join(sylls), 1,
                                  CandidateKind.WORD, ()),), (), ""))
        assert learner.paused is None, learner.paused
        print(word, flush=True)
""")


@pytest.mark.slow
def test_sigkill_while_learning_keeps_every_commit_and_a_sound_file(tmp_path):
    import random

    rng = random.Random(19)
    db = tmp_path / "user.db"
    UserLexicon(db).close()
    acked: list[str] = []
    for k in range(KILLS):
        acked += kill_at_random([sys.executable, "-c", LEARNER, str(db), str(k * 100000)],
                                0.4, rng)
        u = UserLexicon(db)
        assert u.integrity() == ["ok"]
        have = {e.word for e in u.iter_entries()}
        assert set(acked) <= have  # every commit acknowledged before the kill is there
        assert len(have) <= len(acked) + k + 1  # at most the one in flight per kill
        assert max((e.last_tick for e in u.iter_entries()), default=0) <= u.tick
        u.close()
    assert len(acked) > KILLS  # the kills fell among many commits


IMPORTER = textwrap.dedent("""
    import sys
    import main
    print("ready", flush=True)
    for f in sys.argv[3:]:
        assert main.main(["--cache-dir", sys.argv[1], "--user-db", sys.argv[2], "lexicon",
                          "import", f]) == 0
        print(f, flush=True)
""")


@pytest.mark.slow
def test_sigkill_during_imports_leaves_each_import_all_or_nothing(tmp_path, tiny_cache):
    import random
    import time

    from lexicon.formats import TSV_HEADER

    rng = random.Random(20)
    db = tmp_path / "user.db"
    UserLexicon(db).close()
    files: dict[str, set[str]] = {}
    acked: list[str] = []
    n = 2000
    probe = tmp_path / "probe.tsv"  # how long one import takes here: the kills' time scale
    probe.write_text(TSV_HEADER + "\n" + "".join(f"{w}\t{p}\t-6.5\n"
                                                 for w, p in han_words(10**7, n)))
    # timed as the killed runs are (a process of its own: start-up and imports included),
    # so that on a loaded machine some of them still finish before their kill
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORTER, str(tiny_cache), str(tmp_path / "p.db"),
                    str(probe)], cwd=ROOT, check=True, timeout=600, capture_output=True)
    span = 3 * 1.5 * (time.perf_counter() - t0)  # three imports, and some time to spare
    for k in range(KILLS):
        batch = []
        for j in range(3):
            f = tmp_path / f"d{k}-{j}.tsv"
            words = han_words((k * 3 + j) * n, n)
            f.write_text(TSV_HEADER + "\n" + "".join(f"{w}\t{p}\t-6.5\n" for w, p in words),
                         encoding="utf-8")
            files[str(f)] = {w for w, _ in words}
            batch.append(str(f))
        acked += kill_at_random([sys.executable, "-c", IMPORTER, str(tiny_cache), str(db),
                                 *batch], span, rng)
        u = UserLexicon(db)
        assert u.integrity() == ["ok"]
        have = {e.word for e in u.iter_entries()}
        u.close()
        for f, words in files.items():
            got = len(words & have)
            assert got in (0, len(words)), f"{f}: {got} of {len(words)} imported"
            if f in acked:
                assert got == len(words)
    done = [a for a in acked if a in files]  # the worker's acknowledgements (not main's report)
    assert 0 < len(done) < len(files), (len(done), len(files))  # some done, some cut


EXPORTER = textwrap.dedent("""
    import sys
    import main
    print("ready", flush=True)
    i = 0
    while True:
        db = sys.argv[2 + i % 2]
        assert main.main(["--cache-dir", sys.argv[1], "--user-db", db, "lexicon", "export",
                          "--format", "tsv", "--out", sys.argv[4]]) == 0
        print(db, flush=True)
        i += 1
""")


@pytest.mark.slow
def test_sigkill_during_exports_leaves_the_old_file_or_the_new_one(tmp_path, tiny_cache):
    import random
    import time

    import main

    rng = random.Random(21)
    dbs = [tmp_path / "a.db", tmp_path / "b.db"]
    for i, db in enumerate(dbs):
        u = UserLexicon(db)
        u.put_many(UserEntry(w, tuple(p.split()), 0.7, 0.0, 1, 0, False, "learned")
                   for w, p in han_words(i * 8000, 8000))
        u.close()
    refs = set()
    t0 = time.perf_counter()
    for db in dbs:
        ref = tmp_path / f"{db.stem}.tsv"
        assert main.main(["--cache-dir", str(tiny_cache), "--user-db", str(db), "lexicon",
                          "export", "--format", "tsv", "--out", str(ref)]) == 0
        refs.add(ref.read_bytes())
    span = 2.5 * (time.perf_counter() - t0)  # about five exports: the kills' time scale
    assert len(refs) == 2
    out = tmp_path / "out" / "export.tsv"
    out.parent.mkdir()
    done = 0
    for _ in range(KILLS):
        done += len(kill_at_random([sys.executable, "-c", EXPORTER, str(tiny_cache),
                                    *map(str, dbs), str(out)], span, rng))
        if out.exists():
            assert out.read_bytes() in refs  # whole, old or new: never a part
        for db in dbs:
            u = UserLexicon(db)
            assert u.integrity() == ["ok"] and len(u) == 8000
            u.close()
    assert done > 0 and out.exists(), done
    leftovers = [p.name for p in out.parent.iterdir() if p.name != "export.tsv"]
    assert all(p.startswith(".export.tsv.") and p.endswith(".tmp") for p in leftovers)
