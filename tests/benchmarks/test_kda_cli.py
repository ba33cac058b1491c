"""benchmarks/kda.py without a GPU: the ours/fla chart of a saved run (--from --plot), the
checks of its --set / --sweep / --shapes arguments, and the sweep's bookkeeping."""

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


def test_bad_knobs_and_shapes_are_clear_errors() -> None:
    for args, words in (
        (("--set", "NO_SUCH_KNOB=1"), "expected NAME=VALUE"),
        (("--set", "INTRA_BK"), "expected NAME=VALUE"),
        (("--set", "INTRA_BK=wide"), "takes a int"),
        (("--set", "FAST_DROP_LIMIT=[1]"), "takes a float"),
        (("--sweep", "INTRA_BK"), "expected NAME=V1,V2"),
        (("--sweep", "INTRA_BK=16,x"), "takes a int"),
        (("--shapes", "4y8192"), "expected BxT"),
    ):
        res = _run(*args, "--chunk-only")
        assert res.returncode == 2, args
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


SWEEP_SCRIPT = """
import json, os, sys
os.environ["TRITON_INTERPRET"] = "1"
sys.path.insert(0, sys.argv[1])
import benchmarks.kda as kb
kb.DEV = "cpu"
kb.inputs = lambda B, T, H, K, V, grad: [None]
kb.torch.randn = lambda *a, **k: kb.torch.zeros(1)
kb.torch.cuda.empty_cache = lambda: None
seen = []
def ours(*a, **k):
    seen.append((kb.chunk_module.INTRA_BK, kb.chunk_module.INTRA_WARPS))
    if kb.chunk_module.INTRA_BK == 32 and kb.chunk_module.INTRA_WARPS == 8:
        raise RuntimeError("out of resources")
    wrong = kb.chunk_module.INTRA_BK == 16 and kb.chunk_module.INTRA_WARPS == 8
    return (kb.torch.ones(4, requires_grad=True) * (3 if wrong else 2),)
kb.chunk_kda = ours
kb.fla_chunk_kda = lambda *a, **k: (kb.torch.ones(4, requires_grad=True) * 2,)
kb.bench = lambda fn: (fn(), 2.0 if "fla_chunk_kda" in fn.__code__.co_names else 1.0)[1]
before = kb.knobs()
rows = kb.run_sweep(kb.parse_sweeps(["INTRA_BK=16,32", "INTRA_WARPS=4,8"]), [(1, 64)], True)
print(json.dumps(dict(rows=rows, seen=seen, restored=kb.knobs() == before)))
"""


def test_sweep_sets_each_combination_and_restores_the_knobs() -> None:
    """The sweep's bookkeeping with stand-ins for the GPU calls: every combination is set
    before its timing, a failing one is reported, ratios use fla's time, each output's error
    against fla's is recorded, knobs restored."""
    res = subprocess.run(
        [sys.executable, "-c", SWEEP_SCRIPT, str(ROOT)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    rows = out["rows"]
    assert [tuple(r["knobs"].values()) for r in rows] == [(16, 4), (16, 8), (32, 4), (32, 8)]
    seen = [tuple(s) for s in out["seen"]]
    assert list(dict.fromkeys(seen)) == [(16, 4), (16, 8), (32, 4), (32, 8)]
    assert "out of resources" in rows[3]["error"] and "fwd" not in rows[3]
    assert all(r["fwd"] == 1.0 and r["fwd_ratio"] == 0.5 for r in rows[:3])
    # each output is checked against fla's: the combination that computes a wrong one shows
    assert [r["rel_rms"] for r in rows[:3]] == [0.0, 0.5, 0.0]
    assert out["restored"]
