"""lexicon.formats: RIME, libime, TSV and Sogou .scel dictionaries, read and written."""

from __future__ import annotations

import math
import os
import re
import struct
from pathlib import Path

import pytest

from lexicon.formats import (
    DEFAULT_LOGP,
    TSV_HEADER,
    FormatEntry,
    FormatError,
    guess_format,
    normalize_pinyin,
    read_entries,
    read_scel_info,
    write_entries,
)

ENTRIES = [
    FormatEntry("的", ("de",), -3.2),
    FormatEntry("现在", ("xian", "zai"), -6.5),
    FormatEntry("中国人", ("zhong", "guo", "ren"), -8.25),
    FormatEntry("绿色", ("lv", "se"), -11.0),
    FormatEntry("略", ("lve",), -14.75),
    FormatEntry("测试词条", ("ce", "shi", "ci", "tiao"), -21.5),
]


# ---- pinyin ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("xian zai", ("xian", "zai")),
    ("xian'zai", ("xian", "zai")),
    ("Zhōng guó", ("zhong", "guo")),
    ("zhong1 guo2", ("zhong", "guo")),
    ("lü4 se4", ("lv", "se")),
    ("lu:4", ("lv",)),
    ("lüè", ("lve",)),
    ("nue", ("nve",)),
    ("lve", ("lve",)),
], ids=["spaces", "apostrophe", "tone-marks", "tone-numbers", "u-umlaut", "u-colon",
        "lue-marked", "nue", "lve"])
def test_normalize_pinyin(text: str, expected: tuple[str, ...]) -> None:
    assert normalize_pinyin(text) == expected


@pytest.mark.parametrize("text", ["", "xx", "zhong guo q", "hello"])
def test_normalize_pinyin_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        normalize_pinyin(text)


def test_guess_format() -> None:
    assert guess_format(Path("luna.dict.yaml")) == "rime"
    assert guess_format(Path("a.SCEL")) == "scel"
    assert guess_format(Path("a.tsv")) == "tsv"
    assert guess_format(Path("a.txt")) == "libime"
    assert guess_format(Path("a.bin")) is None


# ---- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["rime", "libime", "tsv"])
def test_round_trip_keeps_words_pinyin_and_weight_order(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"out.{fmt}"
    assert write_entries(ENTRIES, path, fmt) == len(ENTRIES)
    back = read_entries(path, fmt)
    assert [(e.word, e.syllables) for e in back] == [(e.word, e.syllables) for e in ENTRIES]
    logps = [e.logp for e in back]
    assert all(a > b for a, b in zip(logps, logps[1:])), logps  # strictly, as written
    assert all(lp <= 0 for lp in logps)


def test_tsv_round_trip_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    entries = [FormatEntry("你好", ("ni", "hao"), -1 / 3), FormatEntry("你", ("ni",), -7.1)]
    write_entries(entries, path, "tsv")
    assert path.read_text(encoding="utf-8").splitlines()[0] == TSV_HEADER
    assert read_entries(path, "tsv") == entries


def test_tsv_carries_tombstones_and_the_other_formats_leave_them_out(tmp_path: Path) -> None:
    entries = [FormatEntry("你好", ("ni", "hao"), -1.5),
               FormatEntry("先在", ("xian", "zai"), 0.0, forgotten=True)]
    path = tmp_path / "x.tsv"
    assert write_entries(entries, path, "tsv") == 2
    assert path.read_text(encoding="utf-8").splitlines()[2] == "先在\txian zai\tforgotten"
    assert read_entries(path, "tsv") == entries
    for fmt in ("rime", "libime"):
        other = tmp_path / f"x.{fmt}"
        assert write_entries(entries, other, fmt) == 1
        assert [e.word for e in read_entries(other, fmt)] == ["你好"]


def test_a_tsv_v1_file_reads_and_an_unknown_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    path.write_text("# delta-pinyin tsv v1\n你好\tni hao\t-1.5\n", encoding="utf-8")
    assert read_entries(path, "tsv") == [FormatEntry("你好", ("ni", "hao"), -1.5)]
    path.write_text("# delta-pinyin tsv v9\n你好\tni hao\t-1.5\n", encoding="utf-8")
    with pytest.raises(FormatError, match="line 1: expected the header"):
        read_entries(path, "tsv")


def test_libime_round_trip_keeps_values(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    write_entries(ENTRIES, path, "libime")
    for a, b in zip(ENTRIES, read_entries(path, "libime")):
        assert b.logp == pytest.approx(a.logp, abs=1e-5)


def test_rime_round_trip_normalises_by_the_total(tmp_path: Path) -> None:
    """Weights become counts; on import each is divided by the file's total."""
    path = tmp_path / "delta.dict.yaml"
    write_entries(ENTRIES, path, "rime")
    text = path.read_text(encoding="utf-8")
    assert "name: delta\n" in text and "sort: by_weight" in text
    assert "use_preset_vocabulary: false" in text
    back = read_entries(path, "rime")
    total = sum(math.exp(e.logp) for e in ENTRIES)
    for a, b in zip(ENTRIES, back):
        assert b.logp == pytest.approx(a.logp - math.log(total), abs=1e-3)


# ---- reading other IMEs' files -----------------------------------------------------------------


def test_read_rime_with_columns_comments_and_missing_weights(tmp_path: Path) -> None:
    path = tmp_path / "mine.dict.yaml"
    path.write_text(
        "# Rime dictionary\n"
        "---\n"
        "name: mine\n"
        'version: "0.1"\n'
        "columns: [text, weight, code]\n"
        "sort: by_weight\n"
        "...\n"
        "\n"
        "# a comment\n"
        "你好\t30\tni hao\n"
        "再见\t10\tzai4 jian4\n"
        "绿\t\tlü\n"
        "好\t0\thao\n"
        "行\t50%\txing\n",
        encoding="utf-8",
    )
    got = read_entries(path, "rime")
    assert [(e.word, e.syllables) for e in got] == [
        ("你好", ("ni", "hao")), ("再见", ("zai", "jian")), ("绿", ("lv",)), ("好", ("hao",)),
        ("行", ("xing",))]
    total = 30 + 10 + 0.5  # a weight of 0 counts as half the smallest count
    assert got[0].logp == pytest.approx(math.log(30 / total))
    assert got[1].logp == pytest.approx(math.log(10 / total))
    assert got[2].logp == DEFAULT_LOGP  # no weight
    assert got[3].logp == pytest.approx(math.log(0.5 / total))
    assert got[4].logp == pytest.approx(DEFAULT_LOGP + math.log(0.5))


def test_read_libime_quoted_and_unweighted(tmp_path: Path) -> None:
    path = tmp_path / "dict.txt"
    path.write_text('倪辉 ni\'hui 0.0\n"小企鹅" xiao\'qi\'e\n好 hao -1\n', encoding="utf-8")
    got = read_entries(path, "libime")
    assert [(e.word, e.syllables) for e in got] == [
        ("倪辉", ("ni", "hui")), ("小企鹅", ("xiao", "qi", "e")), ("好", ("hao",))]
    assert got[0].logp == got[1].logp == DEFAULT_LOGP  # 0: libime's neutral weight
    assert got[2].logp == pytest.approx(DEFAULT_LOGP - math.log(10))


# ---- bad and truncated files -------------------------------------------------------------------


@pytest.mark.parametrize("fmt, text, line, needle", [
    ("tsv", "你好\tni hao\t-1\n", 1, "header"),
    ("tsv", f"{TSV_HEADER}\n你好\tni hao\t-1\n现在\txian zai\t-2\n中国\tzhong", 4, "got 2"),
    ("libime", "你好 ni'hao 0\n中国人 zhong'guo", 2, "3 characters but 2 syllables"),
    ("tsv", f"{TSV_HEADER}\n你好\tni hao\t-1\n你好\tni hao\tabc\n", 3, "not a number"),
    ("tsv", f"{TSV_HEADER}\n你好\tni hao\t0.5\n", 2, "above 0"),
    ("libime", "你好 ni'hao 0\n中国 zhong'gup 0\n", 2, "gup"),
    ("libime", "你好 ni'hao 0\n中国\n", 2, "1 fields"),
    ("libime", '"你好 ni\'hao 0\n', 1, "unterminated"),
    ("rime", "---\nname: x\n...\n你好\tni hao\t3\n你\tni hao\t1\n", 5, "1 character"),
    ("rime", "---\nname: x\n...\n你好\tni hao\t-3\n", 4, "negative"),
    ("rime", "---\nname: x\n...\n你好\n", 4, "no pinyin"),
    ("rime", "---\nname: x\nsort: by_weight\n你好\tni hao\t3\n", 4, "never closed"),
], ids=["tsv-no-header", "tsv-truncated", "libime-truncated", "tsv-bad-number", "tsv-positive",
        "libime-syllable",
        "libime-fields", "libime-quote", "rime-count", "rime-negative", "rime-no-code",
        "rime-open-header"])
def test_bad_text_file_names_file_and_line(tmp_path: Path, fmt: str, text: str, line: int,
                                           needle: str) -> None:
    path = tmp_path / "bad.dict"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError) as err:
        read_entries(path, fmt)
    msg = str(err.value)
    assert str(path) in msg and f"line {line}:" in msg and needle in msg, msg


def test_non_utf8_byte_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_bytes(f"{TSV_HEADER}\n你好\tni hao\t-1\n".encode() + b"\xff\xfe\tni\t-1\n")
    with pytest.raises(FormatError, match="line 3: not UTF-8"):
        read_entries(path, "tsv")


def test_missing_file_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="cannot read"):
        read_entries(tmp_path / "nope.tsv", "tsv")


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        read_entries(Path("x"), "docx")
    with pytest.raises(ValueError, match="unknown format"):
        write_entries([], Path("x"), "scel")


# ---- Sogou .scel -------------------------------------------------------------------------------


def _utf16_field(text: str, size: int) -> bytes:
    raw = text.encode("utf-16-le")
    assert len(raw) <= size
    return raw + b"\x00" * (size - len(raw))


def make_scel(groups: list[tuple[list[str], list[str]]], name: str = "测试词库",
              pinyin_table: tuple[str, ...] = ("ce", "ci", "shi", "tiao", "lve", "zhong", "guo"),
              claim_groups: int | None = None) -> bytes:
    """A .scel file from the documented layout: `groups` = [(syllables, words sharing them)]."""
    head = bytearray(0x2628)
    head[0:12] = b"\x40\x15\x00\x00\x44\x43\x53\x01\x01\x00\x00\x00"
    struct.pack_into("<II", head, 0x120, len(groups) if claim_groups is None else claim_groups,
                     sum(len(ws) for _, ws in groups))
    head[0x130:0x338] = _utf16_field(name, 0x338 - 0x130)
    head[0x338:0x540] = _utf16_field("测试", 0x540 - 0x338)
    head[0x540:0xD40] = _utf16_field("一个手工做的细胞词库", 0xD40 - 0x540)
    head[0xD40:0x1540] = _utf16_field("测试 词条", 0x1540 - 0xD40)
    table = bytearray(struct.pack("<I", len(pinyin_table)))
    for i, py in enumerate(pinyin_table):
        raw = py.encode("utf-16-le")
        table += struct.pack("<HH", i, len(raw)) + raw
    head[0x1540:0x1540 + len(table)] = table
    body = bytearray()
    index = {py: i for i, py in enumerate(pinyin_table)}
    for sylls, words in groups:
        body += struct.pack("<HH", len(words), 2 * len(sylls))
        body += b"".join(struct.pack("<H", index[s]) for s in sylls)
        for w in words:
            raw = w.encode("utf-16-le")
            ext = struct.pack("<H", 1) + b"\x00" * 8  # a count, then bytes nobody documents
            body += struct.pack("<H", len(raw)) + raw + struct.pack("<H", len(ext)) + ext
    return bytes(head + body)


SCEL_GROUPS = [(["ce", "shi"], ["测试", "侧室"]), (["ci", "tiao"], ["词条"]),
               (["zhong", "guo"], ["中国"])]


def test_scel_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "cell.scel"
    path.write_bytes(make_scel(SCEL_GROUPS))
    got = read_entries(path, "scel")
    assert [(e.word, e.syllables) for e in got] == [
        ("测试", ("ce", "shi")), ("侧室", ("ce", "shi")), ("词条", ("ci", "tiao")),
        ("中国", ("zhong", "guo"))]
    assert all(e.logp == DEFAULT_LOGP for e in got)
    info = read_scel_info(path)
    assert (info.name, info.type, info.groups, info.words) == ("测试词库", "测试", 3, 4)
    assert info.description == "一个手工做的细胞词库"


def test_scel_trailing_blacklist_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "cell.scel"
    blacklist = "DELTBL".encode("utf-16-le") + struct.pack("<H", 0)
    path.write_bytes(make_scel(SCEL_GROUPS) + blacklist)
    assert len(read_entries(path, "scel")) == 4


@pytest.mark.parametrize("cut", [1, 3, 7, 12])
def test_truncated_scel_names_an_offset(tmp_path: Path, cut: int) -> None:
    data = make_scel(SCEL_GROUPS)
    path = tmp_path / "cut.scel"
    path.write_bytes(data[:-cut])
    with pytest.raises(FormatError) as err:
        read_entries(path, "scel")
    msg = str(err.value)
    assert str(path) in msg and "byte offset 0x" in msg and "truncated" in msg, msg


def test_scel_bad_magic_and_bad_index(tmp_path: Path) -> None:
    path = tmp_path / "x.scel"
    path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 0x3000)
    with pytest.raises(FormatError, match=r"byte offset 0x0 \(0\): not a Sogou"):
        read_entries(path, "scel")
    data = bytearray(make_scel(SCEL_GROUPS))
    struct.pack_into("<H", data, 0x2628 + 4, 999)  # the first group's first pinyin index
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=rf"byte offset {0x2628 + 4:#x} .*pinyin index 999"):
        read_entries(path, "scel")


def test_scel_word_with_wrong_syllable_count(tmp_path: Path) -> None:
    path = tmp_path / "x.scel"
    path.write_bytes(make_scel([(["ce", "shi"], ["测试词"])]))
    with pytest.raises(FormatError, match="byte offset .*3 characters but 2 syllables"):
        read_entries(path, "scel")


# ---- atomic, private writes --------------------------------------------------------------------


def _failing(entries: list[FormatEntry], after: int):
    for i, e in enumerate(entries):
        if i == after:
            raise RuntimeError("disk on fire")
        yield e


@pytest.mark.parametrize("fmt", ["rime", "libime", "tsv"])
def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "out.dict"
    path.write_text("old contents\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_entries(_failing(ENTRIES, 3), path, fmt)
    assert path.read_text(encoding="utf-8") == "old contents\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.dict"]


def test_private_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "mine.tsv"
    path.write_text("x", encoding="utf-8")
    path.chmod(0o644)
    write_entries(ENTRIES, path, "tsv", private=True)
    assert path.stat().st_mode & 0o777 == 0o600
    public = tmp_path / "public.tsv"
    umask = os.umask(0o022)
    try:
        write_entries(ENTRIES, public, "tsv")
    finally:
        os.umask(umask)
    assert public.stat().st_mode & 0o777 == 0o644


def test_write_into_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="no such directory"):
        write_entries(ENTRIES, tmp_path / "nope" / "x.tsv", "tsv")


# ---- words the engine cannot type (issue 19) ---------------------------------------------------

# (word as the file holds it, its pinyin, what the error must say); each is one line of a file
# whose other lines are good, so a skipping import keeps exactly those
UNTYPEABLE = [
    ("你\x00好", "ni hao", "control character U+0000"),
    ("\x00", "ni", "control character U+0000"),
    ("你\x1b好", "ni hao", "control character U+001B"),
    ("你\u200b好", "ni hao", "format character U+200B"),
    ("你\ue000", "ni hao", "private-use character U+E000"),
    ("OK", "o e", "not a Han character"),
    ("你2", "ni er", "not a Han character"),
]
UNTYPEABLE_IDS = ["nul", "only-nul", "escape", "zero-width-space", "private-use", "latin",
                  "digit"]


def _file_with(fmt: str, word: str, pinyin: str) -> str:
    """A file of `fmt` with a good line, the given word on line BAD_LINE, a good line."""
    if fmt == "rime":
        return f"---\nname: x\n...\n你好\tni hao\t3\n{word}\t{pinyin}\t1\n现在\txian zai\t2\n"
    if fmt == "libime":
        quoted = '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"你好 ni'hao 0\n{quoted} {pinyin.replace(' ', chr(39))} 0\n现在 xian'zai 0\n"
    return f"{TSV_HEADER}\n你好\tni hao\t-1\n{word}\t{pinyin}\t-2\n现在\txian zai\t-3\n"


BAD_LINE = {"rime": 5, "libime": 2, "tsv": 3}


@pytest.mark.parametrize("word, pinyin, needle", UNTYPEABLE, ids=UNTYPEABLE_IDS)
@pytest.mark.parametrize("fmt", ["rime", "libime", "tsv"])
def test_importers_refuse_words_the_engine_cannot_type(tmp_path: Path, fmt: str, word: str,
                                                       pinyin: str, needle: str) -> None:
    path = tmp_path / "words.dict"
    path.write_text(_file_with(fmt, word, pinyin), encoding="utf-8")
    with pytest.raises(FormatError) as err:
        read_entries(path, fmt)
    msg = str(err.value)
    assert msg.startswith(f"{path}: line {BAD_LINE[fmt]}: ") and needle in msg, msg
    assert "\n" not in msg and "\x00" not in msg
    skipped: list[str] = []
    got = read_entries(path, fmt, skipped)
    assert [e.word for e in got] == ["你好", "现在"]
    assert len(skipped) == 1 and f"line {BAD_LINE[fmt]}: " in skipped[0] and needle in skipped[0]


@pytest.mark.parametrize("escape, needle", [("\\n", "U+000A"), ("\\t", "U+0009")],
                         ids=["newline", "tab"])
def test_libime_escaped_newline_or_tab_is_not_a_word(tmp_path: Path, escape: str,
                                                     needle: str) -> None:
    path = tmp_path / "dict.txt"
    path.write_text(f'你好 ni\'hao 0\n"你{escape}好" ni\'hao 0\n', encoding="utf-8")
    with pytest.raises(FormatError, match=rf"line 2: .*control character {re.escape(needle)}"):
        read_entries(path, "libime")


@pytest.mark.parametrize("raw, needle", [
    ("测\x00".encode("utf-16-le"), "control character U+0000"),
    ("测".encode("utf-16-le") + b"\x00\xd8", "unpaired surrogate U+D800"),
    ("测".encode("utf-16-le") + b"\x00\xe0", "private-use character U+E000"),
], ids=["nul", "lone-surrogate", "private-use"])
def test_scel_word_the_engine_cannot_type(tmp_path: Path, raw: bytes, needle: str) -> None:
    placeholder = "测试"  # replaced by `raw` (same length: 2 UTF-16 units)
    data = make_scel([(["ce", "shi"], [placeholder]), (["ci", "tiao"], ["词条"])])
    at = data.index(placeholder.encode("utf-16-le"), 0x2628)  # in the word table
    path = tmp_path / "x.scel"
    path.write_bytes(data[:at] + raw + data[at + len(raw):])
    with pytest.raises(FormatError, match=rf"byte offset {at - 2:#x} .*{re.escape(needle)}"):
        read_entries(path, "scel")
    skipped: list[str] = []
    assert [e.word for e in read_entries(path, "scel", skipped)] == ["词条"]
    assert len(skipped) == 1 and needle in skipped[0]


def test_a_fifo_is_refused_not_read(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "dict.tsv"
    os.mkfifo(fifo)
    outcome: list[BaseException | object] = []

    def read() -> None:
        try:
            outcome.append(read_entries(fifo, "tsv"))
        except BaseException as e:  # noqa: BLE001 - reported below
            outcome.append(e)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(5)
    if t.is_alive():  # blocked opening the pipe: unblock it, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        t.join(5)
        pytest.fail("read_entries blocked on a FIFO")
    assert isinstance(outcome[0], FormatError) and "not a regular file" in str(outcome[0])


def test_import_command_refuses_a_control_character_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import main
    from lexicon.testing import write_tiny_cache

    cache = write_tiny_cache(tmp_path / "cache")
    db = tmp_path / "data" / "user.db"
    src = tmp_path / "w.tsv"
    src.write_text(_file_with("tsv", "你\x00好", "ni hao"), encoding="utf-8")
    argv = ["--cache-dir", str(cache), "--user-db", str(db), "lexicon", "import", str(src)]
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {src}: line 3: ") and "U+0000" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert main.main([*argv, "--skip-bad"]) == 0
    err = capsys.readouterr().err
    assert "skipped:" in err and "line 3" in err and "U+0000" in err
