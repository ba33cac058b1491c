"""`python main.py lexicon forget|restore|learned|info|export|import|repair|reset`: the
dictionary keeper's commands.

    python main.py lexicon learned --sort count --grep xian   # what was learned (--json)
    python main.py lexicon learned --forgotten                # what was forgotten
    python main.py lexicon restore 先在                       # undo a forget
    python main.py lexicon export --format rime --out delta.dict.yaml   # system + user words
    python main.py lexicon export --format tsv --out mine.tsv --user-only
    python main.py lexicon import words.scel --format scel              # all or nothing
    python main.py lexicon repair        # salvage a damaged user.db (the old one kept beside)
    python main.py lexicon reset         # start an empty user.db (the old one kept beside)

Scores on export (natural log, the decoder's own scale):

    system word                 unigram(word) + log P(reading | word) [+ user adjustment]
    learned word (L ≥ THRESHOLD) NEW_WORD_LOGP + score_adjustment(L, system_word=False)
    forgotten word              a tombstone line in tsv (`word TAB pinyin TAB forgotten`);
                                left out of RIME and libime files, which cannot say so

A tombstone imported marks the word forgotten in the user lexicon it goes into (a fresh one
too), so a word forgotten on one machine stays forgotten on the next; an import never
brings back a word the user forgot.

Import inverts the same formulas into a likelihood L per word (see `import_likelihood`);
file formats and weight mappings are in lexicon/FORMAT.md. The file is read entry by entry
(`lexicon.format_stream`) into a private staging table (every line checked before anything
is written), then merged into the user lexicon in batches inside one transaction: memory is
one batch whatever the size of the file, and a failed or killed import changes nothing.
Export sorts in a private scratch database, so neither command holds the lexicons in memory.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cli.common import CliError, cache_dir_of
from ime import likelihood as lk
from ime.user_dictionary import SORTS, count_learned, learned_words, restore
from lexicon.format_stream import iter_entries
from lexicon.formats import (
    FORMATS,
    WRITABLE_FORMATS,
    FormatEntry,
    guess_format,
    write_entries,
)
from lexicon.ngram import BigramModel
from lexicon.trie import SystemLexicon, decode, encode
from lexicon.user_lexicon import UserEntry, UserLexicon, UserLexiconError, repair, reset
from pinyin.spelling import normalize_pinyin

__all__ = [
    "add_lexicon_commands",
    "run_lexicon_command",
    "parse_pinyin",
    "system_logp",
    "export_entries",
    "iter_export",
    "import_likelihood",
    "plan_import",
    "ImportPlan",
]

IMPORT_MIN_LIKELIHOOD = 0.05  # an imported system word is never pushed below this
IMPORT_MAX_LIKELIHOOD = 0.95  # nor any imported word above this (the user can still go higher)
# an import changes a word only if it raises its score by at least this many nats: weights
# rounded by a file format (RIME counts) must not rewrite every word when re-imported
IMPORT_MIN_GAIN = 0.1
# a tombstone as an import stages it: above any logp, so that the staging table's max keeps
# it over an entry of the same word and reading in the same file (forgetting wins)
TOMBSTONE_LOGP = math.inf
CLI_BUSY_TIMEOUT_MS = 30_000  # a command waits this long for a running input method's write
BATCH = 20_000  # entries per staged or merged batch
LIST_LIMIT = 50  # rows `lexicon learned` shows unless --limit says otherwise
TOMBSTONE_FORMATS = ("tsv",)  # the formats that can say a word is forgotten


def parse_pinyin(text: str) -> tuple[str, ...]:
    """`xian zai`, `xian'zai`, `xian-zai` or `xiān zài` → ('xian', 'zai'), every syllable
    checked (pinyin.spelling)."""
    try:
        return normalize_pinyin(text)
    except ValueError as e:
        raise ValueError(f"invalid pinyin {text!r}: {e}") from None


def add_lexicon_commands(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("forget", help="forget a word (a system word is demoted)")
    c.add_argument("word")
    c.add_argument("--pinyin", help="only this reading, e.g. 'xian zai'")
    c = sub.add_parser("restore", help="undo a forget: offer a forgotten word again")
    c.add_argument("word")
    c.add_argument("--pinyin", help="only this reading, e.g. 'xian zai'")
    c = sub.add_parser("learned", help="list what was learned: word, pinyin, likelihood, "
                                       "uses, last use, source")
    c.add_argument("--sort", choices=SORTS, default="recent",
                   help="recent: last used first (default); count: most used first; "
                        "likelihood: highest likelihood now first")
    c.add_argument("--grep", metavar="TEXT",
                   help="only words holding TEXT, or whose pinyin holds its letters")
    c.add_argument("--limit", type=int, default=LIST_LIMIT, metavar="N",
                   help=f"at most N rows (default {LIST_LIMIT}; 0: all)")
    c.add_argument("--forgotten", action="store_true",
                   help="list the forgotten words instead (lexicon restore undoes one)")
    c.add_argument("--all", action="store_true", dest="every",
                   help="also entries learning only touched: system words accepted as "
                        "predicted or demoted, sequences not yet words")
    c.add_argument("--json", action="store_true", help="a JSON array of objects")
    c = sub.add_parser("info", help="sizes of the system and user lexicons")
    c = sub.add_parser("export", help="write the lexicon in another IME's format")
    c.add_argument("--format", choices=WRITABLE_FORMATS,
                   help="file format (default: from the file name: .dict.yaml, .txt, .tsv)")
    c.add_argument("--out", required=True, help="file to write (replaced atomically)")
    c.add_argument("--user-only", action="store_true",
                   help="only the user lexicon's words (the file gets mode 0600)")
    c = sub.add_parser("import", help="add another IME's dictionary to the user lexicon")
    c.add_argument("file")
    c.add_argument("--format", choices=FORMATS,
                   help="file format (default: from the file name: .dict.yaml, .txt, .tsv, .scel)")
    c.add_argument("--skip-bad", action="store_true",
                   help="leave out entries this engine cannot type (e.g. Latin letters in a word)"
                        " and import the rest, listing what was left out")
    sub.add_parser("repair", help="salvage the readable entries of a damaged or refused user "
                                  "lexicon into a fresh file (the old one is kept beside it)")
    sub.add_parser("reset", help="start an empty user lexicon (the old one is kept beside it)")


def _format_of(path: str, given: str | None) -> str:
    fmt = given or guess_format(Path(path))
    if fmt is None:
        raise ValueError(f"cannot tell the format of {path} from its name; pass --format "
                         f"({', '.join(FORMATS)})")
    return fmt


def _user_db(args) -> Path:
    from ime.learner import default_user_db

    return Path(args.user_db) if getattr(args, "user_db", None) else default_user_db()


def run_lexicon_command(args) -> int:
    from cli.common import engine_from_args
    from ime.learner import default_user_db
    from lexicon.build import default_cache_dir

    if args.lexicon_cmd in ("repair", "reset"):  # never opened as a lexicon: it may be refused
        return _repair(_user_db(args)) if args.lexicon_cmd == "repair" else _reset(_user_db(args))
    if args.lexicon_cmd == "learned":  # the user lexicon alone, read-only: no engine needed
        return _learned(args)
    fmt = None
    if args.lexicon_cmd == "import":
        fmt = _format_of(args.file, args.format)
    if args.lexicon_cmd == "export":
        fmt = _format_of(args.out, args.format)
        if fmt not in WRITABLE_FORMATS:
            raise ValueError(f"cannot write {fmt} files; export writes "
                             f"{', '.join(WRITABLE_FORMATS)}")

    # the user's lexicon even where the config turns learning off; never the neural LM
    engine = engine_from_args(args, always_learner=True, user_db=default_user_db(), lm=False)
    learner = engine.learner
    assert learner is not None
    store = learner.store
    store.set_busy_timeout(CLI_BUSY_TIMEOUT_MS)
    cache = cache_dir_of(args) or default_cache_dir()
    try:
        if args.lexicon_cmd in ("forget", "restore", "import") and store.read_only is not None:
            raise UserLexiconError(f"{store.path}: cannot write ({store.read_only})",
                                   "read-only")
        if args.lexicon_cmd == "forget":
            sylls = parse_pinyin(args.pinyin) if args.pinyin else None
            n = engine.forget(args.word, sylls)
            if n == 0 and learner.paused:
                raise UserLexiconError(learner.paused)
            if n == 0:
                print(f"{args.word}: not in the system or user lexicon; nothing to forget")
                return 1
            print(f"forgot {args.word} ({n} reading{'s' if n != 1 else ''})")
            return 0
        if args.lexicon_cmd == "restore":
            sylls = parse_pinyin(args.pinyin) if args.pinyin else None
            n = restore(engine, args.word, sylls)
            if n == 0:
                print(f"{args.word}{' (' + ' '.join(sylls) + ')' if sylls else ''}: not "
                      "forgotten; nothing to restore")
                return 1
            print(f"restored {args.word} ({n} reading{'s' if n != 1 else ''})")
            return 0
        if args.lexicon_cmd == "info":
            size = store.path.stat().st_size / 1e6
            print(f"system lexicon: {len(engine.lexicon)} words ({cache})")
            print(f"user lexicon:   {len(store)} entries, {len(learner.words.forgotten)} "
                  f"forgotten ({store.path}, {size:.1f} MB, schema {store.schema_version}"
                  f"{', read-only: ' + store.read_only if store.read_only else ''})")
            return 0
        assert fmt is not None
        if args.lexicon_cmd == "export":
            return _export(engine.lexicon, engine.bigram, store, Path(args.out), fmt,
                           args.user_only)
        if args.lexicon_cmd == "import":
            return _import(Path(args.file), fmt, args.skip_bad, engine.lexicon, engine.bigram,
                           store)
        raise ValueError(f"unknown lexicon command {args.lexicon_cmd}")
    finally:
        learner.close()


# ---- the learned words ---------------------------------------------------------------------------


def _width(text: str) -> int:
    """Columns a terminal gives `text` (Han characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def _learned(args) -> int:
    if args.limit < 0:
        raise CliError(f"--limit {args.limit}: give 0 (all) or more rows")
    grep = args.grep
    if grep is not None and not grep.strip():
        raise CliError("--grep needs some text (a word, part of one, or pinyin letters)")
    if args.forgotten and args.every:
        raise CliError("--forgotten and --all cannot be given together")
    path = _user_db(args)
    if not path.exists():
        if getattr(args, "user_db", None):
            raise CliError(f"--user-db {path}: no such file")
        print(f"no learned words (no user lexicon yet: {path})")
        return 0
    store = UserLexicon(path, read_only=True)
    try:
        limit = args.limit or None
        rows = learned_words(store, args.sort, grep, limit, args.forgotten, args.every)
        total = (len(rows) if limit is None or len(rows) < limit
                 else count_learned(store, grep, args.forgotten, args.every))
    finally:
        store.close()
    if args.json:
        json.dump([{"word": r.word, "pinyin": r.pinyin, "likelihood": round(r.likelihood, 6),
                    "uses": r.uses, "last_tick": r.last_tick, "ticks_ago": r.ticks_ago,
                    "source": r.source, "forgotten": r.forgotten} for r in rows],
                  sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    what = "forgotten" if args.forgotten else "learned"
    if not rows:
        print(f"no {what} words" + (f" matching {grep!r}" if grep else ""))
        return 0
    table = [("word", "pinyin", "likelihood", "uses", "last use", "source")]
    table += [(r.word, r.pinyin, f"{r.likelihood:.3f}", str(r.uses),
               "now" if r.ticks_ago == 0 else f"{r.ticks_ago} commits ago", r.source)
              for r in rows]
    widths = [max(_width(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(_cell(v, w) for v, w in zip(row, widths)).rstrip())
    if total > len(rows):
        print(f"({len(rows)} of {total} {what} words; --limit 0 lists all)")
    return 0


# ---- repair and reset --------------------------------------------------------------------------


def _repair(path: Path) -> int:
    if not path.exists():
        print(f"{path}: no such file; nothing to repair")
        return 0
    report = repair(path)
    if report.problem is None:
        print(f"{path}: sound (opens, integrity check ok); nothing to repair")
        return 0
    print(f"repaired {path}: {report.problem}")
    print(f"  {report.salvaged} entries salvaged into a fresh file, {report.dropped} unreadable "
          "or invalid rows left out")
    print(f"  the old file is kept as {report.backup}")
    return 0


def _reset(path: Path) -> int:
    backup = reset(path)
    print(f"reset {path}: the user lexicon is empty"
          + (f"; the old file is kept as {backup}" if backup else ""))
    return 0


# ---- export ------------------------------------------------------------------------------------


def system_logp(lexicon: SystemLexicon, bigram: BigramModel, word: str,
                syllables: tuple[str, ...]) -> float | None:
    """log P(word) + log P(reading | word) of a system word, None if not under this reading."""
    wid = lexicon.word_id(word)
    if wid is None:
        return None
    for w, lp in lexicon.full.get(encode(syllables), ()):
        if w == wid:
            return bigram.unigram(wid) + lp
    return None


def _current_likelihood(e: UserEntry, tick: int) -> float:
    """The likelihood the learner sees now: the stored one decayed since its last use."""
    return lk.decay(e.likelihood, e.prior, tick - e.last_tick)


class _Sorter:
    """(word, pinyin, logp) rows sorted best first in a private temporary SQLite database
    (SQLite deletes it on close), one row per word and reading, then the tombstones: memory
    stays small."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("", isolation_level=None)
        self.db.execute("CREATE TABLE r (word TEXT, pinyin TEXT, logp REAL, "
                        "PRIMARY KEY (word, pinyin))")
        self.db.execute("CREATE TABLE f (word TEXT, pinyin TEXT, PRIMARY KEY (word, pinyin))")
        self.db.execute("BEGIN")

    def forgotten(self, keys: list[tuple[str, str]]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO f VALUES (?, ?)", keys)

    def put(self, rows: list[tuple[str, str, float]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO r VALUES (?, ?, ?)", rows)

    def drop(self, keys: list[tuple[str, str]]) -> None:
        self.db.executemany("DELETE FROM r WHERE word = ? AND pinyin = ?", keys)

    def rows(self) -> Iterator[FormatEntry]:
        """Best first: logp descending, then word, then pinyin (as Python would sort the
        (−logp, word, syllables) tuples: a space sorts before every letter)."""
        try:
            for word, pinyin, logp in self.db.execute(
                    "SELECT word, pinyin, logp FROM r ORDER BY logp DESC, word, pinyin"):
                yield FormatEntry(word, tuple(pinyin.split()), logp)
            for word, pinyin in self.db.execute("SELECT word, pinyin FROM f ORDER BY word, "
                                                "pinyin"):
                yield FormatEntry(word, tuple(pinyin.split()), 0.0, forgotten=True)
        finally:
            self.db.close()


def iter_export(lexicon: SystemLexicon, bigram: BigramModel, store: UserLexicon,
                user_only: bool = False, progress: bool = False,
                tombstones: bool = False) -> Iterator[FormatEntry]:
    """The entries an export writes, best first (logp descending, then word and pinyin),
    then with `tombstones` every forgotten entry as a tombstone (`forgotten=True`, by word
    and pinyin).

    System entries carry the user's adjustment where the user has a record; learned words
    take part from THRESHOLD on; forgotten entries are left out of the ranked part. A score
    the user's adjustment lifts above 0 is written as 0 (the formats hold probabilities).
    `user_only`:
    just the entries the user lexicon holds (system words the user promoted or demoted,
    learned words). The user lexicon is read in batches, the rows sorted on disk.
    """
    from tqdm import tqdm

    tick = store.tick
    out = _Sorter()
    try:
        if not user_only:
            batch: list[tuple[str, str, float]] = []
            for key, (wid, lp) in tqdm(lexicon.initials.items(), total=len(lexicon.initials),
                                       desc="export", unit=" words",
                                       disable=None if progress else True, mininterval=0.5):
                batch.append((lexicon.text(wid), " ".join(decode(key.split("\t", 1)[1])),
                              min(bigram.unigram(wid) + lp, 0.0)))
                if len(batch) >= BATCH:
                    out.put(batch)
                    batch = []
            out.put(batch)
        put: list[tuple[str, str, float]] = []
        drop: list[tuple[str, str]] = []
        forgotten: list[tuple[str, str]] = []
        for e in store.iter_entries(include_deleted=True, batch=BATCH):
            base = system_logp(lexicon, bigram, e.word, e.syllables)
            if e.deleted:
                if base is not None and not user_only:
                    drop.append((e.word, e.pinyin))
                if tombstones:
                    forgotten.append((e.word, e.pinyin))
                continue
            L = _current_likelihood(e, tick)
            if base is not None:
                put.append((e.word, e.pinyin,
                            min(base + lk.score_adjustment(L, system_word=True), 0.0)))
            elif L >= lk.THRESHOLD:  # learned words the system lexicon lacks (this reading)
                put.append((e.word, e.pinyin,
                            min(lk.NEW_WORD_LOGP + lk.score_adjustment(L, False), 0.0)))
            if len(put) + len(drop) + len(forgotten) >= BATCH:
                out.put(put)
                out.drop(drop)
                out.forgotten(forgotten)
                put, drop, forgotten = [], [], []
        out.put(put)
        out.drop(drop)
        out.forgotten(forgotten)
    except BaseException:
        out.db.close()
        raise
    yield from out.rows()


def export_entries(lexicon: SystemLexicon, bigram: BigramModel, store: UserLexicon,
                   user_only: bool = False, progress: bool = False,
                   tombstones: bool = False) -> list[FormatEntry]:
    """`iter_export` as a list."""
    return list(iter_export(lexicon, bigram, store, user_only, progress, tombstones))


def _export(lexicon: SystemLexicon, bigram: BigramModel, store: UserLexicon, out: Path,
            fmt: str, user_only: bool) -> int:
    from tqdm import tqdm

    if out.is_dir() or not out.parent.is_dir():  # fail before the work, not after it
        raise OSError(f"{out}: is a directory" if out.is_dir()
                      else f"{out.parent}: no such directory")
    # a file with the user's words in it is private (docs/DESIGN.md: user data is 0600)
    private = user_only or not store.is_empty()
    tombstones = fmt in TOMBSTONE_FORMATS
    forgotten = 0

    def counted(rows: Iterable[FormatEntry]) -> Iterator[FormatEntry]:
        nonlocal forgotten
        for e in rows:
            forgotten += e.forgotten
            yield e

    rows: Iterable[FormatEntry] = counted(iter_export(lexicon, bigram, store, user_only,
                                                      progress=not user_only,
                                                      tombstones=tombstones))
    if not user_only:
        rows = tqdm(rows, desc=f"write {fmt}", unit=" words", mininterval=0.5,
                    disable=None)  # None: no bar when stderr is not a terminal
    n = write_entries(rows, out, fmt, private=private) - forgotten
    what = "user lexicon" if user_only else "system and user lexicons"
    print(f"exported {n} entries of the {what}"
          f"{f' and {forgotten} forgotten words' if forgotten else ''} to {out} ({fmt}"
          f"{', mode 0600' if private else ''})")
    if not tombstones:
        left = len(store.forgotten())
        if left:
            print(f"note: {left} forgotten word{'s are' if left != 1 else ' is'} left out: a "
                  f"{fmt} file cannot say a word is forgotten, so an import elsewhere may "
                  "offer it again (--format tsv keeps them)", file=sys.stderr)
    return 0


# ---- import ------------------------------------------------------------------------------------


def _invert_adjustment(delta: float, system_word: bool, lo: float, hi: float) -> float:
    """The L in [lo, hi] with score_adjustment(L, system_word) = delta (clipped to the range):
    `likelihood_for` is score_adjustment's inverse (ime.likelihood keeps the two together)."""
    return min(max(lk.likelihood_for(delta, system_word), lo), hi)


def import_likelihood(logp: float, base: float | None) -> float:
    """The likelihood L whose decoder score equals an imported `logp` (the inverse of export).

    System word (`base` = its system logp): base + score_adjustment(L, True) = logp, L clipped
    to [0.05, 0.95]. New word (`base` None): NEW_WORD_LOGP + score_adjustment(L, False) = logp,
    L clipped to [THRESHOLD, 0.95] so that the word takes part in decoding.
    """
    if base is not None:
        return _invert_adjustment(logp - base, True, IMPORT_MIN_LIKELIHOOD,
                                  IMPORT_MAX_LIKELIHOOD)
    return _invert_adjustment(logp - lk.NEW_WORD_LOGP, False, lk.THRESHOLD,
                              IMPORT_MAX_LIKELIHOOD)


@dataclass
class ImportPlan:
    """What an import will write, and why the other entries are left as they are."""

    writes: list[UserEntry] = field(default_factory=list)
    added: int = 0  # entries the user lexicon did not have
    updated: int = 0  # entries whose likelihood the import raises
    unchanged: int = 0  # the system's or the user's score is already as high, or nearly
    forgotten: int = 0  # the user forgot these; an import does not bring them back
    forgot: int = 0  # tombstones of the file: entries it marks forgotten


def _plan_entry(word: str, sylls: tuple[str, ...], logp: float, cur: UserEntry | None,
                tick: int, lexicon: SystemLexicon, bigram: BigramModel,
                plan: ImportPlan) -> UserEntry | None:
    """The row an import writes for one (deduplicated) entry, or None; counts it in `plan`."""
    if cur is not None and cur.deleted:
        plan.forgotten += 1
        return None
    base = system_logp(lexicon, bigram, word, sylls)
    system_word = base is not None
    if logp == TOMBSTONE_LOGP:  # forgotten where the file comes from: forgotten here too
        plan.forgot += 1
        prior = cur.prior if cur is not None else (lk.SYSTEM_PRIOR if system_word
                                                   else lk.NEW_PRIOR)
        return UserEntry(word, sylls, 0.0, prior, cur.commits if cur is not None else 0, tick,
                         True, cur.source if cur is not None else "import")
    current = _current_likelihood(cur, tick) if cur is not None else None
    # the score the word has now, as an offset from its base (system logp / NEW_WORD_LOGP)
    if system_word:
        now = max(lk.score_adjustment(current, True) if current is not None else 0.0, 0.0)
    elif current is not None and current >= lk.THRESHOLD:
        now = lk.score_adjustment(current, False)
    else:
        now = -math.inf  # not (yet) a word: any import makes it one
    wanted = logp - (base if system_word else lk.NEW_WORD_LOGP)
    if wanted < now + IMPORT_MIN_GAIN and now > -math.inf:
        plan.unchanged += 1
        return None
    target = import_likelihood(logp, base)
    if current is not None and target <= current and now > -math.inf:
        plan.unchanged += 1  # clipped to at most what the user already has
        return None
    # an imported word is a word by the user's own dictionary: it relaxes toward the
    # threshold with disuse, never out of the lattice
    prior = lk.SYSTEM_PRIOR if system_word else lk.THRESHOLD
    if cur is None:
        plan.added += 1
    else:
        plan.updated += 1
    return UserEntry(word, sylls, target, prior, cur.commits if cur is not None else 0, tick,
                     False, "import")


def plan_import(entries: Iterable[FormatEntry], lexicon: SystemLexicon, bigram: BigramModel,
                store: UserLexicon) -> ImportPlan:
    """Decide each entry's new user-lexicon row (source "import"); writes nothing.

    A word the system lexicon has under that reading keeps the system's score unless the
    imported logp is higher; a new word gets the likelihood whose score is the imported logp.
    An import never lowers a likelihood the user already has, and leaves a word alone when it
    would raise its score by less than IMPORT_MIN_GAIN nats. Duplicates keep the best logp.
    (The import command plans batch by batch inside its transaction, with the same rules.)
    """
    best: dict[tuple[str, tuple[str, ...]], float] = {}
    for e in entries:
        key = (e.word, e.syllables)
        best[key] = max(TOMBSTONE_LOGP if e.forgotten else e.logp, best.get(key, -math.inf))
    tick = store.tick
    plan = ImportPlan()
    for (word, sylls), logp in best.items():
        new = _plan_entry(word, sylls, logp, store.get(word, sylls), tick, lexicon, bigram,
                          plan)
        if new is not None:
            plan.writes.append(new)
    return plan


def _import(path: Path, fmt: str, skip_bad: bool, lexicon: SystemLexicon, bigram: BigramModel,
            store: UserLexicon) -> int:
    from tqdm import tqdm

    skipped: list[str] | None = [] if skip_bad else None
    read = 0

    def rows() -> Iterator[tuple[str, tuple[str, ...], float]]:
        nonlocal read
        for e in iter_entries(path, fmt, skipped):
            read += 1
            yield e.word, e.syllables, TOMBSTONE_LOGP if e.forgotten else e.logp

    plan = ImportPlan()

    def decide(batch: list[tuple[str, tuple[str, ...], float, UserEntry | None]],
               tick: int) -> list[UserEntry]:
        out = []
        for word, sylls, logp, cur in batch:
            new = _plan_entry(word, sylls, logp, cur, tick, lexicon, bigram, plan)
            if new is not None:
                out.append(new)
        return out

    with tqdm(desc=f"read {path.name}", unit=" entries", mininterval=0.5, disable=None,
              file=sys.stderr) as bar_read:
        with tqdm(desc="merge", unit=" entries", mininterval=0.5, disable=None,
                  file=sys.stderr) as bar_merge:
            # every line is read and checked before the one write transaction begins
            store.merge(rows(), decide, batch=BATCH, staged=bar_read.update,
                        merged=bar_merge.update)
    for msg in skipped or ():
        print(f"skipped: {msg}", file=sys.stderr)
    print(f"imported {path}: {read} entries read; {plan.added} added, "
          f"{plan.updated} updated, {plan.unchanged} unchanged, "
          f"{plan.forgotten} left forgotten, {plan.forgot} forgotten as the file says")
    return 0
