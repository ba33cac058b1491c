"""`python main.py lexicon forget|export|import|info`: the dictionary keeper's commands.

    python main.py lexicon export --format rime --out delta.dict.yaml   # system + user words
    python main.py lexicon export --format tsv --out mine.tsv --user-only
    python main.py lexicon import words.scel --format scel              # all or nothing

Scores on export (natural log, the decoder's own scale):

    system word                 unigram(word) + log P(reading | word) [+ user adjustment]
    learned word (L ≥ THRESHOLD) NEW_WORD_LOGP + score_adjustment(L, system_word=False)
    forgotten word              left out

Import inverts the same formulas into a likelihood L per word (see `import_likelihood`) and
writes every entry in one transaction; file formats and weight mappings are in FORMAT.md.
Whatever form `ime.likelihood.score_adjustment` takes, import only relies on it increasing
with L.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cli.common import cache_dir_of
from ime import likelihood as lk
from lexicon.formats import (
    FORMATS,
    WRITABLE_FORMATS,
    FormatEntry,
    guess_format,
    read_entries,
    write_entries,
)
from lexicon.ngram import BigramModel
from lexicon.trie import SystemLexicon, decode, encode
from lexicon.user_lexicon import UserEntry, UserLexicon
from pinyin.spelling import normalize_pinyin

__all__ = [
    "add_lexicon_commands",
    "run_lexicon_command",
    "parse_pinyin",
    "system_logp",
    "export_entries",
    "import_likelihood",
    "plan_import",
    "ImportPlan",
]

IMPORT_MIN_LIKELIHOOD = 0.05  # an imported system word is never pushed below this
IMPORT_MAX_LIKELIHOOD = 0.95  # nor any imported word above this (the user can still go higher)
# an import changes a word only if it raises its score by at least this many nats: weights
# rounded by a file format (RIME counts) must not rewrite every word when re-imported
IMPORT_MIN_GAIN = 0.1


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


def _format_of(path: str, given: str | None) -> str:
    fmt = given or guess_format(Path(path))
    if fmt is None:
        raise ValueError(f"cannot tell the format of {path} from its name; pass --format "
                         f"({', '.join(FORMATS)})")
    return fmt


def run_lexicon_command(args) -> int:
    from cli.common import engine_from_args
    from ime.learner import default_user_db
    from lexicon.build import default_cache_dir

    imported: list[FormatEntry] = []
    if args.lexicon_cmd == "import":  # read and check the whole file before touching anything
        skipped: list[str] | None = [] if args.skip_bad else None
        imported = read_entries(Path(args.file), _format_of(args.file, args.format), skipped)
        for msg in skipped or ():
            print(f"skipped: {msg}", file=sys.stderr)
    if args.lexicon_cmd == "export":
        fmt = _format_of(args.out, args.format)
        if fmt not in WRITABLE_FORMATS:
            raise ValueError(f"cannot write {fmt} files; export writes "
                             f"{', '.join(WRITABLE_FORMATS)}")

    # the user's lexicon even where the config turns learning off; never the neural LM
    engine = engine_from_args(args, always_learner=True, user_db=default_user_db(), lm=False)
    learner = engine.learner
    assert learner is not None
    cache = cache_dir_of(args) or default_cache_dir()
    try:
        if args.lexicon_cmd == "forget":
            sylls = parse_pinyin(args.pinyin) if args.pinyin else None
            n = engine.forget(args.word, sylls)
            if n == 0:
                print(f"{args.word}: not in the system or user lexicon; nothing to forget")
                return 1
            print(f"forgot {args.word} ({n} reading{'s' if n != 1 else ''})")
            return 0
        if args.lexicon_cmd == "info":
            print(f"system lexicon: {len(engine.lexicon)} words ({cache})")
            print(f"user lexicon:   {len(learner.store)} entries ({learner.store.path})")
            return 0
        if args.lexicon_cmd == "export":
            return _export(engine.lexicon, engine.bigram, learner.store, Path(args.out),
                           _format_of(args.out, args.format), args.user_only)
        if args.lexicon_cmd == "import":
            return _import(imported, engine.lexicon, engine.bigram, learner.store, args.file)
        raise ValueError(f"unknown lexicon command {args.lexicon_cmd}")
    finally:
        learner.close()


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


def export_entries(lexicon: SystemLexicon, bigram: BigramModel, store: UserLexicon,
                   user_only: bool = False, progress: bool = False) -> list[FormatEntry]:
    """The entries an export writes, best first (logp descending, then word and pinyin).

    System entries carry the user's adjustment where the user has a record; learned words
    take part from THRESHOLD on; forgotten entries are left out. A score the user's
    adjustment lifts above 0 is written as 0 (the formats hold probabilities). `user_only`: just the
    entries the user lexicon holds (system words the user promoted or demoted, learned words).
    """
    from tqdm import tqdm

    tick = store.tick
    user = {(e.word, e.syllables): e for e in store.entries(include_deleted=True)}
    out: list[FormatEntry] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    if user_only:
        for key, e in user.items():
            base = system_logp(lexicon, bigram, *key)
            if base is not None:
                seen.add(key)
                if not e.deleted:
                    adj = lk.score_adjustment(_current_likelihood(e, tick), system_word=True)
                    out.append(FormatEntry(e.word, e.syllables, min(base + adj, 0.0)))
    else:
        for key, (wid, lp) in tqdm(lexicon.initials.items(), total=len(lexicon.initials),
                                   desc="export", unit=" words",
                                   disable=None if progress else True, mininterval=0.5):
            word, sylls = lexicon.text(wid), decode(key.split("\t", 1)[1])
            logp = bigram.unigram(wid) + lp
            e = user.get((word, sylls))
            if e is not None:
                seen.add((word, sylls))
                if e.deleted:
                    continue
                logp += lk.score_adjustment(_current_likelihood(e, tick), system_word=True)
            out.append(FormatEntry(word, sylls, min(logp, 0.0)))
    for key, e in user.items():  # learned words the system lexicon lacks (under this reading)
        if key in seen or e.deleted:
            continue
        L = _current_likelihood(e, tick)
        if L >= lk.THRESHOLD:
            logp = lk.NEW_WORD_LOGP + lk.score_adjustment(L, system_word=False)
            out.append(FormatEntry(e.word, e.syllables, min(logp, 0.0)))
    out.sort(key=lambda e: (-e.logp, e.word, e.syllables))
    return out


def _export(lexicon: SystemLexicon, bigram: BigramModel, store: UserLexicon, out: Path,
            fmt: str, user_only: bool) -> int:
    from tqdm import tqdm

    if out.is_dir() or not out.parent.is_dir():  # fail before the work, not after it
        raise OSError(f"{out}: is a directory" if out.is_dir()
                      else f"{out.parent}: no such directory")
    entries = export_entries(lexicon, bigram, store, user_only, progress=not user_only)
    # a file with the user's words in it is private (DESIGN.md: user data is 0600)
    private = user_only or len(store) > 0
    rows: Iterable[FormatEntry] = entries
    if not user_only:
        rows = tqdm(entries, desc=f"write {fmt}", unit=" words", mininterval=0.5,
                    disable=None)  # None: no bar when stderr is not a terminal
    n = write_entries(rows, out, fmt, private=private)
    what = "user lexicon" if user_only else "system and user lexicons"
    print(f"exported {n} entries of the {what} to {out} ({fmt}"
          f"{', mode 0600' if private else ''})")
    return 0


# ---- import ------------------------------------------------------------------------------------


def _invert_adjustment(delta: float, system_word: bool, lo: float, hi: float) -> float:
    """The L in [lo, hi] with score_adjustment(L, system_word) = delta (clipped to the range).

    Bisection: score_adjustment increases with L, whatever its exact form.
    """
    if lk.score_adjustment(hi, system_word) <= delta:
        return hi
    if lk.score_adjustment(lo, system_word) >= delta:
        return lo
    for _ in range(48):  # (hi − lo) / 2^48: far below any meaningful likelihood step
        mid = (lo + hi) / 2
        if lk.score_adjustment(mid, system_word) < delta:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


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


def plan_import(entries: Iterable[FormatEntry], lexicon: SystemLexicon, bigram: BigramModel,
                store: UserLexicon) -> ImportPlan:
    """Decide each entry's new user-lexicon row (source "import"); writes nothing.

    A word the system lexicon has under that reading keeps the system's score unless the
    imported logp is higher; a new word gets the likelihood whose score is the imported logp.
    An import never lowers a likelihood the user already has, and leaves a word alone when it
    would raise its score by less than IMPORT_MIN_GAIN nats. Duplicates keep the best logp.
    """
    best: dict[tuple[str, tuple[str, ...]], float] = {}
    for e in entries:
        key = (e.word, e.syllables)
        best[key] = max(e.logp, best.get(key, -math.inf))
    tick = store.tick
    user = {(e.word, e.syllables): e for e in store.entries(include_deleted=True)}
    plan = ImportPlan()
    for (word, sylls), logp in best.items():
        cur = user.get((word, sylls))
        if cur is not None and cur.deleted:
            plan.forgotten += 1
            continue
        base = system_logp(lexicon, bigram, word, sylls)
        system_word = base is not None
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
            continue
        target = import_likelihood(logp, base)
        if current is not None and target <= current and now > -math.inf:
            plan.unchanged += 1  # clipped to at most what the user already has
            continue
        # an imported word is a word by the user's own dictionary: it relaxes toward the
        # threshold with disuse, never out of the lattice
        prior = lk.SYSTEM_PRIOR if system_word else lk.THRESHOLD
        plan.writes.append(UserEntry(word, sylls, target, prior,
                                     cur.commits if cur is not None else 0, tick, False,
                                     "import"))
        if cur is None:
            plan.added += 1
        else:
            plan.updated += 1
    return plan


def _import(entries: list[FormatEntry], lexicon: SystemLexicon, bigram: BigramModel,
            store: UserLexicon, path: str) -> int:
    plan = plan_import(entries, lexicon, bigram, store)
    store.put_many(plan.writes)  # one transaction: all or nothing
    print(f"imported {path}: {len(entries)} entries read; {plan.added} added, "
          f"{plan.updated} updated, {plan.unchanged} unchanged, "
          f"{plan.forgotten} left forgotten")
    return 0
