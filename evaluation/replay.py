"""Replay: the simulated user of docs/TYPING_LOG.md, run against an Engine.

For each record: type the keys one letter at a time (each keystroke timed), score the
n-best against the text (P@k, char accuracy), then select until the text is committed:
the whole text if it is among the first 10 candidates, else piece by piece the longest
candidate that is a prefix of what is still to commit. With learning on, the engine learns
from the commit exactly as it does in the UI.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from evaluation.metrics import RecordResult, char_accuracy, hits_at, summarize
from evaluation.typing_log import LogRecord
from ime.context import InputContext
from ime.engine import Engine

__all__ = ["simulate_record", "replay", "plot_replay", "save_figure", "VISIBLE"]

VISIBLE = 10  # candidates the simulated user looks through (two pages of five)


def simulate_record(ctx: InputContext, rec: LogRecord, at_once: bool = False,
                    inspect: Callable[[InputContext], None] | None = None) -> RecordResult:
    """One record: typed letter by letter (each keystroke timed), or with `at_once` all its
    keys in one call (the same candidates, since typing is incremental, tests/ime check
    that, and the same picks and commit events: no keystroke latencies). `inspect(ctx)` is
    called once the keys are typed, before the first pick."""
    t_record = time.perf_counter()
    ctx.cancel()
    ctx.set_context(rec.context)
    latencies: list[float] = []
    if at_once:
        ctx.type(rec.keys)
    else:
        for ch in rec.keys:
            t0 = time.perf_counter()
            ctx.type(ch)
            latencies.append((time.perf_counter() - t0) * 1000)
    if inspect is not None:
        inspect(ctx)
    sentences = [s.text for s in ctx.sentences]
    top1 = sentences[0] if sentences else ""
    result = RecordResult(rec.text, rec.keys, top1, hits_at(sentences, rec.text),
                          char_accuracy(top1, rec.text), latencies_ms=latencies)

    page_size = ctx.engine.config.page_size
    todo = rec.text
    while todo:
        remaining_keys = len(ctx.remaining)
        best = -1
        for i, c in enumerate(ctx.candidates[:VISIBLE]):
            if c.end >= remaining_keys:
                if c.text == todo:  # the whole rest at once: the best possible pick
                    best = i
                    break
            elif todo.startswith(c.text) and (best < 0 or
                                              len(c.text) > len(ctx.candidates[best].text)):
                best = i
        if best < 0:
            result.failed = True
            result.selection_keys += len(todo)
            result.hits = {k: False for k in result.hits}
            ctx.cancel()
            break
        result.selection_keys += best // page_size + 1  # page keys, then the selection key
        picked = ctx.candidates[best].text
        ctx.select_candidate(best)
        todo = todo[len(picked):]
        if not ctx.keys and todo:  # committed everything but the text is not done
            result.failed = True
            result.selection_keys += len(todo)
            result.hits = {k: False for k in result.hits}
            break
    result.ms = (time.perf_counter() - t_record) * 1000
    return result


def replay(engine: Engine, records: Sequence[LogRecord], window: int = 200,
           progress: Callable[[int], None] | None = None, at_once: bool = False
           ) -> tuple[list[RecordResult], dict]:
    ctx = engine.new_context()
    results: list[RecordResult] = []
    for rec in records:
        results.append(simulate_record(ctx, rec, at_once))
        if progress is not None:
            progress(1)
    summary = summarize(results, window, learn=engine.config.learning,
                        lm=engine.reranker is not None and engine.config.lm)
    return results, summary


def plot_replay(summaries: dict[str, dict], results: dict[str, list[RecordResult]],
                path: Path, title: str = "") -> None:
    """Learning curves (P@1 per window) and the per-keystroke latency distribution."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for name, s in summaries.items():
        xs = [c["start"] for c in s["curve"]]
        ys = [c["p_at_1"] for c in s["curve"]]
        ax1.plot(xs, ys, marker="o", label=f"{name} (P@1 {s['p_at_1']:.3f})")
    ax1.set_xlabel("record (window start)")
    ax1.set_ylabel("P@1 in window")
    ax1.set_ylim(0, 1)
    ax1.set_title("learning curve")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    for name, rs in results.items():
        lat = sorted(x for r in rs for x in r.latencies_ms)
        if lat:
            ax2.plot(lat, [i / len(lat) for i in range(1, len(lat) + 1)], label=name)
    ax2.set_xscale("log")
    ax2.set_xlabel("ms per keystroke")
    ax2.set_ylabel("fraction of keystrokes")
    ax2.set_title("keystroke latency (CDF)")
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    save_figure(fig, path, title)


def save_figure(fig, path: Path, title: str = "") -> None:
    """Write a matplotlib figure as PNG atomically (temp file, then rename) and close it."""
    import matplotlib.pyplot as plt

    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
