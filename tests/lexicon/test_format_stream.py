"""lexicon.format_stream: the same entries and the same errors as lexicon.formats, a line at
a time (the import of a big dictionary must not hold it in memory)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from lexicon.format_stream import iter_entries
from lexicon.formats import TSV_HEADER, FormatEntry, FormatError, read_entries, write_entries

RIME_HEADER = "---\nname: x\ncolumns: [text, weight, code]\n...\n"
FILES = {
    "tsv": f"{TSV_HEADER}\n你好\tni hao\t-1\n# comment\n\n现在\txian zai\t-2.5\n",
    "tsv-crlf-bom": "\ufeff" + f"{TSV_HEADER}\r\n你好\tni hao\t-1\r\n现在\txian zai\t-2\r\n",
    "tsv-no-final-newline": f"{TSV_HEADER}\n你好\tni hao\t-1\n绿\tlü\t-3",
    "tsv-empty": "",
    "tsv-no-header": "你好\tni hao\t-1\n",
    "tsv-truncated": f"{TSV_HEADER}\n你好\tni hao\t-1\n中国\tzhong",
    "tsv-bad-number": f"{TSV_HEADER}\n你好\tni hao\tabc\n现在\txian zai\t-2\n",
    "tsv-positive": f"{TSV_HEADER}\n你好\tni hao\t0.5\n",
    "tsv-control-char": f"{TSV_HEADER}\n你\x00好\tni hao\t-1\n现在\txian zai\t-2\n",
    "tsv-latin": f"{TSV_HEADER}\nOK\to e\t-1\n现在\txian zai\t-2\n",
    "tsv-v1": "# delta-pinyin tsv v1\n你好\tni hao\t-1\n",
    "tsv-tombstone": f"{TSV_HEADER}\n你好\tni hao\t-1\n现在\txian zai\tforgotten\n"
                     "现在\txian\tforgotten\n",
    "libime": '倪辉 ni\'hui 0.0\n"小企鹅" xiao\'qi\'e\n好 hao -1\n  # comment\n',
    "libime-syllables": "你好 ni'hao 0\n中国人 zhong'guo\n现在 xian'zai 1\n",
    "libime-fields": "你好 ni'hao 0\n中国\n",
    "libime-quote": '"你好 ni\'hao 0\n好 hao 0\n',
    "libime-zero-width": '"你\u200b好" ni\'hao 0\n好 hao 0\n',
    "rime": RIME_HEADER + "\n# c\n你好\t30\tni hao\n再见\t10\tzai4 jian4\n绿\t\tlü\n好\t0\thao\n"
                          "行\t50%\txing\n",
    "rime-no-header": "你好\tni hao\t3\n现在\txian zai\t1\n",
    "rime-comment-before-header": "# top\n\n---\nname: x\n...\n你好\tni hao\t3\n",
    "rime-count": "---\nname: x\n...\n你好\tni hao\t3\n你\tni hao\t1\n现在\txian zai\t2\n",
    "rime-negative": "---\nname: x\n...\n你好\tni hao\t-3\n",
    "rime-no-code": "---\nname: x\n...\n你好\n",
    "rime-open-header": "---\nname: x\nsort: by_weight\n你好\tni hao\t3\n",
    "rime-no-text-column": "---\ncolumns: [code, weight]\n...\nni\t1\n",
    "rime-bad-percentage": "---\nname: x\n...\n你好\tni hao\t0%\n现在\txian zai\t2\n",
}


def _read(fn, path: Path, fmt: str, skip: bool):
    skipped: list[str] | None = [] if skip else None
    try:
        got = list(fn(path, fmt, skipped))
    except FormatError as e:
        return ("error", str(e))
    return (got, skipped)


@pytest.mark.parametrize("skip", [False, True], ids=["strict", "skip-bad"])
@pytest.mark.parametrize("name", list(FILES))
def test_streamed_entries_and_errors_equal_read_entries(tmp_path: Path, name: str,
                                                        skip: bool) -> None:
    fmt = name.split("-")[0]
    path = tmp_path / "dict.txt"
    path.write_text(FILES[name], encoding="utf-8", newline="")
    assert _read(iter_entries, path, fmt, skip) == _read(read_entries, path, fmt, skip)


def test_a_byte_that_is_not_utf8_names_its_line_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_bytes(f"{TSV_HEADER}\n你好\tni hao\t-1\n".encode() + b"\xff\xfe\tni\t-1\n")
    with pytest.raises(FormatError) as streamed:
        list(iter_entries(path, "tsv"))
    with pytest.raises(FormatError) as whole:
        read_entries(path, "tsv")
    assert str(streamed.value) == str(whole.value)


def test_missing_files_directories_and_scel(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="cannot read"):
        list(iter_entries(tmp_path / "nope.tsv", "tsv"))
    with pytest.raises(FormatError, match="is a directory"):
        list(iter_entries(tmp_path, "libime"))


@pytest.mark.parametrize("fmt", ["tsv", "libime", "rime"])
def test_a_big_file_is_read_in_little_memory(tmp_path: Path, fmt: str) -> None:
    """30 k entries: streaming allocates a line's worth, read_entries a list of them all."""
    chars = [("测", "ce"), ("试", "shi"), ("词", "ci"), ("条", "tiao"), ("你", "ni"),
             ("好", "hao")]
    entries = [FormatEntry("".join(chars[(i // 6 ** k) % 6][0] for k in range(6)),
                           tuple(chars[(i // 6 ** k) % 6][1] for k in range(6)), -9.0)
               for i in range(30_000)]
    path = tmp_path / "big.txt"
    write_entries(entries, path, fmt)
    tracemalloc.start()
    n = sum(1 for _ in iter_entries(path, fmt))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert n == 30_000 and peak < 1e6, f"{peak / 1e6:.1f} MB"
