"""Decontamination: a line holding held-out text is dropped, and counted."""

from pathlib import Path

import pytest

from corpus.build import build_corpus
from corpus.decontam import HASHES, Decontaminator
from corpus.testing import tiny_sources, write_hashes

SHARED = Path(__file__).resolve().parents[3] / "shared" / "decontam"


def test_a_line_containing_a_held_out_clause_is_dropped(tmp_path):
    hashes = write_hashes(tmp_path / "test.sha256", clauses=["我们明天早上八点见面"],
                          whole=["谢谢你"])
    dec = Decontaminator(hashes)
    assert dec("好的，我们明天早上八点见面，别迟到。")  # contains the clause
    assert dec("We 我们明天早上八点见面 tomorrow")  # Han-only form contains it
    assert dec("谢谢你！")  # the whole line is a held-out sentence
    assert not dec("谢谢你的帮助")  # a whole-line hash matches whole lines only
    assert not dec("我们明天早上九点见面")
    assert not dec("no Han at all")


def test_the_build_drops_and_counts_it(tmp_path):
    sources, fetcher = tiny_sources()
    # one tatoeba sentence, hashed as the filter sees it (t2s is off here)
    hashes = write_hashes(tmp_path / "test.sha256", clauses=["明天早上八點在學校門口"])
    m = build_corpus(tmp_path / "c", sources=sources, fetcher=fetcher, hashes=hashes, t2s=None)
    tatoeba = next(s for s in m["sources"] if s["name"] == "tatoeba")
    assert tatoeba["dropped_decontamination"] == 1
    assert m["decontamination"]["dropped_lines"] == 1
    text = "".join((tmp_path / "c" / sp / "everyday.txt").read_text()
                   for sp in ("train", "dev", "test"))
    assert "學校門口" not in text and "我們第8次試試看" in text


def test_the_repository_copy_is_the_shared_filter():
    if not SHARED.is_dir():
        pytest.skip("no ../shared/decontam beside this checkout")
    here = HASHES.parent
    for name in ("decontaminate.py", "heldout.sha256"):
        assert (here / name).read_bytes() == (SHARED / name).read_bytes(), (
            f"corpus/decontam/{name} differs from ../shared/decontam/{name}: copy it again")
