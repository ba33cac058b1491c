"""Reading a built corpus back, dev excerpts for typing logs, and the package's layer."""

import ast
from pathlib import Path

import pytest

from corpus import CorpusError, build_corpus, read_documents
from corpus.layout import EXCERPT_SEP, dev_log_text
from corpus.testing import tiny_sources

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    sources, fetcher = tiny_sources()
    out = tmp_path_factory.mktemp("corpus") / "c"
    build_corpus(out, sources=sources, fetcher=fetcher, t2s=None)
    return out


def test_read_documents_matches_the_index(tiny_corpus):
    docs = read_documents(tiny_corpus, "dev", "everyday")
    assert {s for s, _, _ in docs} == {"tatoeba", "jokes"}
    assert all(lines and all(lines) for _, _, lines in docs)


def test_a_damaged_corpus_is_reported(tiny_corpus, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(tiny_corpus, bad)
    p = bad / "dev" / "everyday.txt"
    p.write_text(p.read_text() + "\n多出来的一篇\n")
    with pytest.raises(CorpusError, match="documents"):
        read_documents(bad, "dev", "everyday")
    with pytest.raises(CorpusError, match="no corpus"):
        read_documents(tmp_path / "nothing", "dev", "everyday")


def test_dev_log_text_takes_every_source_in_turn(tiny_corpus):
    text = dev_log_text(tiny_corpus, "everyday", clauses=30, run=5)
    pieces = text.split("\n" + EXCERPT_SEP)
    assert len(pieces) >= 3
    assert "試試看" in pieces[0] or "笑话" in pieces[0]
    assert any("試試看" in p for p in pieces) and any("笑话" in p for p in pieces)
    # excerpts alternate between the two sources
    kinds = ["tatoeba" if "試試看" in p else "jokes" for p in pieces]
    assert kinds[:2] in (["tatoeba", "jokes"], ["jokes", "tatoeba"])


def test_one_document_reads_as_its_text(tiny_corpus):
    # a source with one dev document (news is one): its excerpts join without a separator
    docs = read_documents(tiny_corpus, "dev", "dialogue")
    assert len(docs) == 1
    text = dev_log_text(tiny_corpus, "dialogue", clauses=10 ** 6, run=3)
    assert EXCERPT_SEP not in text and text == "\n".join(docs[0][2])


def test_corpus_imports_only_pinyin_and_third_party():
    forbidden = {"lexicon", "kernels", "lm", "ime", "evaluation", "ui", "cli", "benchmarks",
                 "main"}
    for path in sorted((ROOT / "corpus").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for n in names:
                assert n.split(".")[0] not in forbidden, f"{path.relative_to(ROOT)} imports {n}"
