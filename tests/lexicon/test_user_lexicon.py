"""The SQLite user lexicon: privacy, transactions, concurrency, crashes, foreign files."""

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lexicon.user_lexicon import UserEntry, UserLexicon, UserLexiconError

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
