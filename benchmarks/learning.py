"""Online learning: replay one user's log with and without learning, and time each commit.

    python benchmarks/learning.py LOG [--limit 1500] [--window 200] [--json F] [--plot F.png]

The log should be a single user's writing where domain terms recur (benchmarks/devsets.py
makes one from a group of man pages). Reports P@1 over the last `window` records with and
without learning, both learning curves as a PNG, and the learner's cost per commit (the
SQLite transaction included).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.replay import plot_replay, replay  # noqa: E402
from evaluation.typing_log import read_log  # noqa: E402
from ime.config import Config  # noqa: E402
from ime.engine import Engine  # noqa: E402
from ime.learner import open_learner  # noqa: E402
from lexicon.build import default_cache_dir, ensure_built  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("--limit", type=int, default=1500)
    ap.add_argument("--window", type=int, default=200)
    ap.add_argument("--json")
    ap.add_argument("--plot")
    ap.add_argument("--cache-dir")
    args = ap.parse_args()

    cache = ensure_built(Path(args.cache_dir) if args.cache_dir else default_cache_dir())
    records, _ = read_log(Path(args.log))
    records = records[: args.limit]
    base = Engine.load(Config(learning=False, lm=False), cache, progress=False)

    res_off, off = replay(base, records, args.window)

    learner = open_learner(Path(tempfile.mkdtemp()) / "user.db")
    engine = Engine(base.lexicon, base.bigram, Config(learning=True, lm=False), learner=learner)
    commit_ms: list[float] = []
    learn = learner.learn

    def timed_learn(event):
        t0 = time.perf_counter()
        learn(event)
        commit_ms.append((time.perf_counter() - t0) * 1000)

    learner.learn = timed_learn  # type: ignore[method-assign]
    res_on, on = replay(engine, records, args.window)

    last = slice(len(records) - args.window, len(records))
    p1_off = float(np.mean([r.hits[1] for r in res_off[last]]))
    p1_on = float(np.mean([r.hits[1] for r in res_on[last]]))
    report = {
        "log": Path(args.log).name, "records": len(records), "window": args.window,
        "p_at_1_last_window": {"learning": round(p1_on, 4), "no_learning": round(p1_off, 4),
                               "gain_points": round(100 * (p1_on - p1_off), 1)},
        "p_at_1_all": {"learning": on["p_at_1"], "no_learning": off["p_at_1"]},
        "keystrokes_per_char": {"learning": on["keystrokes_per_char"],
                                "no_learning": off["keystrokes_per_char"]},
        "commit_ms": {"p50": round(float(np.percentile(commit_ms, 50)), 3),
                      "p95": round(float(np.percentile(commit_ms, 95)), 3),
                      "max": round(max(commit_ms), 3), "commits": len(commit_ms)},
        "user_lexicon_entries": len(learner.store),
        "latency_ms": {"learning": on["latency_ms"], "no_learning": off["latency_ms"]},
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    if args.plot:
        plot_replay({"learning": on, "no learning": off}, {"learning": res_on,
                                                           "no learning": res_off},
                    Path(args.plot), title=f"learning on {Path(args.log).name}")
    learner.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
