"""Where a keystroke's time goes with the neural LM on: the decoder, the candidates' scoring,
the context's handle (a fresh start or an advance by committed text).

    python benchmarks/lm_keystroke.py LOG [--limit 100] [--device cuda] [--json F]

Replays LOG letter by letter as benchmarks/keystroke.py does (the simulated user, learning
off, torch on one thread) and times each keystroke, and inside it every call into the
reranker (`logp`, `start`, `advance`; on a GPU each call is synchronised before its clock
stops, so its time is its own). The rest of a keystroke is the decoder and the engine's
bookkeeping. Also the kernel launches of one candidate scoring call (torch.profiler).
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
    args = ap.parse_args()
    records, _ = read_log(Path(args.log))
    records = records[: args.limit]
    out = {"log": Path(args.log).stem, "records": len(records), "date": time.strftime("%Y-%m-%d"),
           "modes": {}}
    base = Engine.load(Config(learning=False, lm=False), progress=False)
    for label, lm in (("LM off", False), ("LM on", True)):
        engine = Engine.load(Config(learning=False, lm=lm, device=args.device, threads=1),
                             progress=False) if lm else base
        timed = None
        if lm:
            timed = Timed(engine.reranker)
            engine.reranker = timed
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
            res["device"] = str(timed.r.device)
            if timed.cuda:
                res["one_logp"] = launches(timed.r)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
