"""Spelling: the keys a composition may hold, and written pinyin in keyboard spelling.

    validate_keys("xi'an")            # a-z and the apostrophe only
    normalize_syllable("lǚ")  → "lv"  # tone marks, tone numbers, ü / u: → v, lüe written lue
    normalize_pinyin("Zhōng guó")  → ("zhong", "guo")
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pinyin.syllables import is_syllable

__all__ = ["VALID_KEYS", "InvalidKeysError", "validate_keys", "normalize_syllable",
           "normalize_pinyin"]

VALID_KEYS = frozenset("abcdefghijklmnopqrstuvwxyz'")

_TONE_NUMBER = re.compile(r"[1-5]$")


class InvalidKeysError(ValueError):
    """Keys outside `a-z'`."""


def validate_keys(keys: str) -> None:
    bad = sorted({c for c in keys if c not in VALID_KEYS})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise InvalidKeysError(f"invalid keys {keys!r}: {shown} not allowed (only a-z and ')")


@lru_cache(maxsize=8192)
def normalize_syllable(s: str) -> str:
    """One written syllable in keyboard spelling: `lǚ` → `lv`, `zhōng`/`zhong1` → `zhong`,
    `ń` → `n`, `ê` → `e`, `lu:e`/`lüe`/`lue` → `lve`. Not checked against the inventory."""
    s = s.strip().lower().replace("u:", "v")
    s = _TONE_NUMBER.sub("", s)
    decomposed = unicodedata.normalize("NFD", s).replace("u\u0308", "v")
    s = "".join(c for c in decomposed if not unicodedata.combining(c))
    if s in ("lue", "nue"):  # the ü of lüe written as u: only l and n can take both
        s = s[0] + "ve"
    return s


def normalize_pinyin(text: str) -> tuple[str, ...]:
    """`Zhōng guó`, `zhong1'guo2`, `lü4 se4`, `lüe` → keyboard syllables; ValueError if invalid.

    Syllables may be separated by spaces, apostrophes or hyphens.
    """
    parts = [p for p in re.split(r"[\s'\-]+", text) if p]
    sylls = tuple(normalize_syllable(p) for p in parts)
    bad = [p for p, s in zip(parts, sylls) if not is_syllable(s)]
    if not sylls:
        raise ValueError("no pinyin")
    if bad:
        raise ValueError(f"invalid pinyin syllable{'s' if len(bad) > 1 else ''} "
                         f"{', '.join(repr(b) for b in bad)}")
    return sylls
