"""What may be a word of the lexicon: one check for every way a word gets in.

    reason = check_word(text)      # None: fine; else why not, in a few words
    if reason is not None:
        raise ValueError(f"{text!r}: {reason}")

The engine types Han characters only (the CJK ranges of `lexicon.sources.is_han`: the basic
block and extension A), so a word is a short run of those and nothing else. Importers
(`lexicon.formats`) and the learner call this before anything reaches the user lexicon: a
control character, a zero-width joiner or a stray surrogate in a dictionary file must never
become a candidate that is inserted into the user's text.
"""

from __future__ import annotations

import unicodedata

from lexicon.sources import is_han

__all__ = ["MAX_WORD_CHARS", "check_word"]

# far above any word the lattice can reach (8 syllables) or a dictionary holds (idioms,
# names): a "word" longer than this is a file's sentence or its garbage, not a word
MAX_WORD_CHARS = 32

# general categories that are never text a user types, with the name the reason gives
_NEVER = {
    "Cc": "control character",
    "Cf": "format character",
    "Cs": "unpaired surrogate",
    "Co": "private-use character",
    "Cn": "unassigned code point",
    "Zs": "space",
    "Zl": "line separator",
    "Zp": "paragraph separator",
}


def check_word(text: str) -> str | None:
    """None if `text` may be a word of the lexicon, else the reason it may not (one line,
    naming the first offending character by code point and 1-based position).

    A word is 1 to MAX_WORD_CHARS Han characters (the ranges `is_han` accepts); anything
    else — empty text, control and format characters (NUL, tab, newline, zero-width
    space), unpaired surrogates, private-use characters, Latin letters, digits,
    punctuation — is text the engine cannot type, so it is refused.
    """
    if not isinstance(text, str):
        return f"not text ({type(text).__name__})"
    if not text:
        return "empty word"
    if len(text) > MAX_WORD_CHARS:
        return f"{len(text)} characters long (a word has at most {MAX_WORD_CHARS})"
    for i, ch in enumerate(text, 1):
        if is_han(ch):
            continue
        kind = _NEVER.get(unicodedata.category(ch))
        if kind is not None:
            return f"{kind} U+{ord(ch):04X} at character {i}"
        return (f"{ch!r} (U+{ord(ch):04X}) at character {i} is not a Han character "
                "(the engine types Han characters only)")
    return None
