"""The neural reranker on the dev logs: lambda tuned on one part, P@1 measured on the rest.

    python benchmarks/rerank.py [--dev out/dev] [--json benchmarks/rerank.json]
                                [--plot benchmarks/rerank.png] [--device cpu]

Logs come from benchmarks/devsets.py; none of their text was trained on. Lambda is chosen
on the first --tune records of the news and fortunes full-pinyin logs together (news:
held-out People's Daily, the LM's own domain; fortunes: sayings and tips, a domain it has
not seen). The rest of those two logs, the initials logs and the man-page log are measured
with that lambda, against the same engine with the LM off. Learning is off, so the numbers
are the LM's alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402

from evaluation.replay import replay  # noqa: E402
from evaluation.typing_log import load_log  # noqa: E402
from ime.config import Config  # noqa: E402
from ime.engine import Engine  # noqa: E402
from lm.rerank import NeuralReranker  # noqa: E402

LOGS = ["news-full", "fortunes-full", "news-initials", "fortunes-initials", "manpages-full"]
TUNED = ("news-full", "fortunes-full")  # the first --tune records of each pick lambda


def run(engine: Engine, records, label: str) -> dict:
    with tqdm(total=len(records), desc=label, unit=" rec", file=sys.stderr) as bar:
        _, s = replay(engine, records, progress=bar.update)
    return {
        k: s[k]
        for k in (
            "records",
            "p_at_1",
            "p_at_5",
            "char_accuracy",
            "keystrokes_per_char",
            "latency_ms",
        )
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev", type=Path, default=ROOT / "out" / "dev")
    ap.add_argument("--weights", type=Path, default=None)
    ap.add_argument("--tune", type=int, default=150, help="records of each tuning log")
    ap.add_argument("--lams", default="0.25,0.5,1")
    ap.add_argument("--limit", type=int, default=250, help="records measured per log")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--plot", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    logs = {}
    for name in LOGS:
        path = args.dev / f"{name}.jsonl"
        if not path.exists():
            print(f"rerank: {path} missing (run benchmarks/devsets.py); skipped", file=sys.stderr)
            continue
        logs[name], _ = load_log(path)
    if any(name not in logs for name in TUNED):
        print(f"rerank: the {' and '.join(TUNED)} logs are needed to tune lambda", file=sys.stderr)
        return 2
    base = Engine.load(Config(learning=False, lm=False), progress=False)
    reranker = NeuralReranker.load(args.weights, device=args.device)
    on = Engine(base.lexicon, base.bigram, Config(learning=False, lm=True), reranker=reranker)
    tune = [r for name in TUNED for r in logs[name][: args.tune]]
    out: dict = {
        "device": args.device,
        "threads": args.threads,
        "tune_records": len(tune),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "tuning": {},
    }
    out["tuning"]["off"] = run(base, tune, "tune, LM off")
    for lam in (float(x) for x in args.lams.split(",")):
        reranker.lam = lam
        out["tuning"][str(lam)] = run(on, tune, f"tune, lambda {lam}")
    best = max((k for k in out["tuning"] if k != "off"), key=lambda k: out["tuning"][k]["p_at_1"])
    reranker.lam = float(best)
    out["lambda"] = reranker.lam
    out["test"] = {}
    for name, recs in logs.items():
        recs = recs[args.tune :][: args.limit] if name in TUNED else recs[: args.limit]
        label = f"{name} (after {args.tune})" if name in TUNED else name
        out["test"][label] = {
            "off": run(base, recs, f"{label}, LM off"),
            "on": run(on, recs, f"{label}, LM on"),
        }
    print(
        f"lambda {reranker.lam} (P@1 on the tuning records: off "
        f"{out['tuning']['off']['p_at_1']:.3f}, on {out['tuning'][best]['p_at_1']:.3f})"
    )
    print(f"{'log':<28} {'P@1 off':>8} {'P@1 on':>8} {'p95 ms off':>11} {'p95 ms on':>10}")
    for label, r in out["test"].items():
        print(
            f"{label:<28} {r['off']['p_at_1']:>8.3f} {r['on']['p_at_1']:>8.3f} "
            f"{r['off']['latency_ms']['p95']:>11.2f} {r['on']['latency_ms']['p95']:>10.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.plot:
        plot(out, args.plot)
    return 0


def plot(out: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    lams = [k for k in out["tuning"] if k != "off"]
    ax1.plot(
        [float(k) for k in lams], [out["tuning"][k]["p_at_1"] for k in lams], "o-", label="LM on"
    )
    ax1.axhline(out["tuning"]["off"]["p_at_1"], color="grey", ls="--", label="LM off")
    ax1.set_xlabel("lambda")
    ax1.set_ylabel("P@1")
    ax1.set_title(f"tuning: {out['tune_records']} news and fortunes records")
    ax1.legend()
    ax1.grid(alpha=0.3)
    labels = list(out["test"])
    xs = range(len(labels))
    ax2.bar(
        [x - 0.2 for x in xs],
        [out["test"][k]["off"]["p_at_1"] for k in labels],
        0.4,
        label="LM off",
    )
    ax2.bar(
        [x + 0.2 for x in xs],
        [out["test"][k]["on"]["p_at_1"] for k in labels],
        0.4,
        label=f"LM on (lambda {out['lambda']})",
    )
    ax2.set_xticks(list(xs), [k.replace(" (", "\n(") for k in labels], fontsize=8)
    ax2.set_ylabel("P@1")
    ax2.set_ylim(0, 1)
    ax2.set_title("measured with the tuned lambda")
    ax2.legend()
    ax2.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
