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

def _logs(specs: list[str]) -> dict[str, dict]:
    """Training logs of NAME=DIR arguments, keyed NAME/run."""
    out = {}
    for spec in specs:
        tag, _, d = spec.rpartition("=")
        for p in sorted(Path(d).glob("*.json")):
            if p.name not in ("summary.json", "choice.json"):
                out[f"{tag or Path(d).name}/{p.stem}"] = json.loads(p.read_text(encoding="utf-8"))
    return out


def _max_logit(log: dict) -> float | None:
    vals = [max(b) for _, b in log["max_logit"] if b]
    return max(vals) if vals else None


def _dev_at(log: dict, step: int) -> float | None:
    return next((m for st, m, _ in log["dev"] if st == step), None)


def optim_png(logs: dict[str, dict], path: Path) -> None:
    """Dev loss against training tokens of every MuonClip and AdamW run of the sweep (the best
    of each bold), and the max attention logit of each run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweep = {n: log for n, log in logs.items()
             if n.split("/")[1].startswith(("muonclip-lr", "adamw-lr")) and log["settings"][
                 "model"] == BASE}
    best = {opt: min((n for n in sweep if sweep[n]["settings"]["optimizer"] == opt),
                     key=lambda n: sweep[n]["final_dev"]["mean"]) for opt in ("muonclip", "adamw")}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    colors = {"muonclip": "tab:red", "adamw": "tab:blue"}
    for name, log in sorted(sweep.items()):
        s = log["settings"]
        bold = name in best.values()
        tok = s["batch"] * s["length"] / 1e6
        label = f"{s['optimizer']}, lr {s['lr']:g}" + (" (best)" if bold else "")
        ax.plot([a * tok for a, *_ in log["dev"]], [b for _, b, _ in log["dev"]],
                color=colors[s["optimizer"]], lw=2.4 if bold else 1.0, alpha=1 if bold else 0.5,
                ls="-" if bold else "--", marker="o", ms=3 if bold else 2, label=label)
        ml = [(a, max(b)) for a, b in log["max_logit"] if b]
        ax2.plot([a * tok for a, _ in ml], [b for _, b in ml], color=colors[s["optimizer"]],
                 lw=1.6 if bold else 0.8, alpha=1 if bold else 0.5, label=label)
    tau = next(iter(sweep.values()))["settings"]["tau"]
    ax2.axhline(tau, color="grey", ls=":", lw=1, label=f"QK-clip tau = {tau:g} (MuonClip)")
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("dev loss, nats per character (mean of 4 domains)")
    ax.set_title("MuonClip vs AdamW: hybrid, 4.95 M parameters, same schedule")
    ax.set_ylim(3.6, 5.0)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax2.set_xlabel("training tokens (millions)")
    ax2.set_ylabel("max pre-softmax logit of the attention layer")
    ax2.set_title("attention logits (the clip would act above tau)")
    ax2.set_yscale("log")
    ax2.legend(fontsize=7)
    ax2.grid(alpha=0.3, which="both")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def table(logs: dict[str, dict], names: list[str], at: int | None = None) -> str:
    """Markdown: final dev loss per domain (every window) of each run; `at`: also the mean
    dev loss (its spread windows) at that step, where every run had seen the same tokens."""
    domains = sorted({d for n in names if n in logs for d in logs[n]["final_dev"]["per_domain"]})
    extra = [f"dev at step {at}"] if at else []
    head = ("| run | optimizer, lr | parameters | tokens | steps | "
            + " | ".join(domains + ["mean"] + extra + ["max logit"]) + " |")
    rows = [head, "|" + "---|" * (6 + len(domains) + len(extra) + 1)]
    for n in names:
        log = logs[n]
        s, f = log["settings"], log["final_dev"]
        cells = [f"{f['per_domain'][d]:.3f}" for d in domains] + [f"**{f['mean']:.3f}**"]
        if at:
            v = _dev_at(log, at)
            cells.append(f"{v:.3f}" if v is not None else "–")
        ml = _max_logit(log)
        cells.append(f"{ml:.1f}" if ml is not None else "–")
        rows.append(f"| {n.split('/')[1]} | {s['optimizer']} {s['lr']:g} | "
                    f"{log['params'] / 1e6:.2f} M | {log['tokens'] / 1e6:.1f} M | "
                    f"{log['steps_run']} of {s['steps']} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def compact(logs: dict[str, dict]) -> dict:
    """What RESULTS.md cites, per run: settings, sizes, time, dev losses and their curve,
    the max attention logit every 50 steps, the clip counts."""
    keep = ("config", "settings", "device", "torch", "train_chars", "mix_weights", "dev_chars",
            "params", "steps_run", "tokens", "seconds", "best", "final_dev", "clips",
            "stopped_early", "dev")
    out = {}
    for n, log in logs.items():
        r = {k: log[k] for k in keep if k in log}
        r["max_logit"] = [x for x in log["max_logit"] if x[0] % 50 == 0]
        out[n] = r
    return out


def report(args) -> int:
    logs = _logs(args.runs)
    if args.optim_png:
        optim_png(logs, Path(args.optim_png))
    if args.json:
        Path(args.json).write_text(json.dumps(compact(logs), indent=1, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    groups: dict[str, list[str]] = {}
    for n in logs:
        groups.setdefault(n.split("/")[0], []).append(n)
    for tag, names in groups.items():
        steps = [logs[n]["steps_run"] for n in names]
        at = max(st for st, *_ in logs[names[0]]["dev"] if st <= min(steps)) if steps else None
        print(f"\n{tag}:\n{table(logs, names, at)}")
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
    r.add_argument("--runs", nargs="+", required=True, metavar="NAME=DIR")
    r.add_argument("--optim-png")
    r.add_argument("--json", help="the runs' logs, compacted")
    args = ap.parse_args()
    return {"bundle": bundle, "train": train, "pick": pick, "report": report}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
