"""The system lexicon: marisa-tries from syllable sequences to words.

Three memory-mapped tries (formats in lexicon/FORMAT.md):

- `words.marisa`    word text ↔ word id (the id indexes the n-gram arrays);
- `full.marisa`     syllable codes            → (word id, log P(reading | word));
- `initials.marisa` first letters TAB codes   → (word id, log P(reading | word)),
                    for abbreviated and mixed input (`zgrm`, `zhongguor`).

A syllable code is one character, chr(0x100 + syllable id), so a word's key is as long as
the word and prefix queries prune the search over the syllable graph.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import marisa_trie

from pinyin.syllables import SYLLABLES, syllable_id

__all__ = ["SystemLexicon", "Pattern", "encode", "decode", "WordHit", "segment"]

CODE_BASE = 0x100
# (pattern, is_prefix): a whole syllable, or a prefix any syllable starting with it matches
Pattern = tuple[str, bool]
# (word id, syllables, log P(reading | word))
WordHit = tuple[int, tuple[str, ...], float]
RECORD_FORMAT = "<if"
MAX_EXPANSION = 64  # prefix patterns with at most this many spellings are looked up one by one


def _any(trie: marisa_trie.Trie | marisa_trie.RecordTrie, prefix: str) -> bool:
    """Whether some key starts with `prefix`."""
    return next(trie.iterkeys(prefix), None) is not None


@lru_cache(maxsize=1024)
def _expand(prefix: str) -> tuple[str, ...]:
    """Every syllable starting with `prefix`."""
    return tuple(s for s in SYLLABLES if s.startswith(prefix))


def encode(syllables: tuple[str, ...] | list[str]) -> str:
    return "".join(chr(CODE_BASE + syllable_id(s)) for s in syllables)


def decode(codes: str) -> tuple[str, ...]:
    return tuple(SYLLABLES[ord(c) - CODE_BASE] for c in codes)


def initials_key(syllables: tuple[str, ...] | list[str]) -> str:
    return "".join(s[0] for s in syllables)


class SystemLexicon:
    def __init__(self, words: marisa_trie.Trie, full: marisa_trie.RecordTrie,
                 initials: marisa_trie.RecordTrie) -> None:
        self.words = words
        self.full = full
        self.initials = initials

    @classmethod
    def load(cls, directory: Path) -> SystemLexicon:
        words = marisa_trie.Trie()
        words.mmap(str(directory / "words.marisa"))
        full = marisa_trie.RecordTrie(RECORD_FORMAT)
        full.mmap(str(directory / "full.marisa"))
        initials = marisa_trie.RecordTrie(RECORD_FORMAT)
        initials.mmap(str(directory / "initials.marisa"))
        return cls(words, full, initials)

    @classmethod
    def from_entries(cls, entries: list[tuple[str, tuple[str, ...], float]]) -> SystemLexicon:
        """Build in memory from (word, syllables, log P(reading | word)); for tests and tools.

        Word ids are those of the returned `words` trie.
        """
        words = marisa_trie.Trie(sorted({w for w, _, _ in entries}))
        full_items = [(encode(s), (words[w], lp)) for w, s, lp in entries]
        ini_items = [(initials_key(s) + "\t" + encode(s), (words[w], lp)) for w, s, lp in entries]
        return cls(
            words,
            marisa_trie.RecordTrie(RECORD_FORMAT, full_items),
            marisa_trie.RecordTrie(RECORD_FORMAT, ini_items),
        )

    def save(self, directory: Path) -> None:
        for name, trie in (("words", self.words), ("full", self.full),
                           ("initials", self.initials)):
            tmp = directory / f"{name}.marisa.tmp"
            trie.save(str(tmp))
            tmp.replace(directory / f"{name}.marisa")

    def __len__(self) -> int:
        return len(self.words)

    def word_id(self, text: str) -> int | None:
        return self.words.get(text)

    def text(self, word_id: int) -> str:
        return self.words.restore_key(word_id)

    def has_prefix(self, patterns: tuple[Pattern, ...]) -> bool:
        """Whether some word's syllables can begin with these patterns."""
        if not any(p for _, p in patterns):
            return _any(self.full, encode([s for s, _ in patterns]))
        return _any(self.initials, initials_key([s for s, _ in patterns]))

    def lookup(self, patterns: tuple[Pattern, ...]) -> list[WordHit]:
        """Every word whose syllables match the patterns one to one."""
        if not any(p for _, p in patterns):
            sylls = tuple(s for s, _ in patterns)
            return [(wid, sylls, lp) for wid, lp in self.full.get(encode(sylls), ())]
        options = [_expand(p) if pre else (p,) for p, pre in patterns]
        if math.prod(len(o) for o in options) <= MAX_EXPANSION:
            return self._lookup_expanded(options)
        hits: list[WordHit] = []
        for key, (wid, lp) in self.initials.items(initials_key([s for s, _ in patterns]) + "\t"):
            sylls = decode(key[len(patterns) + 1:])
            if all(s.startswith(p) if pre else s == p for s, (p, pre) in zip(sylls, patterns)):
                hits.append((wid, sylls, lp))
        return hits

    def _lookup_expanded(self, options: list[tuple[str, ...]]) -> list[WordHit]:
        """Few spellings match: walk them in the full trie, pruning dead prefixes."""
        hits: list[WordHit] = []
        partial: list[tuple[str, tuple[str, ...]]] = [("", ())]
        for k, opts in enumerate(options):
            last = k == len(options) - 1
            nxt = []
            for code, sylls in partial:
                for s in opts:
                    c = code + chr(CODE_BASE + syllable_id(s))
                    if last:
                        hits.extend((wid, sylls + (s,), lp) for wid, lp in self.full.get(c, ()))
                    elif _any(self.full, c):
                        nxt.append((c, sylls + (s,)))
            partial = nxt
        return hits

    def entries(self):
        """Every (word, syllables, log P(reading | word)), in key order."""
        for key, (wid, lp) in self.initials.items():
            yield self.text(wid), decode(key.split("\t", 1)[1]), lp

    def readings_of(self, text: str) -> list[tuple[tuple[str, ...], float]]:
        """Every (syllables, log P(reading | word)) under which `text` is in the lexicon."""
        from itertools import product

        from pinyin.syllables import SYLLABLES

        wid = self.word_id(text)
        if wid is None:
            return []
        per_char: list[list[str]] = []
        for ch in text:
            cid = self.word_id(ch)
            rs = [s for s in SYLLABLES
                  if cid is not None and any(w == cid for w, _ in self.full.get(encode((s,)), ()))]
            per_char.append(rs)
        out = []
        for sylls in product(*per_char):
            for w, lp in self.full.get(encode(sylls), ()):
                if w == wid:
                    out.append((tuple(sylls), lp))
        return out


def segment(words: marisa_trie.Trie, logp, text: str, max_len: int = 12) -> list[int] | None:
    """The most probable segmentation of `text` into vocabulary words under the unigram
    `logp[word id]` (word ids of `words`), or None if some character is in no word."""
    n = len(text)
    best = [0.0] + [-math.inf] * n
    back = [0] * (n + 1)  # the word id ending at each position on the best path
    start = [0] * (n + 1)
    for i in range(n):
        bi = best[i]
        if bi == -math.inf:
            continue
        for key, wid in words.iter_prefixes_with_ids(text[i:i + max_len]):
            j = i + len(key)
            s = bi + logp[wid]
            if s > best[j]:
                best[j], back[j], start[j] = s, wid, i
    if best[n] == -math.inf:
        return None
    out: list[int] = []
    j = n
    while j > 0:
        out.append(back[j])
        j = start[j]
    return out[::-1]
