"""Learner: compares the user's true choice with the engine's prediction on every commit.

    prediction (top-1 before any pick):   先 | 在         user picked:  现在 (rank 3)
    → 现在 gains (chosen below the top), 先 and 在 lose (rejected predictions)

    prediction:  文件 | 细桶              user picked:  文件 (rank 0), 系统 (rank 4)
    → 系统 gains, 细桶 loses, 文件系统 gains as an assembled sequence (new word after three)

The formulas live in `ime.likelihood`; the rows in `lexicon.user_lexicon` (SQLite). The
learner keeps an in-memory view for the lattice: the learned words that passed the
threshold (looked up by syllables, like the system trie) and each word's score adjustment.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from ime import likelihood as lk
from ime.candidates import CommitEvent
from ime.config import data_dir, ensure_private_dir
from lexicon.trie import Pattern, SystemLexicon
from lexicon.user_lexicon import UserEntry, UserLexicon

__all__ = ["WordLearner", "LearnedWords", "open_learner", "default_user_db"]

Key = tuple[str, tuple[str, ...]]
REFRESH_TICKS = 500  # recompute decayed likelihoods of the whole view this often


def default_user_db() -> Path:
    return data_dir() / "user.db"


def open_learner(path: Path | None = None) -> WordLearner:
    path = path or default_user_db()
    ensure_private_dir(path.parent)
    return WordLearner(UserLexicon(path))


class LearnedWords:
    """The lattice's view of the user lexicon (ime.lattice.UserWords).

    It offers the words the system tries may not: new words past the threshold, and system
    words the user promoted (so that a promoted word is never lost below a span's cut).
    Prefix sets only grow between rebuilds; a stale prefix costs a walk, never a wrong word.
    """

    def __init__(self) -> None:
        self.adjust: dict[Key, float] = {}  # every word with a record → log-domain change
        # syllables → {word: log unigram of a new word, or None for a promoted system word}
        self.by_syllables: dict[tuple[str, ...], dict[str, float | None]] = {}
        self.by_initials: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        self.full_prefixes: set[tuple[str, ...]] = set()
        self.initial_prefixes: set[str] = set()
        self.forgotten: set[Key] = set()  # never offered, also not composed from pieces

    def has_prefix(self, patterns: tuple[Pattern, ...]) -> bool:
        if not self.by_syllables:
            return False
        if not any(p for _, p in patterns):
            return tuple(s for s, _ in patterns) in self.full_prefixes
        return "".join(s[0] for s, _ in patterns) in self.initial_prefixes

    def lookup(self, patterns: tuple[Pattern, ...]
               ) -> list[tuple[str, tuple[str, ...], float | None]]:
        if not self.by_syllables:
            return []
        if not any(p for _, p in patterns):
            sylls = tuple(s for s, _ in patterns)
            return [(w, sylls, lp) for w, lp in self.by_syllables.get(sylls, {}).items()]
        out = []
        for sylls in self.by_initials.get("".join(s[0] for s, _ in patterns), ()):
            if all(s.startswith(p) if pre else s == p for s, (p, pre) in zip(sylls, patterns)):
                out.extend((w, sylls, lp) for w, lp in self.by_syllables[sylls].items())
        return out

    def adjustment(self, text: str, syllables: tuple[str, ...]) -> float:
        return self.adjust.get((text, syllables), 0.0)

    def rebuild(self, entries: list[tuple[UserEntry, float]], is_system) -> None:
        """`entries`: (entry, likelihood decayed to now)."""
        self.adjust.clear()
        self.by_syllables.clear()
        self.by_initials.clear()
        self.full_prefixes.clear()
        self.initial_prefixes.clear()
        self.forgotten.clear()
        for e, L in entries:
            self._add(e, L, is_system(e.word, e.syllables))

    def _add(self, e: UserEntry, L: float, system: bool) -> None:
        key = (e.word, e.syllables)
        offered = self.by_syllables.get(e.syllables)
        if offered is not None:
            offered.pop(e.word, None)
        if e.deleted:
            self.adjust[key] = -math.inf
            self.forgotten.add(key)
            return
        self.forgotten.discard(key)
        adj = self.adjust[key] = lk.score_adjustment(L, system)
        if (system and adj > 0) or (not system and L >= lk.THRESHOLD):
            self.by_syllables.setdefault(e.syllables, {})[e.word] = (
                None if system else lk.new_word_logp(L))
            initials = "".join(s[0] for s in e.syllables)
            self.by_initials[initials].add(e.syllables)
            for i in range(1, len(e.syllables) + 1):
                self.full_prefixes.add(e.syllables[:i])
                self.initial_prefixes.add(initials[:i])


class WordLearner:
    """Learns loose word likelihoods from commits into a UserLexicon."""

    def __init__(self, store: UserLexicon, system: SystemLexicon | None = None) -> None:
        self.store = store
        self.system = system
        self.words = LearnedWords()
        self._tick = store.tick
        self._built_tick = -1
        self._reload()

    def bind(self, system: SystemLexicon) -> None:
        """Called by the Engine: the system lexicon decides each word's prior."""
        self.system = system
        self._reload()

    def close(self) -> None:
        self.store.close()

    # ---- the view ---------------------------------------------------------------------------

    def _is_system(self, word: str, sylls: tuple[str, ...]) -> bool:
        if self.system is None:
            return False
        from lexicon.trie import encode

        wid = self.system.word_id(word)
        return wid is not None and any(w == wid for w, _ in self.system.full.get(encode(sylls),
                                                                                  ()))

    def _prior(self, word: str, sylls: tuple[str, ...]) -> float:
        return lk.SYSTEM_PRIOR if self._is_system(word, sylls) else lk.NEW_PRIOR

    def _effective(self, e: UserEntry, tick: int) -> float:
        return lk.decay(e.likelihood, e.prior, tick - e.last_tick)

    def _reload(self) -> None:
        self._tick = self.store.tick
        entries = self.store.entries(include_deleted=True)
        self.words.rebuild([(e, self._effective(e, self._tick)) for e in entries],
                           self._is_system)
        self._built_tick = self._tick

    def is_forgotten(self, text: str, syllables: tuple[str, ...]) -> bool:
        return (text, syllables) in self.words.forgotten

    def is_learned(self, text: str, syllables: tuple[str, ...]) -> bool:
        return self.words.adjust.get((text, syllables), 0.0) > 0.0

    # ---- learning ---------------------------------------------------------------------------

    def learn(self, event: CommitEvent) -> None:
        ops: dict[Key, list[tuple[str, float]]] = defaultdict(list)
        picks = event.picks
        if len(picks) == 1 and picks[0].rank == 0:
            for w in picks[0].words:  # accepted as predicted: a small confirmation
                ops[(w.text, w.syllables)].append(("confirm", lk.ACCEPT_GAIN))
        else:
            for p in picks:
                if p.rank > 0:
                    ops[(p.text, p.syllables)].append(("gain", lk.selection_gain(len(p.text))))
                    if len(picks) == 1 and p.deficit > 0 and 2 <= len(p.text) <= 4:
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
            for w in event.prediction:  # predicted words the user did not keep lose
                span = event.text[pos:pos + len(w.text)]
                pos += len(w.text)
                key = (w.text, w.syllables)
                if span != w.text and key not in chosen and w.word_id != -2:
                    ops[key].append(("loss", lk.rejection_rate(len(w.text))))
        ops = {k: v for k, v in ops.items() if any(eta for _, eta in v) or
               any(op == "commit" for op, _ in v)}
        if not ops:
            return

        def apply(key: Key, cur: UserEntry | None, tick: int) -> UserEntry | None:
            word, sylls = key
            system = self._is_system(word, sylls)
            prior = cur.prior if cur is not None else self._prior(word, sylls)
            L = self._effective(cur, tick) if cur is not None else prior
            commits = cur.commits if cur is not None else 0
            deleted = cur.deleted if cur is not None else False
            touched = False
            for op, eta in ops[key]:
                if op == "gain" and eta > 0:
                    L, touched, deleted = lk.gain(L, eta), True, False
                elif op == "overtake":
                    L, touched = lk.overtake(L, eta, system), True
                elif op == "confirm":
                    if cur is None and not system:
                        continue  # a confirmation never creates a word
                    new = lk.confirm(L, eta)
                    touched = touched or new != L
                    L = new
                elif op == "loss":
                    if cur is None and not system:
                        continue  # nothing learned to lose
                    L, touched = lk.loss(L, eta), True
                elif op == "commit":
                    commits += 1
            if not touched:
                return None
            source = cur.source if cur is not None else (
                "system" if system else "learned")
            return UserEntry(word, sylls, L, prior, commits, tick, deleted, source)

        changed = self.store.update(list(ops), apply)
        self._tick += 1
        for e in changed:
            self.words._add(e, e.likelihood, self._is_system(e.word, e.syllables))
        if self._tick - self._built_tick >= REFRESH_TICKS:
            self._reload()

    # ---- forgetting -------------------------------------------------------------------------

    def forget(self, text: str, syllables: tuple[str, ...] | None = None) -> int:
        """Mark a word forgotten (all readings, or one); system words are demoted."""
        keys: list[Key] = [(e.word, e.syllables) for e in self.store.entries(include_deleted=True)
                           if e.word == text and (syllables is None or e.syllables == syllables)]
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

        keys = list(dict.fromkeys(keys))
        changed = self.store.update(keys, mark, advance_tick=False)
        for e in changed:
            self.words._add(e, 0.0, self._is_system(e.word, e.syllables))
        self._reload()
        return len(changed)
