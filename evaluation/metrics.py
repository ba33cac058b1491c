"""The metrics of docs/TYPING_LOG.md, one implementation shared by `replay` and `compare`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["RecordResult", "edit_distance", "char_accuracy", "hits_at", "summarize", "KS"]

KS = (1, 5, 10)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute: cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def char_accuracy(top1: str, text: str) -> float:
    """1 − edit distance / len(text), floored at 0."""
    if not text:
        return 0.0
    return max(0.0, 1.0 - edit_distance(top1, text) / len(text))


def hits_at(sentences: Sequence[str], text: str) -> dict[int, bool]:
    """P@k hits: whether `text` is among the first k sentence candidates, k in KS."""
    return {k: text in sentences[:k] for k in KS}


@dataclass
class RecordResult:
    text: str
    keys: str
    top1: str
    hits: dict[int, bool]
    char_acc: float
    selection_keys: int = 0  # selections and pages
    failed: bool = False
    latencies_ms: list[float] = field(default_factory=list)
    ms: float = 0.0  # wall time of the whole record

    @property
    def kpc(self) -> float:
        return (len(self.keys) + self.selection_keys) / max(len(self.text), 1)


def _pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(xs, q)), 3) if xs else 0.0


def summarize(results: Sequence[RecordResult], window: int = 200, **extra) -> dict:
    """The JSON summary of docs/TYPING_LOG.md (means over records) plus the learning curve."""
    n = len(results)
    lat = [x for r in results for x in r.latencies_ms]
    out: dict = {"records": n}
    out.update(extra)
    for k in KS:
        out[f"p_at_{k}"] = round(sum(r.hits[k] for r in results) / n, 4) if n else 0.0
    out["char_accuracy"] = round(sum(r.char_acc for r in results) / n, 4) if n else 0.0
    out["keystrokes_per_char"] = round(sum(r.kpc for r in results) / n, 4) if n else 0.0
    out["selection_keys_per_record"] = (
        round(sum(r.selection_keys for r in results) / n, 4) if n else 0.0)
    out["failed_records"] = sum(r.failed for r in results)
    out["latency_ms"] = {"p50": _pct(lat, 50), "p95": _pct(lat, 95), "p99": _pct(lat, 99),
                         "max": round(max(lat), 3) if lat else 0.0, "keystrokes": len(lat)}
    out["ms_per_record"] = round(sum(r.ms for r in results) / n, 3) if n else 0.0
    out["curve"] = [
        {"start": s, "p_at_1": round(sum(r.hits[1] for r in results[s:s + window])
                                     / len(results[s:s + window]), 4)}
        for s in range(0, n, window)
    ]
    return out
