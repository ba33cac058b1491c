"""Chinese punctuation: what an ASCII punctuation key types in Chinese mode.

`,` → `，`, `.` → `。`, `\\` → `、`, `^` → `……`, `_` → `——`, brackets to their full-width
or book-title forms, and the straight quotes to curly ones, opening and closing in turn.
After a digit, `.`, `,` and `:` stay ASCII, so 3.14, 1,000 and 10:30 come out as typed.
The keys the composition itself uses (`'` as the syllable separator, `-`/`=` for paging)
are the caller's to handle first.
"""

from __future__ import annotations

__all__ = ["FULL_WIDTH", "QUOTES", "Punctuator"]

FULL_WIDTH = {
    ",": "，", ".": "。", "?": "？", "!": "！", ";": "；", ":": "：", "\\": "、",
    "(": "（", ")": "）", "<": "《", ">": "》", "[": "【", "]": "】", "{": "｛", "}": "｝",
    "^": "……", "_": "——", "$": "￥", "~": "～",
}  # fmt: skip
QUOTES = {'"': ("“", "”"), "'": ("‘", "’")}  # (opening, closing)
_AFTER_DIGIT_ASCII = frozenset(".,:")


class Punctuator:
    """Converts punctuation keys; remembers whether each kind of quote is open."""

    def __init__(self) -> None:
        self._open: dict[str, bool] = {q: False for q in QUOTES}

    @staticmethod
    def handles(ch: str) -> bool:
        """Is `ch` a key this converts (in some context)?"""
        return ch in FULL_WIDTH or ch in QUOTES

    def convert(self, ch: str, before: str = "") -> str | None:
        """The text to type for key `ch`, or None to let the key through unchanged.

        `before`: the text left of the cursor (only its last character matters).
        """
        if ch in _AFTER_DIGIT_ASCII and before[-1:].isascii() and before[-1:].isdigit():
            return None
        if ch in QUOTES:
            opening, closing = QUOTES[ch]
            self._open[ch] = not self._open[ch]
            return opening if self._open[ch] else closing
        return FULL_WIDTH.get(ch)

    def reset(self) -> None:
        """Forget open quotes (e.g. when the editor is cleared)."""
        for q in self._open:
            self._open[q] = False
