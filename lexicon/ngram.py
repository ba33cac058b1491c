"""Word bigram language model with interpolated modified Kneser-Ney smoothing.

    P(w | h) = max(c(h,w) − D(c(h,w)), 0) / c(h)  +  γ(h) · P_low(w)
    γ(h)     = (D1·N1(h•) + D2·N2(h•) + D3+·N3+(h•)) / c(h)
    P_low(w) = μ · N1+(•w) / N1+(••)  +  (1 − μ) · P_lex(w)

D1, D2, D3+ are Chen & Goodman's estimates from the counts of counts. The lower order mixes
the Kneser-Ney continuation probability of the running text with the lexicon's unigram
P_lex (jieba's broad-coverage frequencies): our running text is 1.6 M characters of 1998
news, far too little to rank everyday words by continuation counts alone.

At run time the model is a dict of seen pairs (exact interpolated log-probabilities) plus a
backoff weight per history and the lower-order log-probability per word: one dict lookup
per query. `h = BOS` is the start of a clause.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from pathlib import Path

import numpy as np

__all__ = ["BigramModel", "estimate_kneser_ney"]


class BigramModel:
    """Read-only word bigram model over word ids 0..V−1; history id V is the clause start."""

    def __init__(self, low_logp: np.ndarray, backoff: np.ndarray, keys: np.ndarray,
                 logp: np.ndarray) -> None:
        self.vocab_size = int(low_logp.shape[0])
        self.bos = self.vocab_size
        self._stride = self.vocab_size + 1
        # arrays of C doubles: a list of Python floats would cost three times the memory
        self._low = array("d", low_logp.astype(np.float64).tobytes())  # [V]
        self._backoff = array("d", backoff.astype(np.float64).tobytes())  # [V + 1]
        self._pairs: dict[int, float] = dict(zip(keys.tolist(), logp.astype(np.float64).tolist()))
        self._arrays = (low_logp, backoff, keys, logp)

    @property
    def num_bigrams(self) -> int:
        return len(self._pairs)

    def logp(self, h: int, w: int) -> float:
        """log P(w | h), natural log."""
        v = self._pairs.get(h * self._stride + w)
        if v is not None:
            return v
        return self._backoff[h] + self._low[w]

    def tables(self) -> tuple[dict[int, float], int, array, array]:
        """(pairs, stride, backoff, low) for callers that inline `logp` in a hot loop:
        logp(h, w) = pairs[h * stride + w] if present, else backoff[h] + low[w]."""
        return self._pairs, self._stride, self._backoff, self._low

    def unigram(self, w: int) -> float:
        return self._low[w]

    def save(self, path: Path) -> None:
        low, backoff, keys, logp = self._arrays
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, low=low, backoff=backoff, keys=keys, logp=logp)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> BigramModel:
        with np.load(path) as z:
            return cls(z["low"], z["backoff"], z["keys"], z["logp"])

    def perplexity(self, sentences: Iterable[list[int]]) -> float:
        """Per-word perplexity over clauses of word ids (each clause starts at BOS)."""
        total, n = 0.0, 0
        for sent in sentences:
            h = self.bos
            for w in sent:
                total += self.logp(h, w)
                n += 1
                h = w
        return math.exp(-total / max(n, 1))


def estimate_kneser_ney(
    sentences: Iterable[list[int]],
    lexicon_logp: np.ndarray,
    mix: float = 0.5,
) -> BigramModel:
    """Estimate the model from clauses of word ids (ids < V = len(lexicon_logp)).

    `lexicon_logp[w]` is log P_lex(w), a normalised unigram over the whole vocabulary.
    """
    V = int(lexicon_logp.shape[0])
    stride = V + 1
    bos = V
    pairs: list[np.ndarray] = []
    for sent in sentences:
        if not sent:
            continue
        s = np.asarray(sent, dtype=np.int64)
        h = np.concatenate([[bos], s[:-1]])
        pairs.append(h * stride + s)
    if not pairs:
        raise ValueError("no training clauses for the bigram model")
    keys, counts = np.unique(np.concatenate(pairs), return_counts=True)
    hist, word = keys // stride, keys % stride

    # Counts of counts → modified Kneser-Ney discounts (Chen & Goodman 1998).
    n = [int(np.sum(counts == i)) for i in (1, 2, 3, 4)]
    y = n[0] / max(n[0] + 2 * n[1], 1)
    d1 = 1 - 2 * y * n[1] / max(n[0], 1)
    d2 = 2 - 3 * y * n[2] / max(n[1], 1)
    d3 = 3 - 4 * y * n[3] / max(n[2], 1)
    # tiny corpora make the estimates leave their range: keep 0 < D(c) < c
    d1, d2, d3 = (min(max(d, 0.05), c - 0.05) for d, c in ((d1, 1), (d2, 2), (d3, 3)))
    discount = np.where(counts == 1, d1, np.where(counts == 2, d2, d3))

    c_h = np.bincount(hist, weights=counts, minlength=stride)  # c(h)
    mass = np.bincount(hist, weights=discount, minlength=stride)  # Σ_w D(c(h,w))
    gamma = np.where(c_h > 0, mass / np.maximum(c_h, 1), 1.0)

    cont = np.bincount(word, minlength=V)[:V].astype(np.float64)  # N1+(•w)
    p_low = mix * cont / cont.sum() + (1 - mix) * np.exp(lexicon_logp.astype(np.float64))
    low_logp = np.log(p_low)

    p = (counts - discount) / c_h[hist] + gamma[hist] * p_low[word]
    model = BigramModel(
        low_logp.astype(np.float32),
        np.log(gamma).astype(np.float32),
        keys.astype(np.int64),
        np.log(p).astype(np.float32),
    )
    model.discounts = (d1, d2, d3)  # type: ignore[attr-defined]
    return model
