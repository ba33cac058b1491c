"""`main.py compare`: one table from the shared metric code, peers that cannot run skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_peers import _install_rime

ROOT = Path(__file__).resolve().parents[2]


def run_compare(tmp_path, cache, peers, learn=False):
    log = tmp_path / "log.jsonl"
    log.write_text('{"keys": "nihao", "text": "你好"}\n{"keys": "xianzai", "text": "现在"}\n',
                   encoding="utf-8")
    out = tmp_path / "c.json"
    args = [sys.executable, str(ROOT / "main.py"), "--cache-dir", str(cache), "compare", str(log),
            "--peers", peers, "--json", str(out), "--plot", str(tmp_path / "c.png"), "--quiet"]
    if learn:
        args.append("--learn")
    r = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return r, json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.peers
def test_compare_reports_librime_next_to_ours(tmp_path, tiny_cache):
    _install_rime()
    r, out = run_compare(tmp_path, tiny_cache, "rime")
    systems = out["systems"]
    assert set(systems) == {"delta-pinyin", "rime"}
    assert systems["rime"]["p_at_1"] == 1.0  # 你好 first for nihao, 现在 for xianzai
    assert systems["delta-pinyin"]["p_at_1"] == 1.0
    assert "| rime |" in r.stdout and (tmp_path / "c.png").stat().st_size > 1000


def test_a_missing_peer_is_named_and_the_others_still_run(tmp_path, tiny_cache, monkeypatch):
    monkeypatch.setenv("PEERS_BUILD_DIR", str(tmp_path / "nobuild"))
    monkeypatch.setenv("PATH", "/nonexistent")  # no compiler, no dpkg: nothing can be built
    r, out = run_compare(tmp_path, tiny_cache, "sunpinyin,nosuch")
    assert "delta-pinyin" in out["systems"]
    assert "sunpinyin" in out["skipped"] and "nosuch" in out["skipped"]
    assert "libsunpinyin-dev" in out["skipped"]["sunpinyin"]  # names the package to install
    assert "skipped sunpinyin" in r.stdout
