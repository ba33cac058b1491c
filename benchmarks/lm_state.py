"""The constant state, measured: per-keystroke scoring cost as the committed context grows.

    python benchmarks/lm_state.py --hybrid W --attention W2 --device cpu --json F
    python benchmarks/lm_state.py --plot F --merge cpu.json gpu.json

For each context length (16 ... 1,024 characters) the reranker's handle is advanced by that
much committed text, and one keystroke's work is timed: log P of 10 candidate sentences
(7 characters, sharing prefixes as an n-best does) from a handle that has scored nothing
yet (on a CPU, so the prefix trie starts empty). The hybrid keeps a KDA state and a 64-token
attention window, the same size after 16 characters or 1,024; the all-attention model is
loaded with a window past the longest context, so it attends to everything committed.
torch runs on one thread, as the engine does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LENGTHS = (16, 32, 64, 128, 256, 512, 1024)
# one keystroke's 10-best for "womenjintianqugongyuan", roughly as the decoder gives it
CANDIDATES = ["我们今天去公园", "我们今天去公元", "我们今天区公园", "我们今天去攻员", "我门今天去公园",
              "我们今天取公园", "我们今天去宫苑", "我们金天去公园", "我们今天去功员", "我们今天去公员"]
TEXT_SEED = ("今天我们在北京开会，讨论了明年的工作计划。大家都认为应该加强合作，提高效率，"
             "把更多的时间用在真正重要的事情上。会后我们一起去公园散步，天气很好。")


def measure(reranker, repeats: int) -> dict[str, dict]:
    import torch

    from lm.rerank import LMHandle

    text = (TEXT_SEED * (max(LENGTHS) // len(TEXT_SEED) + 1))[: max(LENGTHS)]
    out = {}
    for n in LENGTHS:
        h = reranker.advance(reranker.start(""), text[:n])
        times = []
        for i in range(repeats + 3):
            fresh = LMHandle(h.state, h.next_logp, h.chars)  # nothing scored after it yet
            t0 = time.perf_counter()
            reranker.logp(fresh, CANDIDATES)
            if reranker.device.type == "cuda":
                torch.cuda.synchronize()
            if i >= 3:  # warm-up left out
                times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out[str(n)] = {"median_ms": statistics.median(times),
                       "p95_ms": times[int(0.95 * (len(times) - 1))]}
        print(f"  context {n:>5}: median {out[str(n)]['median_ms']:.2f} ms, "
              f"p95 {out[str(n)]['p95_ms']:.2f} ms", flush=True)
    return out


def run(args) -> dict:
    import torch

    from benchmarks.machine import cpu_model, shown_path
    from lm.checkpoint import load_checkpoint
    from lm.rerank import NeuralReranker

    torch.set_num_threads(1)
    device = args.device
    name = torch.cuda.get_device_name() if device == "cuda" else cpu_model()
    res = {"device": device, "machine": name, "torch": torch.__version__, "threads": 1,
           "date": time.strftime("%Y-%m-%d"), "candidates": len(CANDIDATES), "models": {}}
    for label, path, overrides in (("hybrid", args.hybrid, {}),
                                   ("all attention", args.attention,
                                    {"window": 2 * max(LENGTHS)})):
        model, vocab = load_checkpoint(Path(path), device, **overrides)
        r = NeuralReranker(model, vocab)
        print(f"{label} ({path}, window {model.cfg.window}) on {name}:", flush=True)
        res["models"][label] = {"weights": shown_path(path), "window": model.cfg.window,
                                "layers": ["attention" if b.attention else "kda"
                                           for b in model.blocks],
                                "by_context": measure(r, args.repeats)}
    return res


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = {"hybrid": "-", "all attention": "--"}
    colors = {"cpu": "tab:blue", "cuda": "tab:green"}
    for res in results:
        for label, m in res["models"].items():
            xs = [int(n) for n in m["by_context"]]
            ys = [v["median_ms"] for v in m["by_context"].values()]
            ax.plot(xs, ys, styles[label], marker="o", color=colors[res["device"]],
                    label=f"{label}, {res['device'].replace('cuda', 'GPU')} ({res['machine']})")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("committed context, characters")
    ax.set_ylabel("scoring one keystroke (10 candidates), ms, median")
    ax.set_title("the constant state: KDA hybrid vs attention over the whole context")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hybrid", help="checkpoint of the hybrid (default: the shipped one)")
    ap.add_argument("--attention", help="checkpoint of an all-attention model")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--merge", type=Path, nargs="+", help="result files to plot together")
    ap.add_argument("--plot", type=Path)
    args = ap.parse_args()
    results = []
    if args.attention:
        from lm import DEFAULT_WEIGHTS

        args.hybrid = args.hybrid or DEFAULT_WEIGHTS
        res = run(args)
        results.append(res)
        if args.json:
            args.json.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
    for p in args.merge or []:
        results.append(json.loads(p.read_text(encoding="utf-8")))
    if args.plot and results:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
