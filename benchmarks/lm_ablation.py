"""The LM's training runs on a GPU: the MuonClip-vs-AdamW learning-rate sweep, the ablation
(hybrid 3:1, all attention NoPE and RoPE, all KDA, at equal parameters and tokens) and the
larger size; then the report (plots, tables) from their logs.

    python benchmarks/lm_ablation.py bundle --out .lmdata        # here: data for the device
    python benchmarks/lm_ablation.py train --plan sweep --corpus DIR --out $OUT/runs
    python benchmarks/lm_ablation.py train --plan final --muon-lr 4e-3 --adamw-lr 2e-3 ...
    python benchmarks/lm_ablation.py report --runs DIR [DIR ...] --optim-png F --table

Every run is `main.py lm train` on the corpus (train split, dev loss per domain on its dev
splits), as a subprocess; the runs of a plan share the one GPU, side by side (each alone
is bound by kernel launches, far from filling an H200). Each writes its log, curve and
best checkpoint under --out.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The hybrid of the shipped size: 4 layers (3 KDA, 1 NoPE attention over 64 characters).
BASE = dict(d_model=256, n_layers=4, heads=4, head_dim=64, window=64, gate_rank=64,
            mlp_hidden=768, dropout=0.1)
# The ablation's layouts; all-attention layers see the whole training window (256).
LAYOUTS = {
    "hybrid": {},
    "attention-nope": {"attn_every": 1, "window": 256},
    "attention-rope": {"attn_every": 1, "window": 256, "rope": True},
    "kda": {"attn_every": 0},
}
LARGE = dict(d_model=320, heads=5, mlp_hidden=960)  # the larger size: 7.3 M, 14 MB of bf16
MUON_LRS = (2e-3, 4e-3, 8e-3)
ADAMW_LRS = (1e-3, 2e-3, 4e-3)
ABLATION_LR = 4e-3  # MuonClip lr of the ablation's layouts (the middle of the hybrid's grid)
MAX_BYTES = 20 * 10**6  # the shipped model's limit


@dataclass
class Run:
    name: str
    optimizer: str
    lr: float
    model: dict
    group: str  # "sweep", "ablation", "size"
    extra: list[str] = field(default_factory=list)


def params_of(model: dict, vocab: int) -> int:
    from lm.model import KimiLinearLM, LMConfig

    return sum(p.numel() for p in KimiLinearLM(LMConfig(vocab=vocab, **model)).parameters())


def matched(layout: dict, vocab: int) -> dict:
    """The layout with the MLP width that brings its parameters nearest the hybrid's."""
    want = params_of(BASE, vocab)
    cfg = {**BASE, **layout}
    lo = params_of({**cfg, "mlp_hidden": 1}, vocab)
    per = 3 * cfg["d_model"] * cfg["n_layers"]  # parameters per unit of mlp_hidden
    return {**cfg, "mlp_hidden": max(1, round(1 + (want - lo) / per))}


def plan(name: str, vocab: int, muon_lr: float, adamw_lr: float) -> list[Run]:
    if name == "sweep":
        return ([Run(f"muonclip-lr{lr:g}", "muonclip", lr, BASE, "sweep") for lr in MUON_LRS]
                + [Run(f"adamw-lr{lr:g}", "adamw", lr, BASE, "sweep") for lr in ADAMW_LRS])
    if name == "final":
        runs = [Run("hybrid-muonclip", "muonclip", muon_lr, BASE, "ablation"),
                Run("hybrid-adamw", "adamw", adamw_lr, BASE, "optimizer")]
        runs += [Run(lay, "muonclip", muon_lr, matched(LAYOUTS[lay], vocab), "ablation")
                 for lay in LAYOUTS if lay != "hybrid"]
        runs.append(Run("hybrid-large", "muonclip", muon_lr, {**BASE, **LARGE}, "size"))
        return runs
    if name == "all":  # everything side by side, the layouts at ABLATION_LR
        runs = plan("sweep", vocab, muon_lr, adamw_lr)
        runs += [Run(lay, "muonclip", ABLATION_LR, matched(LAYOUTS[lay], vocab), "ablation")
                 for lay in LAYOUTS if lay != "hybrid"]
        runs.append(Run("hybrid-large", "muonclip", ABLATION_LR, {**BASE, **LARGE}, "size"))
        return runs
    if name == "rerun":  # the ablation again at equal tokens, every schedule run to its end
        runs = [Run("hybrid", "muonclip", ABLATION_LR, BASE, "ablation")]
        runs += [Run(lay, "muonclip", ABLATION_LR, matched(LAYOUTS[lay], vocab), "ablation")
                 for lay in LAYOUTS if lay != "hybrid"]
        runs.append(Run("hybrid-lr0.008", "muonclip", 8e-3, BASE, "size"))
        return runs
    if name == "smoke":
        return [Run("smoke", "muonclip", muon_lr, BASE, "sweep")]
    raise SystemExit(f"unknown plan {name!r}")


# ---- bundle (here) -------------------------------------------------------------------------

def bundle(args) -> int:
    """The corpus's train and dev splits with its index, and the built lexicon's engine files,
    as tarballs to carry to the device machine."""
    from corpus import default_corpus_dir
    from lexicon.build import FILES, default_cache_dir

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    corpus = Path(args.corpus) if args.corpus else default_corpus_dir()
    with tarfile.open(out / "corpus.tar.gz", "w:gz") as tar:
        tar.add(corpus / "documents.tsv", "corpus/documents.tsv")
        for split in ("train", "dev"):
            for p in sorted((corpus / split).glob("*.txt")):
                tar.add(p, f"corpus/{split}/{p.name}")
    lexicon = default_cache_dir()
    with tarfile.open(out / "lexicon.tar.gz", "w:gz") as tar:
        for f in FILES:
            tar.add(lexicon / f, f"{lexicon.name}/{f}")
    for p in sorted(out.iterdir()):
        print(f"{p}: {p.stat().st_size / 2**20:.1f} MiB")
    return 0


# ---- train (on the device) -----------------------------------------------------------------

def train(args) -> int:
    from lm.data import Vocab, corpus_lines

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = corpus_lines(Path(args.corpus), "train")
    vocab = len(Vocab.build([s for ls in lines.values() for s in ls]))
    runs = plan(args.plan, vocab, args.muon_lr, args.adamw_lr)
    procs = {}
    t0 = time.time()
    for r in runs:
        cmd = [sys.executable, str(ROOT / "main.py"), "lm", "train", "--corpus", args.corpus,
               "--device", args.device, "--quiet", "--optimizer", r.optimizer, "--lr", str(r.lr),
               "--steps", str(args.steps), "--batch", str(args.batch),
               "--length", str(args.length), "--eval-every", str(args.eval_every),
               "--warmup", str(args.warmup), "--mix", str(args.mix),
               "--eval-windows", str(args.eval_windows),
               "--final-windows", str(args.final_windows),
               "--max-seconds", str(args.max_seconds), "--model", json.dumps(r.model),
               "--out", str(out / f"{r.name}.safetensors"), "--log", str(out / f"{r.name}.json"),
               "--plot", str(out / f"{r.name}.png"), *r.extra]
        procs[r.name] = (r, subprocess.Popen(cmd, stdout=open(out / f"{r.name}.out", "w"),
                                             stderr=subprocess.STDOUT))
        print(f"started {r.name}: {r.optimizer} lr {r.lr:g}, {params_of(r.model, vocab) / 1e6:.2f} M "
              f"parameters, {json.dumps(r.model)}", flush=True)
    for name, (_r, p) in procs.items():
        p.wait()
        print(f"{name}: exit {p.returncode} after {time.time() - t0:.0f} s", flush=True)
    summary = {"plan": args.plan, "vocab": vocab, "wall_s": time.time() - t0, "runs": {}}
    for name, (r, p) in procs.items():
        path = out / f"{name}.json"
        if not path.exists():
            summary["runs"][name] = {"exit": p.returncode}
            continue
        log = json.loads(path.read_text(encoding="utf-8"))
        summary["runs"][name] = {
            "exit": p.returncode, "group": r.group, "optimizer": r.optimizer, "lr": r.lr,
            "model": r.model, "params": log["params"], "steps": log["steps_run"],
            "tokens": log["tokens"], "seconds": log["seconds"], "device": log["device"],
            "best": log.get("best"), "final_dev": log.get("final_dev"),
            "clips": log.get("clips"), "stopped_early": log.get("stopped_early"),
            "max_logit_last": log["max_logit"][-1] if log["max_logit"] else None,
        }
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"{'run':<20}{'params':>8}{'steps':>7}{'s':>6}{'best':>8}  final dev per domain")
    for name, s in summary["runs"].items():
        if "final_dev" not in s or not s["final_dev"]:
            print(f"{name:<20} failed (exit {s['exit']})")
            continue
        per = " ".join(f"{k[:4]} {v:.3f}" for k, v in s["final_dev"]["per_domain"].items())
        print(f"{name:<20}{s['params'] / 1e6:>8.2f}{s['steps']:>7}{s['seconds']:>6.0f}"
              f"{s['final_dev']['mean']:>8.4f}  {per}")
    return 0


# ---- pick (on the device): what comes back ----------------------------------------------

def pick(args) -> int:
    """Pack the logs, curves and outputs of --runs into logs.tar.gz and copy the checkpoints
    asked for (`--keep NAME ...`, or per optimizer the best hybrid of the sweep by final dev
    loss with `--best`) to --into; `--install` copies the first of them to the shipped path."""
    import shutil

    runs, into = Path(args.runs), Path(args.into)
    summary = json.loads((runs / "summary.json").read_text(encoding="utf-8"))
    ok = {n: r for n, r in summary["runs"].items() if r.get("final_dev")}
    keep = list(args.keep or [])
    shipped = None
    if args.ship:  # the hybrid (any size, either optimizer) with the best final dev loss
        hybrids = [n for n, r in ok.items() if r["model"].get("attn_every", 4) == 4
                   and (runs / f"{n}.safetensors").stat().st_size <= MAX_BYTES]
        shipped = min(hybrids, key=lambda n: ok[n]["final_dev"]["mean"])
        keep = [shipped] + [n for n in keep if n != shipped]
        print(f"shipped: {shipped}", flush=True)
        (runs / "choice.json").write_text(json.dumps(
            {"shipped": shipped, "by": "final dev loss, mean of domains",
             "candidates": {n: ok[n]["final_dev"]["mean"] for n in hybrids}}, indent=1))
    if args.best:
        for opt in ("muonclip", "adamw"):
            cands = [n for n, r in ok.items() if r["optimizer"] == opt and r["model"] == BASE]
            if cands:
                keep.append(min(cands, key=lambda n: ok[n]["final_dev"]["mean"]))
    with tarfile.open(into / "logs.tar.gz", "w:gz") as tar:
        for p in sorted(runs.iterdir()):
            if p.suffix != ".safetensors":
                tar.add(p, f"{runs.name}/{p.name}")
    for n in keep:
        if n not in ok:
            print(f"{n}: no checkpoint (the run failed)", flush=True)
            continue
        shutil.copy(runs / f"{n}.safetensors", into / f"{n}.safetensors")
        print(f"kept {n}: final dev {ok[n]['final_dev']['mean']:.4f}", flush=True)
    if args.install and keep and keep[0] in ok:
        from lm import DEFAULT_WEIGHTS

        shutil.copy(runs / f"{keep[0]}.safetensors", DEFAULT_WEIGHTS)
        print(f"installed {keep[0]} as {DEFAULT_WEIGHTS}")
    shutil.rmtree(runs)
    return 0


# ---- report (here) -------------------------------------------------------------------------

def _logs(dirs: list[Path]) -> dict[str, dict]:
    out = {}
    for d in dirs:
        for p in sorted(d.glob("*.json")):
            if p.name not in ("summary.json", "choice.json"):
                out[p.stem] = json.loads(p.read_text(encoding="utf-8"))
    return out


def optim_png(logs: dict[str, dict], path: Path) -> None:
    """Dev loss against tokens of every MuonClip and AdamW run of the hybrid, and the max
    attention logit of the two tuned ones."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    colors = {"muonclip": "tab:red", "adamw": "tab:blue"}
    for name, log in sorted(logs.items()):
        s = log["settings"]
        if s["model"] != BASE or not (name.startswith(("muonclip-", "adamw-"))
                                      or name in ("hybrid-muonclip", "hybrid-adamw")):
            continue
        final = not name.startswith(("muonclip-", "adamw-"))
        tok = s["batch"] * s["length"] / 1e6
        xs = [a * tok for a, *_ in log["dev"]]
        ys = [b for _, b, _ in log["dev"]]
        label = f"{s['optimizer']} lr {s['lr']:g}" + (" (final run)" if final else " (sweep)")
        ax.plot(xs, ys, color=colors[s["optimizer"]], lw=2.2 if final else 1.0,
                ls="-" if final else "--", alpha=1 if final else 0.6, label=label)
        if final:
            ml = log["max_logit"]
            ax2.plot([a * tok for a, _ in ml], [max(b) for _, b in ml], color=colors[s["optimizer"]],
                     lw=1.2, label=f"{s['optimizer']} lr {s['lr']:g}")
            if s["optimizer"] == "muonclip":
                ax2.axhline(s["tau"], color="grey", ls=":", lw=1, label=f"tau = {s['tau']:g}")
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("dev loss, nats per character (mean of domains)")
    ax.set_title("MuonClip vs AdamW, hybrid 4.95 M parameters")
    ax.set_ylim(top=min(6.0, ax.get_ylim()[1]))
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax2.set_xlabel("training tokens (millions)")
    ax2.set_ylabel("max pre-softmax attention logit")
    ax2.set_title("attention logits of the tuned runs")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def table(logs: dict[str, dict], names: list[str]) -> str:
    domains = sorted({d for n in names if n in logs for d in logs[n]["final_dev"]["per_domain"]})
    head = ("| run | optimizer, lr | parameters | tokens | steps | best step | "
            + " | ".join(domains) + " | mean |")
    rows = [head, "|" + "---|" * (7 + len(domains))]
    for n in names:
        if n not in logs:
            continue
        log = logs[n]
        s, f = log["settings"], log["final_dev"]
        rows.append(
            f"| {n} | {s['optimizer']} {s['lr']:g} | {log['params'] / 1e6:.2f} M | "
            f"{log['tokens'] / 1e6:.1f} M | {log['steps_run']} | {log['best']['step']} | "
            + " | ".join(f"{f['per_domain'][d]:.3f}" for d in domains) + f" | {f['mean']:.3f} |")
    return "\n".join(rows)


def report(args) -> int:
    logs = _logs([Path(d) for d in args.runs])
    if args.optim_png:
        optim_png(logs, Path(args.optim_png))
    print(table(logs, sorted(logs)))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bundle")
    b.add_argument("--out", default=".lmdata")
    b.add_argument("--corpus")
    t = sub.add_parser("train")
    t.add_argument("--plan", required=True, choices=("sweep", "final", "all", "rerun", "smoke"))
    t.add_argument("--corpus", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--muon-lr", type=float, default=2e-3)
    t.add_argument("--adamw-lr", type=float, default=2e-3)
    t.add_argument("--steps", type=int, default=3000)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--length", type=int, default=256)
    t.add_argument("--eval-every", type=int, default=250)
    t.add_argument("--warmup", type=int, default=100)
    t.add_argument("--eval-windows", type=int, default=256)
    t.add_argument("--final-windows", type=int, default=0)
    t.add_argument("--mix", type=float, default=1.0)
    t.add_argument("--max-seconds", type=float, default=0.0)
    t.add_argument("--device", default="cuda")
    k = sub.add_parser("pick")
    k.add_argument("--runs", required=True)
    k.add_argument("--into", required=True)
    k.add_argument("--keep", nargs="+")
    k.add_argument("--best", action="store_true")
    k.add_argument("--ship", action="store_true", help="choose the shipped model, keep it first")
    k.add_argument("--install", action="store_true")
    r = sub.add_parser("report")
    r.add_argument("--runs", nargs="+", required=True)
    r.add_argument("--optim-png")
    args = ap.parse_args()
    return {"bundle": bundle, "train": train, "pick": pick, "report": report}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
