"""Where a keystroke's time goes with the neural LM on: the decoder, the candidates' scoring,
the context's handle (a fresh start or an advance by committed text).

    python benchmarks/lm_keystroke.py LOG [--limit 100] [--device cuda] [--json F]
        [--lm-mode search --widths 8,16,24,48 --lam 0.3] [--plot F.png]

Replays LOG letter by letter as benchmarks/keystroke.py does (the simulated user, learning
off, torch on one thread) and times each keystroke, and inside it every call into the
reranker (`logp`, `start`, `advance`; on a GPU each call is synchronised before its clock
stops, so its time is its own). The rest of a keystroke is the decoder and the engine's
bookkeeping. Also the kernel launches of one candidate scoring call (torch.profiler).
With `--lm-mode search` the LM runs inside the decoder's search, once per `--widths` entry
(extensions it scores per node): the cost per keystroke against the width, as a plot.
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

from evaluation.replay import save_figure  # noqa: E402
from evaluation.typing_log import read_log  # noqa: E402
from ime.config import Config  # noqa: E402
from ime.engine import Engine  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * (len(xs) - 1) + 0.5))] if xs else 0.0


def summary(xs: list[float]) -> dict:
    return {"n": len(xs), "mean": statistics.fmean(xs) if xs else 0.0, "p50": pct(xs, 0.5),
            "p95": pct(xs, 0.95), "p99": pct(xs, 0.99), "max": max(xs, default=0.0)}


class Timed:
    """The reranker with its calls timed into `self.spent[name]` (ms, this keystroke)."""

    def __init__(self, reranker) -> None:
        import torch

        self.r = reranker
        self.cuda = reranker.device.type == "cuda"
        self.sync = torch.cuda.synchronize if self.cuda else (lambda: None)
        self.spent: dict[str, float] = {}
        self.calls: dict[str, list[float]] = {"logp": [], "start": [], "advance": []}

    def __getattr__(self, name):
        attr = getattr(self.r, name)
        if name not in self.calls:
            return attr

        def timed(*a, **kw):
            t0 = time.perf_counter()
            out = attr(*a, **kw)
            self.sync()
            ms = (time.perf_counter() - t0) * 1000
            self.spent[name] = self.spent.get(name, 0.0) + ms
            self.calls[name].append(ms)
            return out

        return timed


def launches(reranker) -> dict:
    """CUDA kernel launches and their GPU time in one `logp` of 10 candidates."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    h = reranker.start("今天我们在北京开会，讨论了明年的工作计划。")
    texts = ["我们今天去公园", "我们今天去公元", "我们今天区公园", "我们今天去攻员", "我门今天去公园",
             "我们今天取公园", "我们今天去宫苑", "我们金天去公园", "我们今天去功员", "我们今天去公员"]
    reranker.logp(h, texts)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        reranker.logp(h, texts)
        torch.cuda.synchronize()
    events = [e for e in prof.events() if e.device_type.name == "CUDA"]
    return {"kernels": len(events), "gpu_us": sum(e.device_time for e in events)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--lm-mode", choices=("rerank", "search"), default="rerank")
    ap.add_argument("--widths", default="24", help="search widths (with --lm-mode search)")
    ap.add_argument("--lam", type=float, help="the search's lambda (default the engine's)")
    ap.add_argument("--plot", type=Path, help="keystroke ms against the search width")
    args = ap.parse_args()
    records, _ = read_log(Path(args.log))
    records = records[: args.limit]
    out = {"log": Path(args.log).stem, "records": len(records), "date": time.strftime("%Y-%m-%d"),
           "modes": {}}
    base = Engine.load(Config(learning=False, lm=False), progress=False)
    runs = [("LM off", False, None)]
    if args.lm_mode == "search":
        runs += [(f"search, width {w}", True, int(w)) for w in args.widths.split(",")]
    else:
        runs.append(("LM on", True, None))
    on = None
    for label, lm, width in runs:
        if lm and on is None:
            on = Engine.load(Config(learning=False, lm=True, device=args.device, threads=1,
                                    lm_mode=args.lm_mode), progress=False)
            on.reranker = Timed(on.reranker)
        engine = on if lm else base
        timed = None
        if lm:
            timed = engine.reranker
            timed.calls = {k: [] for k in timed.calls}
            if width is not None:
                engine.search_width = width
                if args.lam is not None:
                    engine.search_lam = args.lam
        ctx = engine.new_context()
        total, parts = [], {"logp": [], "start": [], "advance": [], "rest": []}
        hits = 0
        for rec in records:
            ctx.cancel()
            ctx.set_context(rec.context)
            for ch in rec.keys:
                if timed is not None:
                    timed.spent = {}
                t0 = time.perf_counter()
                ctx.type(ch)
                ms = (time.perf_counter() - t0) * 1000
                total.append(ms)
                spent = timed.spent if timed is not None else {}
                for k in ("logp", "start", "advance"):
                    parts[k].append(spent.get(k, 0.0))
                parts["rest"].append(ms - sum(spent.values()))
            # the replay's picks come after all the keys, untimed; the next record's
            # set_context starts afresh, so they are left out here
            hits += bool(ctx.sentences) and ctx.sentences[0].text == rec.text
        res = {"p_at_1_typed": hits / max(1, len(records)), "keystroke_ms": summary(total),
               "parts_ms": {k: summary(v) for k, v in parts.items()}}
        if timed is not None:
            res["calls_ms"] = {k: summary(v) for k, v in timed.calls.items()}
            res["device"] = out["device"] = str(timed.r.device)
            if timed.cuda:
                res["one_logp"] = launches(timed.r)
        if width is not None:
            res["width"], res["lam"] = width, engine.search_lam
        out["modes"][label] = res
        k = res["keystroke_ms"]
        print(f"{label}: keystroke p50 {k['p50']:.2f} p95 {k['p95']:.2f} p99 {k['p99']:.2f} ms "
              f"({k['n']} keystrokes)", flush=True)
        for part, s in res["parts_ms"].items():
            print(f"   {part:>8}: mean {s['mean']:.2f} p50 {s['p50']:.2f} p95 {s['p95']:.2f} ms")
        for name, s in res.get("calls_ms", {}).items():
            print(f"   call {name:>8}: {s['n']} calls, p50 {s['p50']:.2f} p95 {s['p95']:.2f} ms")
        if "one_logp" in res:
            print(f"   one logp: {res['one_logp']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    if args.plot:
        plot(out, args.plot)
    return 0


def plot(out: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    widths = [(m["width"], m) for m in out["modes"].values() if "width" in m]
    if not widths:
        return
    fig, ax = plt.subplots(figsize=(6.5, 4))
    xs = [w for w, _ in widths]
    for q, style in (("p50", "-"), ("p95", "--"), ("p99", ":")):
        ax.plot(xs, [m["keystroke_ms"][q] for _, m in widths], style, marker="o",
                label=f"keystroke {q}")
    ax.plot(xs, [m["parts_ms"]["logp"]["mean"] for _, m in widths], "-", marker="s",
            label="LM scoring per keystroke (mean)")
    off = out["modes"]["LM off"]["keystroke_ms"]["p95"]
    ax.axhline(off, color="grey", ls=":", lw=1, label=f"LM off, p95 ({off:.1f} ms)")
    ax.set_xlabel("search width (extensions the neural LM scores per node)")
    ax.set_ylabel("ms per keystroke")
    ax.set_title(f"the LM in the search: cost per keystroke ({out['log']}, "
                 f"{out['records']} records, {out.get('device', '')})")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(main())
