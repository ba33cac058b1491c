"""`main.py corpus ...`: the parser, info on a built corpus, and the dev typing logs."""

import json

import pytest

from cli.main import build_parser, main
from corpus import build_corpus
from corpus.layout import EXCERPT_SEP
from corpus.testing import tiny_sources


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    sources, fetcher = tiny_sources()
    out = tmp_path_factory.mktemp("corpus") / "c"
    build_corpus(out, sources=sources, fetcher=fetcher, t2s=None)
    return out


def test_parser_knows_the_commands():
    p = build_parser()
    a = p.parse_args(["corpus", "build", "--out", "x", "--force", "--only", "tatoeba"])
    assert a.corpus_cmd == "build" and a.force and a.only == ["tatoeba"]
    assert p.parse_args(["corpus", "info"]).corpus_cmd == "info"
    assert p.parse_args(["corpus", "logs", "--to", "d"]).records == 500


def test_build_rejects_an_unknown_source(capsys):
    assert main(["corpus", "build", "--only", "no-such-source"]) == 2
    assert "no source 'no-such-source'" in capsys.readouterr().err


def test_info(tiny_corpus, capsys, tmp_path):
    assert main(["corpus", "info", "--out", str(tiny_corpus)]) == 0
    out = capsys.readouterr().out
    assert "tatoeba" in out and "skipped" in out and "decontamination dropped" in out
    assert main(["corpus", "info", "--out", str(tmp_path / "none")]) == 2


@pytest.mark.slow  # make_log loads the pinyin tables for each log (about 2 s)
def test_dev_logs_per_domain(tiny_corpus, tmp_path, capsys):
    d = tmp_path / "logs"
    assert main(["corpus", "logs", "--out", str(tiny_corpus), "--to", str(d),
                 "--records", "12"]) == 0
    names = sorted(p.name for p in d.iterdir())
    assert names == ["dialogue-full.jsonl", "dialogue-initials.jsonl", "everyday-full.jsonl",
                     "everyday-initials.jsonl", "technical-full.jsonl",
                     "technical-initials.jsonl"]  # no news in the tiny corpus
    full = [json.loads(x) for x in (d / "everyday-full.jsonl").read_text().splitlines()]
    initials = [json.loads(x) for x in (d / "everyday-initials.jsonl").read_text().splitlines()]
    assert len(full) == len(initials) == 12
    assert [r["text"] for r in full] == [r["text"] for r in initials]
    assert all(EXCERPT_SEP not in r["context"] for r in full)
    assert {r["session"] for r in full} == {"everyday"}
    assert full[0]["keys"].isalpha() and len(initials[0]["keys"]) < len(full[0]["keys"])
