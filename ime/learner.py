"""Learner: compares the user's true choice with the engine's prediction on every commit.

    prediction (top-1 before any pick):   先 | 在         user picked:  现在 (rank 3)
    → 现在 gains (chosen below the top), 先 and 在 lose (rejected predictions)

    prediction:  文件 | 细桶              user picked:  文件 (rank 0), 系统 (rank 4)
    → 系统 gains, 细桶 loses, 文件系统 gains as an assembled sequence (new word after three)

The formulas live in `ime.likelihood`; the rows in `lexicon.user_lexicon` (SQLite). The
lattice reads the user lexicon through `LearnedWords`, which queries SQLite (indexed) and
memoises each answer: the words under one reading, the words under one string of first
letters, each prefix test. Nothing is loaded whole, so start-up and memory do not grow with
the user lexicon (a small one keeps the set of its readings in memory, which answers most
questions without a query); a commit drops the memo entries of what it changed.

A write that fails (the file locked by another writer past the busy timeout, the disk
full, the file read-only, the file damaged) never reaches the engine's caller: learning
pauses, `WordLearner.paused` says why, and each later commit tries again; the first write
that works resumes learning. What was committed while paused is not learned; what was
learned before stays (every write is one transaction).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from ime import likelihood as lk
from ime.candidates import CommitEvent
from ime.config import data_dir
from ime.history import MAX_PAIRS, HistoryBigram
from lexicon.trie import Pattern, SystemLexicon, encode
from lexicon.user_lexicon import (
    HistoryEntry,
    UserEntry,
    UserLexicon,
    UserLexiconError,
    initials_of,
)
from lexicon.words import check_word

__all__ = ["WordLearner", "LearnedWords", "open_learner", "default_user_db",
           "LEARN_BUSY_TIMEOUT_MS"]

Key = tuple[str, tuple[str, ...]]
Pair = tuple[str, str]  # (previous word, word): a history bigram pair
REFRESH_TICKS = 500  # the memo's decayed likelihoods are recomputed this often
# a commit waits at most this long for another writer's lock before learning pauses (an
# input method must not freeze; a learning transaction holds the lock for milliseconds)
LEARN_BUSY_TIMEOUT_MS = 500
RETRY_BUSY_MS = 20  # the wait of the commits after one that found the lock held
MAX_READINGS = 50_000  # readings memoised (each: the user's words under it, often none)
MAX_INITIAL_HITS = 100_000  # words memoised under their first letters, in all
# new words a look-up by first letters returns, the best by score (every promoted system word
# too): a first-letter look-up in a large user lexicon can match thousands, and the lattice
# keeps the best per_span (24) of a span, from at most twice that many system words
MAX_NEW_WORD_HITS = 48
MAX_PREFIXES = 100_000  # prefix tests memoised
# up to this many readings in the user lexicon, they and their prefixes are kept in memory
# (about 10 MB at most): a reading or a prefix it lacks, most of what the lattice asks about,
# is then answered without a query
KNOWN_READINGS = 30_000
# (score adjustment, offered as a word of its own, log unigram: None for a system word)
Rec = tuple[float, bool, float | None]


def default_user_db() -> Path:
    return data_dir() / "user.db"


def open_learner(path: Path | None = None,
                 busy_timeout_ms: int = LEARN_BUSY_TIMEOUT_MS) -> WordLearner:
    """The learner of the user lexicon at `path` (created, private, if missing); raises
    UserLexiconError, with nothing touched, for a file it must refuse."""
    return WordLearner(UserLexicon(path or default_user_db(), busy_timeout_ms))


class _Readings:
    """Every reading of a small user lexicon, in memory: its prefixes (by syllables and by
    first letters) and the readings under each string of first letters. What the lattice asks
    most (a reading, a prefix the user lexicon lacks) is then answered without a query."""

    def __init__(self, readings: list[str]) -> None:
        self.readings: set[tuple[str, ...]] = set()
        self.full_prefixes: set[tuple[str, ...]] = set()
        self.initial_prefixes: set[str] = set()
        self.by_initials: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        for p in readings:
            self.add(tuple(p.split()))

    def add(self, sylls: tuple[str, ...]) -> None:
        if sylls in self.readings:
            return
        self.readings.add(sylls)
        initials = "".join(s[0] for s in sylls)
        self.by_initials[initials].add(sylls)
        for i in range(1, len(sylls) + 1):
            self.full_prefixes.add(sylls[:i])
            self.initial_prefixes.add(initials[:i])


class LearnedWords:
    """The lattice's view of the user lexicon (ime.lattice.UserWords).

    It offers the words the system tries may not: new words past the threshold, and system
    words the user promoted (so that a promoted word is never lost below a span's cut).

    Up to KNOWN_READINGS readings, the set of readings and their prefixes is kept in memory
    (`_Readings`); past that, prefix tests and first-letter look-ups are index queries,
    memoised. Either way the words under a reading are read when first asked for and
    memoised (MAX_READINGS), and a commit drops the memo entries of what it changed. A prefix
    test may say yes for a word that is not offered (one below the threshold, one forgotten):
    that costs a walk, never a wrong word.
    """

    def __init__(self, store: UserLexicon | None = None,
                 is_system: Callable[[str, tuple[str, ...]], bool] | None = None,
                 on_error: Callable[[UserLexiconError], None] | None = None) -> None:
        self.store = store
        self._is_system = is_system or (lambda w, s: False)
        self._on_error = on_error or (lambda e: None)
        self.forgotten: set[Key] = set()  # never offered, also not composed from pieces
        self.tick = 0  # the memo's likelihoods are decayed to this tick
        self._known: _Readings | None = _Readings([])  # None: too many, ask SQLite
        self._readings: dict[tuple[str, ...], dict[str, Rec]] = {}
        # first letters → a reading's start → offered words, best first
        self._initials: dict[str, dict[str, list[tuple[str, tuple[str, ...], float | None]]]] = {}
        self._initial_hits = 0  # words in _initials, in all
        # first letters → the lattice's patterns → what lookup returned (a large lexicon)
        self._lookups: dict[str, dict[tuple[Pattern, ...], list]] = {}
        self._lookup_count = 0  # hits (and entries) in _lookups, in all
        self._prefixes: dict[tuple[Pattern, ...], bool] = {}  # by the lattice's patterns
        self._prefix_keys: dict[tuple[str, ...] | str, bool] = {}  # by syllables / letters

    # ---- what the lattice asks -------------------------------------------------------------

    def has_prefix(self, patterns: tuple[Pattern, ...]) -> bool:
        known = self._known
        if known is not None:
            if not any(p for _, p in patterns):
                return tuple(s for s, _ in patterns) in known.full_prefixes
            return "".join(s[0] for s, _ in patterns) in known.initial_prefixes
        v = self._prefixes.get(patterns)
        if v is None:
            # many pattern tuples share one question: the syllables, or the first letters
            key: tuple[str, ...] | str = (tuple(s for s, _ in patterns)
                                          if not any(p for _, p in patterns)
                                          else "".join(s[0] for s, _ in patterns))
            v = self._prefix_keys.get(key)
            if v is None:
                try:
                    v = (self.store.has_initials_prefix(key) if isinstance(key, str)
                         else self.store.has_pinyin_prefix(key))
                except UserLexiconError as e:
                    self._on_error(e)
                    return False
                if len(self._prefix_keys) >= MAX_PREFIXES:
                    self._prefix_keys.clear()
                self._prefix_keys[key] = v
            if len(self._prefixes) >= MAX_PREFIXES:
                self._prefixes.clear()
            self._prefixes[patterns] = v
        return v

    def lookup(self, patterns: tuple[Pattern, ...]
               ) -> list[tuple[str, tuple[str, ...], float | None]]:
        known = self._known
        if not any(p for _, p in patterns):
            sylls = tuple(s for s, _ in patterns)
            if known is not None and sylls not in known.readings:
                return []
            return [(w, sylls, r[2]) for w, r in self._reading(sylls).items() if r[1]]
        initials = "".join(s[0] for s, _ in patterns)
        if known is not None:
            out = []
            for sylls in known.by_initials.get(initials, ()):
                if all(s.startswith(p) if pre else s == p
                       for s, (p, pre) in zip(sylls, patterns)):
                    out.extend((w, sylls, r[2]) for w, r in self._reading(sylls).items()
                               if r[1])
            return out
        memo = self._lookups.get(initials)
        if memo is not None:
            out = memo.get(patterns)
            if out is not None:
                return out
        # the reading's start the patterns fix ('zhong g' for zhong + g…): the query's range
        lead = []
        for p, pre in patterns:
            lead.append(p)
            if pre:
                break
        out, new_words = [], 0
        for h in self._by_initials(initials, " ".join(lead)):  # best first
            if all(s.startswith(p) if pre else s == p for s, (p, pre) in zip(h[1], patterns)):
                if h[2] is not None:
                    if new_words >= MAX_NEW_WORD_HITS:
                        continue
                    new_words += 1
                out.append(h)
        if self._lookup_count + len(out) + 1 > MAX_INITIAL_HITS:
            self._lookups.clear()
            self._lookup_count = 0
        self._lookups.setdefault(initials, {})[patterns] = out
        self._lookup_count += len(out) + 1
        return out

    def adjustment(self, text: str, syllables: tuple[str, ...]) -> float:
        # asked for every word of every span the lattice lays: a set or dict look-up
        known = self._known
        if known is not None and syllables not in known.readings:
            return 0.0
        recs = self._readings.get(syllables)
        if recs is None:
            recs = self._reading(syllables)
        r = recs.get(text)
        return 0.0 if r is None else r[0]

    # ---- the memo ----------------------------------------------------------------------------

    def _rec(self, e: UserEntry) -> Rec:
        if e.deleted:
            return (-math.inf, False, None)
        L = lk.decay(e.likelihood, e.prior, self.tick - e.last_tick)
        system = self._is_system(e.word, e.syllables)
        adj = lk.score_adjustment(L, system)
        offered = (system and adj > 0) or (not system and L >= lk.THRESHOLD)
        return (adj, offered, None if system else lk.new_word_logp(L))

    def _reading(self, sylls: tuple[str, ...]) -> dict[str, Rec]:
        """The user's words read `sylls` (memoised)."""
        recs = self._readings.get(sylls)
        if recs is None:
            try:
                rows = ([] if self.store is None
                        else self.store.with_pinyin(" ".join(sylls)))
            except UserLexiconError as e:
                self._on_error(e)
                return {}
            if len(self._readings) >= MAX_READINGS:
                self._readings.clear()
            recs = self._readings[sylls] = {e.word: self._rec(e) for e in rows}
        return recs

    def _by_initials(self, initials: str, lead: str
                     ) -> list[tuple[str, tuple[str, ...], float | None]]:
        """The offered words whose syllables begin with these letters and whose reading with
        `lead`, best first (new words by score; memoised; one indexed query)."""
        hits = self._initials.get(initials, {}).get(lead)
        if hits is None:
            try:
                rows = ([] if self.store is None
                        else self.store.with_initials(initials, lead))
            except UserLexiconError as e:
                self._on_error(e)
                return []
            by_reading: dict[tuple[str, ...], dict[str, Rec]] = defaultdict(dict)
            for e in rows:
                by_reading[e.syllables][e.word] = self._rec(e)
            if len(self._readings) + len(by_reading) >= MAX_READINGS:
                self._readings.clear()
            self._readings.update(by_reading)  # every word of each of these readings
            scored = sorted(((-math.inf if r[2] is None else -(r[2] + r[0]), w, s, r[2])
                             for s, recs in by_reading.items() for w, r in recs.items()
                             if r[1]), key=lambda x: x[0])  # promoted system words first
            hits = [(w, s, lp) for _, w, s, lp in scored]
            if self._initial_hits + len(hits) > MAX_INITIAL_HITS:
                self._initials.clear()
                self._initial_hits = 0
            self._initials.setdefault(initials, {})[lead] = hits
            self._initial_hits += len(hits)
        return hits

    def refresh(self, tick: int) -> None:
        """Forget every memo entry (their likelihoods decay with the tick); reread the
        forgotten words and, if there are few, the readings."""
        self.tick = tick
        self._readings.clear()
        self._initials.clear()
        self._initial_hits = 0
        self._lookups.clear()
        self._lookup_count = 0
        self._prefixes.clear()
        self._prefix_keys.clear()
        if self.store is None:
            return
        try:
            self.forgotten = set(self.store.forgotten())
            readings = self.store.readings(KNOWN_READINGS + 1)
        except UserLexiconError as e:
            self._on_error(e)
            return
        self._known = _Readings(readings) if len(readings) <= KNOWN_READINGS else None

    def changed(self, entries: list[UserEntry], tick: int) -> None:
        """These entries were just written (at `tick`): bring their memo entries up to date."""
        self.tick = max(self.tick, tick)
        for e in entries:
            key = (e.word, e.syllables)
            if e.deleted:
                self.forgotten.add(key)
            else:
                self.forgotten.discard(key)
            if self._known is not None:
                self._known.add(e.syllables)
                if len(self._known.readings) > KNOWN_READINGS:
                    self._known = None
            self._readings.pop(e.syllables, None)  # read again when next asked
            initials = initials_of(e.pinyin)
            self._initial_hits -= sum(map(len, self._initials.pop(initials, {}).values()))
            self._lookup_count -= sum(len(v) + 1 for v in self._lookups.pop(initials, {}).values())
            for i in range(1, len(e.syllables) + 1):  # a "no" may now be a "yes"
                self._prefix_keys[e.syllables[:i]] = True
                self._prefix_keys[initials[:i]] = True
            self._prefixes.clear()


class WordLearner:
    """Learns loose word likelihoods from commits into a UserLexicon.

    `paused`: None while learning works; else why not, one sentence naming the file (locked
    by another writer past the busy timeout, disk full, read-only, damaged), for the front
    end to show (ime.keys shows it as "learning paused: …"). Each commit
    while paused tries to write again (a read-only file is reopened once it can be written);
    the first write that works sets it back to None.
    """

    def __init__(self, store: UserLexicon, system: SystemLexicon | None = None) -> None:
        self.store = store
        self.system = system
        self.paused: str | None = None
        self._locked = False  # the last write found the lock held past the busy timeout
        if store.read_only is not None:
            self.paused = f"{store.path}: {store.read_only}"
        self.words = LearnedWords(store, self._is_system, self._read_failed)
        self.history = HistoryBigram()  # the decoder's view of the history pairs
        # the last commit learned, the rows it wrote and those rows before it (see undo)
        self._undo: tuple[CommitEvent, list[UserEntry], dict[Key, UserEntry | None]] | None = None
        # the history pairs the last commit learned wrote, and each before it (see undo)
        self._undo_pairs: list[tuple[HistoryEntry, HistoryEntry | None]] = []
        # the committed text of the last commit learned and its last word: the next commit's
        # first word pairs with it if its context ends with that text
        self._last: tuple[str, str] | None = None
        # new entries this session (this learner's life) may add at most (None: no cap);
        # the engine sets it from the config's `learn_session_cap`
        self.session_cap: int | None = None
        self.session_added = 0
        self._tick = store.tick
        self._built_tick = self._tick
        self._refresh()

    def bind(self, system: SystemLexicon) -> None:
        """Called by the Engine: the system lexicon decides each word's prior."""
        self.system = system
        self._refresh()

    def _refresh(self) -> None:
        """Reread the learned words' view and the history pairs (their decay moved on)."""
        self.words.refresh(self._tick)
        try:
            self.history.load(self.store.history(MAX_PAIRS), self._tick)
        except UserLexiconError as e:
            self.paused = str(e)

    def close(self) -> None:
        self.store.close()

    def _read_failed(self, e: UserLexiconError) -> None:
        self.paused = str(e)

    # ---- the view ---------------------------------------------------------------------------

    def _is_system(self, word: str, sylls: tuple[str, ...]) -> bool:
        if self.system is None:
            return False
        wid = self.system.word_id(word)
        return wid is not None and any(w == wid for w, _ in self.system.full.get(encode(sylls),
                                                                                  ()))

    def _prior(self, word: str, sylls: tuple[str, ...]) -> float:
        return lk.SYSTEM_PRIOR if self._is_system(word, sylls) else lk.NEW_PRIOR

    def _effective(self, e: UserEntry, tick: int) -> float:
        return lk.decay(e.likelihood, e.prior, tick - e.last_tick)

    def is_forgotten(self, text: str, syllables: tuple[str, ...]) -> bool:
        return (text, syllables) in self.words.forgotten

    def is_learned(self, text: str, syllables: tuple[str, ...]) -> bool:
        return self.words.adjustment(text, syllables) > 0.0

    def _writable(self) -> bool:
        """Whether a write can be tried: a store opened read-only is reopened for writing
        when its file can be written again."""
        if self.store.read_only is None:
            return True
        try:
            return self.store.reopen()
        except UserLexiconError as e:
            self.paused = str(e)
            return False

    def _write(self, keys: list[Key], fn, advance_tick: bool = True,
               pairs: list[Pair] | None = None, pair_fn=None) -> list[UserEntry] | None:
        """store.update (with the history `pairs`: update_with_history), or None (and
        `paused` set) if the write failed. While another writer holds the lock (an import:
        minutes), a retry waits only RETRY_BUSY_MS: one commit waited the whole busy timeout
        already. The pairs written are in `self._pairs_written`."""
        self._pairs_written: list[HistoryEntry] = []
        if not self._writable():
            return None
        waited = self.store.busy_timeout_ms
        if self._locked:
            self.store.set_busy_timeout(min(RETRY_BUSY_MS, waited))
        try:
            changed, self._pairs_written = self.store.update_with_history(
                keys, fn, pairs or (), pair_fn, advance_tick)
        except UserLexiconError as e:
            self.paused = str(e)
            self._locked = e.kind == "locked"
            return None
        finally:
            if self.store.busy_timeout_ms != waited:
                self.store.set_busy_timeout(waited)
        self.paused = None
        self._locked = False
        if self.store.last_tick is not None:
            self._tick = self.store.last_tick
        return changed

    # ---- learning ---------------------------------------------------------------------------

    def learn(self, event: CommitEvent) -> None:
        self._undo = None
        before: dict[Key, UserEntry | None] = {}
        ops: dict[Key, list[tuple[str, float]]] = defaultdict(list)
        picks = event.picks
        # the last word of the commit this one directly follows (the history's previous word)
        first = (self._last[1] if self._last is not None and event.context
                 and event.context.endswith(self._last[0]) else None)
        if len(picks) == 1 and picks[0].rank == 0:
            for w in picks[0].words:  # accepted as predicted: a small confirmation
                ops[(w.text, w.syllables)].append(("confirm", lk.ACCEPT_GAIN))
        else:
            for i, p in enumerate(picks):
                if p.rank > 0:
                    # after a previous word the choice may be the context's: the history pair
                    # takes it whole, the word's own likelihood a share
                    after = bool(picks[i - 1].words) if i else first is not None
                    share = lk.CONTEXT_SHARE if after else 1.0
                    ops[(p.text, p.syllables)].append(
                        ("gain", share * lk.selection_gain(len(p.text))))
                    if len(picks) == 1 and p.deficit > 0 and 2 <= len(p.text) <= 4 \
                            and not after:
                        ops[(p.text, p.syllables)].append(("overtake", p.deficit))
                    ops[(p.text, p.syllables)].append(("commit", 0.0))
                else:
                    for w in p.words:
                        ops[(w.text, w.syllables)].append(("confirm", lk.ACCEPT_GAIN))
            if len(picks) >= 2:
                sylls = tuple(s for p in picks for s in p.syllables)
                if len(sylls) == len(event.text):
                    ops[(event.text, sylls)].append(("gain", lk.assembly_gain(len(event.text))))
                    ops[(event.text, sylls)].append(("commit", 0.0))
            chosen = {(p.text, p.syllables) for p in picks}
            pos = 0
            for j, w in enumerate(event.prediction):  # predicted words the user did not keep
                span = event.text[pos:pos + len(w.text)]
                pos += len(w.text)
                key = (w.text, w.syllables)
                if span != w.text and key not in chosen and w.word_id != -2:
                    after = j > 0 or first is not None
                    ops[key].append(("loss", lk.CONTEXT_SHARE if after else 1.0))
        # only words the engine can type reach the user lexicon (letters passed through as
        # typed, punctuation, control characters never do)
        ops = {k: v for k, v in ops.items() if check_word(k[0]) is None and
               (any(eta for _, eta in v) or any(op == "commit" for op, _ in v))}
        committed, rejected, last = self._pairs(event, first)
        if not ops and not committed and not rejected:
            self._last = last
            return
        cap = self.session_cap
        created = 0

        def apply(key: Key, cur: UserEntry | None, tick: int) -> UserEntry | None:
            nonlocal created
            before[key] = cur
            if cur is None and cap is not None and self.session_added + created >= cap:
                return None  # this session added as many entries as it may
            word, sylls = key
            system = self._is_system(word, sylls)
            prior = cur.prior if cur is not None else self._prior(word, sylls)
            L = self._effective(cur, tick) if cur is not None else prior
            commits = cur.commits if cur is not None else 0
            deleted = cur.deleted if cur is not None else False
            touched = False
            for op, eta in ops[key]:
                if op == "gain" and eta > 0:
                    if system:
                        eta *= lk.SYSTEM_GAIN_SHARE
                    L = lk.gain(L, eta, lk.gain_ceiling(len(word), system))
                    touched, deleted = True, False
                elif op == "overtake":
                    L, touched = lk.overtake(L, eta, system), True
                elif op == "confirm":
                    if cur is None:
                        continue  # a confirmation never creates an entry
                    # an accepted prediction says the ranking is right, not that its words
                    # should win elsewhere: a system word is only brought back to its prior
                    new = lk.confirm(L, eta, prior if system else lk.ACCEPT_CEILING)
                    touched = touched or new != L
                    L = new
                elif op == "loss":
                    if cur is None and not system:
                        continue  # nothing learned to lose
                    rho = eta * lk.rejection_rate(len(word))  # eta: the share (see above)
                    new = lk.system_loss(L, len(word), eta) if system else lk.loss(L, rho)
                    touched = touched or new != L
                    L = new
                elif op == "commit":
                    commits += 1
            if not touched:
                return None
            created += cur is None
            source = cur.source if cur is not None else (
                "system" if system else "learned")
            return UserEntry(word, sylls, L, prior, commits, tick, deleted, source)

        pairs_before: dict[Pair, HistoryEntry | None] = {}

        def apply_pair(pair: Pair, cur: HistoryEntry | None, tick: int) -> HistoryEntry | None:
            pairs_before[pair] = cur
            s = 0.0 if cur is None else lk.decay(cur.strength, 0.0, tick - cur.last_tick)
            if pair in committed:
                return HistoryEntry(pair[0], pair[1], lk.history_gain(s),
                                    (cur.commits if cur is not None else 0) + 1, tick)
            if cur is None:
                return None  # a rejected pair the user never committed: nothing to lose
            return HistoryEntry(pair[0], pair[1], lk.history_loss(s), cur.commits, tick)

        changed = self._write(list(ops), apply, pairs=list(committed) + list(rejected),
                              pair_fn=apply_pair)
        if changed is None:
            return
        self._last = last
        self.session_added += created
        self._undo = (event, changed, before)
        self._undo_pairs = [(p, pairs_before[(p.prev, p.word)]) for p in self._pairs_written]
        if self._tick - self._built_tick >= REFRESH_TICKS:
            self._built_tick = self._tick
            self._refresh()
            self._prune_history()
        else:
            self.words.changed(changed, self._tick)
            for p in self._pairs_written:
                self.history.set(p, self._tick)

    def _pairs(self, event: CommitEvent, first: str | None
               ) -> tuple[dict[Pair, None], dict[Pair, None], tuple[str, str] | None]:
        """The history pairs of a commit: those committed (consecutive words of the picks,
        and the last commit's last word with the first, if this one follows it directly);
        those the prediction had that were not committed; and (text, last word) of this
        commit for the next one."""
        words: list[str | None] = []
        for p in event.picks:
            if p.words:
                words.extend(w.text if check_word(w.text) is None else None for w in p.words)
            else:
                words.append(None)  # letters as typed: no pair across them
        # no pair of two single characters: such pairs are frequent and ambiguous (我在 /
        # 我再); with them the history bonus lost more records than it won over long runs
        committed = dict.fromkeys((a, b) for a, b in zip([first] + words, words)
                                  if a and b and len(a) + len(b) > 2)
        rejected: dict[Pair, None] = {}
        predicted = [w.text for w in event.prediction]
        if predicted and "".join(predicted) != event.text:
            rejected = dict.fromkeys(
                (a, b) for a, b in zip([first] + predicted, predicted)
                if a and b and len(a) + len(b) > 2 and (a, b) not in committed
                and check_word(b) is None
                and check_word(a) is None)
        last = (event.text, words[-1]) if words and words[-1] else None
        return committed, rejected, last

    def _prune_history(self) -> None:
        """Drop the pairs so long unused that even one of strength 1 decayed below the
        floor (a write; a failure only leaves them for the next time)."""
        horizon = int(lk.HALF_LIFE * math.log2(1.0 / lk.HISTORY_FLOOR)) + 1
        if self._tick > horizon and self.store.read_only is None:
            try:
                self.store.delete_pairs(before_tick=self._tick - horizon)
            except UserLexiconError as e:
                self.paused = str(e)

    def undo(self, event: CommitEvent) -> int:
        """Revert what learning `event` wrote, if it is the last commit learned (the user
        deleted it at once: Backspace right after it). One transaction: each row goes back to
        what it was before the commit (a row the commit created goes); a row another writer
        changed since is left as it is. Returns the rows put back."""
        if self._undo is None or self._undo[0] is not event or not self._writable():
            return 0
        _, written, before = self._undo
        self._undo = None
        pairs, self._undo_pairs = self._undo_pairs, []
        try:
            rows, pairs = self.store.revert(
                [(e, before[(e.word, e.syllables)]) for e in written], pairs)
        except UserLexiconError as err:
            self.paused = str(err)
            return 0
        restored = [old or e for e, old in rows]
        self.words.changed(restored, self._tick)
        for p, old_pair in pairs:  # the history pairs too (ime.history)
            self.history.set(old_pair or HistoryEntry(p.prev, p.word, 0.0, 0, self._tick),
                             self._tick)
        return len(restored)

    # ---- forgetting -------------------------------------------------------------------------

    def forget(self, text: str, syllables: tuple[str, ...] | None = None) -> int:
        """Mark a word forgotten (all readings, or one); system words are demoted. Returns
        the entries marked: 0 when there is nothing to forget, or when the write failed
        (`paused` then says why)."""
        try:
            keys: list[Key] = [(e.word, e.syllables) for e in self.store.of_word(text)
                               if syllables is None or e.syllables == syllables]
        except UserLexiconError as e:
            self.paused = str(e)
            return 0
        if self.system is not None:
            for sylls, _ in self.system.readings_of(text):
                if syllables is None or sylls == syllables:
                    keys.append((text, sylls))
        if not keys:
            return 0

        def mark(k: Key, cur: UserEntry | None, tick: int) -> UserEntry:
            prior = cur.prior if cur is not None else self._prior(*k)
            return UserEntry(k[0], k[1], 0.0, prior, cur.commits if cur else 0, tick, True,
                             cur.source if cur else "system")

        changed = self._write(list(dict.fromkeys(keys)), mark, advance_tick=False)
        if changed is None:
            return 0
        self.words.changed(changed, self._tick)
        if syllables is None or not any(e.word == text and not e.deleted
                                        for e in self.store.of_word(text)):
            try:  # a word no longer offered under any reading takes its pairs with it
                self.store.delete_pairs(of_word=text)
            except UserLexiconError as e:
                self.paused = str(e)
            self.history.drop_word(text)
        return len(changed)
