"""The user lexicon: learned words and likelihoods in SQLite (schema in lexicon/FORMAT.md).

Opening a file, before anything can be written to it or beside it:

    user.db ─► header bytes ─► read-only look (`file:…?mode=ro&immutable=1`) ─► ours, current:
               (SQLite? whole      meta app id, schema version (a number, not newer),   open it
               pages?)             words columns exactly ours                  ours, older:
                                                                                  migrate it
               anything else: UserLexiconError, one sentence; nothing created, nothing changed

The look is read-only and immutable: SQLite then creates no `-wal`, `-shm` or journal beside
the file (a plain `mode=ro` does, in WAL mode) and writes nothing to those already there
(another program's, in use). Only where the main file is ours (or still empty) and a `-wal`
beside it holds committed pages, which are part of the database, does a second look read
them (`mode=ro`): that `-wal` and its `-shm` are already there, and a read-only connection
never checkpoints or deletes them.

A read-only file or directory opens read-only (`read_only` says why): every read works,
every write raises UserLexiconError; the learner pauses learning and reopens for writing
once the file can be written again (`reopen`).

Durability rules: the file is created with mode 0600 in a 0700 directory; WAL journal;
every change is one `BEGIN IMMEDIATE` transaction that reads the current rows and writes
the new ones, so two processes learning at once serialise on the write lock and lose no
update, and a process killed mid-write leaves the last committed state. An import (`merge`)
is one transaction too, written in batches, so a failed or killed import changes nothing.

Reads are queries, never a load of the whole table: words by reading (`idx_words_pinyin`),
by first letters (the `readings` table: initials → reading), prefix tests as index ranges.
`repair` salvages the readable rows of a damaged file into a fresh one, `reset` starts
empty; both keep the old file beside the new one under a timestamped name.
"""

from __future__ import annotations

import math
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

__all__ = ["UserLexicon", "UserEntry", "HistoryEntry", "UserLexiconError", "SCHEMA_VERSION",
           "APP_ID", "NEW_WORD_LOGP", "RepairReport", "repair", "reset", "initials_of"]

# 2: idx_words_pinyin, idx_words_forgotten and the readings table; 3: the history table
SCHEMA_VERSION = 3
APP_ID = "delta-pinyin-user-lexicon"
_SQLITE_MAGIC = b"SQLite format 3\x00"
# log unigram of a new user word at the learning threshold (a common word's); imports with no
# usable weight get it too (ime.likelihood raises it with the word's likelihood)
NEW_WORD_LOGP = -7.0
WORDS_COLUMNS = ("id", "word", "pinyin", "likelihood", "prior", "commits", "last_tick",
                 "deleted", "source")
SOURCES = ("learned", "system", "import")
WRITE_BATCH = 5000  # rows per executemany in imports and repairs
MERGE_CACHE_MB = 64  # SQLite page cache while an import merges (see UserLexicon.merge)
_REPAIR_HINT = "`python main.py lexicon repair` salvages what it can (keeping the old file)"

_CREATE = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    "CREATE TABLE IF NOT EXISTS words (id INTEGER PRIMARY KEY, word TEXT NOT NULL, "
    "pinyin TEXT NOT NULL, likelihood REAL DEFAULT 0.0, prior REAL DEFAULT 0.0, "
    "commits INTEGER DEFAULT 0, last_tick INTEGER DEFAULT 0, deleted INTEGER DEFAULT 0, "
    "source TEXT DEFAULT 'learned')",
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_words_word_pinyin ON words (word, pinyin)",
)
# schema 2: what the lattice's queries need (added to a version 1 file when it is opened)
_CREATE_V2 = (
    "CREATE INDEX IF NOT EXISTS idx_words_pinyin ON words (pinyin)",
    "CREATE INDEX IF NOT EXISTS idx_words_forgotten ON words (deleted) WHERE deleted = 1",
    "CREATE TABLE IF NOT EXISTS readings (initials TEXT NOT NULL, pinyin TEXT NOT NULL, "
    "PRIMARY KEY (initials, pinyin)) WITHOUT ROWID",
)
# schema 3: the user's history bigram, word pairs committed one after the other (added to an
# older file when it is opened)
_CREATE_V3 = (
    "CREATE TABLE IF NOT EXISTS history (prev TEXT NOT NULL, word TEXT NOT NULL, "
    "strength REAL NOT NULL DEFAULT 0.0, commits INTEGER NOT NULL DEFAULT 0, "
    "last_tick INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (prev, word)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS idx_history_tick ON history (last_tick)",
)
_UPSERT_PAIR = (
    "INSERT INTO history (prev, word, strength, commits, last_tick) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT(prev, word) DO UPDATE SET strength = excluded.strength, "
    "commits = excluded.commits, last_tick = excluded.last_tick")
# the readings table holds the first letters of every reading the words table has (perhaps a
# few more: see merge); filled in its own key order, which is much faster than at random
_FILL_READINGS = ("INSERT OR IGNORE INTO readings (initials, pinyin) SELECT dp_initials(pinyin) "
                  "AS i, pinyin FROM (SELECT DISTINCT pinyin FROM words) ORDER BY i, pinyin")
_COLS = "word, pinyin, likelihood, prior, commits, last_tick, deleted, source"
_UPSERT = (
    "INSERT INTO words (word, pinyin, likelihood, prior, commits, last_tick, deleted, source) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(word, pinyin) DO UPDATE SET "
    "likelihood = excluded.likelihood, prior = excluded.prior, commits = excluded.commits, "
    "last_tick = excluded.last_tick, deleted = excluded.deleted, source = excluded.source")
_ADD_READING = "INSERT OR IGNORE INTO readings (initials, pinyin) VALUES (?, ?)"


class UserLexiconError(Exception):
    """The user lexicon cannot be opened or written; the message is one sentence naming the
    file. `kind`: "foreign", "newer", "damaged", "read-only", "locked", "full", "io"."""

    def __init__(self, message: str, kind: str = "io") -> None:
        super().__init__(message)
        self.kind = kind


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


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A pair of the history bigram: `word` committed right after `prev` (their texts)."""

    prev: str
    word: str
    strength: float  # S ∈ [0, 1] at last_tick (before decay; see ime.likelihood)
    commits: int
    last_tick: int


def initials_of(pinyin: str) -> str:
    """'xi an' → 'xa': the first letter of each syllable (what abbreviated input types)."""
    return "".join(s[0] for s in pinyin.split())


def _syllables(pinyin: str) -> tuple[str, ...]:
    return tuple(map(sys.intern, pinyin.split()))  # a few hundred strings, shared by all rows


def _row(r: tuple) -> UserEntry:
    return UserEntry(r[0], _syllables(r[1]), r[2], r[3], r[4], r[5], bool(r[6]), r[7])


def _params(e: UserEntry) -> tuple:
    return (e.word, " ".join(e.syllables), e.likelihood, e.prior, e.commits, e.last_tick,
            int(e.deleted), e.source)


def _error(path: Path, e: sqlite3.Error, doing: str = "") -> UserLexiconError:
    """One sentence for an SQLite error, by its kind."""
    name = getattr(e, "sqlite_errorname", "") or ""
    what = f"{path}: {doing + ': ' if doing else ''}"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(e):
        return UserLexiconError(f"{what}locked by another program (waited past the busy "
                                "timeout)", "locked")
    if name.startswith("SQLITE_FULL"):
        return UserLexiconError(f"{what}the disk is full ({e})", "full")
    if name.startswith(("SQLITE_READONLY", "SQLITE_PERM")):
        return UserLexiconError(f"{what}the file is read-only ({e})", "read-only")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return UserLexiconError(f"{what}the file is damaged ({e}); {_REPAIR_HINT}", "damaged")
    return UserLexiconError(f"{what}{e}", "io")


# ---- inspecting a file before opening it ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Look:
    fresh: bool  # missing or empty: ours to initialise
    version: int  # schema version found (0 when fresh)
    read_only: str | None  # why it cannot be written, or None


def _side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _wal_has_data(path: Path) -> bool:
    try:
        return _side(path, "-wal").stat().st_size > 0
    except OSError:
        return False


def _ro_uri(path: Path, immutable: bool) -> str:
    return path.resolve().as_uri() + ("?mode=ro&immutable=1" if immutable else "?mode=ro")


def _connect_ro(path: Path, immutable: bool | None = None) -> sqlite3.Connection:
    """A read-only connection that creates nothing beside the file (see the module doc);
    `immutable` None: unless a -wal beside it holds data."""
    if immutable is None:
        immutable = not _wal_has_data(path)
    conn = sqlite3.connect(_ro_uri(path, immutable), uri=True, isolation_level=None,
                           check_same_thread=False)
    conn.create_function("dp_initials", 1, initials_of, deterministic=True)
    return conn


def _header_problem(path: Path, size: int, head: bytes) -> str | None:
    """What the first 100 bytes and the size say is wrong with an SQLite file, if anything."""
    if len(head) < 100:
        return f"{path}: the file is truncated ({size} bytes, shorter than an SQLite header)"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return f"{path}: the file is damaged (its header gives a page size of {page} bytes)"
    if _wal_has_data(path):
        return None  # the database continues in the -wal: the main file alone says little
    if size % page:
        return (f"{path}: the file is truncated or damaged ({size} bytes is not a whole "
                f"number of {page}-byte pages)")
    pages = int.from_bytes(head[28:32], "big")
    if pages and head[24:28] == head[92:96] and size < pages * page:
        return (f"{path}: the file is truncated ({size} bytes of the {pages * page} its "
                "header announces)")
    return None


def _schema_version(path: Path, conn: sqlite3.Connection) -> int:
    """The schema version of one of our files (0: no tables yet); UserLexiconError if the
    file is another program's, newer, or has tables we do not know how to read."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return 0
    if "meta" not in tables:
        shown = ", ".join(sorted(tables)[:4]) + (", …" if len(tables) > 4 else "")
        raise UserLexiconError(f"{path}: not a Delta Pinyin user lexicon (another program's "
                               f"SQLite database, with tables {shown}); refusing to touch it",
                               "foreign")
    meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN "
                             "('app', 'schema_version')").fetchall())
    if meta.get("app") != APP_ID:
        raise UserLexiconError(f"{path}: not a Delta Pinyin user lexicon (its meta table has "
                               f"no app = {APP_ID} row); refusing to touch it", "foreign")
    raw = meta.get("schema_version")
    try:
        version = int(str(raw).strip())
    except ValueError:
        raise UserLexiconError(f"{path}: schema version {raw!r} is not a number; refusing to "
                               "touch it", "newer") from None
    if version > SCHEMA_VERSION:
        raise UserLexiconError(f"{path}: schema version {version} is newer than this "
                               f"program's ({SCHEMA_VERSION}); refusing to touch it", "newer")
    if version < 1:
        raise UserLexiconError(f"{path}: schema version {version} is not one this program "
                               "wrote; refusing to touch it", "foreign")
    if "words" not in tables:
        raise UserLexiconError(f"{path}: the file is damaged (no words table); {_REPAIR_HINT}",
                               "damaged")
    cols = [r[1] for r in conn.execute("PRAGMA table_info(words)")]
    if set(cols) != set(WORDS_COLUMNS):
        other = sorted(set(cols) - set(WORDS_COLUMNS))
        missing = sorted(set(WORDS_COLUMNS) - set(cols))
        detail = (f"columns this program does not know ({', '.join(other)})" if other
                  else f"no {', '.join(missing)} column")
        raise UserLexiconError(f"{path}: its words table has {detail}; refusing to touch it",
                               "foreign" if other else "damaged")
    return version


def _look(path: Path) -> _Look:
    """Inspect `path` read-only; UserLexiconError (nothing touched) if it must be refused."""
    try:
        st = path.stat()
    except FileNotFoundError:
        parent = _existing_parent(path)
        if not os.access(parent, os.W_OK | os.X_OK):
            raise UserLexiconError(f"{path}: cannot create it ({parent} is read-only)",
                                   "read-only") from None
        return _Look(True, 0, None)
    except OSError as e:
        raise UserLexiconError(f"{path}: cannot read ({e.strerror})") from None
    if path.is_dir():
        raise UserLexiconError(f"{path}: is a directory, not a user lexicon", "foreign")
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError as e:
        raise UserLexiconError(f"{path}: cannot read ({e.strerror})") from None
    read_only = None
    if not os.access(path, os.W_OK):
        read_only = "the file is read-only"
    elif not os.access(path.parent, os.W_OK | os.X_OK):
        read_only = f"its directory {path.parent} is read-only (SQLite writes beside the file)"
    if not head:
        if _wal_has_data(path):
            raise UserLexiconError(f"{path}: the file is damaged (empty, with a -wal file "
                                   f"beside it); {_REPAIR_HINT}", "damaged")
        if read_only is not None:
            raise UserLexiconError(f"{path}: the file is empty and {read_only}", "read-only")
        return _Look(True, 0, None)  # what a crash while creating one leaves: ours to fill
    if not head.startswith(_SQLITE_MAGIC):
        raise UserLexiconError(f"{path}: not a Delta Pinyin user lexicon (not an SQLite file); "
                               "refusing to touch it", "foreign")
    problem = _header_problem(path, st.st_size, head)
    if problem:
        raise UserLexiconError(f"{problem}; {_REPAIR_HINT}", "damaged")
    wal = _wal_has_data(path)
    version = -1
    try:
        # the main file alone first: another program's database says so there, and an
        # immutable read leaves even a running program's -wal and -shm as they are
        conn = _connect_ro(path, immutable=True)
        try:
            version = _schema_version(path, conn)
        finally:
            conn.close()
    except sqlite3.Error as e:
        if not wal:  # else the pages read may be mid-checkpoint: the -wal view decides
            raise _error(path, e, "cannot read it as SQLite") from None
    if wal and version <= SCHEMA_VERSION:
        try:  # the committed pages in the -wal are part of the database
            conn = _connect_ro(path, immutable=False)
            try:
                version = _schema_version(path, conn)
            finally:
                conn.close()
        except sqlite3.Error as e:
            raise _error(path, e, "cannot read it as SQLite") from None
    if version == 0 and read_only is not None:
        raise UserLexiconError(f"{path}: the database is empty and {read_only}", "read-only")
    return _Look(version == 0, version, read_only)


def _existing_parent(path: Path) -> Path:
    p = path.resolve().parent
    while not p.exists():
        p = p.parent
    return p


def _create_private(path: Path) -> None:
    """The file, empty, mode 0600, in a 0700 directory (user data is private)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # an empty file (see _look) or one another process just created
    except OSError as e:
        raise UserLexiconError(f"{path}: cannot create it ({e.strerror})", "read-only") from None
    os.close(fd)


# ---- the lexicon -----------------------------------------------------------------------------


class UserLexicon:
    """One user lexicon file. `read_only`: None, or why this connection cannot write."""

    def __init__(self, path: Path, busy_timeout_ms: int = 30_000,
                 read_only: bool = False) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        look = _look(self.path)
        self.read_only: str | None = look.read_only or (
            "opened read-only" if read_only and not look.fresh else None)
        if look.fresh:
            _create_private(self.path)
        self.last_tick: int | None = None  # the tick of the last update (None: none yet)
        self.conn = self._connect(look.version)

    def _connect(self, version: int) -> sqlite3.Connection:
        if self.read_only is not None:
            conn = _connect_ro(self.path)
            try:
                if version < SCHEMA_VERSION or not self._has_readings(conn):
                    self._shadow(conn, version)
            except sqlite3.Error as e:
                conn.close()
                raise _error(self.path, e) from None
            self.db = sqlite_utils.Database(conn)
            return conn
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None,
                                   timeout=self.busy_timeout_ms / 1000, check_same_thread=False)
            conn.create_function("dp_initials", 1, initials_of, deterministic=True)
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as e:
            raise _error(self.path, e, "cannot open it") from None
        if str(mode).lower() != "wal":
            conn.close()
            raise UserLexiconError(f"{self.path}: cannot switch to WAL journal mode ({mode})")
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        try:
            version = _schema_version(self.path, conn)  # again: the file may have changed
            if version < SCHEMA_VERSION or not self._has_readings(conn):
                self._upgrade(version)
        except BaseException as e:
            conn.close()
            if isinstance(e, sqlite3.Error):
                raise _error(self.path, e) from None
            raise
        return conn

    @staticmethod
    def _has_readings(conn: sqlite3.Connection) -> bool:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                            "name = 'readings'").fetchone() is not None

    def _upgrade(self, version: int) -> None:
        """Create the schema (version 0: a new file) or bring it to SCHEMA_VERSION."""
        with self.transaction():
            for sql in _CREATE + _CREATE_V2 + _CREATE_V3:
                self.conn.execute(sql)
            self.conn.execute(_FILL_READINGS)
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('app', ?), "
                              "('schema_version', ?), ('tick', '0')",
                              [APP_ID, str(SCHEMA_VERSION)])
            self.conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                              [str(SCHEMA_VERSION)])

    def _shadow(self, conn: sqlite3.Connection, version: int) -> None:
        """A read-only file of an older schema: the tables the queries need, as TEMP copies
        (in memory or a private temp file, never beside the file)."""
        if version < 2 or not self._has_readings(conn):
            conn.execute("CREATE TEMP TABLE words AS SELECT * FROM main.words")
            for sql in _CREATE_V2:
                conn.execute(sql.replace("EXISTS ", "EXISTS temp.", 1))
            conn.execute(_FILL_READINGS.replace("INTO readings", "INTO temp.readings"))
        if version < 3:
            conn.execute(_CREATE_V3[0].replace("EXISTS ", "EXISTS temp.", 1))

    def reopen(self) -> bool:
        """Opened read-only because the file or its directory was: open for writing now if
        both can be written. True if this connection can write (now or already)."""
        if self.read_only is None:
            return True
        if self.read_only == "opened read-only":
            return False
        look = _look(self.path)
        if look.read_only is not None:
            return False
        self.close()
        self.read_only = None
        self.conn = self._connect(look.version)
        return True

    def set_busy_timeout(self, ms: int) -> None:
        """How long a write waits for another writer's lock before it fails."""
        self.busy_timeout_ms = ms
        with suppress(sqlite3.Error):
            self.conn.execute(f"PRAGMA busy_timeout = {int(ms)}")

    # ---- transactions ------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One atomic write: BEGIN IMMEDIATE … COMMIT (ROLLBACK on any error); SQLite errors
        become UserLexiconError."""
        if self.read_only is not None:
            raise UserLexiconError(f"{self.path}: cannot write ({self.read_only})", "read-only")
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise _error(self.path, e, "cannot start a write") from None
        try:
            yield self.db
            conn.execute("COMMIT")
        except BaseException as e:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if isinstance(e, sqlite3.Error):
                raise _error(self.path, e, "cannot write") from None
            raise

    def close(self) -> None:
        with suppress(sqlite3.Error):
            self.conn.close()

    def _query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        try:
            return self.conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as e:
            raise _error(self.path, e, "cannot read") from None

    # ---- reads --------------------------------------------------------------------------------

    @property
    def tick(self) -> int:
        return int(self._query("SELECT value FROM meta WHERE key = 'tick'")[0][0])

    @property
    def schema_version(self) -> int:
        return int(self._query("SELECT value FROM meta WHERE key = 'schema_version'")[0][0])

    def get(self, word: str, syllables: tuple[str, ...]) -> UserEntry | None:
        rows = self._query(f"SELECT {_COLS} FROM words WHERE word = ? AND pinyin = ?",
                           (word, " ".join(syllables)))
        return _row(rows[0]) if rows else None

    def entries(self, include_deleted: bool = False) -> list[UserEntry]:
        return list(self.iter_entries(include_deleted))

    def iter_entries(self, include_deleted: bool = False,
                     batch: int = WRITE_BATCH) -> Iterator[UserEntry]:
        """Every entry in insertion order, read `batch` rows at a time."""
        where = "" if include_deleted else " AND deleted = 0"
        last = 0
        while True:
            rows = self._query(f"SELECT id, {_COLS} FROM words WHERE id > ?{where} "
                               "ORDER BY id LIMIT ?", (last, batch))
            if not rows:
                return
            for r in rows:
                yield _row(r[1:])
            last = rows[-1][0]

    def of_word(self, word: str) -> list[UserEntry]:
        """Every reading of `word` the user lexicon has (forgotten ones too)."""
        return [_row(r) for r in self._query(f"SELECT {_COLS} FROM words WHERE word = ?",
                                             (word,))]

    def with_pinyin(self, pinyin: str) -> list[UserEntry]:
        """Every entry read `pinyin` ('xi an'), forgotten ones too."""
        return [_row(r) for r in self._query(f"SELECT {_COLS} FROM words WHERE pinyin = ?",
                                             (pinyin,))]

    def with_initials(self, initials: str, lead: str = "") -> list[UserEntry]:
        """Every entry whose syllables begin with these letters ('xa': xi an, xian an, …)
        and whose reading with `lead` ('xian' or 'xian a': xian an; '': any)."""
        cols = ", ".join("w." + c for c in _COLS.split(", "))
        return [_row(r) for r in self._query(
            f"SELECT {cols} FROM readings r JOIN words w ON w.pinyin = r.pinyin "
            "WHERE r.initials = ? AND r.pinyin >= ? AND r.pinyin < ?",
            (initials, lead, lead + "{"))]  # '{' follows 'z'

    def has_pinyin_prefix(self, syllables: tuple[str, ...]) -> bool:
        """Whether some entry not forgotten is read `syllables` or begins with them."""
        p = " ".join(syllables)
        return bool(self._query("SELECT 1 FROM words WHERE pinyin >= ? AND pinyin < ? AND "
                                "deleted = 0 LIMIT 1", (p, p + "!")))  # ' ' < '!' < 'a'

    def has_initials_prefix(self, initials: str) -> bool:
        """Whether some reading's first letters begin with `initials`."""
        return bool(self._query("SELECT 1 FROM readings WHERE initials >= ? AND initials < ? "
                                "LIMIT 1", (initials, initials + "{")))  # '{' follows 'z'

    def readings(self, limit: int) -> list[str]:
        """At most `limit` of the readings the user lexicon has ('xi an', …)."""
        return [r[0] for r in self._query("SELECT pinyin FROM readings LIMIT ?", (limit,))]

    def forgotten(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(w, tuple(p.split())) for w, p in self._query(
            "SELECT word, pinyin FROM words WHERE deleted = 1")]

    def history(self, limit: int) -> list[HistoryEntry]:
        """The `limit` pairs of the history bigram used last (most recent first)."""
        return [HistoryEntry(*r) for r in self._query(
            "SELECT prev, word, strength, commits, last_tick FROM history "
            "ORDER BY last_tick DESC LIMIT ?", (limit,))]

    def get_pair(self, prev: str, word: str) -> HistoryEntry | None:
        rows = self._query("SELECT prev, word, strength, commits, last_tick FROM history "
                           "WHERE prev = ? AND word = ?", (prev, word))
        return HistoryEntry(*rows[0]) if rows else None

    def history_size(self) -> int:
        return self._query("SELECT count(*) FROM history")[0][0]

    def is_empty(self) -> bool:
        return not self._query("SELECT 1 FROM words LIMIT 1")

    def __len__(self) -> int:
        """Entries not forgotten (a count: a scan of the table)."""
        return self._query("SELECT count(*) FROM words WHERE deleted = 0")[0][0]

    def __bool__(self) -> bool:
        return True  # a lexicon, even an empty one (not len(self) > 0)

    def integrity(self) -> list[str]:
        """PRAGMA integrity_check: ['ok'], or what is wrong."""
        return [r[0] for r in self._query("PRAGMA integrity_check")]

    # ---- writes --------------------------------------------------------------------------------

    def update(self, keys: Iterable[tuple[str, tuple[str, ...]]],
               fn: Callable[[tuple[str, tuple[str, ...]], UserEntry | None, int],
                            UserEntry | None],
               advance_tick: bool = True) -> list[UserEntry]:
        """Read-modify-write the rows of `keys` in one transaction.

        `fn(key, current entry or None, tick) → new entry or None (no change)`; the tick is the
        global commit counter, advanced by one when `advance_tick`.
        """
        return self.update_with_history(keys, fn, (), None, advance_tick)[0]

    def update_with_history(
            self, keys: Iterable[tuple[str, tuple[str, ...]]],
            fn: Callable[[tuple[str, tuple[str, ...]], UserEntry | None, int], UserEntry | None],
            pairs: Iterable[tuple[str, str]],
            pair_fn: Callable[[tuple[str, str], HistoryEntry | None, int],
                              HistoryEntry | None] | None,
            advance_tick: bool = True) -> tuple[list[UserEntry], list[HistoryEntry]]:
        """`update`, and in the same transaction the history pairs (prev, word) of `pairs`:
        `pair_fn(pair, current or None, tick) → new pair or None (no change)`. Returns the
        entries and the pairs written."""
        changed: list[UserEntry] = []
        changed_pairs: list[HistoryEntry] = []
        with self.transaction():
            conn = self.conn
            tick = int(conn.execute("SELECT value FROM meta WHERE key = 'tick'").fetchone()[0])
            if advance_tick:
                tick += 1
                conn.execute("UPDATE meta SET value = ? WHERE key = 'tick'", [str(tick)])
            for word, sylls in dict.fromkeys(keys):
                cur = conn.execute(f"SELECT {_COLS} FROM words WHERE word = ? AND pinyin = ?",
                                   [word, " ".join(sylls)]).fetchone()
                new = fn((word, sylls), _row(cur) if cur is not None else None, tick)
                if new is None:
                    continue
                self._write_many([new])
                changed.append(new)
            for prev, word in dict.fromkeys(pairs):
                cur = conn.execute("SELECT prev, word, strength, commits, last_tick FROM "
                                   "history WHERE prev = ? AND word = ?", [prev, word]).fetchone()
                pair = pair_fn((prev, word), HistoryEntry(*cur) if cur is not None else None,
                               tick)
                if pair is None:
                    continue
                conn.execute(_UPSERT_PAIR, (pair.prev, pair.word, pair.strength, pair.commits,
                                            pair.last_tick))
                changed_pairs.append(pair)
        self.last_tick = tick
        return changed, changed_pairs

    def delete_pairs(self, pairs: Iterable[tuple[str, str]] = (), of_word: str | None = None,
                     before_tick: int | None = None) -> int:
        """Delete history pairs in one transaction: these (prev, word) pairs, every pair with
        `of_word` on either side, and every pair last used before `before_tick`. Returns the
        pairs deleted."""
        n = 0
        with self.transaction():
            conn = self.conn
            for prev, word in pairs:
                n += conn.execute("DELETE FROM history WHERE prev = ? AND word = ?",
                                  (prev, word)).rowcount
            if of_word is not None:
                n += conn.execute("DELETE FROM history WHERE prev = ? OR word = ?",
                                  (of_word, of_word)).rowcount
            if before_tick is not None:
                n += conn.execute("DELETE FROM history WHERE last_tick < ?",
                                  (before_tick,)).rowcount
        return n

    def put_pairs(self, pairs: Iterable[HistoryEntry]) -> int:
        """Insert or replace history pairs in one transaction."""
        with self.transaction():
            return self.put_pairs_in_transaction(pairs)

    def put_pairs_in_transaction(self, pairs: Iterable[HistoryEntry]) -> int:
        """Insert or replace history pairs inside a transaction the caller holds."""
        rows = [(p.prev, p.word, p.strength, p.commits, p.last_tick) for p in pairs]
        self.conn.executemany(_UPSERT_PAIR, rows)
        return len(rows)

    def revert(self, rows: Iterable[tuple[UserEntry, UserEntry | None]],
               pairs: Iterable[tuple[HistoryEntry, HistoryEntry | None]] = ()
               ) -> tuple[list[tuple[UserEntry, UserEntry | None]],
                          list[tuple[HistoryEntry, HistoryEntry | None]]]:
        """Put rows back as they were, in one transaction: each (written, before) whose row
        is still `written` becomes `before` (None: deleted); a row another writer changed
        since stays. The same for history pairs. Returns the rows and pairs reverted."""
        done: list[tuple[UserEntry, UserEntry | None]] = []
        done_pairs: list[tuple[HistoryEntry, HistoryEntry | None]] = []
        with self.transaction():
            conn = self.conn
            for p, old_pair in pairs:
                if self.get_pair(p.prev, p.word) != p:
                    continue
                if old_pair is None:
                    conn.execute("DELETE FROM history WHERE prev = ? AND word = ?",
                                 (p.prev, p.word))
                else:
                    self.put_pairs_in_transaction([old_pair])
                done_pairs.append((p, old_pair))
            for e, old in rows:
                if self.get(e.word, e.syllables) != e:
                    continue
                if old is None:
                    conn.execute("DELETE FROM words WHERE word = ? AND pinyin = ?",
                                 (e.word, e.pinyin))
                else:
                    self._write_many([old], readings=False)
                done.append((e, old))
        return done, done_pairs

    def put_many(self, entries: Iterable[UserEntry]) -> int:
        """Insert or replace entries in one transaction (written in batches): all or nothing."""
        n = 0
        with self.transaction():
            batch: list[UserEntry] = []
            for e in entries:
                batch.append(e)
                if len(batch) >= WRITE_BATCH:
                    n += self._write_many(batch)
                    batch = []
            n += self._write_many(batch)
        return n

    def _write_many(self, entries: list[UserEntry], readings: bool = True) -> int:
        rows = [_params(e) for e in entries]
        self.conn.executemany(_UPSERT, rows)
        if readings:
            self.conn.executemany(_ADD_READING, {(initials_of(r[1]), r[1]) for r in rows})
        return len(rows)

    def set_tick(self, tick: int) -> None:
        with self.transaction():
            self.conn.execute("UPDATE meta SET value = ? WHERE key = 'tick'", [str(tick)])

    def merge(self, rows: Iterable[tuple[str, tuple[str, ...], float]],
              plan: Callable[[list[tuple[str, tuple[str, ...], float, UserEntry | None]], int],
                             list[UserEntry]],
              batch: int = 20_000, staged: Callable[[int], None] | None = None,
              merged: Callable[[int], None] | None = None) -> int:
        """An import: stage every (word, syllables, logp), then write what `plan` decides.

        First every row goes into a private TEMP table (the best logp of each word and
        reading; an error raised by `rows`, such as a bad line, ends the import here, before
        anything is written). Then, in one transaction, `plan(batch of (word, syllables,
        best logp, current entry or None), tick)` returns the entries to write, batch by
        batch, in (word, pinyin) order. Memory is one batch and the page cache
        (MERGE_CACHE_MB), whatever the size of the file. `staged(n)` and `merged(n)` report
        progress. Returns the number of distinct entries staged.
        """
        conn = self.conn
        if self.read_only is not None:
            raise UserLexiconError(f"{self.path}: cannot write ({self.read_only})", "read-only")
        cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        try:
            # a big import inserts all over three indexes: a page cache of MERGE_CACHE_MB
            # instead of SQLite's 2 MB keeps them off the disk (memory stays bounded by it)
            conn.execute(f"PRAGMA cache_size = {-MERGE_CACHE_MB * 1024}")
            conn.execute(f"PRAGMA temp.cache_size = {-MERGE_CACHE_MB * 1024 // 4}")
            conn.execute("DROP TABLE IF EXISTS temp.import_rows")
            conn.execute("CREATE TEMP TABLE import_rows (word TEXT NOT NULL, pinyin TEXT NOT "
                         "NULL, logp REAL NOT NULL, UNIQUE (word, pinyin))")
            stage = ("INSERT INTO temp.import_rows VALUES (?, ?, ?) ON CONFLICT (word, pinyin) "
                     "DO UPDATE SET logp = max(logp, excluded.logp)")
            try:
                buf: list[tuple[str, str, float]] = []
                conn.execute("BEGIN")  # the temp table only: takes no lock on the file
                for word, sylls, logp in rows:
                    buf.append((word, " ".join(sylls), logp))
                    if len(buf) >= batch:
                        conn.executemany(stage, buf)
                        if staged:
                            staged(len(buf))
                        buf = []
                conn.executemany(stage, buf)
                if staged:
                    staged(len(buf))
                conn.execute("COMMIT")
            except BaseException:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            n = conn.execute("SELECT count(*) FROM temp.import_rows").fetchone()[0]
            with self.transaction():
                tick = int(conn.execute("SELECT value FROM meta WHERE key = 'tick'")
                           .fetchone()[0])
                # in (word, pinyin) order, the order of the unique index: the lookups and
                # the inserts walk the words table's biggest index from one end to the other
                last = ("", "")
                while True:
                    got = conn.execute(
                        f"SELECT s.word, s.pinyin, s.logp, w.{_COLS.replace(', ', ', w.')}"
                        " FROM temp.import_rows s LEFT JOIN words w ON w.word = s.word AND "
                        "w.pinyin = s.pinyin WHERE (s.word, s.pinyin) > (?, ?) "
                        "ORDER BY s.word, s.pinyin LIMIT ?", (*last, batch)).fetchall()
                    if not got:
                        break
                    last = (got[-1][0], got[-1][1])
                    todo = [(r[0], tuple(r[1].split()), r[2],
                             _row(r[3:]) if r[3] is not None else None) for r in got]
                    self._write_many(plan(todo, tick), readings=False)
                    if merged:
                        merged(len(got))
                # the readings of the staged rows, in the readings table's own order (a
                # reading whose rows the plan left out costs a lookup later, nothing more)
                conn.execute("INSERT OR IGNORE INTO readings (initials, pinyin) SELECT "
                             "dp_initials(pinyin) AS i, pinyin FROM (SELECT DISTINCT pinyin "
                             "FROM temp.import_rows) ORDER BY i, pinyin")
            return n
        except sqlite3.Error as e:
            raise _error(self.path, e, "cannot import") from None
        finally:
            with suppress(sqlite3.Error):
                conn.execute("DROP TABLE IF EXISTS temp.import_rows")
                conn.execute(f"PRAGMA cache_size = {cache}")


# ---- repair and reset --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RepairReport:
    path: Path
    problem: str | None  # what was wrong; None: nothing, and nothing was done
    backup: Path | None  # the old file, kept beside the new one
    salvaged: int  # entries copied into the new file
    dropped: int  # rows read but not valid entries, or unreadable ids skipped


def _backup_name(path: Path, what: str) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for n in range(1000):
        p = path.with_name(f"{path.name}.{what}-{stamp}" + (f"-{n}" if n else ""))
        if not p.exists() and not _side(p, "-wal").exists():
            return p
    raise UserLexiconError(f"{path}: cannot find a free backup name beside it")


def _problem(path: Path) -> str | None:
    """Why the file would be refused or is unsound (integrity check), or None."""
    try:
        look = _look(path)
    except UserLexiconError as e:
        return str(e)
    if look.fresh:
        return None
    try:
        conn = _connect_ro(path)
        try:
            check = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.Error as e:
        return str(_error(path, e))
    if check != ["ok"]:
        return f"{path}: integrity check failed ({'; '.join(check[:3])})"
    return None


def _valid_row(r: dict) -> tuple | None:
    """A salvaged row as _UPSERT parameters, or None if it is not a sound entry."""
    word, pinyin = r.get("word"), r.get("pinyin")
    if not isinstance(word, str) or not word or not isinstance(pinyin, str):
        return None
    sylls = pinyin.split()
    if not sylls or any(not s.isascii() or not s.isalpha() or not s.islower() for s in sylls):
        return None
    try:
        likelihood = float(r.get("likelihood", 0.0) or 0.0)
        prior = float(r.get("prior", 0.0) or 0.0)
        commits = int(r.get("commits", 0) or 0)
        last_tick = int(r.get("last_tick", 0) or 0)
        deleted = int(r.get("deleted", 0) or 0)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(likelihood) and math.isfinite(prior)) or deleted not in (0, 1):
        return None
    source = r.get("source")
    return (word, " ".join(sylls), min(max(likelihood, 0.0), 1.0), min(max(prior, 0.0), 1.0),
            max(commits, 0), max(last_tick, 0), deleted,
            source if source in SOURCES else "learned")


def _pad(copy: Path) -> None:
    """A truncated copy zero-filled to the size its header announces: SQLite refuses every
    read of a file shorter than that, but reads the pages that are there of one that is not
    (the zero pages just fail to read)."""
    with open(copy, "r+b") as f:
        head = f.read(100)
        size = f.seek(0, os.SEEK_END)
        if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
            return
        page = int.from_bytes(head[16:18], "big")
        page = 65536 if page == 1 else page
        if page < 512 or page & (page - 1):
            return
        want = -(-size // page) * page
        pages = int.from_bytes(head[28:32], "big")
        if pages and head[24:28] == head[92:96]:
            want = max(want, pages * page)
        f.write(b"\0" * (want - size))


def _salvage(path: Path) -> tuple[list[tuple], int, int]:
    """(rows, dropped, tick) read from a private copy of `path` (and of its -wal): the
    original is never opened for writing."""
    rows: list[tuple] = []
    dropped = 0
    tick = 0
    with tempfile.TemporaryDirectory(prefix="delta-pinyin-repair-") as tmp:
        copy = Path(tmp) / "old.db"
        shutil.copyfile(path, copy)
        _pad(copy)
        if _wal_has_data(path):
            shutil.copyfile(_side(path, "-wal"), _side(copy, "-wal"))
        try:
            conn = sqlite3.connect(str(copy), isolation_level=None)
        except sqlite3.Error:
            return rows, dropped, tick
        try:
            with suppress(sqlite3.Error, ValueError, TypeError):
                tick = int(conn.execute("SELECT value FROM meta WHERE key = 'tick'")
                           .fetchone()[0])
            try:
                cols = [r[1] for r in conn.execute("PRAGMA table_info(words)")]
            except sqlite3.Error:
                cols = []
            cols = [c for c in WORDS_COLUMNS[1:] if c in cols]
            if "word" not in cols or "pinyin" not in cols:
                return rows, dropped, tick
            try:
                hi = conn.execute("SELECT max(id) FROM words").fetchone()[0] or 0
            except sqlite3.Error:
                hi = (copy.stat().st_size // 512) * 64  # more rows than 512 B pages can hold
            sql = f"SELECT id, {', '.join(cols)} FROM words WHERE id > ? ORDER BY id LIMIT 1000"
            last = 0
            while last < hi:
                try:
                    got = conn.execute(sql, (last,)).fetchall()
                except sqlite3.Error:
                    got = []
                    for i in range(last + 1, min(last + 1000, hi) + 1):  # past a bad page
                        try:
                            got += conn.execute(sql.replace("id > ?", "id = ?"), (i,)).fetchall()
                        except sqlite3.Error:
                            dropped += 1
                    last = min(last + 1000, hi)
                else:
                    if not got:
                        break
                    last = got[-1][0]
                for r in got:
                    v = _valid_row(dict(zip(cols, r[1:])))
                    if v is None:
                        dropped += 1
                    else:
                        rows.append(v)
        finally:
            conn.close()
    return rows, dropped, tick


def _replace_keeping(path: Path, new: Path, what: str) -> Path | None:
    """Put `new` in place of `path`, the old file (and its -wal) kept under a timestamped
    name beside it; at every moment `path` is the old file or the new one."""
    if not path.exists():
        os.replace(new, path)
        return None
    backup = _backup_name(path, what)
    for suffix in ("", "-wal"):
        old = _side(path, suffix)
        if old.exists():
            try:
                os.link(old, _side(backup, suffix))
            except OSError:
                shutil.copy2(old, _side(backup, suffix))
    for suffix in ("-wal", "-shm"):  # never left paired with the new file
        _side(path, suffix).unlink(missing_ok=True)
    os.replace(new, path)
    with suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return backup


def _fresh_file(path: Path, rows: list[tuple], tick: int) -> Path:
    """A new lexicon with `rows` beside `path`, complete and closed, not yet in its place."""
    new = path.with_name(f".{path.name}.new-{os.getpid()}")
    for suffix in ("", "-wal", "-shm"):
        _side(new, suffix).unlink(missing_ok=True)
    try:
        store = UserLexicon(new)
        try:
            with store.transaction():
                for i in range(0, len(rows), WRITE_BATCH):
                    part = rows[i:i + WRITE_BATCH]
                    store.conn.executemany(_UPSERT, part)
                    store.conn.executemany(_ADD_READING, {(initials_of(r[1]), r[1])
                                                          for r in part})
                store.conn.execute("UPDATE meta SET value = ? WHERE key = 'tick'",
                                   [str(max([tick] + [r[5] for r in rows]))])
        finally:
            store.close()
        fd = os.open(new, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        for suffix in ("", "-wal", "-shm"):
            _side(new, suffix).unlink(missing_ok=True)
        raise
    return new


def _check_replaceable(path: Path) -> None:
    if path.is_dir():
        raise UserLexiconError(f"{path}: is a directory, not a user lexicon", "foreign")
    parent = path.parent if path.parent.exists() else _existing_parent(path)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserLexiconError(f"{path}: cannot write beside it ({parent} is read-only)",
                               "read-only")


def repair(path: Path) -> RepairReport:
    """Salvage what rows of a refused or unsound user lexicon can be read into a fresh file;
    the old one is kept beside it (`user.db.broken-<timestamp>`). A sound file is left as it
    is (`problem` None). Close the input method first: a running one keeps the old file."""
    path = Path(path)
    _check_replaceable(path)
    problem = _problem(path) if path.exists() else None
    if problem is None:
        return RepairReport(path, None, None, 0, 0)
    rows, dropped, tick = _salvage(path)
    new = _fresh_file(path, rows, tick)
    backup = _replace_keeping(path, new, "broken")
    return RepairReport(path, problem, backup, len(rows), dropped)


def reset(path: Path) -> Path | None:
    """Start an empty user lexicon; the old file is kept beside it (`user.db.reset-<timestamp>`,
    returned; None if there was none)."""
    path = Path(path)
    _check_replaceable(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return _replace_keeping(path, _fresh_file(path, [], 0), "reset")
