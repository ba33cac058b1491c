"""The cleaner: one raw unit of source text in, clean lines (or the reason for dropping) out.

Every source goes through the same rules; a source's `CleanRules` only switch on the ones
that fit its format (a placeholder means something in a game's message catalog, and is
ordinary prose in a man page about printf):

1. HTML entities decoded (twice: some catalogs hold `&amp;quot;`).
2. Markup (`rules.markup`): tags such as `<b>`, `<span color=…>`, `</color>`, `<br/>` are
   removed, Wesnoth's `<header>text='…'</header>` keeps its text.
3. Placeholders (`rules.placeholders`): a line with `%s`, `%1$d`, `%(name)s`, `{x}`,
   `<npcname>`, `$unit` is dropped: its words are not what anyone types.
4. Accelerators (`rules.accelerators`): `打开(_O)`, `(&F)`, `_File`, `&File` lose the key mark.
5. Normalisation: control, format and private-use characters and emoji removed; full-width
   letters and digits made ASCII (full-width punctuation is kept: it is the text's own);
   whitespace collapsed.
6. Traditional → Simplified (when a converter is given: `ToSimplified`, OpenCC `t2s` for
   the lines that are Traditional).
7. A line keeps at least `MIN_HAN` Han characters making up `MIN_HAN_RATIO` of its visible
   characters (option lists, code and untranslated English go).

Near-duplicates are lines with the same `dedup_key` (letters, digits and Han only,
lower-cased); the build keeps the first of each across the whole corpus.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = [
    "CleanRules",
    "Cleaned",
    "ToSimplified",
    "join_plain_wraps",
    "clean_unit",
    "clean_line",
    "count_han",
    "dedup_key",
    "join_wrapped",
    "strip_markup",
    "has_placeholder",
    "strip_accelerators",
    "normalize",
    "MIN_HAN",
    "MIN_HAN_RATIO",
]

MIN_HAN = 2
MIN_HAN_RATIO = 0.25

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_WRAP = re.compile(rf"(?<=[{_CJK}])[ \t]*\n\s*(?=[{_CJK}])")
_SPACE = re.compile(r"\s+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_STOP = re.compile(r"[。！？；：…」』”）]")  # a line ending here ends a sentence, not a wrap

# Wesnoth's help markup: <header>text='标题'</header>, <ref>dst='x' text='单位'</ref>
_TEXT_ATTR = re.compile(r"<([A-Za-z]+)>[^<>]*?\btext='([^']*)'[^<>]*</\1>")
_CLOSING = re.compile(r"</[A-Za-z_][A-Za-z0-9_-]*\s*>")
_WITH_ATTRS = re.compile(r"<[A-Za-z_][A-Za-z0-9_-]*(?:\s+[^<>]*?=[^<>]*)?\s*/?>")
# tags that are markup rather than placeholders (cataclysm's colours: <color_red>…</color>)
_MARKUP_NAMES = frozenset(
    "b i u s em strong span font br p div a sup sub small big tt code pre ref header italic "
    "bold format img jump menu emph li ul ol hr center underline strike".split()
)
_TAG_NAME = re.compile(r"<\s*/?\s*([A-Za-z_][A-Za-z0-9_-]*)")

_PLACEHOLDER = re.compile(
    r"%(?:\d+\$)?[-+#0]*\d*(?:\.\d+)?(?:ll|l|h|z)?[sdiufFeEgGxXoc]"  # printf
    r"|%\([A-Za-z_]\w*\)[sdif]"  # Python %(name)s
    r"|\{[A-Za-z_0-9.]*\}"  # {x}, {0}, {}
    r"|<[A-Za-z_][A-Za-z0-9_-]*>"  # <npcname>
    r"|\$\{?[A-Za-z_][A-Za-z0-9_.]*"  # $unit.name, ${x}
)
_ACCEL = re.compile(r"\s*[(（][_&][A-Za-z0-9][)）]|_(?=[A-Za-z0-9])|&(?=[A-Za-z0-9])")

# emoji and pictographs, their modifiers and joiners
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe00-\ufe0f\u200d\u20e3\u3299\u3297"
    "\U000e0000-\U000e007f]"
)
_FULLWIDTH_ALNUM = {
    **{0xFF10 + i: 0x30 + i for i in range(10)},
    **{0xFF21 + i: 0x41 + i for i in range(26)},
    **{0xFF41 + i: 0x61 + i for i in range(26)},
    0x3000: 0x20,
}


@dataclass(frozen=True, slots=True)
class CleanRules:
    """Which format-specific rules a source needs (all off: plain prose)."""

    markup: bool = False  # tags inside the text (catalogs, web text)
    placeholders: bool = False  # drop lines with %s, {x}, <npcname>, $var
    accelerators: bool = False  # UI strings: 打开(_O), &File
    substitutions: tuple[tuple[str, str], ...] = ()  # literal replacements first

    def describe(self) -> str:
        on = [k for k in ("markup", "placeholders", "accelerators") if getattr(self, k)]
        on += [f"{a!r}->{b!r}" for a, b in self.substitutions]
        return ",".join(on) or "plain"


@dataclass(frozen=True, slots=True)
class Cleaned:
    """A clean line, or why a raw line was dropped (`line` is None then)."""

    line: str | None
    reason: str | None = None  # "placeholder" | "little_han"
    converted: bool = False  # Traditional → Simplified changed it
    before: str | None = None  # the line before that conversion (when converted)


class ToSimplified:
    """Traditional → Simplified for the lines that are Traditional, and only those.

    OpenCC's t2s also rewrites characters that are right in Simplified text (人名 萧乾 →
    萧干, 三塚 → 三冢), so a line is converted only when it has more characters that exist
    in Traditional alone (`t2s` changes them) than characters that exist in Simplified alone
    (`s2t` changes them): 我是個老師 is converted, 王丙乾等参加了会见 is not.
    `t2s`/`s2t` convert strings (OpenCC's `convert`); characters are looked up once.
    """

    def __init__(self, t2s: Callable[[str], str], s2t: Callable[[str], str]) -> None:
        self._t2s, self._s2t = t2s, s2t
        self._kind: dict[str, int] = {}  # +1 Traditional only, -1 Simplified only, 0 both

    def _char(self, c: str) -> int:
        k = self._kind.get(c)
        if k is None:
            k = (self._t2s(c) != c) - (self._s2t(c) != c)
            self._kind[c] = k
        return k

    def is_traditional(self, line: str) -> bool:
        return sum(self._char(c) for c in HAN.findall(line)) > 0

    def __call__(self, line: str) -> str:
        simple = self._t2s(line)
        if simple == line:  # no Traditional-only character: most lines, at one call
            return line
        return simple if self.is_traditional(line) else line


def join_plain_wraps(lines: list[str]) -> list[str]:
    """Lines of pre-formatted plain text (a fortune) with their hard wraps undone: a line
    ending in a CJK character joins the next when that starts with one (`MIME 类` + `型。`);
    any other break stays (code, lists, verse with punctuation at the ends)."""
    out: list[str] = []
    for line in lines:
        s = line.strip()
        if out and out[-1] and s and _CJK_CHAR.match(out[-1][-1]) and _CJK_CHAR.match(s[0]) \
                and not _STOP.match(out[-1][-1]):
            out[-1] += s
        else:
            out.append(s)
    return [s for s in out if s]


def count_han(text: str) -> int:
    return len(HAN.findall(text))


def dedup_key(line: str) -> str:
    """What near-duplicates share: letters, digits and Han, lower-cased."""
    return "".join(c for c in line.lower() if c.isalnum())


def join_wrapped(text: str) -> str:
    """Join lines wrapped inside a paragraph: nothing between two CJK characters, a space
    elsewhere."""
    return _SPACE.sub(" ", _WRAP.sub("", text)).strip()


def unescape(text: str) -> str:
    for _ in range(2):
        new = html.unescape(text)
        if new == text:
            break
        text = new
    return text


def strip_markup(text: str) -> str:
    text = _TEXT_ATTR.sub(r"\2", text)
    text = _CLOSING.sub("", text)

    def tag(m: re.Match[str]) -> str:
        s = m.group(0)
        name = _TAG_NAME.match(s)
        low = name.group(1).lower() if name else ""
        if "=" in s or s.endswith("/>") or low in _MARKUP_NAMES or low.startswith("color"):
            return ""
        return s  # <npcname> and the like: a placeholder, left for has_placeholder

    return _WITH_ATTRS.sub(tag, text)


def has_placeholder(text: str) -> bool:
    return _PLACEHOLDER.search(text) is not None


def strip_accelerators(text: str) -> str:
    return _ACCEL.sub("", text)


def normalize(text: str) -> str:
    text = _EMOJI.sub("", text.translate(_FULLWIDTH_ALNUM))
    if text.isprintable():  # nothing of the categories below (and no tab or line break)
        return _SPACE.sub(" ", text).strip()
    out = []
    for c in text:
        cat = unicodedata.category(c)
        if cat in ("Cc", "Cf", "Co", "Cs", "Cn"):
            out.append(" " if c in "\t\n\r\x0b\x0c" else "")
        else:
            out.append(c)
    return _SPACE.sub(" ", "".join(out)).strip()


def clean_line(raw: str, rules: CleanRules = CleanRules(),
               t2s: Callable[[str], str] | None = None) -> Cleaned:
    """One raw line (no newline inside) through rules 2-7."""
    text = raw
    if rules.markup:
        text = strip_markup(text)
    if rules.placeholders and has_placeholder(text):
        return Cleaned(None, "placeholder")
    if rules.accelerators:
        text = strip_accelerators(text)
    text = normalize(text)
    before = None
    if t2s is not None and text:
        simple = t2s(text)
        if simple != text:
            before, text = text, simple
    han = count_han(text)
    visible = sum(1 for c in text if not c.isspace())
    if han < MIN_HAN or han < MIN_HAN_RATIO * visible:
        return Cleaned(None, "little_han", before is not None, before)
    return Cleaned(text, None, before is not None, before)


def clean_unit(unit: str, rules: CleanRules = CleanRules(),
               t2s: Callable[[str], str] | None = None) -> Iterator[Cleaned]:
    """A raw unit (a paragraph, a catalog message, a table row): substitutions and entities
    first, then each of its lines through `clean_line`."""
    for a, b in rules.substitutions:
        unit = unit.replace(a, b)
    unit = unescape(unit)
    if rules.markup:
        unit = re.sub(r"<br\s*/?>", "\n", unit, flags=re.IGNORECASE)
    for raw in unit.splitlines():
        if raw.strip():
            yield clean_line(raw, rules, t2s)
