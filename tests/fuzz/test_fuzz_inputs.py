"""Property-based fuzzing of everything that reads a user's file (issue 19).

Random bytes, and random near-valid files, into every dictionary importer
(`lexicon.formats.read_entries`: rime, libime, tsv, scel), the typing-log reader and
`load_config`. The property: a clean error of the documented type or a checked result, never
another exception (no IndexError, RecursionError, UnicodeDecodeError, AttributeError ...),
and nothing written beside the input. Bounded for CI (`max_examples`, no deadline); the cases
run per target are reported at the end of the run (tests/fuzz/conftest.py).
"""

from __future__ import annotations

import json
import math
import string
from pathlib import Path

from helpers import sibling
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation.typing_log import LogFileError, LogRecord, load_log, read_log
from ime.config import SCHEMA, Config, ConfigError, load_config
from lexicon.formats import TSV_HEADER, FormatEntry, FormatError, read_entries
from lexicon.words import check_word
from pinyin.spelling import VALID_KEYS
from pinyin.syllables import SYLLABLES

FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
FEW = settings(FUZZ, max_examples=120)

MAKE_SCEL = sibling("lexicon/test_formats").make_scel
SCEL = MAKE_SCEL([(["ce", "shi"], ["测试", "侧室"]), (["ci", "tiao"], ["词条"]),
                  (["zhong", "guo"], ["中国"])])


def _only(directory: Path, name: str) -> None:
    """Nothing was written beside the input (no temporary or partial files)."""
    assert sorted(p.name for p in directory.iterdir()) == [name]


# ---- strategies ----------------------------------------------------------------------------------

# text that looks like the files: Han, pinyin, digits, separators, quotes, and the odd
# control or format character
_PIECES = st.one_of(
    st.sampled_from(["你好", "测试", "中", "国", "ni hao", "ni'hao", "zhong1", "lü", "xian",
                     "zai4", "-1", "0", "3", "50%", "1e999", "nan", "-inf", "#", "---", "...",
                     "name: x", "columns: [text, code, weight]", "columns: [weight]", '"',
                     "\\", "\\n", "\t", " ", "\n", "\r\n", "\x00", "\u200b", "\ue000", "\ufeff",
                     TSV_HEADER]),
    st.sampled_from(SYLLABLES),
    st.text(max_size=6),
)
FILE_TEXT = st.lists(_PIECES, max_size=40).map("".join)
FILE_BYTES = st.one_of(
    st.binary(max_size=600),
    FILE_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    FILE_TEXT.map(lambda t: t.encode("utf-16", "surrogatepass")),
)


@st.composite
def scel_bytes(draw) -> bytes:
    """A valid .scel with some bytes overwritten, cut short, or both; or random bytes after
    a valid magic."""
    data = bytearray(SCEL)
    if draw(st.booleans()):
        hot = st.integers(0x120, 0x12B) | st.integers(0x1540, 0x1600) | st.integers(
            0x2628, len(data) - 1)
        for at, b in draw(st.lists(st.tuples(hot, st.integers(0, 255)), max_size=6)):
            data[at] = b
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.integers(0, 9)) == 0:
        data = bytearray(SCEL[:12]) + draw(st.binary(max_size=400))
    return bytes(data)


def _assert_entries(entries: list[FormatEntry]) -> None:
    for e in entries:
        assert isinstance(e, FormatEntry)
        assert check_word(e.word) is None, e
        assert len(e.syllables) == len(e.word) and all(s in SYLLABLES for s in e.syllables)
        assert math.isfinite(e.logp) and e.logp <= 0


# ---- dictionary importers ----------------------------------------------------------------------


def _read(tmp_path: Path, fmt: str, data: bytes, skip: bool) -> None:
    d = tmp_path / f"in-{fmt}"
    d.mkdir(exist_ok=True)
    for p in d.iterdir():
        p.unlink()
    path = d / "dict"
    path.write_bytes(data)
    skipped: list[str] | None = [] if skip else None
    try:
        entries = read_entries(path, fmt, skipped)
    except FormatError as e:
        assert str(path) in str(e) and "\n" not in str(e), str(e)
    else:
        _assert_entries(entries)
        for s in skipped or ():
            assert s.startswith(f"{path}: ") and "\n" not in s
    _only(d, "dict")


@FUZZ
@given(data=FILE_BYTES, skip=st.booleans())
def test_fuzz_rime(tmp_path: Path, count, data: bytes, skip: bool) -> None:
    count("rime")
    _read(tmp_path, "rime", data, skip)


@FUZZ
@given(data=FILE_BYTES, skip=st.booleans())
def test_fuzz_libime(tmp_path: Path, count, data: bytes, skip: bool) -> None:
    count("libime")
    _read(tmp_path, "libime", data, skip)


@FUZZ
@given(body=FILE_BYTES, header=st.booleans(), skip=st.booleans())
def test_fuzz_tsv(tmp_path: Path, count, body: bytes, header: bool, skip: bool) -> None:
    count("tsv")
    _read(tmp_path, "tsv", (TSV_HEADER.encode() + b"\n" if header else b"") + body, skip)


@FUZZ
@given(data=scel_bytes() | st.binary(max_size=300), skip=st.booleans())
def test_fuzz_scel(tmp_path: Path, count, data: bytes, skip: bool) -> None:
    count("scel")
    _read(tmp_path, "scel", data, skip)


# ---- typing logs -------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                   max_size=4),
    max_leaves=12,
)
RECORDS = st.fixed_dictionaries(
    {},
    optional={"keys": st.text(alphabet="".join(sorted(VALID_KEYS)) + "A1 ", max_size=12) | JSON_VALUES,
              "text": st.sampled_from(["你好", "", "x"]) | JSON_VALUES,
              "context": st.text(max_size=80) | JSON_VALUES,
              "session": JSON_VALUES,
              "ts": st.integers(min_value=-10**500, max_value=10**500) | JSON_VALUES},
)
_LOG_LINE = st.one_of(
    RECORDS.map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.binary(max_size=60),
)
LOG_BYTES = st.one_of(st.lists(_LOG_LINE, max_size=12).map(b"\n".join), st.binary(max_size=400))


@FUZZ
@given(data=LOG_BYTES)
def test_fuzz_typing_log(tmp_path: Path, count, data: bytes) -> None:
    count("typing_log")
    d = tmp_path / "log"
    d.mkdir(exist_ok=True)
    path = d / "log.jsonl"
    path.write_bytes(data)
    try:
        good, bad = read_log(path)
    except LogFileError as e:
        assert str(path) in str(e)
    else:
        lines = [r.line for r in good] + [b.line for b in bad]
        assert len(set(lines)) == len(lines) and all(1 <= n <= data.count(b"\n") + 1
                                                     for n in lines)
        for r in good:
            assert isinstance(r, LogRecord) and r.keys and all(c in VALID_KEYS for c in r.keys)
            assert r.text and isinstance(r.context, str) and len(r.context) <= 64
            assert r.ts is None or math.isfinite(r.ts)
    try:
        load_log(path, report=lambda m: None)
    except ValueError as e:  # LogFileError, or "no valid records"
        assert str(path) in str(e)
    _only(d, "log.jsonl")


# ---- config.toml -------------------------------------------------------------------------------

_TOML_VALUES = st.one_of(
    st.sampled_from(["true", "false", '"no"', '"false"', "0", "1", "3", "9", "10", "64", "65",
                     "-1", "5.0", "inf", "nan", '"cpu"', '"cuda"', '"auto"', '"gpu"',
                     '"vertical"', '"horizontal"', '["z/zh"]', '["z/zh", "an/ang"]', '["x/y"]',
                     "[1, 2]", '"z/zh"', "[]", "{}", "{a = 1}", "1979-05-27", "'lit'", '"""a"""',
                     "9" * 30, "1" + "0" * 400, "[" * 50 + "]" * 50]),
    st.integers().map(str),
    st.text(alphabet=string.printable, max_size=12),
)
_KEYS = st.sampled_from([*SCHEMA, "learnig", "colour", '"lm"', "lm.x", "[ui]", "[[x]]", ""])
_TOML_LINE = st.one_of(
    st.tuples(_KEYS, _TOML_VALUES).map(lambda kv: f"{kv[0]} = {kv[1]}"),
    _KEYS,
    st.sampled_from(["# comment", "", "   ", "\t"]),
    st.text(max_size=20),
)
CONFIG_TEXT = st.lists(_TOML_LINE, max_size=10).map("\n".join)
CONFIG_BYTES = st.one_of(CONFIG_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
                         CONFIG_TEXT.map(lambda t: t.encode("utf-16", "surrogatepass")),
                         st.binary(max_size=200))


@FUZZ
@given(data=CONFIG_BYTES)
def test_fuzz_config(tmp_path: Path, count, data: bytes) -> None:
    count("config")
    d = tmp_path / "config"
    d.mkdir(exist_ok=True)
    path = d / "config.toml"
    path.write_bytes(data)
    try:
        cfg = load_config(path)
    except ConfigError as e:
        assert str(e).startswith(str(path)) and "\n" not in str(e), str(e)
    else:
        assert isinstance(cfg, Config) and cfg.validate() is cfg
        for name, setting in SCHEMA.items():
            assert setting.accepts(getattr(cfg, name), from_file=False), name
    _only(d, "config.toml")


# ---- the import command end to end --------------------------------------------------------------


@FEW
@given(data=FILE_BYTES, fmt=st.sampled_from(["rime", "libime", "tsv"]), skip=st.booleans())
def test_fuzz_import_command(tmp_path: Path, count, capsys, data: bytes, fmt: str,
                             skip: bool) -> None:
    """`lexicon import` on a random file: exit 0, or exit 2 with one `error:` line and the
    user lexicon untouched; no traceback either way."""
    import main
    from lexicon.testing import write_tiny_cache
    from lexicon.user_lexicon import UserLexicon

    count("import_command")
    cache = tmp_path / "cache"
    if not cache.exists():
        write_tiny_cache(cache)
    db = tmp_path / "data" / "user.db"
    src = tmp_path / "src" / "dict"
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(data)
    store = UserLexicon(db)
    before = store.entries(include_deleted=True)
    store.close()
    argv = ["--cache-dir", str(cache), "--user-db", str(db), "lexicon", "import", str(src),
            "--format", fmt] + (["--skip-bad"] if skip else [])
    capsys.readouterr()
    rc = main.main(argv)
    out = capsys.readouterr()
    assert rc in (0, 2) and "Traceback" not in out.err
    if rc == 2:
        assert out.err.startswith("error: ") and out.err.count("\n") == 1
        store = UserLexicon(db)
        assert store.entries(include_deleted=True) == before
        store.close()
    else:
        store = UserLexicon(db)
        assert all(check_word(e.word) is None for e in store.entries(include_deleted=True))
        store.close()
    _only(src.parent, "dict")


# ---- the word check itself -----------------------------------------------------------------------


@settings(FUZZ, max_examples=1000)
@given(text=st.text(max_size=40) | st.text(alphabet=st.characters(min_codepoint=0x3000,
                                                                  max_codepoint=0xA000),
                                           max_size=40))
def test_fuzz_check_word(count, text: str) -> None:
    """A word passes exactly when it is 1 to MAX_WORD_CHARS Han characters of the lexicon's
    ranges; the reason for one that fails is a single line."""
    from lexicon.sources import is_han
    from lexicon.words import MAX_WORD_CHARS

    count("check_word")
    reason = check_word(text)
    assert (reason is None) == (is_han(text) and len(text) <= MAX_WORD_CHARS)
    assert reason is None or ("\n" not in reason and reason)
