"""Word bigram and trigram language models with interpolated modified Kneser-Ney smoothing.

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

The trigram (`TrigramModel`, `estimate_kneser_ney_trigram`) adds one order on top:

    P(w | u v) = max(c(uvw) − D3(c), 0) / c(uv•)  +  γ3(uv) · P2(w | v)
    P2(w | v)  = max(a(vw) − D2(a), 0) / a(v•)     +  γ2(v)  · P_low(w)

where a(vw) is the adjusted count N1+(•vw), the number of distinct words before vw (its raw
count after BOS, which has nothing before it: Chen & Goodman, as KenLM does it), and D2,
D3 are estimated from the counts of counts of a and c. Pruned: trigrams seen fewer than
`min_trigram` times and bigrams seen fewer than `min_bigram` times are not stored; what
they would have had goes back to the lower order through backoff weights recomputed so that
every history's distribution still sums to one (ARPA-style):

    b(h) = (1 − Σ_{w stored after h} P(w | h)) / (1 − Σ_{w stored after h} P_lower(w | h')).

A trigram history is the pair key u · S + v (S = V + 1); the clause start is (BOS, BOS),
which no trigram has: P(w | BOS BOS) = P2(w | BOS).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from pathlib import Path

import numpy as np

__all__ = ["BigramModel", "TrigramModel", "estimate_kneser_ney", "estimate_kneser_ney_trigram"]


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
        # the small arrays as given, for `save`; the pairs' arrays are rebuilt from the dict
        # there (in its order), not held twice (a million pairs: 12 MB)
        self._arrays = (low_logp, backoff)
        self._dtype = logp.dtype

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
        low, backoff = self._arrays
        keys, logp = _arrays_of(self._pairs, self._dtype)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, low=low, backoff=backoff, keys=keys, logp=logp)
        tmp.replace(path)

    order = 2

    @classmethod
    def load(cls, path: Path) -> BigramModel:
        """The model in `path`: a TrigramModel if the file holds trigrams."""
        with np.load(path) as z:
            if "tri_keys" in z.files:
                return TrigramModel(z["low"], z["backoff"], z["keys"], z["logp"],
                                    z["tri_keys"], z["tri_logp"], z["hist_keys"],
                                    z["hist_backoff"])
            return BigramModel(z["low"], z["backoff"], z["keys"], z["logp"])

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


class TrigramModel(BigramModel):
    """A BigramModel with a trigram order on top. `logp(h, w)` stays the bigram's (the
    trigram's lower order); `logp3(hh, w)` is log P(w | u v) for the pair key hh = u·S + v."""

    order = 3

    def __init__(self, low_logp: np.ndarray, backoff: np.ndarray, keys: np.ndarray,
                 logp: np.ndarray, tri_keys: np.ndarray, tri_logp: np.ndarray,
                 hist_keys: np.ndarray, hist_backoff: np.ndarray) -> None:
        super().__init__(low_logp, backoff, keys, logp)
        self._triples: dict[int, float] = dict(zip(tri_keys.tolist(),
                                                   tri_logp.astype(np.float64).tolist()))
        self._hist: dict[int, float] = dict(zip(hist_keys.tolist(),
                                                hist_backoff.astype(np.float64).tolist()))
        self._tri_dtypes = (tri_logp.dtype, hist_backoff.dtype)
        self.bos_pair = self.bos * self._stride + self.bos

    @property
    def num_trigrams(self) -> int:
        return len(self._triples)

    def pair(self, u: int, v: int) -> int:
        return u * self._stride + v

    def logp3(self, hh: int, w: int) -> float:
        """log P(w | u v), hh = u·S + v."""
        t = self._triples.get(hh * self._stride + w)
        if t is not None:
            return t
        return self._hist.get(hh, 0.0) + self.logp(hh % self._stride, w)

    def trigram_tables(self) -> tuple[dict[int, float], dict[int, float]]:
        """(triples, history backoffs) for callers that inline `logp3`."""
        return self._triples, self._hist

    def save(self, path: Path) -> None:
        low, backoff = self._arrays
        keys, logp = _arrays_of(self._pairs, self._dtype)
        tri_keys, tri_logp = _arrays_of(self._triples, self._tri_dtypes[0])
        hist_keys, hist_backoff = _arrays_of(self._hist, self._tri_dtypes[1])
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, low=low, backoff=backoff, keys=keys, logp=logp, tri_keys=tri_keys,
                 tri_logp=tri_logp, hist_keys=hist_keys, hist_backoff=hist_backoff)
        tmp.replace(path)

    def perplexity(self, sentences: Iterable[list[int]]) -> float:
        total, n = 0.0, 0
        for sent in sentences:
            hh = self.bos_pair
            for w in sent:
                total += self.logp3(hh, w)
                n += 1
                hh = (hh % self._stride) * self._stride + w
        return math.exp(-total / max(n, 1))


def _arrays_of(table: dict[int, float], dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """A table's keys (int64) and values (in `dtype`, the type they were read from, so the
    values are those read), in the dict's order: the order they came in."""
    keys = np.fromiter(table.keys(), dtype=np.int64, count=len(table))
    values = np.fromiter(table.values(), dtype=np.float64, count=len(table)).astype(dtype)
    return keys, values


def _discounts(counts: np.ndarray) -> tuple[float, float, float]:
    """Modified Kneser-Ney D1, D2, D3+ from the counts of counts (Chen & Goodman 1998)."""
    n = [int(np.sum(counts == i)) for i in (1, 2, 3, 4)]
    y = n[0] / max(n[0] + 2 * n[1], 1)
    d1 = 1 - 2 * y * n[1] / max(n[0], 1)
    d2 = 2 - 3 * y * n[2] / max(n[1], 1)
    d3 = 3 - 4 * y * n[3] / max(n[2], 1)
    # tiny corpora make the estimates leave their range: keep 0 < D(c) < c
    d1, d2, d3 = (min(max(d, 0.05), c - 0.05) for d, c in ((d1, 1), (d2, 2), (d3, 3)))
    return d1, d2, d3


def _discount(counts: np.ndarray, d: tuple[float, float, float]) -> np.ndarray:
    return np.where(counts == 1, d[0], np.where(counts == 2, d[1], d[2]))


def _renormalised(hist: np.ndarray, p_kept: np.ndarray, p_lower_kept: np.ndarray,
                  size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Backoff weights of the histories `hist` (one per kept entry) after pruning: the
    unique histories and b(h) = (1 − Σ kept P) / (1 − Σ kept P_lower)."""
    uniq, inv = np.unique(hist, return_inverse=True)
    num = 1.0 - np.bincount(inv, weights=p_kept, minlength=len(uniq))
    den = 1.0 - np.bincount(inv, weights=p_lower_kept, minlength=len(uniq))
    return uniq, np.maximum(num, 1e-12) / np.maximum(den, 1e-12)


def estimate_kneser_ney_trigram(
    sentences: Iterable[list[int]],
    lexicon_logp: np.ndarray,
    mix: float = 0.5,
    min_bigram: int = 1,
    min_trigram: int = 2,
) -> TrigramModel:
    """Estimate the pruned trigram model from clauses of word ids (see the module docstring;
    `lexicon_logp` and `mix` as for `estimate_kneser_ney`)."""
    V = int(lexicon_logp.shape[0])
    S = V + 1
    bos = V
    bi_parts, tri_parts = [], []
    for sent in sentences:
        if not sent:
            continue
        s = np.asarray(sent, dtype=np.int64)
        h = np.concatenate([[bos], s[:-1]])
        bi_parts.append(h * S + s)
        if len(s) >= 2:
            u = np.concatenate([[bos], s[:-2]])
            tri_parts.append((u * S + s[:-1]) * S + s[1:])
    if not bi_parts:
        raise ValueError("no training clauses for the trigram model")
    bkeys, bcounts = np.unique(np.concatenate(bi_parts), return_counts=True)
    tkeys, tcounts = (np.unique(np.concatenate(tri_parts), return_counts=True) if tri_parts
                      else (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    bh, bw = bkeys // S, bkeys % S

    # adjusted bigram counts: distinct left words of each bigram; raw counts after BOS
    left = np.unique(tkeys % (S * S), return_counts=True)  # (v·S + w, N1+(•vw))
    adj = bcounts.astype(np.int64).copy()
    pos = np.searchsorted(bkeys, left[0])
    not_bos = bh != bos
    adj_left = np.zeros_like(adj)
    adj_left[pos] = left[1]
    adj = np.where(not_bos, adj_left, adj)
    # a bigram whose every occurrence is clause-initial for its first word has no trigram
    # (u v w) … except through BOS, which trigrams include: every non-BOS bigram has a left
    # word, so adj ≥ 1 there
    adj = np.maximum(adj, 1)

    cont = np.bincount(bw, minlength=V)[:V].astype(np.float64)  # N1+(•w)
    p_low = mix * cont / cont.sum() + (1 - mix) * np.exp(lexicon_logp.astype(np.float64))

    d2 = _discounts(adj)
    disc2 = _discount(adj, d2)
    a_h = np.bincount(bh, weights=adj, minlength=S)
    mass2 = np.bincount(bh, weights=disc2, minlength=S)
    gamma2 = np.where(a_h > 0, mass2 / np.maximum(a_h, 1), 1.0)
    p2 = (adj - disc2) / a_h[bh] + gamma2[bh] * p_low[bw]  # P2 of every seen bigram

    d3 = _discounts(tcounts)
    disc3 = _discount(tcounts, d3)
    th, tw = tkeys // S, tkeys % S  # pair history, word
    uh, tinv = np.unique(th, return_inverse=True)
    c_h = np.bincount(tinv, weights=tcounts, minlength=len(uh))
    mass3 = np.bincount(tinv, weights=disc3, minlength=len(uh))
    gamma3 = mass3 / c_h
    # P2(w | v) of each trigram's (v, w): a seen bigram always (the trigram's suffix)
    p2_of_tri = p2[np.searchsorted(bkeys, (th % S) * S + tw)]
    p3 = (tcounts - disc3) / c_h[tinv] + gamma3[tinv] * p2_of_tri

    # prune, then renormalise the backoff weights of what is left
    keep2 = bcounts >= min_bigram
    bkeys_k, p2_k = bkeys[keep2], p2[keep2]
    backoff2 = gamma2.copy()
    if not keep2.all():
        backoff2 = np.ones(S)
        hs, b = _renormalised(bh[keep2], p2_k, p_low[bw[keep2]])
        backoff2[hs] = b
    keep3 = tcounts >= min_trigram
    tkeys_k, p3_k, th_k, tw_k = tkeys[keep3], p3[keep3], th[keep3], tw[keep3]
    # the lower order as the pruned model gives it
    bk = (th_k % S) * S + tw_k
    at = np.minimum(np.searchsorted(bkeys_k, bk), max(len(bkeys_k) - 1, 0))
    found = bkeys_k[at] == bk if len(bkeys_k) else np.zeros(len(bk), bool)
    p2_model = np.where(found, p2_k[at] if len(bkeys_k) else 0.0,
                        backoff2[th_k % S] * p_low[tw_k])
    hist_keys, hist_b = _renormalised(th_k, p3_k, p2_model)

    model = TrigramModel(
        np.log(p_low).astype(np.float32),
        np.log(backoff2).astype(np.float32),
        bkeys_k.astype(np.int64),
        np.log(p2_k).astype(np.float32),
        tkeys_k.astype(np.int64),
        np.log(p3_k).astype(np.float32),
        hist_keys.astype(np.int64),
        np.log(hist_b).astype(np.float32),
    )
    model.discounts = (d2, d3)  # type: ignore[attr-defined]
    model.seen = (len(bkeys), len(tkeys))  # type: ignore[attr-defined]
    return model


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
