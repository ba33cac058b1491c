"""The user dictionary as a person sees it: what was learned, found, forgotten and restored.

    rows = learned_words(store, sort="recent", grep="xian", limit=20)   # LearnedWord, …
    total = count_learned(store, grep="xian")
    restore(engine, "先在")                                             # undo a forget

`python main.py lexicon learned` and the typing pad's Learned words dialog both list through
these functions, and forget through `Engine.forget`, restore through `restore`.

What is listed (every query runs in SQLite, LIMIT included: a large user.db is never read
whole into memory):

    default       entries the user chose (picked below the top, or assembled: uses > 0)
                  or imported, not forgotten
    every=True    every entry not forgotten (also system words merely confirmed or demoted
                  by learning, sequences on their way to becoming words)
    forgotten     the tombstones: what the user forgot (restore undoes one)

Each row shows the likelihood the engine uses now (decayed since its last use, as
`ime.likelihood.decay` says), the uses (deliberate commits), the last use (the commit
counter's tick then, and how many commits ago) and the source: "learned" (by typing),
"imported" (`lexicon import`) or, for a forgotten entry of the system lexicon's own words
(the tombstone `forget` writes), "system".
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ime import likelihood as lk
from lexicon.user_lexicon import UserEntry, UserLexicon, UserLexiconError

if TYPE_CHECKING:
    from ime.engine import Engine

__all__ = ["LearnedWord", "SORTS", "learned_words", "count_learned", "restore"]

SORTS = ("recent", "count", "likelihood")
_ORDER = {
    "recent": "last_tick DESC, commits DESC, word, pinyin",
    "count": "commits DESC, last_tick DESC, word, pinyin",
    "likelihood": "dp_likelihood_now(likelihood, prior, last_tick) DESC, last_tick DESC, "
                  "word, pinyin",
}


@dataclass(frozen=True, slots=True)
class LearnedWord:
    """One row of the user dictionary, as listed."""

    word: str
    syllables: tuple[str, ...]
    likelihood: float  # L now: the stored one decayed since its last use
    uses: int  # deliberate commits (picked below the top, or assembled)
    last_tick: int  # the commit counter at its last change
    ticks_ago: int  # commits since then
    source: str  # "learned", "imported", or "system" (a forgotten system word)
    forgotten: bool

    @property
    def pinyin(self) -> str:
        return " ".join(self.syllables)


def _where(grep: str | None, forgotten: bool, every: bool) -> tuple[str, list]:
    clauses, params = ["deleted = ?"], [1 if forgotten else 0]
    if not forgotten and not every:
        clauses.append("(commits > 0 OR source = 'import')")
    if grep:
        # text anywhere in the word, or letters anywhere in the reading typed without
        # separators ('xianzai', "xian'zai" and 'xian zai' all find 先在)
        letters = "".join(c for c in grep.lower() if c not in " '-")
        clauses.append("(instr(word, ?) > 0 OR (? != '' AND "
                       "instr(replace(pinyin, ' ', ''), ?) > 0))")
        params += [grep, letters, letters]
    return " AND ".join(clauses), params


def _check(sort: str, limit: int | None) -> None:
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}: {', '.join(SORTS)}")
    if limit is not None and limit < 0:
        raise ValueError(f"a limit of {limit} rows: give 0 or more")


def learned_words(store: UserLexicon, sort: str = "recent", grep: str | None = None,
                  limit: int | None = None, forgotten: bool = False,
                  every: bool = False) -> list[LearnedWord]:
    """The listed rows, ordered by `sort` (most recent use, most uses, highest likelihood
    now), at most `limit` (None: all); `grep`: only those whose word holds it or whose
    reading holds its letters; `forgotten`: the forgotten entries instead."""
    _check(sort, limit)
    where, params = _where(grep, forgotten, every)
    try:
        tick = store.tick
        store.conn.create_function(
            "dp_likelihood_now", 3,
            lambda L, prior, last: lk.decay(L, prior, tick - last))
        rows = store.conn.execute(
            "SELECT word, pinyin, likelihood, prior, commits, last_tick, source FROM words "
            f"WHERE {where} ORDER BY {_ORDER[sort]} LIMIT ?",
            [*params, -1 if limit is None else limit]).fetchall()
    except sqlite3.Error as e:
        raise UserLexiconError(f"{store.path}: cannot read ({e})") from None
    return [LearnedWord(word, tuple(pinyin.split()), lk.decay(L, prior, tick - last),
                        commits, last, tick - last, _source(source, forgotten), forgotten)
            for word, pinyin, L, prior, commits, last, source in rows]


def _source(stored: str, forgotten: bool) -> str:
    """The source as listed: a system word the user promoted by choosing it counts as
    learned; once forgotten it is the system's word again (nothing learned is left of it)."""
    if stored == "import":
        return "imported"
    return "system" if stored == "system" and forgotten else "learned"


def count_learned(store: UserLexicon, grep: str | None = None, forgotten: bool = False,
                  every: bool = False) -> int:
    """How many rows `learned_words` would list with no limit."""
    where, params = _where(grep, forgotten, every)
    try:
        return store.conn.execute(f"SELECT count(*) FROM words WHERE {where}",
                                  params).fetchone()[0]
    except sqlite3.Error as e:
        raise UserLexiconError(f"{store.path}: cannot read ({e})") from None


def restore(engine: Engine, word: str, syllables: tuple[str, ...] | None = None) -> int:
    """Undo a forget: the forgotten readings of `word` (all, or this one) are offered again,
    a system word at its dictionary rank, a new word at the learning threshold (what it
    learned before the forget is gone). Returns the entries restored (0: none was
    forgotten); UserLexiconError if the user lexicon cannot be written."""
    learner = engine.learner
    if learner is None:
        return 0
    store = learner.store
    keys = [(e.word, e.syllables) for e in store.of_word(word)
            if e.deleted and (syllables is None or e.syllables == syllables)]
    if not keys:
        return 0

    def back(key, cur: UserEntry | None, tick: int) -> UserEntry | None:
        if cur is None or not cur.deleted:
            return None
        return UserEntry(cur.word, cur.syllables, max(cur.prior, lk.THRESHOLD), cur.prior,
                         cur.commits, tick, False, cur.source)

    changed = store.update(keys, back, advance_tick=False)
    learner.words.changed(changed, learner.words.tick)
    engine.user_changed()
    return len(changed)
