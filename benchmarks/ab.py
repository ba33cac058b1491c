"""The same benchmark in two checkouts, alternated in one run: accuracy must match, and the
latency ratio (this checkout / the other) is what changed.

    git worktree add /tmp/before <rev>
    python benchmarks/ab.py /tmp/before LOG [LOG ...] [--limit 500] [--rounds 3] [--busy]
        [--json F]

Each round runs `benchmarks/keystroke.py` of the other checkout, then this one's, on the same
logs (the neural LM off, learning off), each in a fresh process; the table gives per log the
accuracy of both (they should be identical) and the median over rounds of p50/p95 latency
with their ratio. `--busy` keeps one core busy meanwhile (benchmarks.machine.busy_core).

`--cpu-clock` times each keystroke by the CPU time of the engine's thread instead of the
wall clock (keystroke.py run with `time.perf_counter` replaced by `time.thread_time`; the
engine runs the keystroke on that thread with the neural LM off), so that the percentiles
are CPU milliseconds per keystroke, which another process on a shared core does not inflate.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import busy_core, cpu_model, git_commit, shown_path  # noqa: E402

METRICS = ("p_at_1", "p_at_5", "p_at_10", "char_accuracy", "keystrokes_per_char")


# keystroke.py with every time.perf_counter() reading the thread's CPU clock
CPU_CLOCK = ("import runpy, sys, time; time.perf_counter = time.thread_time; "
             "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")


def run(checkout: Path, logs: list[str], limit: int, out: Path, cpu_clock: bool = False) -> dict:
    """One benchmark process; its report, with the CPU seconds it used (user + system: on a
    shared machine a steadier measure than wall-clock latency)."""
    script = str(checkout / "benchmarks" / "keystroke.py")
    cmd = [sys.executable, *(["-c", CPU_CLOCK] if cpu_clock else []), script, *logs,
           "--limit", str(limit), "--json", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, cwd=checkout, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(out.read_text())
    report["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("other", help="the other checkout (e.g. a git worktree of the old commit)")
    ap.add_argument("--this", type=Path, default=ROOT,
                    help="the checkout measured against it (default: this one)")
    ap.add_argument("logs", nargs="+")
    ap.add_argument("--limit", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--busy", action="store_true", help="keep one core busy meanwhile")
    ap.add_argument("--cpu-clock", action="store_true",
                    help="keystroke times in CPU milliseconds of the engine's thread")
    ap.add_argument("--json")
    args = ap.parse_args()
    logs = [str(Path(p).resolve()) for p in args.logs]
    other = Path(args.other).resolve()
    runs: dict[str, list[dict]] = {"other": [], "this": []}
    with tempfile.TemporaryDirectory() as tmp, busy_core(args.busy):
        for r in range(args.rounds):
            for name, checkout in (("other", other), ("this", args.this.resolve())):
                t0 = time.perf_counter()
                runs[name].append(run(checkout, logs, args.limit, Path(tmp) / f"{name}{r}.json",
                                      args.cpu_clock))
                print(f"round {r + 1}/{args.rounds} {name}: {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr, flush=True)
    report = {"machine": cpu_model(), "date": time.strftime("%Y-%m-%d"), "busy": args.busy,
              "clock": "thread CPU" if args.cpu_clock else "wall",
              "rounds": args.rounds, "other": git_commit(other) or shown_path(other),
              "logs": {}}
    print("| log | metrics equal | P@1 other / this | p50 ms other / this (ratio) | "
          "p95 ms other / this (ratio) |\n|---|---|---|---|---|")
    for name in runs["this"][0]["logs"]:
        a = [x["logs"][name] for x in runs["other"]]
        b = [x["logs"][name] for x in runs["this"]]
        equal = all(a[0][m] == b[0][m] for m in METRICS)
        lat = {}
        for q in ("p50", "p95", "p99"):
            qa = statistics.median(x["latency_ms"][q] for x in a)
            qb = statistics.median(x["latency_ms"][q] for x in b)
            lat[q] = {"other": qa, "this": qb, "ratio": qb / qa if qa else float("nan")}
        report["logs"][name] = {"metrics_equal": equal,
                                "other": {m: a[0][m] for m in METRICS},
                                "this": {m: b[0][m] for m in METRICS}, "latency_ms": lat}
        print(f"| {name} | {'yes' if equal else 'NO'} | {a[0]['p_at_1']:.3f} / "
              f"{b[0]['p_at_1']:.3f} | {lat['p50']['other']:.2f} / {lat['p50']['this']:.2f} "
              f"({lat['p50']['ratio']:.2f}) | {lat['p95']['other']:.2f} / "
              f"{lat['p95']['this']:.2f} ({lat['p95']['ratio']:.2f}) |")
    cpu = {k: statistics.median(x["cpu_s"] for x in runs[k]) for k in runs}
    report["cpu_s"] = {**cpu, "ratio": cpu["this"] / cpu["other"]}
    print(f"CPU seconds of the whole benchmark process (load, then every log): other "
          f"{cpu['other']:.1f}, this {cpu['this']:.1f} (ratio {cpu['this'] / cpu['other']:.2f})")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
