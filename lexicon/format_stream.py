"""Dictionary files read entry by entry: memory bounded by one line, whatever the file size.

    for e in iter_entries(Path("big.txt"), "libime"):   # FormatEntry by FormatEntry
        ...

The same parsing, checks and error messages as `lexicon.formats.read_entries` (its line
parsers' rules, the very `_entry` check of word and pinyin, `FormatError` naming the file
and line), for the formats whose lines stand alone:

    tsv      one pass, line by line
    libime   one pass, line by line
    rime     two passes over the file: the first checks every line and sums the counts
             (each count is normalised by the file's total), the second yields the entries
    scel     read whole by `read_entries` (a binary format; cell files are small)

A difference in when, not what: `read_entries` decodes the whole file before parsing, so
of a file with both a bad line and a byte that is not UTF-8 it reports the byte; this
reader reports whichever comes first. Its entries equal `read_entries`' (a test checks).
`lexicon.formats` could read through these and drop its list-building copies.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from lexicon.formats import (
    _RIME_COLUMNS,
    DEFAULT_LOGP,
    LN10,
    RIME_ZERO_WEIGHT,
    TSV_HEADERS,
    FormatEntry,
    FormatError,
    _entry,
    _float,
    _LineError,
    _RimeLine,
    _shown,
    _split_libime,
    _tsv_header_error,
    _tsv_line,
    read_entries,
)

__all__ = ["iter_entries", "STREAMED_FORMATS"]

STREAMED_FORMATS = ("tsv", "libime", "rime")


def iter_entries(path: Path, fmt: str, skipped: list[str] | None = None
                 ) -> Iterator[FormatEntry]:
    """The file's entries in file order, one at a time (see `read_entries` for `skipped`)."""
    path = Path(path)
    if fmt not in STREAMED_FORMATS:
        yield from read_entries(path, fmt, skipped)
        return
    if path.is_dir():
        raise FormatError(f"{path}: is a directory, not a dictionary file")
    if path.exists() and not path.is_file():  # a FIFO or a device would block or never end
        raise FormatError(f"{path}: not a regular file (a pipe, socket or device)")
    if fmt == "tsv":
        yield from _tsv(path, skipped)
    elif fmt == "libime":
        yield from _parsed(path, _lines(path), _libime_line, skipped)
    else:
        yield from _rime(path, skipped)


def _lines(path: Path, start: int = 1) -> Iterator[tuple[int, str]]:
    """(line number, text) from `start` on, split at \\n only, \\r stripped, BOM dropped; a
    line that is not UTF-8 raises FormatError with its line and byte offset."""
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


def _parsed(path: Path, lines: Iterator[tuple[int, str]], parse: Callable,
            skipped: list[str] | None) -> Iterator:
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


def _tsv(path: Path, skipped: list[str] | None) -> Iterator[FormatEntry]:
    lines = _lines(path)
    first = next(lines, None)
    if first is None or first[1].strip() not in TSV_HEADERS:
        raise _tsv_header_error(path, first[1] if first is not None else None)
    yield from _parsed(path, lines, _tsv_line, skipped)


def _libime_line(line: str) -> FormatEntry | None:
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    fields = _split_libime(line)
    if len(fields) not in (2, 3):
        raise _LineError(f"expected 'word pin'yin [weight]', got {len(fields)} fields")
    score = _float(fields[2], "weight") if len(fields) == 3 else 0.0
    return _entry(fields[0], fields[1], DEFAULT_LOGP + score * LN10)


def _rime_header(path: Path) -> tuple[dict[str, int], int]:
    """The column of each field and the first body line (1-based), from the YAML header."""
    columns = ["text", "code", "weight"]
    lines = _lines(path)
    last = 0
    for n, line in lines:
        last = n
        if not line.strip() or line.startswith("#"):
            continue
        if line.strip() != "---":
            return {name: i for i, name in enumerate(columns)}, 1
        opened = n
        for m, inner in lines:
            last = m
            if inner.rstrip() == "...":
                if "text" not in columns or "code" not in columns:
                    raise FormatError(f"{path}: line {opened}: columns {columns} lack text or "
                                      "code")
                return {name: i for i, name in enumerate(columns)}, m + 1
            match = _RIME_COLUMNS.match(inner.strip())
            if match:
                columns = [c.strip().strip("'\"") for c in match.group(1).split(",")]
        raise FormatError(f"{path}: line {last}: YAML header opened by '---' on line {opened} "
                          "is never closed by '...'")
    return {name: i for i, name in enumerate(columns)}, 1


def _rime(path: Path, skipped: list[str] | None) -> Iterator[FormatEntry]:
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
