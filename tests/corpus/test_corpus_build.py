"""The build on a tiny synthetic source set: byte-identical rebuilds, rebuilt only when an
input changes, document-level splits, skipped sources named, the manifest's counts."""

import json
from pathlib import Path

import pytest

from corpus import DOMAINS, SPLITS, CorpusError, build_corpus, read_documents
from corpus.fetch import StaticFetcher
from corpus.testing import tiny_sources


def build(out, **kw):
    sources, fetcher = tiny_sources()
    return build_corpus(out, sources=kw.pop("sources", sources),
                        fetcher=kw.pop("fetcher", fetcher), t2s=kw.pop("t2s", None), **kw)


def files_of(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file()}


def test_two_builds_are_byte_identical(tmp_path):
    build(tmp_path / "a")
    build(tmp_path / "b")
    a, b = files_of(tmp_path / "a"), files_of(tmp_path / "b")
    assert a.keys() == b.keys()
    assert {f"{sp}/{d}.txt" for sp in SPLITS for d in DOMAINS} <= a.keys()
    assert {"manifest.json", "documents.tsv"} <= a.keys()
    for name in a:
        assert a[name] == b[name], name
    assert str(tmp_path) not in a["manifest.json"].decode()  # no absolute paths


def test_rebuilt_only_when_an_input_changes(tmp_path):
    out = tmp_path / "c"
    m1 = build(out)
    assert "up_to_date" not in m1
    stamp = (out / "manifest.json").stat().st_mtime_ns
    assert build(out)["up_to_date"] is True
    assert (out / "manifest.json").stat().st_mtime_ns == stamp
    # a changed package file: rebuilt
    sources, fetcher = tiny_sources()
    fetcher.archives["demo-help"].files["help/page0.html"] = "<p>新的帮助页面内容</p>".encode()
    m2 = build(out, sources=sources, fetcher=fetcher)
    assert "up_to_date" not in m2 and m2["input_key"] != m1["input_key"]
    # a converter now: rebuilt
    m3 = build(out, sources=sources, fetcher=fetcher, t2s=lambda s: s.replace("們", "们"))
    assert m3["input_key"] != m2["input_key"]
    assert build(out, sources=sources, fetcher=fetcher, force=True).get("up_to_date") is None


def test_splits_hold_whole_documents(tmp_path):
    out = tmp_path / "c"
    m = build(out)
    where: dict[tuple[str, str], set[str]] = {}
    lines_seen: dict[str, str] = {}
    for split in SPLITS:
        for domain in DOMAINS:
            for source, name, lines in read_documents(out, split, domain):
                where.setdefault((source, name), set()).add(split)
                for line in lines:
                    assert line not in lines_seen, f"{line} in {lines_seen.get(line)} and {split}"
                    lines_seen[line] = split
    assert all(len(s) == 1 for s in where.values())  # a document lies in one split
    # every source big enough has dev and test documents
    for s in m["sources"]:
        if "skipped" not in s:
            assert s["documents"]["dev"] >= 1 and s["documents"]["test"] >= 1, s["name"]
    # the .mo catalog's chunks are documents: 20 messages each
    game = [n for (src, n) in where if src == "game"]
    assert all("#" in n for n in game)


def test_manifest_counts(tmp_path):
    m = build(tmp_path / "c")
    by = {s["name"]: s for s in m["sources"]}
    assert by["missing"]["skipped"] and m["skipped_sources"] == ["missing"]
    game = by["game"]
    assert game["dropped_cleaning"]["placeholder"] == 2  # 你好，%s！ and 再见，<npcname>。
    assert game["licence"] == "GPL-2+"
    assert game["packages"] == [{"registry": "debian", "name": "demo-game", "version": "3.0",
                                 "file": "demo-game_3.0_all.deb",
                                 "sha256": game["packages"][0]["sha256"], "files_read": 1}]
    tatoeba = by["tatoeba"]
    assert tatoeba["lines"]["total"] == 120  # 119 + 1 sentences, each once
    man = by["man"]
    assert man["dropped_cleaning"]["duplicate"] > 0  # 显示版本信息并退出 on every page
    assert man["documents"]["total"] == 40  # the .so alias gives no document
    total = sum(v["han"] for d in m["totals"].values() for v in d.values())
    assert total == m["han_total"] > 0
    on_disk = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert on_disk == m


def test_traditional_lines_are_converted_and_counted(tmp_path):
    m = build(tmp_path / "c", t2s=lambda s: s.replace("們", "们").replace("試", "试"))
    tatoeba = next(s for s in m["sources"] if s["name"] == "tatoeba")
    assert tatoeba["t2s_converted_lines"] == 119
    text = (tmp_path / "c" / "train" / "everyday.txt").read_text()
    assert "我们第" in text and "我們第" not in text


def test_nothing_to_build(tmp_path):
    sources, _ = tiny_sources()
    with pytest.raises(CorpusError, match="no source could be had"):
        build(tmp_path / "c", sources=sources, fetcher=StaticFetcher({}))
