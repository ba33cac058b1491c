"""Tune the lexicon unigram's list weights (lexicon.build.LIST_WEIGHTS) on the corpus dev text.

    python benchmarks/weights.py --lexicon DIR [--corpus DIR] [--rounds 2] [--json F]

The unigram is log-linear in the lists' log frequencies (lexicon/build.py):
log P(w) = Σ_k α_k ℓ_k(w) − log Z(α). Its log-likelihood of a text is concave in α (a
maximum-entropy model with one feature per list), so Newton steps find the best α ≥ 0:

    ∇ = E_text[ℓ] − E_P[ℓ]          H = −Cov_P(ℓ)

The dev text of every domain (`corpus-v1/dev/*.txt`, never the test split, never a reserved
source) is segmented with the current weights (`lexicon.build.corpus_clauses`), each domain
weighs the same (the mean of the per-domain average log-likelihoods), and the segmentation is
redone with the new weights for `--rounds` rounds. DIR is a built lexicon (its words trie
gives the vocabulary). Prints the weights and per-domain perplexities before and after.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lexicon.build import (  # noqa: E402
    CORPUS_DOMAINS,
    LIST_WEIGHTS,
    corpus_clauses,
    corpus_dir,
    mixed_logp,
    read_frequency_lists,
)
from lexicon.trie import SystemLexicon  # noqa: E402


def features(lists: dict[str, dict[str, float]], names: list[str], vocab: list[str]
             ) -> np.ndarray:
    """ℓ_k(w) for every list k and word w: [K, V]."""
    rows = []
    for name in names:
        one = {name: lists[name]}
        # mixed_logp with a single weight 1 is the list's own normalised log frequency;
        # the shift by its log Z is a constant per list, irrelevant to α's optimum
        rows.append(mixed_logp(one, {name: 1.0}, vocab))
    return np.stack(rows)


def fit(L: np.ndarray, counts: list[np.ndarray], alpha: np.ndarray, steps: int = 30
        ) -> np.ndarray:
    """Newton ascent on the mean over domains of the per-token log-likelihood, α ≥ 0."""
    means = np.stack([(L * c).sum(axis=1) / c.sum() for c in counts]).mean(axis=0)  # E_text ℓ
    for _ in range(steps):
        s = alpha @ L
        s -= s.max()
        p = np.exp(s)
        p /= p.sum()
        e = L @ p  # E_P ℓ: [K]
        grad = means - e
        cov = (L * p) @ L.T - np.outer(e, e)
        step = np.linalg.solve(cov + 1e-9 * np.eye(len(alpha)), grad)
        new = np.maximum(alpha + step, 0.0)
        if np.abs(new - alpha).max() < 1e-5:
            return new
        alpha = new
    return alpha


def log_likelihoods(L: np.ndarray, counts: list[np.ndarray], alpha: np.ndarray) -> list[float]:
    s = alpha @ L
    s -= s.max()
    logz = np.log(np.exp(s).sum())
    return [float((s * c).sum() / c.sum() - logz) for c in counts]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lexicon", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    cdir = args.corpus or corpus_dir()
    if cdir is None:
        raise SystemExit("no corpus built (python main.py corpus build)")
    t0 = time.time()
    lexicon = SystemLexicon.load(args.lexicon)
    words = lexicon.words
    vocab = [words.restore_key(i) for i in range(len(words))]
    lists = read_frequency_lists(progress=False)
    from lexicon.sources import read_people_daily

    lines = read_people_daily()
    train = lines[: len(lines) - int(len(lines) * 0.10)]
    pd: dict[str, float] = {}
    for ws in train:
        for w in ws:
            pd[w] = pd.get(w, 0.0) + 1.0
    lists["people_daily"] = pd
    names = [n for n in LIST_WEIGHTS if n in lists]
    L = features(lists, names, vocab)
    alpha = np.array([LIST_WEIGHTS[n] for n in names])
    start = alpha.copy()
    history = []
    for r in range(args.rounds):
        seg = (alpha @ L).tolist()
        counts = []
        for dom in CORPUS_DOMAINS:
            ids = [w for c in corpus_clauses(cdir / "dev" / f"{dom}.txt", words, seg) for w in c]
            counts.append(np.bincount(np.asarray(ids, dtype=np.int64),
                                      minlength=len(vocab)).astype(np.float64))
        before = log_likelihoods(L, counts, alpha)
        if r == 0:
            ll_start = before
        alpha = fit(L, counts, alpha)
        after = log_likelihoods(L, counts, alpha)
        history.append({"round": r, "weights": dict(zip(names, alpha.round(4).tolist())),
                        "perplexity_before": [round(float(np.exp(-x)), 1) for x in before],
                        "perplexity_after": [round(float(np.exp(-x)), 1) for x in after],
                        "tokens": [int(c.sum()) for c in counts]})
        print(json.dumps(history[-1], ensure_ascii=False))
    out = {"domains": list(CORPUS_DOMAINS), "start": dict(zip(names, start.tolist())),
           "start_perplexity": [round(float(np.exp(-x)), 1) for x in ll_start],
           "weights": dict(zip(names, alpha.round(3).tolist())), "rounds": history,
           "seconds": round(time.time() - t0, 1)}
    print(json.dumps(out["weights"]))
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
