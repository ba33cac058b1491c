"""The command line: results on the tiny lexicon, and errors as one line, never a traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args, cwd=None, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


def test_convert_prints_the_top_candidates(tiny_cache):
    r = run("--cache-dir", str(tiny_cache), "convert", "nihao", "xianzai")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("nihao\t1.你好")
    assert lines[1].startswith("xianzai\t1.现在")


@pytest.mark.parametrize("args,needle", [
    (["convert", "NiHao"], "invalid keys"),
    (["replay", "missing.jsonl"], "no such file"),
    (["make-log", "missing.txt", "--out", "x.jsonl"], "no such file"),
    (["--config", "bad.toml", "convert", "nihao"], "unknown setting"),
    (["lexicon", "forget", "你好", "--pinyin", "xx yy"], "invalid pinyin"),
])
def test_errors_are_one_line_without_traceback(tmp_path, tiny_cache, args, needle):
    (tmp_path / "bad.toml").write_text("colour = 'red'\n")
    r = run("--cache-dir", str(tiny_cache), *args, cwd=tmp_path,
            env_extra={"XDG_DATA_HOME": str(tmp_path / "data")})
    assert r.returncode != 0
    assert needle in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_replay_reports_bad_records_and_strict_exits_2(tmp_path, tiny_cache):
    log = tmp_path / "log.jsonl"
    log.write_text('{"keys": "nihao", "text": "你好"}\nnot json\n{"keys": "xianzai", "text": '
                   '"现在"}\n', encoding="utf-8")
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    r = run("--cache-dir", str(tiny_cache), "replay", str(log), "--json", str(tmp_path / "s.json"),
            "--plot", str(tmp_path / "p.png"), "--quiet", env_extra=env)
    assert r.returncode == 0, r.stderr
    assert "line 2" in r.stderr
    assert not (tmp_path / "data" / "delta-pinyin" / "user.db").exists()  # never the user's
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["records"] == 2 and s["bad_records"] == 1 and s["p_at_1"] == 1.0
    assert (tmp_path / "p.png").stat().st_size > 1000
    r = run("--cache-dir", str(tiny_cache), "replay", str(log), "--strict", "--quiet",
            env_extra=env)
    assert r.returncode == 2 and "line 2" in r.stderr and "Traceback" not in r.stderr


def test_make_log_then_replay(tmp_path, tiny_cache):
    text = tmp_path / "t.txt"
    text.write_text("你好，现在我是中国人。\n", encoding="utf-8")
    log = tmp_path / "t.jsonl"
    r = run("make-log", str(text), "--out", str(log), "--mode", "initials")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert [x["keys"] for x in lines] == ["nh", "xzwszgr"]
    assert lines[1]["context"] == "你好，"
    r = run("--cache-dir", str(tiny_cache), "replay", str(log), "--no-learn", "--quiet",
            env_extra={"XDG_DATA_HOME": str(tmp_path / "data")})
    assert r.returncode == 0, r.stderr
    assert "P@1" in r.stdout


def test_console_types_picks_and_commits(tmp_path, tiny_cache):
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "--cache-dir", str(tiny_cache),
                        "console"], input="nihao\n \nxianzai\n2\n:q\n", capture_output=True,
                       text=True, timeout=120, env={**os.environ,
                                                    "XDG_DATA_HOME": str(tmp_path / "d")})
    assert r.returncode == 0, r.stderr
    assert "1.你好" in r.stdout
    assert "committed: 你好" in r.stdout
    assert "[xian zai]" in r.stdout or "[xian'zai]" in r.stdout or "xian" in r.stdout
    assert "committed:" in r.stdout.split("committed: 你好", 1)[1]


@pytest.mark.parametrize("args", [
    ["convert", ""], ["console", "--page-size", "0"], ["console", "--page-size", "12"],
    ["convert", "nihao", "--config", "/nonexistent/config.toml"],
])
def test_bad_arguments_exit_non_zero_with_one_line(tiny_cache, tmp_path, args):
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "--cache-dir", str(tiny_cache),
                        *args], input="", capture_output=True, text=True, timeout=120,
                       env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "d"),
                            "XDG_CONFIG_HOME": str(tmp_path / "c")})
    assert r.returncode == 2, r.stdout
    assert r.stderr.startswith("error: ") and "Traceback" not in r.stderr


def test_common_options_may_follow_the_subcommand(tiny_cache, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text("page_size = 2\n")
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "convert", "nihao",
                        "--cache-dir", str(tiny_cache), "--config", str(cfg), "--top", "9"],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "d")})
    assert r.returncode == 0, r.stderr
    assert "你好" in r.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("page_size = true\n")
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "convert", "nihao",
                        "--cache-dir", str(tiny_cache), "--config", str(bad)],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "d")})
    assert r.returncode == 2 and "page_size" in r.stderr  # the file after the subcommand is read
