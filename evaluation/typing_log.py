"""Typing logs (docs/TYPING_LOG.md): JSON Lines, one committed unit per line.

    {"keys": "woshizhongguoren", "text": "我是中国人", "context": "大家好，"}

Reading reports every bad record with its line number: each line is read as bytes and
decoded on its own, so a byte that is not UTF-8, a record nested too deeply for the JSON
parser or a number out of range spoils its own line only. A file that is not a log at all
(UTF-16, Latin-1, a directory, a pipe) is refused as a whole with `LogFileError`.
`make_log` turns plain text into a log (clauses at punctuation, pinyin by pypinyin, `v` for
ü, `'` before a syllable starting with a, o or e); `TypingLogRecorder` appends what a user
commits (opt-in, file mode 0600) and never lets a failed write reach the front end.
"""

from __future__ import annotations

import errno
import json
import math
import os
import random
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pinyin.spelling import VALID_KEYS

__all__ = [
    "LogRecord",
    "BadRecord",
    "LogFileError",
    "read_log",
    "load_log",
    "write_log",
    "make_log",
    "clauses",
    "keys_for",
    "TypingLogRecorder",
    "MAX_CONTEXT",
    "MAX_LINE_BYTES",
]

MAX_CONTEXT = 64
MAX_LINE_BYTES = 1 << 20  # a record is a clause: a longer line is a bad record, never read whole
MODES = ("full", "initials", "mixed")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class LogRecord:
    keys: str
    text: str
    context: str = ""
    session: str | None = None
    ts: float | None = None
    line: int = 0  # 1-based line number in the file it came from

    def to_json(self) -> str:
        d: dict = {"keys": self.keys, "text": self.text, "context": self.context}
        if self.session is not None:
            d["session"] = self.session
        if self.ts is not None:
            d["ts"] = self.ts
        return json.dumps(d, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class BadRecord:
    line: int
    reason: str
    encoding: bool = False  # the line is not UTF-8 text (the file may be in another encoding)

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class LogFileError(ValueError):
    """A file that is not a typing log as a whole (not a regular file, not UTF-8 text)."""


def parse_record(raw: str, line: int) -> LogRecord | BadRecord:
    """The record on one line of a log, or why it is a bad record."""
    try:
        return _parse_record(raw, line)
    except RecursionError:  # thousands of nested arrays: the parser's stack, not ours
        return BadRecord(line, "not valid JSON (nested too deeply)")


def _parse_record(raw: str, line: int) -> LogRecord | BadRecord:
    try:
        d = json.loads(raw)
    except ValueError as e:  # JSONDecodeError, or an integer of thousands of digits
        return BadRecord(line, f"not valid JSON ({getattr(e, 'msg', e)})")
    if not isinstance(d, dict):
        return BadRecord(line, "not a JSON object")
    for k in ("keys", "text"):
        if k not in d:
            return BadRecord(line, f"missing {k!r}")
        if not isinstance(d[k], str):
            return BadRecord(line, f"{k!r} is not a string")
    keys, text = d["keys"], d["text"]
    if not keys:
        return BadRecord(line, "empty 'keys'")
    if not text:
        return BadRecord(line, "empty 'text'")
    bad = sorted({c for c in keys if c not in VALID_KEYS})
    if bad:
        shown = "".join(bad[:20]) + ("..." if len(bad) > 20 else "")
        return BadRecord(line, f"'keys' has characters outside a-z and ': {shown!r}")
    context = d.get("context", "")
    if not isinstance(context, str):
        return BadRecord(line, "'context' is not a string")
    session = d.get("session")
    ts = d.get("ts")
    if ts is not None:
        if isinstance(ts, bool) or not isinstance(ts, (int, float)):
            return BadRecord(line, "'ts' is not a number")
        try:
            ts = float(ts)  # an int of 400 digits does not fit: OverflowError
        except OverflowError:
            ts = math.inf
        if not math.isfinite(ts):
            return BadRecord(line, "'ts' is not a finite number of seconds")
    return LogRecord(keys, text, context[-MAX_CONTEXT:],
                     None if session is None else str(session), ts, line)


def _open_log(path: Path) -> BinaryIO:
    """The log opened for reading bytes; LogFileError unless it is a regular file (a FIFO
    would wait for a writer, a device might never end)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO: no wait for a writer
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LogFileError(f"{path}: a directory, not a typing log") from None
    kind = os.fstat(fd).st_mode
    if not stat.S_ISREG(kind):
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(kind) else "a pipe, socket or device"
        raise LogFileError(f"{path}: {what}, not a typing log (a regular file)")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _other_encoding(first: bytes) -> str | None:
    """What the first line says the file is, when it is plainly not UTF-8 text."""
    if first.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32 text (byte order mark)"
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text (byte order mark)"
    if b"\x00" in first:
        return "UTF-16 or binary data (NUL bytes on line 1)"
    return None


def _lines(f: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes without the newline) for every line; None for one longer than
    MAX_LINE_BYTES (skipped to its end, never held whole)."""
    n = 0
    while True:
        raw = f.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        n += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = f.readline(MAX_LINE_BYTES)
            yield n, None
            continue
        yield n, raw.rstrip(b"\r\n")


def iter_log(path: Path) -> Iterator[LogRecord | BadRecord]:
    """Records and bad records in file order (blank lines skipped). Each line is decoded on
    its own: a line that is not UTF-8 is one bad record, with its own line number.
    LogFileError for a file that is not a log at all (not a regular file, UTF-16)."""
    path = Path(path)
    with _open_log(path) as f:
        for i, raw in _lines(f):
            if raw is None:
                yield BadRecord(i, f"longer than {MAX_LINE_BYTES} bytes")
                continue
            if i == 1:
                other = _other_encoding(raw)
                if other is not None:
                    raise LogFileError(f"{path}: {other}, not UTF-8: a typing log is UTF-8 "
                                       "JSON Lines (docs/TYPING_LOG.md)")
                raw = raw.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield BadRecord(i, f"not UTF-8 (byte {raw[e.start]:#04x} at column "
                                   f"{e.start + 1})", encoding=True)
                continue
            if text.strip():
                yield parse_record(text, i)


def read_log(path: Path) -> tuple[list[LogRecord], list[BadRecord]]:
    good: list[LogRecord] = []
    bad: list[BadRecord] = []
    for r in iter_log(path):
        (bad if isinstance(r, BadRecord) else good).append(r)
    return good, bad


def load_log(path: Path, strict: bool = False, limit: int | None = None,
             report=None) -> tuple[list[LogRecord], list[BadRecord]]:
    """The records of a log for a command: every bad record reported (`report(line)`, by
    default to stderr) and skipped, or with `strict` the first one fatal (ValueError).
    A log with no valid record is an error; one whose lines are not UTF-8 says so."""
    import sys

    path = Path(path)
    records, bad = read_log(path)
    undecodable = [b for b in bad if b.encoding]
    if undecodable and not records:
        raise LogFileError(f"{path}: not UTF-8 text ({len(undecodable)} of "
                           f"{len(bad)} lines; first at {undecodable[0]}): a typing log is "
                           "UTF-8 JSON Lines (docs/TYPING_LOG.md); convert it, e.g. with iconv")
    for b in bad:
        (report or (lambda m: print(m, file=sys.stderr)))(f"{path}:{b}")
    if bad and strict:
        raise ValueError(f"{path}: {len(bad)} bad record(s); first at {bad[0]}")
    records = records[:limit] if limit else records
    if not records:
        raise ValueError(f"{path}: no valid records")
    return records, bad


def write_log(records: Iterable[LogRecord], path: Path) -> int:
    """Write atomically (temp file, then rename); returns the number of records."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    n = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for r in records:
            f.write(r.to_json() + "\n")
            n += 1
    os.replace(tmp, path)
    return n


# ---- making logs from text --------------------------------------------------------------------


def clauses(text: str) -> Iterator[tuple[str, str]]:
    """(clause, left context) for every run of Han characters in `text`.

    Punctuation, digits and Latin letters end a clause and stay in the context.
    """
    context = ""
    pos = 0
    for m in _HAN_RUN.finditer(text):
        context = (context + text[pos:m.start()])[-MAX_CONTEXT:]
        yield m.group(), _SPACES.sub(" ", context)
        context = (context + m.group())[-MAX_CONTEXT:]
        pos = m.end()


def keys_for(syllables: list[str], mode: str = "full", rng: random.Random | None = None) -> str:
    """Keys a user would type: full pinyin, initials only, or a random mix of both."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    out: list[str] = []
    for i, s in enumerate(syllables):
        if mode == "full":
            piece = s
        elif mode == "initials":
            piece = s[0]
        else:
            piece = s if (rng or random).random() < 0.5 else s[0]
        if i and piece[0] in "aoe":
            out.append("'")
        out.append(piece)
    return "".join(out)


class _Pinyin:
    def __init__(self) -> None:
        import pypinyin
        from pypinyin_dict.phrase_pinyin_data import cc_cedict, large_pinyin

        cc_cedict.load()
        large_pinyin.load()
        self._lazy = pypinyin.lazy_pinyin

    def __call__(self, clause: str) -> list[str] | None:
        from pinyin.spelling import normalize_syllable
        from pinyin.syllables import is_syllable

        sylls = [normalize_syllable(s) for s in self._lazy(clause, errors=lambda x: ["?"] * len(x))]
        if len(sylls) != len(clause) or not all(is_syllable(s) for s in sylls):
            return None
        return sylls


def make_log(text: str, mode: str = "full", seed: int = 0, min_chars: int = 1,
             session: str | None = None) -> Iterator[LogRecord]:
    """Typing-log records for every clause of `text`."""
    rng = random.Random(seed)
    pinyin = _Pinyin()
    for clause, context in clauses(text):
        if len(clause) < min_chars:
            continue
        sylls = pinyin(clause)
        if sylls is None:
            continue
        yield LogRecord(keys_for(sylls, mode, rng), clause, context, session)


# ---- recording what the user commits (opt-in) ------------------------------------------------


class TypingLogRecorder:
    """Appends committed units to a typing log; the file is created readable by the user only
    (mode 0600, in a 0700 directory).

    Recording is best effort and never raises to the front end: when a write fails (disk
    full, permission, a directory where the file should be) the record is dropped, `paused`
    holds the reason and `dropped` counts what was lost; every later record tries again, and
    the first that is written clears `paused`. A record is one write of one whole line; a
    write that fails half way is cut back off the file, so no line is ever half a record.
    """

    def __init__(self, path: Path, session: str | None = None) -> None:
        self.path = Path(path)
        self.session = session
        self.paused: str | None = None  # why the last record could not be written, if it was not
        self.dropped = 0  # records lost to failed writes (not the ones refused as invalid)

    def record(self, keys: str, text: str, context: str, ts: float | None = None) -> None:
        if (not isinstance(keys, str) or not isinstance(text, str) or not keys or not text
                or any(c not in VALID_KEYS for c in keys)):
            return
        if ts is not None and not (isinstance(ts, (int, float)) and math.isfinite(ts)):
            ts = None
        context = context if isinstance(context, str) else ""
        try:
            line = (LogRecord(keys, text, context[-MAX_CONTEXT:], self.session, ts).to_json()
                    + "\n").encode("utf-8")
        except (ValueError, TypeError):  # a lone surrogate: not text a log can hold
            return
        try:
            self._append(line)
        except OSError as e:
            self.dropped += 1
            self.paused = f"{self.path}: {e.strerror or e}"
            return
        self.paused = None

    def _append(self, line: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_NONBLOCK: a FIFO without a reader fails at once instead of blocking the UI
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o600)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise OSError(errno.EINVAL, "not a regular file")
            if st.st_mode & 0o077:  # a log that others can read: it holds what the user typed
                os.fchmod(fd, 0o600)
            start = st.st_size
            if start and os.pread(fd, 1, start - 1) != b"\n":  # an unfinished line: end it
                line = b"\n" + line
            written = 0
            try:
                while written < len(line):
                    n = os.write(fd, line[written:])
                    if n <= 0:
                        raise OSError(errno.EIO, "nothing written")
                    written += n
            except OSError:
                if written:
                    try:
                        os.ftruncate(fd, start)  # no half line left behind
                    except OSError:
                        pass
                raise
        finally:
            os.close(fd)
