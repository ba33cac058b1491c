"""Other IMEs' dictionary formats: readers and writers (specs and weight mappings in lexicon/FORMAT.md).

    entries = read_entries(Path("mine.dict.yaml"), "rime")        # parses all, or FormatError
    write_entries(entries, Path("out.txt"), "libime", private=True)  # atomic, mode 0600

Every format is read into, and written from, one entry type: `FormatEntry(word, syllables,
logp)`, where `logp` is a natural-log probability on the engine's own scale (the system
lexicon's log P(word) + log P(reading | word)). Each format maps its own weights onto that
scale and back by a monotonic function, so a round trip keeps the order of the weights:

    format   file weight            → logp                     logp → file weight
    rime     count w (≥ 0)          ln(max(w, ½) / W), W = Σw  round(e^logp · 10^12), ≥ 1
    libime   log10 score s (0 = ∅)  DEFAULT_LOGP + s · ln 10   (logp − DEFAULT_LOGP) / ln 10
    tsv      logp                   logp                       logp (exact, repr)
    scel     (none usable)          DEFAULT_LOGP               (import only)

A tombstone, `FormatEntry(..., forgotten=True)`, says the user forgot the word under that
reading, so that the forgetting moves with the dictionary. Only our tsv (v2) can say so
(`word TAB pinyin TAB forgotten`); the other writers leave tombstones out, which is all a
RIME or libime file can do (the exporting command says how many were left out).

`iter_entries` reads a text format (rime, libime, tsv) a line at a time, so memory stays one
line's worth whatever the file size (RIME: two passes, as its counts are normalised by the
file's total); `read_entries` is the list of the same entries, so a file that is bad
anywhere fails as a whole. A bad or truncated file raises `FormatError` naming the file and
the line (text formats) or byte offset (scel), for the first fault in file order. Every word must pass
`lexicon.words.check_word` (Han characters only: no control, format, private-use or
surrogate characters, no Latin text); with a `skipped` list a word that fails is left out
and listed there with its line instead. Pinyin is normalised
(`ü`/`u:` → `v`, tone marks and tone numbers dropped, `lue`/`nue` → `lve`/`nve`) and must be
valid syllables, as many as the word has characters.
"""

from __future__ import annotations

import math
import os
import re
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TextIO, TypeVar

from lexicon.user_lexicon import NEW_WORD_LOGP
from lexicon.words import check_word
from pinyin.spelling import normalize_pinyin

__all__ = [
    "FormatEntry",
    "FormatError",
    "ScelInfo",
    "FORMATS",
    "WRITABLE_FORMATS",
    "DEFAULT_LOGP",
    "RIME_SCALE",
    "TSV_HEADER",
    "TSV_HEADERS",
    "TSV_FORGOTTEN",
    "read_entries",
    "iter_entries",
    "write_entries",
    "read_scel_info",
    "guess_format",
    "normalize_pinyin",
]

DEFAULT_LOGP = NEW_WORD_LOGP  # a word with no usable weight: a common word's log unigram
RIME_SCALE = 1e12  # exported RIME weight = expected count per 10^12 words
RIME_ZERO_WEIGHT = 0.5  # a RIME weight of 0 counts as half the smallest count
TSV_HEADER = "# delta-pinyin tsv v2"  # what export writes: entries and forgotten words
TSV_HEADERS = ("# delta-pinyin tsv v1", TSV_HEADER)  # read: v1 files hold entries only
TSV_FORGOTTEN = "forgotten"  # the third field of a tombstone line, in place of the logp
LN10 = math.log(10.0)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FormatEntry:
    """One dictionary line: a word, its reading and its natural-log probability (≤ 0)."""

    word: str
    syllables: tuple[str, ...]
    logp: float
    forgotten: bool = False  # a tombstone: the user forgot this word (logp means nothing)

    @property
    def pinyin(self) -> str:
        return " ".join(self.syllables)


class FormatError(ValueError):
    """A dictionary file that cannot be read; the message names the file and line or offset."""


class _LineError(ValueError):
    """Raised by a line parser; the reader adds the file name and the line number."""


def _shown(word: str, limit: int = 20) -> str:
    """The word as the error shows it: escaped (one line whatever it holds), and short."""
    return repr(word) if len(word) <= limit else repr(word[:limit]) + f"... ({len(word)} chars)"


def _entry(word: str, pinyin: str, logp: float) -> FormatEntry:
    """A checked entry: a word the engine can type (`check_word`), valid syllables, one per
    character, finite logp."""
    reason = check_word(word)
    if reason is not None:
        raise _LineError(f"word {_shown(word)}: {reason}" if word else reason)
    sylls = normalize_pinyin(pinyin)
    if len(sylls) != len(word):
        raise _LineError(f"{word!r} has {len(word)} character{'s' if len(word) != 1 else ''} "
                         f"but {len(sylls)} syllable{'s' if len(sylls) != 1 else ''} "
                         f"({' '.join(sylls)})")
    if not math.isfinite(logp):
        raise _LineError(f"weight of {word!r} is not a finite number")
    return FormatEntry(word, sylls, min(logp, 0.0))


def _float(text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise _LineError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(v):
        raise _LineError(f"{what} {text!r} is not a finite number")
    return v


# ---- registry -----------------------------------------------------------------------------------

# (path, skipped) → entries in file order, read as they are asked for; with a `skipped`
# list, a bad entry is noted there (file and line/offset) and left out instead of failing
Reader = Callable[[Path, "list[str] | None"], Iterable[FormatEntry]]
Writer = Callable[[Iterable[FormatEntry], TextIO, Path], int]
_READERS: dict[str, Reader] = {}
_WRITERS: dict[str, Writer] = {}


def _reader(name: str) -> Callable[[Reader], Reader]:
    def register(fn: Reader) -> Reader:
        _READERS[name] = fn
        return fn
    return register


def _writer(name: str) -> Callable[[Writer], Writer]:
    def register(fn: Writer) -> Writer:
        _WRITERS[name] = fn
        return fn
    return register


def _check_format(fmt: str, table: dict) -> None:
    if fmt not in table:
        kind = "read" if table is _READERS else "written"
        raise ValueError(f"unknown format {fmt!r}: {', '.join(sorted(table))} can be {kind}")


def read_entries(path: Path, fmt: str, skipped: list[str] | None = None) -> list[FormatEntry]:
    """Every entry of the file, in file order; FormatError (file and line/offset) if bad.

    With a `skipped` list, entries that are bad on their own (a syllable not in the
    inventory, a word and reading of different lengths) are left out and described there;
    a file that is broken as a whole (truncated, wrong header) still raises.
    """
    return list(iter_entries(path, fmt, skipped))


def iter_entries(path: Path, fmt: str, skipped: list[str] | None = None
                 ) -> Iterator[FormatEntry]:
    """The entries of `read_entries`, one at a time: a text file is read line by line (an
    error comes when its line is reached, after the entries before it)."""
    _check_format(fmt, _READERS)
    path = Path(path)
    if path.is_dir():
        raise FormatError(f"{path}: is a directory, not a dictionary file")
    if path.exists() and not path.is_file():  # a FIFO or a device would block or never end
        raise FormatError(f"{path}: not a regular file (a pipe, socket or device)")
    yield from _READERS[fmt](path, skipped)


def write_entries(entries: Iterable[FormatEntry], path: Path, fmt: str,
                  private: bool = False) -> int:
    """Write `entries` in `fmt` to `path` atomically; returns the number of entries.

    The file is written under a temporary name in the same directory, flushed to disk and
    renamed over `path`, so readers see the old file or the whole new one, never a part; on
    any error (including one raised by `entries`) the temporary file is removed and `path` is
    untouched. `private`: the file holds user data and gets mode 0600; otherwise it keeps the
    mode of the file it replaces, or 0666 less the umask.
    """
    _check_format(fmt, _WRITERS)
    path = Path(path)
    if path.is_dir():
        raise OSError(f"{path}: is a directory")
    if not path.parent.is_dir():
        raise OSError(f"{path.parent}: no such directory")
    if private:
        mode = 0o600
    elif path.exists():
        mode = path.stat().st_mode & 0o777
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)  # mkstemp creates it with mode 0600: never readable by others
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            n = _WRITERS[fmt](entries, f, path)
            f.flush()
            os.fsync(f.fileno())
        if mode != 0o600:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return n


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def guess_format(path: Path) -> str | None:
    """The format a file name suggests (`x.dict.yaml` → rime, `.scel`, `.tsv`, `.txt` → libime)."""
    name = Path(path).name.lower()
    if name.endswith((".dict.yaml", ".yaml")):
        return "rime"
    for suffix, fmt in ((".scel", "scel"), (".tsv", "tsv"), (".txt", "libime")):
        if name.endswith(suffix):
            return fmt
    return None


# ---- text formats: shared line loop -------------------------------------------------------------


def _lines(path: Path, start: int = 1) -> Iterator[tuple[int, str]]:
    """(line number, text) from line `start` on, one at a time: split at \\n only (as editors
    number lines), trailing \\r stripped, a BOM dropped; a line that is not UTF-8 raises
    FormatError with its line and byte offset."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise FormatError(f"{path}: cannot read ({e.strerror})") from None
    with f:
        offset = 0
        for n, raw in enumerate(f, 1):
            at = offset
            offset += len(raw)
            if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw, at = raw[3:], at + 3
            if n < start:
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise FormatError(f"{path}: line {n}: not UTF-8 text (byte offset "
                                  f"{at + e.start})") from None
            yield n, text.rstrip("\n").rstrip("\r")


def _parsed(path: Path, lines: Iterable[tuple[int, str]], parse: Callable[[str], T | None],
            skipped: list[str] | None = None) -> Iterator[T]:
    """Apply `parse` to each numbered line; its errors gain file and line."""
    for n, line in lines:
        try:
            e = parse(line)
        except ValueError as err:
            if skipped is None:
                raise FormatError(f"{path}: line {n}: {err}") from None
            skipped.append(f"{path}: line {n}: {err}")
            continue
        if e is not None:
            yield e


# ---- RIME dict.yaml -----------------------------------------------------------------------------

_RIME_COLUMNS = re.compile(r"^columns\s*:\s*\[(.*)\]\s*$")


@dataclass(frozen=True, slots=True)
class _RimeLine:
    entry: FormatEntry  # logp not yet known: it depends on the total of the file's counts
    count: float | None  # the weight column as a count; None if missing or a percentage
    share: float | None  # an `N%` weight (RIME: a share of a character's readings) as N / 100


def _rime_header(path: Path) -> tuple[dict[str, int], int]:
    """The column of each field and the first body line (1-based), from the YAML header
    (`---` ... `...`, after blank and comment lines) if the file has one."""
    columns = ["text", "code", "weight"]
    lines = _lines(path)
    for n, line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        if line.strip() != "---":
            break
        last = n
        for last, inner in lines:
            if inner.rstrip() == "...":
                if "text" not in columns or "code" not in columns:
                    raise FormatError(f"{path}: line {n}: columns {columns} lack text or code")
                return {name: i for i, name in enumerate(columns)}, last + 1
            match = _RIME_COLUMNS.match(inner.strip())
            if match:
                columns = [c.strip().strip("'\"") for c in match.group(1).split(",")]
        raise FormatError(f"{path}: line {last}: YAML header opened by '---' on line {n} is "
                          "never closed by '...'")
    return {name: i for i, name in enumerate(columns)}, 1


@_reader("rime")
def _read_rime(path: Path, skipped: list[str] | None = None) -> Iterator[FormatEntry]:
    """Two passes over the file: the first checks every line and sums the counts (each count
    is normalised by the file's total), the second yields the entries."""
    col, body = _rime_header(path)

    def parse(line: str) -> _RimeLine | None:
        if not line.strip() or line.startswith("#"):
            return None
        fields = line.rstrip("\r\n").split("\t")
        text = fields[col["text"]] if col["text"] < len(fields) else ""
        code = fields[col["code"]] if col["code"] < len(fields) else ""
        if not code.strip():
            raise _LineError(f"{_shown(text)} has no pinyin (this importer needs the code "
                             "column)")
        w = col.get("weight", len(fields))
        raw = fields[w].strip() if w < len(fields) else ""
        count = share = None
        if raw.endswith("%"):
            share = _float(raw[:-1], "percentage weight") / 100.0
            if share <= 0:
                raise _LineError(f"percentage weight {raw!r} must be above 0")
        elif raw:
            count = _float(raw, "weight")
            if count < 0:
                raise _LineError(f"weight {raw!r} is negative")
        return _RimeLine(_entry(text, code, 0.0), count, share)

    # first pass: every line checked, the counts of the whole file summed
    total = 0.0
    for r in _parsed(path, _lines(path, body), parse, skipped):
        if r.count is not None:
            total += max(r.count, RIME_ZERO_WEIGHT)
    # second pass: the lines the first kept (a bad one fails again: already reported)
    for r in _parsed(path, _lines(path, body), parse, []):
        if r.count is not None:
            logp = math.log(max(r.count, RIME_ZERO_WEIGHT) / total)
        elif r.share is not None:
            logp = DEFAULT_LOGP + math.log(min(r.share, 1.0))
        else:
            logp = DEFAULT_LOGP
        yield replace(r.entry, logp=logp)


def _rime_name(path: Path) -> str:
    """RIME wants `name:` to equal the file name before `.dict.yaml`."""
    name = path.name
    for suffix in (".dict.yaml", ".yaml"):
        if name.endswith(suffix):
            return name[: -len(suffix)] or "delta_pinyin"
    return "delta_pinyin"


def rime_weight(logp: float) -> int:
    """Exported RIME weight: the expected count per RIME_SCALE words, at least 1."""
    return max(1, round(math.exp(logp) * RIME_SCALE))


@_writer("rime")
def _write_rime(entries: Iterable[FormatEntry], f: TextIO, path: Path) -> int:
    f.write("# Rime dictionary, exported by Delta Pinyin\n"
            f"# weight = round(exp(logp) * {RIME_SCALE:.0e}): expected count per 10^12 words\n"
            "---\n"
            f"name: {_rime_name(path)}\n"
            f'version: "{date.today().isoformat()}"\n'
            "sort: by_weight\n"
            "use_preset_vocabulary: false\n"
            "...\n\n")
    n = 0
    for e in entries:
        if e.forgotten:  # RIME has no way to say so
            continue
        f.write(f"{e.word}\t{e.pinyin}\t{rime_weight(e.logp)}\n")
        n += 1
    return n


# ---- libime / fcitx5 text -----------------------------------------------------------------------


def _split_libime(line: str) -> list[str]:
    """Whitespace-separated fields; a field may be "quoted" with \\" \\\\ \\n escapes."""
    fields: list[str] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        if line[i] != '"':
            j = i
            while j < n and not line[j].isspace():
                j += 1
            fields.append(line[i:j])
            i = j
            continue
        buf: list[str] = []
        i += 1
        while True:
            if i >= n:
                raise _LineError("unterminated quoted field")
            c = line[i]
            if c == "\\" and i + 1 < n:
                buf.append({"n": "\n", "t": "\t"}.get(line[i + 1], line[i + 1]))
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                buf.append(c)
                i += 1
        fields.append("".join(buf))
    return fields


def _quote_libime(word: str) -> str:
    if not any(c.isspace() or c in '"\\' for c in word):
        return word
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _libime_line(line: str) -> FormatEntry | None:
    """One line of a libime file: an entry, or None (blank, comment)."""
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    fields = _split_libime(line)
    if len(fields) not in (2, 3):
        raise _LineError(f"expected 'word pin'yin [weight]', got {len(fields)} fields")
    score = _float(fields[2], "weight") if len(fields) == 3 else 0.0
    return _entry(fields[0], fields[1], DEFAULT_LOGP + score * LN10)


@_reader("libime")
def _read_libime(path: Path, skipped: list[str] | None = None) -> Iterator[FormatEntry]:
    return _parsed(path, _lines(path), _libime_line, skipped)


def libime_weight(logp: float) -> float:
    """Exported libime weight: log10 of the probability relative to DEFAULT_LOGP."""
    return (logp - DEFAULT_LOGP) / LN10


@_writer("libime")
def _write_libime(entries: Iterable[FormatEntry], f: TextIO, path: Path) -> int:
    n = 0
    for e in entries:
        if e.forgotten:  # libime has no way to say so
            continue
        pinyin = "'".join(e.syllables)
        f.write(f"{_quote_libime(e.word)} {pinyin} {libime_weight(e.logp):.6f}\n")
        n += 1
    return n


# ---- TSV ----------------------------------------------------------------------------------------


@_reader("tsv")
def _read_tsv(path: Path, skipped: list[str] | None = None) -> Iterator[FormatEntry]:
    lines = _lines(path)
    first = next(lines, None)
    if first is None or first[1].strip() not in TSV_HEADERS:
        raise _tsv_header_error(path, first[1] if first is not None else None)
    yield from _parsed(path, lines, _tsv_line, skipped)


def _tsv_header_error(path: Path, first: str | None) -> FormatError:
    found = first[:40] if first is not None else "an empty file"
    return FormatError(f"{path}: line 1: expected the header {TSV_HEADER!r} (or v1), found "
                       f"{found!r}")


def _tsv_line(line: str) -> FormatEntry | None:
    """One line of a tsv file: an entry, a tombstone, or None (blank, comment)."""
    if not line.strip() or line.startswith("#"):
        return None
    fields = line.split("\t")
    if len(fields) != 3:
        raise _LineError(f"expected 3 tab-separated fields (word, pinyin, logp), "
                         f"got {len(fields)}")
    weight = fields[2].strip()
    if weight == TSV_FORGOTTEN:
        return replace(_entry(fields[0].strip(), fields[1], 0.0), forgotten=True)
    logp = _float(weight, "logp")
    if logp > 0:
        raise _LineError(f"logp {weight} is above 0 (not a log probability)")
    return _entry(fields[0].strip(), fields[1], logp)


@_writer("tsv")
def _write_tsv(entries: Iterable[FormatEntry], f: TextIO, path: Path) -> int:
    f.write(TSV_HEADER + "\n")
    n = 0
    for e in entries:
        f.write(f"{e.word}\t{e.pinyin}\t{TSV_FORGOTTEN if e.forgotten else repr(e.logp)}\n")
        n += 1
    return n


# ---- Sogou .scel (import only) ------------------------------------------------------------------

SCEL_MAGIC_HEAD = b"\x40\x15\x00\x00"
SCEL_MAGIC_TAIL = b"CS\x01\x01\x00\x00\x00"  # bytes 5..11; byte 4 is 'D' or 'E'
SCEL_WORDS_OFFSET = {0x44: 0x2628, 0x45: 0x26C4}  # word table offset by byte 4
SCEL_GROUP_COUNT = 0x120  # u32: word groups (pinyin codes)
SCEL_WORD_COUNT = 0x124  # u32: words
SCEL_NAME, SCEL_TYPE, SCEL_DESCRIPTION, SCEL_EXAMPLE = 0x130, 0x338, 0x540, 0xD40
SCEL_PINYIN_TABLE = 0x1540
SCEL_BLACKLIST_MARK = "DELTBL".encode("utf-16-le")


@dataclass(frozen=True, slots=True)
class ScelInfo:
    name: str
    type: str
    description: str
    example: str
    groups: int
    words: int


class _Bytes:
    """A cursor over the file's bytes; reading past the end names the offset."""

    def __init__(self, path: Path, data: bytes, pos: int) -> None:
        self.path, self.data, self.pos = path, data, pos

    def error(self, message: str, at: int | None = None) -> FormatError:
        at = self.pos if at is None else at
        return FormatError(f"{self.path}: byte offset {at:#x} ({at}): {message}")

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise self.error(f"file ends inside {what} (needs {n} bytes, "
                             f"{len(self.data) - self.pos} left): truncated?")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u16(self, what: str) -> int:
        return struct.unpack("<H", self.take(2, what))[0]

    def u32(self, what: str) -> int:
        return struct.unpack("<I", self.take(4, what))[0]

    def utf16(self, n: int, what: str, lone_surrogates: bool = False) -> str:
        """`lone_surrogates`: keep them in the text (a word: `check_word` refuses it, and
        --skip-bad can leave that word out) instead of failing the file here."""
        at = self.pos
        raw = self.take(n, what)
        try:
            return raw.decode("utf-16-le", "surrogatepass" if lone_surrogates else "strict")
        except UnicodeDecodeError:
            raise self.error(f"{what} is not UTF-16LE text", at) from None


def _scel_data(path: Path) -> tuple[bytes, int]:
    """The file's bytes and its word table offset, after checking the magic and size."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise FormatError(f"{path}: cannot read ({e.strerror})") from None
    if (len(data) < 12 or data[:4] != SCEL_MAGIC_HEAD or data[5:12] != SCEL_MAGIC_TAIL
            or data[4] not in SCEL_WORDS_OFFSET):
        raise FormatError(f"{path}: byte offset 0x0 (0): not a Sogou .scel cell dictionary "
                          "(bad magic bytes)")
    words_at = SCEL_WORDS_OFFSET[data[4]]
    if len(data) < words_at:
        raise FormatError(f"{path}: byte offset {len(data):#x} ({len(data)}): file ends before "
                          f"the word table at {words_at:#x}: truncated?")
    return data, words_at


def _scel_string(data: bytes, start: int, end: int) -> str:
    text = data[start:end].decode("utf-16-le", errors="replace")
    return text.split("\x00", 1)[0].strip()


def read_scel_info(path: Path) -> ScelInfo:
    """The header of a .scel file: name, category, description, example words, counts."""
    path = Path(path)
    data, _ = _scel_data(path)
    groups, words = struct.unpack_from("<II", data, SCEL_GROUP_COUNT)
    return ScelInfo(_scel_string(data, SCEL_NAME, SCEL_TYPE),
                    _scel_string(data, SCEL_TYPE, SCEL_DESCRIPTION),
                    _scel_string(data, SCEL_DESCRIPTION, SCEL_EXAMPLE),
                    _scel_string(data, SCEL_EXAMPLE, SCEL_PINYIN_TABLE), groups, words)


@_reader("scel")
def _read_scel(path: Path, skipped: list[str] | None = None) -> list[FormatEntry]:
    data, words_at = _scel_data(path)
    groups = struct.unpack_from("<I", data, SCEL_GROUP_COUNT)[0]

    # the pinyin table: u32 count, then (u16 index, u16 byte length, UTF-16LE syllable) each
    cur = _Bytes(path, data[:words_at], SCEL_PINYIN_TABLE)
    table: dict[int, str] = {}
    for _ in range(cur.u32("the pinyin table size")):
        index = cur.u16("a pinyin table index")
        size = cur.u16("a pinyin table length")
        table[index] = cur.utf16(size, "a pinyin table syllable")

    # the word table: groups of words that share one reading
    cur = _Bytes(path, data, words_at)
    out: list[FormatEntry] = []
    done = 0
    while (done < groups if groups else
           cur.pos < len(data) and not data.startswith(SCEL_BLACKLIST_MARK, cur.pos)):
        group_at = cur.pos
        same = cur.u16("a word group's word count")
        size = cur.u16("a word group's pinyin length")
        if same == 0 or size == 0 or size % 2:
            raise cur.error(f"bad word group header (words {same}, pinyin bytes {size})",
                            group_at)
        sylls: list[str] = []
        for _ in range(size // 2):
            at = cur.pos
            index = cur.u16("a pinyin index")
            if index not in table:
                raise cur.error(f"pinyin index {index} is not in the pinyin table "
                                f"({len(table)} syllables)", at)
            sylls.append(table[index])
        for _ in range(same):
            word_at = cur.pos
            n = cur.u16("a word's length")
            if n == 0 or n % 2:
                raise cur.error(f"bad word length {n}", word_at)
            word = cur.utf16(n, "a word", lone_surrogates=True)
            cur.take(cur.u16("a word's extra data length"), "a word's extra data")
            try:
                out.append(_entry(word, " ".join(sylls), DEFAULT_LOGP))
            except ValueError as err:
                if skipped is None:
                    raise cur.error(str(err), word_at) from None
                skipped.append(str(cur.error(str(err), word_at)))
        done += 1
    return out


FORMATS: tuple[str, ...] = tuple(_READERS)  # what `lexicon import` reads
WRITABLE_FORMATS: tuple[str, ...] = tuple(_WRITERS)  # what `lexicon export` writes
