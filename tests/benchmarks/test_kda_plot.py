"""benchmarks/kda.py --from --plot: the ours/fla chart of a saved run, without a GPU."""

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
