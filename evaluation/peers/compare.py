"""`python main.py compare LOG`: our engine and the peer IMEs on the same typing log.

Every system sees the same records; P@k and char accuracy come from `evaluation.metrics` (the
code `replay` uses). Our engine is driven by the simulated user of docs/TYPING_LOG.md; a peer
is asked for its candidates for the whole key string, and with `--learn` it is then shown
the committed text so it can learn from the same picks (`PeerProcess.learn`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from evaluation.metrics import RecordResult, char_accuracy, hits_at, summarize
from evaluation.peers.peers import PEERS, PeerError, PeerProcess, PeerUnavailable
from evaluation.replay import save_figure, simulate_record
from evaluation.typing_log import LogRecord
from ime.engine import Engine

__all__ = ["compare", "format_table", "plot_compare", "OURS"]

OURS = "delta-pinyin"
COLUMNS = ("p_at_1", "p_at_5", "p_at_10", "char_accuracy", "ms_per_record")


def _peer_results(name: str, records: Sequence[LogRecord], learn: bool,
                  progress) -> list[RecordResult]:
    out: list[RecordResult] = []
    with PeerProcess(name) as peer:
        for rec in records:
            t0 = time.perf_counter()
            try:
                cands = peer.candidates(rec.keys)
            except PeerError as e:  # a timeout or bad answer counts as a miss, and is said
                print(f"compare: {name}: {rec.keys}: {e}", file=sys.stderr)
                cands = []
            ms = (time.perf_counter() - t0) * 1000
            top1 = cands[0] if cands else ""
            out.append(RecordResult(rec.text, rec.keys, top1, hits_at(cands, rec.text),
                                    char_accuracy(top1, rec.text), ms=ms))
            if learn:
                try:
                    peer.learn(rec.keys, rec.text)
                except PeerError as e:
                    print(f"compare: {name}: learn {rec.keys}: {e}", file=sys.stderr)
            progress()
    return out


def compare(engine: Engine, records: Sequence[LogRecord], peers: Sequence[str],
            learn: bool = False, progress=lambda: None) -> tuple[dict[str, dict], dict[str, str]]:
    """Summaries per system, and the reason each peer that could not run was skipped."""
    summaries: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    ctx = engine.new_context()
    ours = []
    for rec in records:
        # timed like a peer: candidates for the whole key string in one call, from scratch
        t0 = time.perf_counter()
        engine.new_context(rec.context).type(rec.keys)
        ms = (time.perf_counter() - t0) * 1000
        r = simulate_record(ctx, rec)  # the metrics (and learning) of the simulated user
        r.ms = ms
        ours.append(r)
        progress()
    summaries[OURS] = summarize(ours, learn=learn)
    for name in peers:
        if name not in PEERS:
            skipped[name] = f"unknown peer (known: {', '.join(PEERS)})"
            continue
        try:
            summaries[name] = summarize(_peer_results(name, records, learn, progress),
                                        learn=learn)
        except PeerUnavailable as e:
            skipped[name] = str(e)
            print(f"compare: skipping {name}: {e}", file=sys.stderr)
    return summaries, skipped


def format_table(summaries: dict[str, dict]) -> str:
    head = "| system | P@1 | P@5 | P@10 | char acc | ms/record |"
    rows = [head, "|---|---:|---:|---:|---:|---:|"]
    for name, s in summaries.items():
        rows.append(f"| {name} | {s['p_at_1']:.3f} | {s['p_at_5']:.3f} | {s['p_at_10']:.3f} | "
                    f"{s['char_accuracy']:.3f} | {s['ms_per_record']:.2f} |")
    return "\n".join(rows)


def plot_compare(results: dict[str, dict[str, dict]], path: Path, title: str = "") -> None:
    """Grouped bars of P@1 / P@5 / P@10 per system, one panel per log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 4), squeeze=False)
    for ax, (log, summaries) in zip(axes[0], results.items()):
        names = list(summaries)
        width = 0.8 / 3
        for k, key in enumerate(("p_at_1", "p_at_5", "p_at_10")):
            xs = [i + (k - 1) * width for i in range(len(names))]
            ax.bar(xs, [summaries[n][key] for n in names], width, label=key.replace("p_at_", "P@"))
        ax.set_xticks(range(len(names)), names, rotation=20, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(log)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, path, title)
