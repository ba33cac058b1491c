"""The neural reranker on the dev logs: lambda tuned on one part, P@1 measured on the rest.

    python benchmarks/rerank.py [--logs benchmarks/data/dev] [--weights W [W ...]]
        [--labels L [L ...]] [--tune 100] [--limit 300] [--lams 0.25,0.5,1]
        [--json benchmarks/rerank.json] [--plot benchmarks/rerank.png] [--device cpu]
        [--per-keystroke] [--lm-mode rerank|search] [--width 24] [--no-off] [--top 10]

Logs: every *.jsonl in --logs (default: the corpus's per-domain dev logs,
benchmarks/data/dev from `main.py corpus logs`; or the older benchmarks/devsets.py ones); none of their text was trained on. For each model
(--weights, default the shipped one) lambda is chosen on the first --tune records of every
full-pinyin log together; then the next --limit records of those logs and the first --limit
of the others (initials) are measured with that lambda, against the same engine with the LM
off (run once for all models; `--no-off` leaves that out). Learning is off, so the numbers
are the LM's alone. `--lm-mode search` puts the LM inside the decoder's search instead
(issue 15): lambda is then the search's weight, `--width` its extensions per node.

Each record's keys are typed at once, after its context (P@k of the simulated user of
docs/TYPING_LOG.md, whose letter-by-letter typing ends in the same candidates: typing is
incremental, tests/ime check that); `--per-keystroke` replays letter by letter instead and
also reports the latency of each keystroke (benchmarks/keystroke.py measures that properly).
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

from benchmarks.machine import shown_path  # noqa: E402
from evaluation.metrics import char_accuracy  # noqa: E402
from evaluation.replay import replay  # noqa: E402
from evaluation.typing_log import load_log  # noqa: E402
from ime.config import Config  # noqa: E402
from ime.engine import Engine  # noqa: E402
from lm.rerank import NeuralReranker  # noqa: E402

KEEP = ("records", "p_at_1", "p_at_5", "char_accuracy", "keystrokes_per_char", "latency_ms")


PER_KEYSTROKE = False  # --per-keystroke


def run(engine: Engine, records, label: str) -> dict:
    if PER_KEYSTROKE:
        with tqdm(total=len(records), desc=label, unit=" rec", file=sys.stderr) as bar:
            _, s = replay(engine, records, progress=bar.update)
        return {k: s[k] for k in KEEP}
    ctx = engine.new_context()
    hits = {1: 0, 5: 0}
    chars = 0.0
    for rec in tqdm(records, desc=label, unit=" rec", file=sys.stderr):
        ctx.cancel()
        ctx.set_context(rec.context)
        ctx.type(rec.keys)
        sentences = [x.text for x in ctx.sentences]
        for k in hits:
            hits[k] += rec.text in sentences[:k]
        chars += char_accuracy(sentences[0] if sentences else "", rec.text)
    n = max(1, len(records))
    return {"records": len(records), "p_at_1": hits[1] / n, "p_at_5": hits[5] / n,
            "char_accuracy": chars / n}


def set_lam(engine: Engine, lam: float, search: bool) -> None:
    """The LM's weight: in the search (`search`), or the reranker's."""
    if search:
        engine.search_lam = lam
    else:
        engine.reranker.lam = lam


def default_logs() -> Path:
    corpus = ROOT / "benchmarks" / "data" / "dev"  # the corpus's per-domain dev logs
    return corpus if corpus.is_dir() else ROOT / "out" / "dev"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logs", type=Path, default=None, help="directory of dev logs")
    ap.add_argument("--weights", type=Path, nargs="+", default=[None])
    ap.add_argument("--labels", nargs="+", help="a name per --weights")
    ap.add_argument("--tune", type=int, default=100, help="records of each full log for lambda")
    ap.add_argument("--lams", default="0.25,0.5,1")
    ap.add_argument("--limit", type=int, default=300, help="records measured per log")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--plot", type=Path)
    ap.add_argument("--per-keystroke", action="store_true",
                    help="replay letter by letter (slower; adds keystroke latencies)")
    ap.add_argument("--lm-mode", choices=("rerank", "search"), default="rerank")
    ap.add_argument("--width", type=int, help="the search's width (with --lm-mode search)")
    ap.add_argument("--no-off", action="store_true", help="leave out the LM-off runs")
    ap.add_argument("--top", type=int, default=None,
                    help="sentences the reranker rescores (default: lm.rerank.TOP)")
    args = ap.parse_args()
    global PER_KEYSTROKE
    PER_KEYSTROKE = args.per_keystroke
    torch.set_num_threads(args.threads)
    logs_dir = args.logs or default_logs()
    logs = {p.stem: load_log(p)[0] for p in sorted(logs_dir.glob("*.jsonl"))}
    tuned = [name for name in logs if name.endswith("-full")]
    if not tuned:
        print(f"rerank: no *-full.jsonl logs in {logs_dir} to tune lambda on", file=sys.stderr)
        return 2
    labels = args.labels or [str(w) if w else "shipped" for w in args.weights]
    if len(labels) != len(args.weights):
        raise SystemExit("rerank: one label per --weights")
    base = Engine.load(Config(learning=False, lm=False), progress=False)
    tune = [r for name in tuned for r in logs[name][: args.tune]]
    measured = {name: (recs[args.tune:][: args.limit] if name in tuned else recs[: args.limit])
                for name, recs in logs.items()}
    out: dict = {
        "logs": str(logs_dir.relative_to(ROOT) if logs_dir.is_relative_to(ROOT) else logs_dir),
        "device": args.device,
        "threads": args.threads,
        "per_keystroke": args.per_keystroke,
        "tune_records": len(tune),
        "tune_logs": tuned,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "lm_mode": args.lm_mode,
        "models": {},
    }
    if not args.no_off:
        out["off"] = {"tuning": run(base, tune, "tune, LM off"),
                      "test": {name: run(base, recs, f"{name}, LM off")
                               for name, recs in measured.items()}}
    search = args.lm_mode == "search"
    for weights, label in zip(args.weights, labels):
        reranker = NeuralReranker.load(weights, device=args.device,
                                       **({"top": args.top} if args.top else {}))
        on = Engine(base.lexicon, base.bigram,
                    Config(learning=False, lm=True, lm_mode=args.lm_mode), reranker=reranker)
        if args.width:
            on.search_width = args.width
        res: dict = {"weights": shown_path(weights) if weights else "lm/weights (shipped)", "tuning": {},
                     "top": reranker.top,
                     "width": on.search_width if search else None}

        for lam in (float(x) for x in args.lams.split(",")):
            set_lam(on, lam, search)
            res["tuning"][str(lam)] = run(on, tune, f"{label}: tune, lambda {lam}")
        best = max(res["tuning"], key=lambda k: res["tuning"][k]["p_at_1"])
        set_lam(on, float(best), search)
        res["lambda"] = float(best)
        res["test"] = {name: run(on, recs, f"{label}: {name}") for name, recs in measured.items()}
        out["models"][label] = res
    print(f"P@1, learning off; lambda tuned on the first {args.tune} records of {tuned}")
    head = "".join(f"{lab[:14]:>15}" for lab in labels)
    print(f"{'log':<22}{'off':>8}{head}")
    for name in measured:
        row = "".join(f"{out['models'][lab]['test'][name]['p_at_1']:>15.3f}" for lab in labels)
        off = f"{out['off']['test'][name]['p_at_1']:>8.3f}" if "off" in out else f"{'-':>8}"
        print(f"{name:<22}{off}{row}")
    print(f"{'lambda':<30}" + "".join(f"{out['models'][lab]['lambda']:>15}" for lab in labels))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.plot and "off" in out:
        plot(out, args.plot)
    return 0


def plot(out: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(out["models"])
    logs = list(out["off"]["test"])
    fig, ax = plt.subplots(figsize=(max(7, 1.3 * len(logs)), 4))
    width = 0.8 / (len(labels) + 1)
    xs = range(len(logs))
    ax.bar([x - 0.4 + width / 2 for x in xs], [out["off"]["test"][n]["p_at_1"] for n in logs],
           width, label="LM off")
    for i, lab in enumerate(labels):
        m = out["models"][lab]
        ax.bar([x - 0.4 + width * (i + 1.5) for x in xs], [m["test"][n]["p_at_1"] for n in logs],
               width, label=f"{lab} (lambda {m['lambda']})")
    ax.set_xticks(list(xs), logs, fontsize=8, rotation=20)
    ax.set_ylabel("P@1")
    ax.set_ylim(0, 1)
    ax.set_title(f"P@1 on the dev logs ({out['logs']}), learning off")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
