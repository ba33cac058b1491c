"""The user lexicon: learned words and likelihoods in SQLite (schema in FORMAT.md).

Durability rules: the file is created with mode 0600 in a 0700 directory; WAL journal;
every change is one `BEGIN IMMEDIATE` transaction that reads the current rows and writes
the new ones, so two processes learning at once serialise on the write lock and lose no
update, and a process killed mid-write leaves the last committed state. A file that is not
a Delta Pinyin user lexicon is refused with a clear error and never written to.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

__all__ = ["UserLexicon", "UserEntry", "UserLexiconError", "SCHEMA_VERSION", "APP_ID",
           "NEW_WORD_LOGP"]

SCHEMA_VERSION = 1
APP_ID = "delta-pinyin-user-lexicon"
_SQLITE_MAGIC = b"SQLite format 3\x00"
# log unigram of a new user word at the learning threshold (a common word's); imports with no
# usable weight get it too (ime.likelihood raises it with the word's likelihood)
NEW_WORD_LOGP = -7.0


class UserLexiconError(Exception):
    """The user lexicon cannot be opened or written (wrong file, corrupt, locked)."""


@dataclass(frozen=True, slots=True)
class UserEntry:
    word: str
    syllables: tuple[str, ...]
    likelihood: float
    prior: float  # 0.5 system word, 0 new word (see ime.likelihood)
    commits: int
    last_tick: int
    deleted: bool
    source: str  # "learned", "system", "import"

    @property
    def pinyin(self) -> str:
        return " ".join(self.syllables)


def _row(r: dict) -> UserEntry:
    return UserEntry(r["word"], tuple(r["pinyin"].split()), r["likelihood"], r["prior"],
                     r["commits"], r["last_tick"], bool(r["deleted"]), r["source"])


class UserLexicon:
    def __init__(self, path: Path, busy_timeout_ms: int = 30_000) -> None:
        self.path = Path(path)
        fresh = _check_file(self.path)
        if not fresh:
            self._check_readonly()  # before anything could write to a foreign file
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None,
                                   timeout=busy_timeout_ms / 1000, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as e:
            raise UserLexiconError(f"{self.path}: cannot open as SQLite ({e})") from None
        if str(mode).lower() != "wal":
            conn.close()
            raise UserLexiconError(f"{self.path}: cannot switch to WAL journal mode ({mode})")
        self.db = sqlite_utils.Database(conn)
        try:
            if fresh:
                self._create()
            self._check_schema()
        except sqlite3.DatabaseError as e:
            conn.close()
            raise UserLexiconError(f"{self.path}: corrupt or unreadable database ({e})") from None

    def _check_readonly(self) -> None:
        try:
            conn = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True)
        except sqlite3.DatabaseError as e:
            raise UserLexiconError(f"{self.path}: cannot open as SQLite ({e})") from None
        try:
            self.db = sqlite_utils.Database(conn)
            self._check_schema()
        except sqlite3.DatabaseError as e:
            raise UserLexiconError(f"{self.path}: corrupt or unreadable database ({e})") from None
        finally:
            conn.close()

    # ---- schema ------------------------------------------------------------------------------

    def _create(self) -> None:
        with self.transaction():
            self.db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
            self.db["words"].create(
                {"id": int, "word": str, "pinyin": str, "likelihood": float, "prior": float,
                 "commits": int, "last_tick": int, "deleted": int, "source": str},
                pk="id", not_null={"word", "pinyin"}, if_not_exists=True,
                defaults={"commits": 0, "last_tick": 0, "deleted": 0, "source": "learned",
                          "prior": 0.0, "likelihood": 0.0},
            )
            self.db["words"].create_index(["word", "pinyin"], unique=True, if_not_exists=True)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('app', ?), "
                            "('schema_version', ?), ('tick', '0')", [APP_ID, str(SCHEMA_VERSION)])

    def _check_schema(self) -> None:
        if "meta" not in self.db.table_names():
            raise UserLexiconError(f"{self.path}: not a Delta Pinyin user lexicon (no meta table);"
                                   " refusing to touch it")
        meta = {r["key"]: r["value"] for r in self.db.query("SELECT key, value FROM meta")}
        if meta.get("app") != APP_ID:
            raise UserLexiconError(f"{self.path}: not a Delta Pinyin user lexicon; "
                                   "refusing to touch it")
        if int(meta.get("schema_version", 0)) > SCHEMA_VERSION:
            raise UserLexiconError(f"{self.path}: schema version {meta['schema_version']} is "
                                   f"newer than this program's ({SCHEMA_VERSION})")

    # ---- transactions ------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One atomic write: BEGIN IMMEDIATE … COMMIT (ROLLBACK on any error)."""
        conn = self.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise UserLexiconError(f"{self.path}: cannot start a write ({e})") from None
        try:
            yield self.db
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def close(self) -> None:
        try:
            self.db.conn.close()
        except sqlite3.Error:
            pass

    # ---- reads --------------------------------------------------------------------------------

    @property
    def tick(self) -> int:
        return int(self.db.execute("SELECT value FROM meta WHERE key = 'tick'").fetchone()[0])

    def get(self, word: str, syllables: tuple[str, ...]) -> UserEntry | None:
        rows = list(self.db.query("SELECT * FROM words WHERE word = ? AND pinyin = ?",
                                  [word, " ".join(syllables)]))
        return _row(rows[0]) if rows else None

    def entries(self, include_deleted: bool = False) -> list[UserEntry]:
        sql = "SELECT * FROM words" + ("" if include_deleted else " WHERE deleted = 0")
        return [_row(r) for r in self.db.query(sql + " ORDER BY id")]

    def __len__(self) -> int:
        return self.db.execute("SELECT count(*) FROM words WHERE deleted = 0").fetchone()[0]

    # ---- writes --------------------------------------------------------------------------------

    def update(self, keys: Iterable[tuple[str, tuple[str, ...]]],
               fn: Callable[[tuple[str, tuple[str, ...]], UserEntry | None, int],
                            UserEntry | None],
               advance_tick: bool = True) -> list[UserEntry]:
        """Read-modify-write the rows of `keys` in one transaction.

        `fn(key, current entry or None, tick) → new entry or None (no change)`; the tick is the
        global commit counter, advanced by one when `advance_tick`.
        """
        changed: list[UserEntry] = []
        with self.transaction() as db:
            tick = int(db.execute("SELECT value FROM meta WHERE key = 'tick'").fetchone()[0])
            if advance_tick:
                tick += 1
                db.execute("UPDATE meta SET value = ? WHERE key = 'tick'", [str(tick)])
            for word, sylls in dict.fromkeys(keys):
                cur = db.execute("SELECT * FROM words WHERE word = ? AND pinyin = ?",
                                 [word, " ".join(sylls)]).fetchone()
                entry = None
                if cur is not None:
                    cols = [d[0] for d in db.execute("SELECT * FROM words LIMIT 0").description]
                    entry = _row(dict(zip(cols, cur)))
                new = fn((word, sylls), entry, tick)
                if new is None:
                    continue
                self._write(db, new)
                changed.append(new)
        return changed

    def put_many(self, entries: Iterable[UserEntry]) -> int:
        """Insert or replace entries in one transaction (import): all or nothing."""
        n = 0
        with self.transaction() as db:
            for e in entries:
                self._write(db, e)
                n += 1
        return n

    @staticmethod
    def _write(db: sqlite_utils.Database, e: UserEntry) -> None:
        db.execute(
            "INSERT INTO words (word, pinyin, likelihood, prior, commits, last_tick, deleted, "
            "source) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(word, pinyin) DO UPDATE SET "
            "likelihood = excluded.likelihood, prior = excluded.prior, commits = "
            "excluded.commits, last_tick = excluded.last_tick, deleted = excluded.deleted, "
            "source = excluded.source",
            [e.word, " ".join(e.syllables), e.likelihood, e.prior, e.commits, e.last_tick,
             int(e.deleted), e.source],
        )


def _check_file(path: Path) -> bool:
    """Create the file privately if missing; refuse what is not SQLite. True if new."""
    if path.exists():
        if path.is_dir():
            raise UserLexiconError(f"{path}: is a directory, not a user lexicon")
        try:
            with open(path, "rb") as f:
                head = f.read(16)
        except OSError as e:
            raise UserLexiconError(f"{path}: cannot read ({e.strerror})") from None
        if not head:
            return True  # an empty file we (or a crash) left: safe to initialise
        if head != _SQLITE_MAGIC:
            raise UserLexiconError(f"{path}: not a Delta Pinyin user lexicon (not an SQLite "
                                   "file); refusing to touch it")
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    return True
