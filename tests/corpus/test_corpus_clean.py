"""The cleaner's rules, one at a time."""

import pytest

from corpus.clean import (
    CleanRules,
    ToSimplified,
    clean_line,
    clean_unit,
    dedup_key,
    has_placeholder,
    join_plain_wraps,
    join_wrapped,
    normalize,
    strip_accelerators,
    strip_markup,
)

CATALOG = CleanRules(markup=True, placeholders=True)


def lines(unit, rules=None, t2s=None):
    return [c.line for c in clean_unit(unit, rules or CleanRules(), t2s)]


def test_html_entities_decoded_even_twice():
    assert lines("他说&quot;今天真冷&quot;，我说&amp;quot;是啊&amp;quot;") == [
        '他说"今天真冷"，我说"是啊"']


@pytest.mark.parametrize("raw, clean", [
    ("<b>粗体</b>的文字", "粗体的文字"),
    ('<span color="red">红色</span>警告', "红色警告"),
    ("<color_light_red>危险区域</color>", "危险区域"),
    ("<header>text='检查编辑器的模式'</header>", "检查编辑器的模式"),
    ("<ref>dst='unit_x' text='精灵射手'</ref>很强", "精灵射手很强"),
    ("<npcname>说", "<npcname>说"),  # a placeholder, not markup: left for the next rule
], ids=["b", "span", "color", "wesnoth-header", "wesnoth-ref", "placeholder"])
def test_markup_is_stripped(raw, clean):
    assert strip_markup(raw) == clean


def test_br_splits_a_unit_into_lines():
    assert lines("第一行文字<br>第二行文字", CleanRules(markup=True)) == ["第一行文字", "第二行文字"]


@pytest.mark.parametrize("text", ["天气是%s。", "共%1$d个文件", "%(name)s的背包", "你好，{name}！",
                                  "我们到了，<npcname>。", "文件：$path", "剩余 %.0f%% 的体积"])
def test_placeholders_drop_the_line(text):
    assert has_placeholder(text)
    assert clean_line(text, CATALOG).reason == "placeholder"


def test_placeholders_are_prose_where_the_rule_is_off():
    # a man page about printf: %s is what the text is about
    assert clean_line("格式 %s 输出一个字符串参数", CleanRules()).line == "格式 %s 输出一个字符串参数"
    assert not has_placeholder("增长了50%以上，价格为100元")


def test_markup_is_not_a_placeholder_but_npcname_is():
    assert clean_line("<color_red>红色的警告</color>", CATALOG).line == "红色的警告"
    assert clean_line("再见，<npcname>。", CATALOG).line is None


@pytest.mark.parametrize("raw, clean", [
    ("打开(_O)", "打开"), ("保存（&S）", "保存"), ("_File 文件", "File 文件"), ("&Edit", "Edit")])
def test_accelerators(raw, clean):
    assert strip_accelerators(raw) == clean


def test_normalize():
    assert normalize("ＣＤＭＡ技术１９９８年") == "CDMA技术1998年"  # full-width letters, digits
    assert normalize("你好，世界！") == "你好，世界！"  # full-width punctuation stays
    assert normalize("天台上的风🌀🌀很大🥶，❤️") == "天台上的风很大，"
    assert normalize("零\u200b宽\ufeff字\x07符\ue000") == "零宽字符"
    assert normalize("  多个\u3000  空格\t和\n换行 ") == "多个 空格 和 换行"


def test_too_little_han_is_dropped():
    assert clean_line("--block-size=大小").reason == "little_han"  # 2 Han of 15
    assert clean_line("是").reason == "little_han"
    assert clean_line("ls -l /etc").reason == "little_han"
    assert clean_line("使用 ls 命令").line == "使用 ls 命令"


def test_dedup_key_ignores_punctuation_spaces_width_and_case():
    assert dedup_key("你好，Tom！") == dedup_key("你好 tom。") == "你好tom"
    assert dedup_key("第1章") != dedup_key("第2章")


def test_to_simplified_converts_traditional_lines_only():
    t2s_map = {"們": "们", "試": "试", "乾": "干", "個": "个", "師": "师"}
    s2t_map = {"们": "們", "试": "試", "参": "參", "会": "會", "见": "見", "萧": "蕭"}

    def t2s(s):
        return "".join(t2s_map.get(c, c) for c in s)

    def s2t(s):
        return "".join(s2t_map.get(c, c) for c in s)

    conv = ToSimplified(t2s, s2t)
    assert conv("我是個老師") == "我是个老师"
    assert conv("我們試試看") == "我们试试看"
    assert conv("王丙乾等参加了会见") == "王丙乾等参加了会见"  # Simplified with 乾: kept
    assert conv("萧乾") == "萧乾"  # a tie: kept
    c = clean_line("我是個老師", t2s=conv)
    assert c.line == "我是个老师" and c.converted


def test_join_wrapped_and_plain_wraps():
    assert join_wrapped("不要忽略\n  以点号起始的\n条目 and\nmore") == "不要忽略以点号起始的条目 and more"
    assert join_plain_wraps(["  文件的内容关联了 MIME 类", "型。", "if true; then", "王事靡盬。",
                             "不遑啟處。"]) == ["文件的内容关联了 MIME 类型。", "if true; then",
                                                "王事靡盬。", "不遑啟處。"]


def test_substitutions_come_first():
    rules = CleanRules(placeholders=True, substitutions=(("{target_name}", "你"),))
    assert lines("{target_name}，你失忆了", rules) == ["你，你失忆了"]
