"""The neural LM three ways on the dev logs: off, rescoring the n-best, inside the search.

    python benchmarks/lm_search.py LOG [LOG ...] [--tune 80] [--limit 200]
        [--lams 0.3,0.6,1.0] [--widths 8,16,24,48] [--busy] [--json F] [--plot F.png]

The search's lambda is chosen on the first --tune records of the full-pinyin logs (names
containing "full") together, by mean P@1; then the next --limit records of every log (the
first --limit of the others) are replayed with the LM off, with n-best rescoring (the
reranker's own lambda) and with the LM in the search. Learning is off, torch runs on one
thread. Then the cost per keystroke as a function of the search width (extensions the
neural LM scores per node) on the first log, as a plot. `--busy` keeps one core busy
throughout (benchmarks.machine.busy_core), as the application being typed into would.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tqdm import tqdm  # noqa: E402

from benchmarks.machine import busy_core, cpu_model  # noqa: E402
from evaluation.replay import replay  # noqa: E402
from evaluation.typing_log import load_log  # noqa: E402
from ime.config import Config  # noqa: E402
from ime.engine import Engine  # noqa: E402

KEEP = ("records", "p_at_1", "p_at_5", "char_accuracy", "latency_ms")


def run(engine: Engine, records, label: str) -> dict:
    with tqdm(total=len(records), desc=label, unit=" rec", file=sys.stderr) as bar:
        _, s = replay(engine, records, progress=bar.update)
    return {k: s[k] for k in KEEP}


def with_mode(base: Engine, lm: bool, mode: str = "search", lam: float | None = None,
              width: int | None = None) -> Engine:
    e = Engine(base.lexicon, base.bigram, base.config.with_(lm=lm, lm_mode=mode),
               reranker=base.reranker)
    if lam is not None:
        e.search_lam = lam
    if width is not None:
        e.search_width = width
    return e


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logs", nargs="+", type=Path)
    ap.add_argument("--tune", type=int, default=80)
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--lams", default="0.3,0.6,1.0")
    ap.add_argument("--widths", default="8,16,24,48")
    ap.add_argument("--busy", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--plot", type=Path)
    args = ap.parse_args()
    base = Engine.load(Config(learning=False, lm=True, threads=1), progress=False)
    if base.reranker is None:
        raise SystemExit("the neural LM could not be loaded (torch, weights)")
    logs = {p.stem: load_log(p)[0] for p in args.logs}
    full = [n for n in logs if "full" in n]
    report: dict = {"machine": cpu_model(), "date": time.strftime("%Y-%m-%d"),
                    "busy_core": args.busy, "threads": 1, "logs": {}, "tuning": {}}
    with busy_core(args.busy):
        lams = [float(x) for x in args.lams.split(",")]
        for lam in lams:
            e = with_mode(base, True, "search", lam)
            p = [run(e, logs[n][: args.tune], f"tune lam={lam} {n}")["p_at_1"] for n in full]
            report["tuning"][str(lam)] = sum(p) / max(len(p), 1)
        lam = max(lams, key=lambda x: (report["tuning"][str(x)], -x))
        report["lambda"] = lam
        for name, records in logs.items():
            held = records[args.tune: args.tune + args.limit] if name in full \
                else records[: args.limit]
            report["logs"][name] = {
                "off": run(with_mode(base, False), held, f"off {name}"),
                "rerank": run(with_mode(base, True, "rerank"), held, f"rerank {name}"),
                "search": run(with_mode(base, True, "search", lam), held, f"search {name}"),
            }
        first = next(iter(logs))
        held = logs[first][args.tune: args.tune + min(args.limit, 100)]
        report["widths"] = {}
        for w in (int(x) for x in args.widths.split(",")):
            r = run(with_mode(base, True, "search", lam, w), held, f"width {w}")
            report["widths"][str(w)] = {"p_at_1": r["p_at_1"], "latency_ms": r["latency_ms"]}
    print(f"search lambda {lam} (tuning P@1 {report['tuning']})")
    print("| log | P@1 off / rerank / search | P@5 off / rerank / search | "
          "keystroke p95 ms off / rerank / search |\n|---|---|---|---|")
    for name, r in report["logs"].items():
        m = [r[k] for k in ("off", "rerank", "search")]
        print(f"| {name} | " + " / ".join(f"{x['p_at_1']:.3f}" for x in m) + " | "
              + " / ".join(f"{x['p_at_5']:.3f}" for x in m) + " | "
              + " / ".join(f"{x['latency_ms']['p95']:.1f}" for x in m) + " |")
    for w, r in report["widths"].items():
        print(f"width {w}: P@1 {r['p_at_1']:.3f}, keystroke p50 {r['latency_ms']['p50']:.1f} "
              f"p95 {r['latency_ms']['p95']:.1f} ms")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        ws = sorted(report["widths"], key=int)
        fig, ax = plt.subplots(figsize=(6, 4))
        for q in ("p50", "p95", "p99"):
            ax.plot([int(w) for w in ws], [report["widths"][w]["latency_ms"][q] for w in ws],
                    marker="o", label=q)
        ax.set_xlabel("search width (extensions the neural LM scores per node)")
        ax.set_ylabel("ms per keystroke")
        ax.set_title(f"the neural LM in the search: cost per keystroke ({first})")
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
