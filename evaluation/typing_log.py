"""Typing logs (TYPING_LOG.md): JSON Lines, one committed unit per line.

    {"keys": "woshizhongguoren", "text": "我是中国人", "context": "大家好，"}

Reading reports every bad record with its line number; `make_log` turns plain text into a
log (clauses at punctuation, pinyin by pypinyin, `v` for ü, `'` before a syllable starting
with a, o or e); `TypingLogRecorder` appends what a user commits (opt-in, file mode 0600).
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pinyin.spelling import VALID_KEYS

__all__ = [
    "LogRecord",
    "BadRecord",
    "read_log",
    "load_log",
    "write_log",
    "make_log",
    "clauses",
    "keys_for",
    "TypingLogRecorder",
    "MAX_CONTEXT",
]

MAX_CONTEXT = 64
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

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def parse_record(raw: str, line: int) -> LogRecord | BadRecord:
    try:
        d = json.loads(raw)
    except ValueError as e:
        return BadRecord(line, f"not valid JSON ({e.msg})")
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
        return BadRecord(line, f"'keys' has characters outside a-z and ': {''.join(bad)!r}")
    context = d.get("context", "")
    if not isinstance(context, str):
        return BadRecord(line, "'context' is not a string")
    session = d.get("session")
    ts = d.get("ts")
    return LogRecord(keys, text, context[-MAX_CONTEXT:],
                     None if session is None else str(session),
                     float(ts) if isinstance(ts, (int, float)) else None, line)


def iter_log(path: Path) -> Iterator[LogRecord | BadRecord]:
    """Records and bad records in file order (blank lines skipped)."""
    i = 0
    with open(path, encoding="utf-8", errors="strict") as f:
        try:
            for i, raw in enumerate(f, 1):
                if raw.strip():
                    yield parse_record(raw, i)
        except UnicodeDecodeError as e:
            yield BadRecord(i + 1, f"not UTF-8 ({e.reason}); the rest of the file is skipped")


def read_log(path: Path) -> tuple[list[LogRecord], list[BadRecord]]:
    good: list[LogRecord] = []
    bad: list[BadRecord] = []
    for r in iter_log(path):
        (bad if isinstance(r, BadRecord) else good).append(r)
    return good, bad


def load_log(path: Path, strict: bool = False, limit: int | None = None,
             report=None) -> tuple[list[LogRecord], list[BadRecord]]:
    """The records of a log for a command: every bad record reported (`report(line)`, by
    default to stderr) and skipped, or with `strict` the first one fatal (ValueError)."""
    import sys

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    records, bad = read_log(path)
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
    """Appends committed units to a typing log; the file is created readable by the user only."""

    def __init__(self, path: Path, session: str | None = None) -> None:
        self.path = Path(path)
        self.session = session

    def record(self, keys: str, text: str, context: str, ts: float | None = None) -> None:
        if not keys or not text or any(c not in VALID_KEYS for c in keys):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(LogRecord(keys, text, context[-MAX_CONTEXT:], self.session, ts).to_json()
                    + "\n")
