import pytest

from pinyin.syllables import (
    SYLLABLES,
    fuzzy_variants,
    is_initial,
    is_syllable,
    is_syllable_prefix,
    split_initial,
)


def test_inventory_has_the_standard_syllables():
    assert 400 <= len(SYLLABLES) <= 430
    for s in ["a", "zhong", "guo", "lv", "nve", "xiong", "er", "ng", "chuang", "shuang"]:
        assert is_syllable(s), s


@pytest.mark.parametrize("s", ["", "zh", "i", "u", "v", "xiang1", "bv", "gin", "zhongg"])
def test_non_syllables(s):
    assert not is_syllable(s)


def test_initials_and_prefixes():
    assert is_initial("zh") and is_initial("x") and not is_initial("a")
    assert is_syllable_prefix("zho") and is_syllable_prefix("zhong")
    assert not is_syllable_prefix("zhongx")


def test_split_initial():
    assert split_initial("zhuang") == ("zh", "uang")
    assert split_initial("an") == ("", "an")
    assert split_initial("yue") == ("y", "ue")


def test_fuzzy_variants_both_ways():
    zz = frozenset({"z/zh"})
    assert fuzzy_variants("zi", zz) == ("zhi",)
    assert fuzzy_variants("zhi", zz) == ("zi",)
    assert set(fuzzy_variants("shan", frozenset({"s/sh", "an/ang"}))) == {"san", "shang"}
    assert fuzzy_variants("ba", frozenset({"l/n"})) == ()
