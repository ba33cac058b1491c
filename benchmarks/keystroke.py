"""Per-keystroke latency, startup time and peak memory of the engine.

    python benchmarks/keystroke.py LOG [LOG ...] [--limit 500] [--learn] [--lm] [--threads 1]
        [--busy] [--json F] [--plot F]

Replays each log with the simulated user of docs/TYPING_LOG.md and reports, per log,
P@1/5/10, char accuracy and the latency of every keystroke (p50/p95/p99), plus the time to
load the engine once the lexicon is built and the process's peak resident memory. `--lm`
turns the neural reranker on (torch on `--threads` threads, as the engine runs it); `--busy`
keeps one core busy meanwhile, as the application being typed into would.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import busy_core, cpu_model  # noqa: E402
from evaluation.replay import plot_replay, replay  # noqa: E402
from evaluation.typing_log import read_log  # noqa: E402
from ime.config import Config  # noqa: E402
from ime.engine import Engine  # noqa: E402
from lexicon.build import default_cache_dir, ensure_built  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logs", nargs="+")
    ap.add_argument("--limit", type=int, default=500)
    ap.add_argument("--learn", action="store_true", help="learning on (default off)")
    ap.add_argument("--json")
    ap.add_argument("--plot")
    ap.add_argument("--cache-dir")
    ap.add_argument("--lm", action="store_true", help="the neural reranker on (default off)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (with --lm)")
    ap.add_argument("--lm-mode", choices=("rerank", "search"), default="rerank",
                    help="where the neural LM ranks (with --lm)")
    ap.add_argument("--busy", action="store_true", help="keep one core busy meanwhile")
    args = ap.parse_args()
    with busy_core(args.busy):
        return run(args)


def run(args) -> int:

    cache = ensure_built(Path(args.cache_dir) if args.cache_dir else default_cache_dir())
    learner = None
    if args.learn:
        import tempfile

        from ime.learner import open_learner

        learner = open_learner(Path(tempfile.mkdtemp()) / "user.db")
    t0 = time.perf_counter()
    engine = Engine.load(Config(learning=args.learn, lm=args.lm, threads=args.threads,
                                lm_mode=args.lm_mode), cache, learner=learner, progress=False)
    if args.lm and engine.reranker is None:
        raise SystemExit("--lm: the neural reranker could not be loaded (torch, weights)")
    engine.convert("nihao")  # first query: tries paged in
    startup = time.perf_counter() - t0

    report = {"machine": f"{cpu_model()}, {resource.getpagesize()} B pages, "
                         f"Python {platform.python_version()}",
              "date": time.strftime("%Y-%m-%d"), "startup_s": round(startup, 3),
              "lm": args.lm, "lm_mode": args.lm_mode if args.lm else None,
              "threads": args.threads, "busy_core": args.busy, "logs": {}}
    summaries, results = {}, {}
    for log in args.logs:
        records, bad = read_log(Path(log))
        name = Path(log).stem
        engine = Engine(engine.lexicon, engine.bigram, engine.config, learner=learner,
                        reranker=engine.reranker)
        res, summary = replay(engine, records[: args.limit])
        summary["bad_records"] = len(bad)
        summaries[name], results[name] = summary, res
        report["logs"][name] = {k: summary[k] for k in (
            "records", "p_at_1", "p_at_5", "p_at_10", "char_accuracy", "keystrokes_per_char",
            "latency_ms", "ms_per_record")}
        lat = summary["latency_ms"]
        print(f"{name}: P@1 {summary['p_at_1']:.3f} P@5 {summary['p_at_5']:.3f} "
              f"P@10 {summary['p_at_10']:.3f} char {summary['char_accuracy']:.3f} | "
              f"latency p50 {lat['p50']:.2f} p95 {lat['p95']:.2f} p99 {lat['p99']:.2f} ms "
              f"over {lat['keystrokes']} keystrokes", flush=True)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(f"startup {report['startup_s']} s, peak RSS {report['peak_rss_mb']} MB")
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    if args.plot:
        title = ("keystroke latency, neural LM on" + (", one core busy" if args.busy else "")
                 if args.lm else "keystroke latency, no neural LM")
        plot_replay(summaries, results, Path(args.plot), title=title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
