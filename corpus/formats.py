"""Readers for the file formats the corpus sources come in: raw units of text out.

A unit is what a source holds as one piece: a paragraph of a man page or a help page, one
translated message of a catalog, one row of a table. Markup that belongs to the format (roff
requests and escapes, HTML and Mallard tags) is resolved here; the cleaner (clean.py) does
the rest.

- `parse_mo`: GNU gettext `.mo` catalogs (either byte order): (msgid, msgstr) in file order.
- `roff_paragraphs`: man pages (roff `man` macros).
- `html_paragraphs`: HTML and Mallard (`.page`) help: block-level text, boilerplate
  elements (script, style, head, nav, aside, header, footer; Mallard's info) skipped.
- `fortune_entries`: fortune files (`%` lines between entries, ANSI colours removed).
- `sqlite_rows`: the rows of one table of an SQLite database given as bytes.
- `python_list`: a module-level list literal (`DATA = [...]`) of a Python source file.
- `people_daily_lines`: People's Daily word/POS-tagged lines, tags stripped, words joined.
"""

from __future__ import annotations

import ast
import re
import sqlite3
import struct
from html.parser import HTMLParser

from corpus.clean import join_plain_wraps, join_wrapped

__all__ = [
    "parse_mo",
    "roff_paragraphs",
    "roff_unescape",
    "html_paragraphs",
    "fortune_entries",
    "sqlite_rows",
    "python_list",
    "people_daily_lines",
    "decode_text",
]


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM dropped), else GB18030 (old Chinese man pages), else UTF-8 with
    replacement characters (which the cleaner then removes as unknown)."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


# ---- gettext .mo ---------------------------------------------------------------------------


def parse_mo(data: bytes) -> list[tuple[str, str]]:
    """(msgid, msgstr) of every translated message, in the catalog's order. The header
    (empty msgid) is skipped, a context (`ctx\\x04id`) is cut from the msgid, plural forms
    are joined by newlines (each becomes a line of its own)."""
    if len(data) < 20:
        raise ValueError("not a .mo file: too short")
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0x950412DE:
        end = "<"
    elif magic == 0xDE120495:
        end = ">"
    else:
        raise ValueError("not a .mo file: bad magic number")
    _rev, n, o_ids, o_strs = struct.unpack(end + "4I", data[4:20])
    out: list[tuple[str, str]] = []
    for i in range(n):
        ilen, ioff = struct.unpack(end + "2I", data[o_ids + 8 * i: o_ids + 8 * i + 8])
        slen, soff = struct.unpack(end + "2I", data[o_strs + 8 * i: o_strs + 8 * i + 8])
        msgid = data[ioff: ioff + ilen].decode("utf-8", "replace")
        msgstr = data[soff: soff + slen].decode("utf-8", "replace")
        if not msgid:
            continue  # the header
        msgid = msgid.split("\x04", 1)[-1].split("\x00", 1)[0]
        forms = list(dict.fromkeys(f for f in msgstr.split("\x00") if f))
        if forms:
            out.append((msgid, "\n".join(forms)))
    return out


# ---- roff (man pages) ----------------------------------------------------------------------

_ROFF_SPECIAL = {
    "em": "—", "en": "–", "lq": "“", "rq": "”", "oq": "‘", "cq": "’", "bu": "•", "co": "©",
    "rg": "®", "tm": "™", "aq": "'", "dq": '"', "hy": "-", "mi": "-", "pl": "+", "mu": "×",
    "di": "÷", "<=": "≤", ">=": "≥", "!=": "≠", "->": "→", "<-": "←", "de": "°", "ti": "~",
    "ha": "^", "ga": "`", "ua": "↑", "da": "↓", "sl": "/", "rs": "\\", "ba": "|", "or": "|",
}
_ROFF_ESCAPE = re.compile(
    r"\\(?:"
    r"f(?:\[[^\]]*\]|\(..|.)"  # font
    r"|s(?:\[[^\]]*\]|\([0-9]{2}|[+-]?[0-9])"  # size
    r"|\*(?:\[[^\]]*\]|\(..|.)"  # string
    r"|n(?:\[[^\]]*\]|\(..|.)"  # register
    r"|[hvwlLxXoDbZNYkHSRV]'[^']*'"  # motions and the like, with an argument
    r"|\((..)"  # special character \(xx
    r"|\[([^\]]*)\]"  # special character \[name]
    r"|(.)"  # one-character escapes
    r")"
)
_ONE_CHAR = {"-": "-", "e": "\\", "\\": "\\", " ": " ", "~": " ", "0": " ", "t": " ",
             "'": "'", "`": "`", ".": ".", '"': ""}
_BREAKS = frozenset("PP LP P TP TQ IP HP sp br nf fi RS RE in ti ce bp ne TH SH SS EX EE "
                    "Sh Ss Pp Bl El It Bd Ed".split())
_TEXT_MACROS = frozenset("SH SS B I SM SB BR IR BI IB RB RI IP Sh Ss Nm Nd".split())
_ALTERNATING = frozenset("BR IR BI IB RB RI".split())


def _roff_args(rest: str) -> list[str]:
    args, cur, quoted, i = [], [], False, 0
    while i < len(rest):
        c = rest[i]
        if c == '"':
            if quoted and i + 1 < len(rest) and rest[i + 1] == '"':
                cur.append('"')
                i += 1
            else:
                quoted = not quoted
        elif c in " \t" and not quoted:
            if cur:
                args.append("".join(cur))
                cur = []
        else:
            cur.append(c)
        i += 1
    if cur:
        args.append("".join(cur))
    return args


_MDOC = re.compile(r"^[A-Z][a-z]$")  # mdoc (BSD) macros: .Pa, .Dq, .Fl …
_MDOC_SILENT = frozenset("Dd Dt Os Bl El Bd Ed Pp Lp Ek Bk Ns Sm Bf Ef Rs Re Ux Bx At".split())
_MDOC_QUOTES = {"Dq": ("“", "”"), "Sq": ("‘", "’"), "Qq": ('"', '"'), "Pq": ("(", ")"),
                "Op": ("[", "]")}


def _mdoc_text(args: list[str], req: str) -> str:
    """The words of an mdoc line: nested macro names dropped, `Fl x` as -x, `Xr ls 1` as
    ls(1), quoting macros as quotes."""
    words: list[str] = []
    opened: list[str] = []
    macro = req
    i = 0
    while i < len(args):
        a = args[i]
        if _MDOC.match(a):
            macro = a
            if a in _MDOC_QUOTES:
                words.append(_MDOC_QUOTES[a][0])
                opened.append(_MDOC_QUOTES[a][1])
            i += 1
            continue
        if macro == "Xr" and i + 1 < len(args) and args[i + 1].isdigit():
            words.append(f"{a}({args[i + 1]})")
            i += 2
            continue
        words.append("-" + a if macro == "Fl" else a)
        i += 1
    if req in _MDOC_QUOTES:
        words.insert(0, _MDOC_QUOTES[req][0])
        opened.append(_MDOC_QUOTES[req][1])
    text = " ".join(words)
    for close in reversed(opened):
        text += close
    return re.sub(r"([“‘(\[]) ", r"\1", text)


def roff_unescape(text: str) -> str:
    def esc(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return _ROFF_SPECIAL.get(m.group(1), "")
        if m.group(2) is not None:
            return _ROFF_SPECIAL.get(m.group(2), "")
        if m.group(3) is not None:
            return _ONE_CHAR.get(m.group(3), "")
        s = m.group(0)
        if s.startswith(("\\*(lq", "\\*[lq]")):
            return "“"
        if s.startswith(("\\*(rq", "\\*[rq]")):
            return "”"
        return ""

    return _ROFF_ESCAPE.sub(esc, text)


def roff_paragraphs(source: str) -> list[str]:
    """The prose of a man page, one paragraph a unit. Requests are dropped except the
    text-carrying macros (headings, fonts, tagged paragraphs); `.so` pages (aliases of
    another page) and `.ig`/`.de` blocks give nothing."""
    paras: list[str] = []
    buf: list[str] = []
    skip_until: str | None = None
    tag_next = False  # after .TP the next line is the tag: a unit of its own

    def flush() -> None:
        if buf:
            text = join_wrapped(roff_unescape("\n".join(buf)))
            if text:
                paras.append(text)
            buf.clear()

    for line in source.splitlines():
        line = re.sub(r'\\".*$', "", line)  # comments
        if skip_until is not None:
            if line.strip() == skip_until:
                skip_until = None
            continue
        if line.startswith((".", "'")):
            body = line[1:].strip()
            req, _, rest = body.partition(" ")
            req = req.strip()
            if req == "so":
                return []
            if req in ("ig", "de", "am", "de1"):
                skip_until = ".."
                continue
            if req in _BREAKS:
                flush()
            if req in ("TP", "TQ"):
                tag_next = True
                continue
            if _MDOC.match(req) and req not in _TEXT_MACROS:
                if req not in _MDOC_SILENT:
                    text = _mdoc_text(_roff_args(rest), req)
                    if text:
                        buf.append(text)
                    if req in ("It", "Nd"):
                        flush()
                continue
            if req in _TEXT_MACROS:
                args = _roff_args(rest)
                if req == "IP":
                    args = args[:1]  # the tag; an indent follows
                text = ("" if req in _ALTERNATING else " ").join(args)
                if text:
                    buf.append(text)
                if req in ("SH", "SS", "Sh", "Ss", "IP") or tag_next:
                    flush()
                    tag_next = False
            continue
        if not line.strip():
            flush()
            continue
        buf.append(line)
        if tag_next:
            flush()
            tag_next = False
    flush()
    return paras


# ---- HTML and Mallard ----------------------------------------------------------------------

_BLOCK = frozenset(
    "p div br li ul ol dl dt dd tr td th table h1 h2 h3 h4 h5 h6 pre title blockquote "
    "section article caption figcaption hr center "
    # Mallard
    "desc item steps list terms tree links note screen cell row synopsis quote".split()
)
_SKIP = frozenset(
    "script style head nav aside header footer noscript svg math template "
    # Mallard: authors, credits, revision history, link lists
    "info credit".split()
)
_VOID = frozenset("br hr img meta link input area base col embed param source track wbr".split())


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paras: list[str] = []
        self._buf: list[str] = []
        self._skip = 0

    def _flush(self) -> None:
        if self._buf:
            text = join_wrapped("".join(self._buf))
            if text:
                self.paras.append(text)
            self._buf.clear()

    def handle_starttag(self, tag: str, attrs) -> None:
        tag = tag.split(":")[-1]
        if tag in _SKIP and tag not in _VOID:
            self._flush()
            self._skip += 1
        elif tag in _BLOCK:
            self._flush()

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag.split(":")[-1] in _BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        tag = tag.split(":")[-1]
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            self._buf.clear()
        elif tag in _BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._buf.append(data)


def html_paragraphs(text: str) -> list[str]:
    p = _TextParser()
    p.feed(text)
    p.close()
    p._flush()
    return p.paras


# ---- fortune files, tables, Python data, People's Daily -------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


_BOX = re.compile(r"[\u2500-\u257f]")


def fortune_entries(text: str) -> list[str]:
    """Entries of a fortune file, each one unit with a line per line of text: hard wraps
    undone (`join_plain_wraps`), table rows (box-drawing characters) left out."""
    entries: list[str] = []
    cur: list[str] = []

    def flush() -> None:
        lines = join_plain_wraps([ln for ln in cur if not _BOX.search(ln)])
        if lines:
            entries.append("\n".join(lines))
        cur.clear()

    for line in _ANSI.sub("", text).split("\n"):
        if line.strip() == "%":
            flush()
        elif not line.strip():
            cur.append("")  # a paragraph break: no wrap is undone across it
        else:
            cur.append(line)
    flush()
    return entries


def sqlite_rows(data: bytes, table: str, columns: tuple[str, ...]) -> list[tuple]:
    """Rows of `table` (those `columns`) in rowid order, from a database file's bytes."""
    if data[:16] == b"SQLite format 3\x00" and data[18:20] == b"\x02\x02":
        # a WAL-mode file: as a legacy-journal one it deserializes (the content is the same)
        data = data[:18] + b"\x01\x01" + data[20:]
    db = sqlite3.connect(":memory:")
    try:
        db.deserialize(data)
        names = {r[1] for r in db.execute(f'PRAGMA table_info("{table}")')}
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"table {table!r} has no column {missing[0]!r}")
        cols = ", ".join(f'"{c}"' for c in columns)
        return list(db.execute(f'SELECT {cols} FROM "{table}" ORDER BY rowid'))
    finally:
        db.close()


def python_list(source: str, name: str) -> list:
    """The value of `name = [...]` at module level (a literal; nothing is executed)."""
    tree = ast.parse(source)
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            value = ast.literal_eval(node.value)
            if not isinstance(value, list):
                raise ValueError(f"{name} is not a list")
            return value
    raise ValueError(f"no module-level {name} = [...]")


def people_daily_lines(text: str) -> list[str]:
    """Lines of the tagged People's Daily text as plain text: `迈向/v  充满/v` → 迈向充满.
    Lines without tokens are left out (the same rule as lexicon.sources.read_people_daily,
    so line numbers, and the dev split, are the lexicon build's)."""
    lines = []
    for line in text.split("\n"):  # as file iteration splits: line numbers must agree
        words = [tok.rsplit("/", 1)[0] for tok in line.split()]
        if words:
            lines.append("".join(words))
    return lines
