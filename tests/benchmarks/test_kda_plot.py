"""benchmarks/kda.py without a GPU: the ours/fla chart of a saved run (--from --plot) and
the checks of its --set knob overrides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(ROOT / "benchmarks" / "kda.py"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_plot_from_saved_run(tmp_path) -> None:
    data = {
        "env": {"gpu": "test GPU", "fla": "0.6.0"},
        "chunk": [
            {
                "case": "chunk B4 T8192 H16 d128",
                "ours_fwd": 2.0,
                "fla_fwd": 1.0,
                "ours_fwdbwd": 9.0,
                "fla_fwdbwd": 10.0,
            },
        ],  # fmt: skip
        "decode": [{"case": "decode B256 H16 d128", "ours_graph": 0.14, "fla_graph": 0.14}],
        "score": [],
    }
    src = tmp_path / "run.json"
    src.write_text(json.dumps(data))
    png = tmp_path / "out" / "kda.png"
    res = _run("--from", str(src), "--plot", str(png))
    assert res.returncode == 0, res.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_from_bad_json_is_a_clear_error(tmp_path) -> None:
    src = tmp_path / "run.json"
    src.write_text("{not json")
    res = _run("--from", str(src), "--plot", str(tmp_path / "x.png"))
    assert res.returncode == 2
    assert "cannot read" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "x.png").exists()


def test_set_rejects_unknown_or_mistyped_knobs() -> None:
    for bad, words in (
        ("NO_SUCH_KNOB=1", "expected NAME=VALUE"),
        ("INTRA_BK", "expected NAME=VALUE"),
        ("INTRA_BK=wide", "takes a int"),
        ("FAST_DROP_LIMIT=[1]", "takes a float"),
    ):
        res = _run("--set", bad, "--chunk-only")
        assert res.returncode == 2, bad
        assert words in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_set_accepts_knobs_of_each_type() -> None:
    """Valid overrides get past the checks: here, to the no-GPU error (exit 2, no traceback)."""
    sets = ["INTRA_STAGES=3", "FAST_DROP_LIMIT=60", "SOLVE_PRECISION=tf32"]
    res = _run(*(a for s in sets for a in ("--set", s)), "--chunk-only")
    if "needs a CUDA device" not in res.stderr:  # a GPU machine would run the benchmark
        assert res.returncode == 0, res.stderr
        return
    assert res.returncode == 2 and "error: --set" not in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
