"""Chinese punctuation in Chinese mode (ime/punctuation.py)."""

from __future__ import annotations

import pytest

from ime.punctuation import FULL_WIDTH, Punctuator


@pytest.mark.parametrize(
    "key, out",
    [(",", "，"), (".", "。"), ("?", "？"), ("!", "！"), (";", "；"), (":", "："), ("\\", "、"),
     ("(", "（"), (")", "）"), ("<", "《"), (">", "》"), ("[", "【"), ("]", "】"),
     ("^", "……"), ("_", "——"), ("$", "￥")],
)  # fmt: skip
def test_keys_type_chinese_punctuation(key: str, out: str) -> None:
    assert Punctuator().convert(key, "你好") == out


def test_quotes_open_and_close_in_turn_each_kind_on_its_own() -> None:
    p = Punctuator()
    assert [p.convert('"'), p.convert("'"), p.convert("'"), p.convert('"')] == [
        "“", "‘", "’", "”",
    ]  # fmt: skip
    assert p.convert('"') == "“"
    p.reset()
    assert p.convert('"') == "“"


@pytest.mark.parametrize("key", [".", ",", ":"])
def test_after_a_digit_numbers_keep_their_ascii_marks(key: str) -> None:
    p = Punctuator()
    assert p.convert(key, "共 3") is None
    assert p.convert(key, "３") == FULL_WIDTH[key]  # a full-width digit is Chinese text
    assert p.convert(key, "共") == FULL_WIDTH[key]
    assert p.convert(key, "") == FULL_WIDTH[key]


def test_other_keys_pass_through() -> None:
    p = Punctuator()
    for key in ("a", "1", "@", "#", "-", "=", "+", "*", "/", " "):
        assert not Punctuator.handles(key) or key in FULL_WIDTH
        assert p.convert(key) is None
