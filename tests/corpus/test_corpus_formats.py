"""Each format reader on a tiny input of its own format, built inline."""

import gzip
import sqlite3

import pytest

from corpus.formats import (
    fortune_entries,
    html_paragraphs,
    parse_mo,
    people_daily_lines,
    python_list,
    roff_paragraphs,
    sqlite_rows,
)
from corpus.testing import make_mo, make_sqlite


@pytest.mark.parametrize("big_endian", [False, True], ids=["little-endian", "big-endian"])
def test_mo_messages_in_order_without_header(big_endian):
    mo = make_mo([("Open", "打开(_O)"), ("ctx\x04Close", "关闭"),
                  ("one file\x00%d files", "一个文件\x00%d 个文件")], big_endian)
    got = parse_mo(mo)
    assert ("Open", "打开(_O)") in got
    assert ("Close", "关闭") in got  # the context is cut from the msgid
    assert ("one file", "一个文件\n%d 个文件") in got  # plural forms, one line each
    assert all(msgid for msgid, _ in got)  # no header entry


def test_mo_rejects_other_files():
    with pytest.raises(ValueError, match="magic"):
        parse_mo(b"\x00" * 40)


ROFF = r""".\" a comment that must not show
.TH LS 1 2022年9月 "GNU coreutils 9.1" 用户命令
.SH 名称
ls \- 列出目录内容
.SH 描述
列出指定\(lq文件\(rq的信息。如果没有指定 \fB\-\-sort\fP，
则按字母排序项目。
.TP
\fB\-a\fP, \fB\-\-all\fP
不要忽略以点号起始的条目
.PP
通常会在
.Pa \&.login
文件中加上一个
.Dq Li biff y
命令，参见
.Xr mail 1 。
.ig
被忽略的块
..
"""


def test_roff_paragraphs_resolve_requests_and_escapes():
    paras = roff_paragraphs(ROFF)
    assert "名称" in paras and "描述" in paras
    assert "ls - 列出目录内容" in paras
    # a wrapped paragraph joined without a space between Chinese characters
    assert "列出指定“文件”的信息。如果没有指定 --sort，则按字母排序项目。" in paras
    assert "-a, --all" in paras  # a .TP tag is a unit of its own
    assert "不要忽略以点号起始的条目" in paras
    assert "通常会在 .login 文件中加上一个 “biff y” 命令，参见 mail(1) 。" in paras
    text = "\n".join(paras)
    assert "comment" not in text and "被忽略" not in text and "2022年9月" not in text


def test_roff_alias_page_gives_nothing():
    assert roff_paragraphs(".so man1/bzip2.1\n") == []


HTML = """<!DOCTYPE html><html><head><title>不要</title><script>var s = "脚本";</script>
<style>p { color: red }</style></head><body>
<header><p>LibreOffice 帮助</p></header><aside>目录</aside>
<h1>打开文档</h1>
<p>选择&ldquo;文件 - 打开&rdquo;，或按 <code>Ctrl+O</code>
键。</p>
<ul><li>第一项</li><li>第二项&amp;第三项</li></ul>
<table><tr><td>单元格一</td><td>单元格二</td></tr></table>
</body></html>"""


def test_html_paragraphs_keep_blocks_and_drop_boilerplate():
    assert html_paragraphs(HTML) == [
        "打开文档", "选择“文件 - 打开”，或按 Ctrl+O 键。", "第一项", "第二项&第三项",
        "单元格一", "单元格二"]


MALLARD = """<?xml version="1.0" encoding="utf-8"?>
<page xmlns="http://projectmallard.org/1.0/" id="a11y-bouncekeys">
  <info><credit type="author"><name>Shaun McCance</name></credit>
    <desc>忽略快速重复的按键。</desc></info>
  <title>开启回弹键</title>
  <p>开启<em>回弹键</em>可以忽略
  快速重复的按键动作。</p>
  <steps><item><p>打开 <gui>设置</gui>。</p></item></steps>
</page>"""


def test_mallard_page():
    assert html_paragraphs(MALLARD) == ["开启回弹键", "开启回弹键可以忽略快速重复的按键动作。",
                                        "打开 设置。"]


FORTUNE = ("\x1b[33m善意推定\x1b[m\n\n在 Debian 这个项目中，很多人\n会努力地让\n"
           "项目变得更好。\n    ├────┼────┤\n    │表格│内容│\n\n"
           "    -- Debian 《行为准则》\n%\n好事不出门，\n恶事传千里。\n%\n")


def test_fortune_entries_undo_wraps_and_drop_tables():
    entries = fortune_entries(FORTUNE)
    assert entries == [
        "善意推定\n在 Debian 这个项目中，很多人会努力地让项目变得更好。\n-- Debian 《行为准则》",
        "好事不出门，恶事传千里。",
    ]


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
def test_sqlite_rows_from_bytes(wal):
    data = make_sqlite({"shenhuifu": (("id", "questions", "answers"),
                                      [(2, "问二", "答二"), (1, "问一", None)])}, wal=wal)
    assert sqlite_rows(data, "shenhuifu", ("questions", "answers")) == [
        ("问二", "答二"), ("问一", None)]  # rowid order: as inserted
    with pytest.raises(ValueError, match="no column"):
        sqlite_rows(data, "shenhuifu", ("content",))
    with pytest.raises(sqlite3.DatabaseError):
        sqlite_rows(b"not a database at all, really" * 10, "t", ("c",))


def test_python_list_literal_is_read_not_run():
    src = '# 注释\nimport os\nDATA = [\n    "{target_name}，你好",\n    "第二条",\n]\nos.system("exit 1")\n'
    assert python_list(src, "DATA") == ["{target_name}，你好", "第二条"]
    with pytest.raises(ValueError):
        python_list("DATA = call()\n", "DATA")
    with pytest.raises(ValueError):
        python_list("OTHER = []\n", "DATA")


def test_people_daily_lines_strip_tags_and_skip_empty_lines():
    text = "迈向/v  充满/v  希望/n  的/u  新/a  世纪/n\n\n江/nr  泽民/nr\n"
    assert people_daily_lines(text) == ["迈向充满希望的新世纪", "江泽民"]


def test_gzip_roff_round_trip_through_the_man_extractor():
    from corpus.sources import extract_man

    page = gzip.compress(ROFF.encode())
    alias = gzip.compress(b".so man1/bzip2.1\n")
    docs = extract_man({"usr/share/man/zh_CN/man1/ls.1.gz": page,
                        "usr/share/man/zh_CN/man8/fdisk.8.gz": page,
                        "usr/share/man/zh_CN/man1/bzcat.1.gz": alias})
    assert [(d.name, d.pinned) for d in docs] == [("man1/ls.1", "dev"), ("man8/fdisk.8", None)]
