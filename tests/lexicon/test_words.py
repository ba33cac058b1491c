"""lexicon.words.check_word: what may be a word of the lexicon."""

from __future__ import annotations

import pytest

from lexicon.words import MAX_WORD_CHARS, check_word


@pytest.mark.parametrize("word", ["你", "你好", "中国人民大学", "㐀", "鿿", "测" * MAX_WORD_CHARS],
                         ids=["one", "two", "six", "ext-a-first", "basic-last", "longest"])
def test_han_words_are_fine(word: str) -> None:
    assert check_word(word) is None


@pytest.mark.parametrize("word, needle", [
    ("", "empty word"),
    ("你\x00", "control character U+0000 at character 2"),
    ("\t你", "control character U+0009 at character 1"),
    ("你\n好", "control character U+000A"),
    ("你\x7f", "control character U+007F"),
    ("你\u200d好", "format character U+200D"),
    ("\ufeff你", "format character U+FEFF"),
    ("你\ud800", "unpaired surrogate U+D800"),
    ("\udfff", "unpaired surrogate U+DFFF"),
    ("你\ue000", "private-use character U+E000"),
    ("\U000f0000", "private-use character U+F0000"),
    ("你 好", "space U+0020"),
    ("你\u3000好", "space U+3000"),
    ("你\u2028", "line separator U+2028"),
    ("abc", "'a' (U+0061) at character 1 is not a Han character"),
    ("你好，", "not a Han character"),
    ("你1", "not a Han character"),
    ("ｶ", "not a Han character"),
    ("\U00020000", "not a Han character"),  # extension B: beyond the lexicon's ranges
    ("测" * (MAX_WORD_CHARS + 1), f"at most {MAX_WORD_CHARS}"),
], ids=["empty", "nul", "tab", "newline", "del", "zwj", "bom", "high-surrogate",
        "low-surrogate", "private-use", "private-use-plane-15", "space", "ideographic-space",
        "line-separator", "latin", "punctuation", "digit", "katakana", "ext-b", "too-long"])
def test_what_is_refused_and_why(word: str, needle: str) -> None:
    reason = check_word(word)
    assert reason is not None and needle in reason, reason
    assert "\n" not in reason


def test_not_text_is_refused() -> None:
    assert check_word(b"\xe4\xbd\xa0") == "not text (bytes)"  # type: ignore[arg-type]
