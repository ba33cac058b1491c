"""Held-out splits by document: a document (a source file, a man page, a fortune file, a
chunk of a table or a catalog) lies wholly in train, dev or test, so no held-out line has
its neighbours in training.

Within each source the documents are put in the order of a hash of their names (stable,
independent of the build order and of the other documents), then dealt out by Han
characters: dev until it holds `DEV_FRACTION` of the source, then test until `TEST_FRACTION`,
the rest to train. A document more than three times the target is passed over (it would
take too much of a small source); a source of fewer than `MIN_DOCS` documents goes wholly
to train. A pinned document keeps its split (news keeps the lexicon build's dev lines; the
texts of the old dev logs stay held out) and counts toward its split's share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["DocSize", "assign_splits", "SPLITS", "DEV_FRACTION", "TEST_FRACTION", "MIN_DOCS"]

SPLITS = ("train", "dev", "test")
DEV_FRACTION = 0.05
TEST_FRACTION = 0.05
MIN_DOCS = 3


@dataclass(frozen=True, slots=True)
class DocSize:
    name: str  # unique within its source
    han: int
    pinned: str | None = None


def _order(source: str, name: str) -> str:
    return hashlib.sha256(f"{source}\0{name}".encode()).hexdigest()


def assign_splits(source: str, docs: Sequence[DocSize], dev: float = DEV_FRACTION,
                  test: float = TEST_FRACTION, min_docs: int = MIN_DOCS) -> list[str]:
    """The split of each of `docs` (same order)."""
    out: list[str | None] = [d.pinned for d in docs]
    for d in docs:
        if d.pinned is not None and d.pinned not in SPLITS:
            raise ValueError(f"{source}/{d.name}: unknown split {d.pinned!r}")
    free = [i for i, d in enumerate(docs) if d.pinned is None]
    total = sum(d.han for d in docs)
    if len(docs) < min_docs or total == 0:
        return [s or "train" for s in out]
    have = {s: sum(d.han for d, p in zip(docs, out) if p == s) for s in SPLITS}
    targets = (("dev", dev * total), ("test", test * total))
    order = sorted(free, key=lambda i: _order(source, docs[i].name))
    for i in order:
        for split, target in targets:
            if have[split] < target and docs[i].han <= 3 * target:
                out[i] = split
                have[split] += docs[i].han
                break
        else:
            out[i] = "train"
    return [s or "train" for s in out]
