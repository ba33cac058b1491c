"""The Mandarin syllable inventory, as typed on a keyboard (no tones, `v` for ü).

Everything the segmentor needs to know about spelling lives here: which strings are
syllables, which are initials that may stand for a whole syllable (`zgrm`), which are
prefixes of a syllable still being typed (`zhon`), and the fuzzy pairs of docs/DESIGN.md.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = [
    "SYLLABLES",
    "INITIALS",
    "FUZZY_PAIRS",
    "is_syllable",
    "is_initial",
    "is_syllable_prefix",
    "split_initial",
    "fuzzy_variants",
    "syllable_id",
    "syllable_of",
]

# Initials that can stand alone for a syllable in abbreviated input. Two-letter initials first
# so that `split_initial` finds the longest.
INITIALS: tuple[str, ...] = (
    "zh", "ch", "sh",
    "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s",
    "y", "w",
)  # fmt: skip

_TABLE = """
a ai an ang ao
ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu
pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu
ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu
fa fan fang fei fen feng fiao fo fou fu
da dai dan dang dao de dei den deng di dia dian diao die ding diu dong dou du duan dui dun duo
ta tai tan tang tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo
na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nun nuo
nv nve
la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan lun
luo lv lve
ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo
ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo
ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo
ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun
qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun
xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun
zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui
zhun zhuo
cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo
sha shai shan shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo
ra ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo
za zai zan zang zao ze zei zen zeng zi zong zou zu zuan zui zun zuo
ca cai can cang cao ce cen ceng ci cong cou cu cuan cui cun cuo
sa sai san sang sao se sen seng si song sou su suan sui sun suo
ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun
wa wai wan wang wei wen weng wo wu
e ei en eng er o ou
m n ng hm hng
"""

SYLLABLES: tuple[str, ...] = tuple(sorted(set(_TABLE.split())))
_SYLLABLE_SET = frozenset(SYLLABLES)
_INITIAL_SET = frozenset(INITIALS)
_ID = {s: i for i, s in enumerate(SYLLABLES)}
_PREFIXES = frozenset(s[:i] for s in SYLLABLES for i in range(1, len(s) + 1))

# Fuzzy pairs of docs/DESIGN.md: a user who does not distinguish them may type either side.
FUZZY_PAIRS: dict[str, tuple[str, str]] = {
    "z/zh": ("z", "zh"),
    "c/ch": ("c", "ch"),
    "s/sh": ("s", "sh"),
    "l/n": ("l", "n"),
    "f/h": ("f", "h"),
    "an/ang": ("an", "ang"),
    "en/eng": ("en", "eng"),
    "in/ing": ("in", "ing"),
    "ian/iang": ("ian", "iang"),
    "uan/uang": ("uan", "uang"),
}
_INITIAL_FUZZY = {"z/zh", "c/ch", "s/sh", "l/n", "f/h"}


def is_syllable(s: str) -> bool:
    return s in _SYLLABLE_SET


def is_initial(s: str) -> bool:
    return s in _INITIAL_SET


def is_syllable_prefix(s: str) -> bool:
    """True for any non-empty prefix of a syllable (`zho`, `x`, `zhong`)."""
    return s in _PREFIXES


def syllable_id(s: str) -> int:
    return _ID[s]


def syllable_of(i: int) -> str:
    return SYLLABLES[i]


def split_initial(s: str) -> tuple[str, str]:
    """`zhong` → (`zh`, `ong`); a syllable without an initial → (``, `ai`)."""
    for ini in INITIALS:
        if s.startswith(ini) and len(s) > len(ini):
            return ini, s[len(ini):]
    return "", s


@lru_cache(maxsize=4096)
def fuzzy_variants(syllable: str, pairs: frozenset[str]) -> tuple[str, ...]:
    """Other syllables a user with these fuzzy `pairs` may mean when typing `syllable`.

    >>> fuzzy_variants("zi", frozenset({"z/zh"}))
    ('zhi',)
    """
    out: set[str] = set()
    ini, final = split_initial(syllable)
    for name in pairs:
        a, b = FUZZY_PAIRS[name]
        for x, y in ((a, b), (b, a)):
            if name in _INITIAL_FUZZY:
                if ini == x:
                    out.add(y + final)
            elif final.endswith(x):
                out.add(ini + final[: len(final) - len(x)] + y)
    out.discard(syllable)
    return tuple(sorted(s for s in out if s in _SYLLABLE_SET))
