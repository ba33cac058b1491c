import math

import numpy as np
import pytest

from lexicon.ngram import (
    BigramModel,
    TrigramModel,
    estimate_kneser_ney,
    estimate_kneser_ney_trigram,
)


def model(tmp_path=None):
    V = 6
    lex = np.log(np.full(V, 1.0 / V))
    clauses = [[0, 1, 2], [0, 1, 3], [0, 4], [1, 2], [5, 1, 2], [0, 1, 2, 2]]
    return estimate_kneser_ney(clauses, lex), V


def test_conditional_distributions_sum_to_one():
    m, V = model()
    for h in list(range(V)) + [m.bos]:
        total = sum(math.exp(m.logp(h, w)) for w in range(V))
        assert math.isclose(total, 1.0, rel_tol=1e-5), h


def test_seen_pairs_beat_unseen_ones():
    m, _ = model()
    assert m.logp(0, 1) > m.logp(0, 5)
    assert m.logp(1, 2) > m.logp(1, 3) > m.logp(1, 4)


def test_modified_kneser_ney_discounts_are_in_range():
    m, _ = model()
    d1, d2, d3 = m.discounts
    assert 0 < d1 < 1 and 0 < d2 < 2 and 0 < d3 < 3


def test_save_load_round_trip(tmp_path):
    m, V = model()
    p = tmp_path / "b.npz"
    m.save(p)
    m2 = BigramModel.load(p)
    for h in range(V):
        for w in range(V):
            assert math.isclose(m.logp(h, w), m2.logp(h, w), rel_tol=1e-6)
    assert m2.perplexity([[0, 1, 2]]) > 1.0


# ---- the trigram ---------------------------------------------------------------------------

TRI_CLAUSES = [[0, 1, 2], [0, 1, 3], [0, 4], [1, 2], [5, 1, 2], [0, 1, 2, 2], [0, 1, 2],
               [4, 1, 3], [4, 1, 3], [2, 2, 2, 5], [0, 1, 2], [3, 0, 1]]


def trigram(min_bigram: int = 1, min_trigram: int = 1):
    V = 6
    lex = np.log(np.array([3.0, 2.0, 2.0, 1.0, 1.0, 1.0]) / 10.0)
    return estimate_kneser_ney_trigram(TRI_CLAUSES, lex, min_bigram=min_bigram,
                                       min_trigram=min_trigram), V


@pytest.mark.parametrize("prune", [(1, 1), (1, 2), (2, 2), (3, 3)],
                         ids=lambda p: f"min_bigram={p[0]},min_trigram={p[1]}")
def test_trigram_distributions_sum_to_one(prune) -> None:
    m, V = trigram(*prune)
    S = V + 1
    histories = [m.bos_pair, m.pair(m.bos, 0), m.pair(0, 1), m.pair(4, 1), m.pair(2, 2),
                 m.pair(5, 3), m.pair(3, 3)]  # seen, seen with pruned words, never seen
    for hh in histories:
        total = sum(math.exp(m.logp3(hh, w)) for w in range(V))
        assert math.isclose(total, 1.0, rel_tol=1e-5), (divmod(hh, S), total)
    for h in list(range(V)) + [m.bos]:  # its lower order is a model of its own
        assert math.isclose(sum(math.exp(m.logp(h, w)) for w in range(V)), 1.0, rel_tol=1e-5)


def test_trigram_context_matters_and_pruning_shrinks_the_model() -> None:
    m, _ = trigram()
    # after (0 1) the data say 2, after (4 1) they say 3, though 1 alone is followed by both
    assert m.logp3(m.pair(0, 1), 2) > m.logp3(m.pair(0, 1), 3)
    assert m.logp3(m.pair(4, 1), 3) > m.logp3(m.pair(4, 1), 2)
    pruned, _ = trigram(2, 2)
    assert pruned.num_trigrams < m.num_trigrams and pruned.num_bigrams < m.num_bigrams
    assert pruned.logp3(pruned.pair(0, 1), 2) > pruned.logp3(pruned.pair(0, 1), 3)


def test_trigram_saves_and_loads_as_a_trigram(tmp_path) -> None:
    m, V = trigram(1, 2)
    m.save(tmp_path / "bigram.npz")
    back = BigramModel.load(tmp_path / "bigram.npz")
    assert isinstance(back, TrigramModel) and back.order == 3
    for hh in (back.bos_pair, back.pair(0, 1), back.pair(3, 3)):
        for w in range(V):
            assert back.logp3(hh, w) == m.logp3(hh, w)
    assert back.perplexity(TRI_CLAUSES) < trigram_as_bigram_perplexity()


def trigram_as_bigram_perplexity() -> float:
    lex = np.log(np.array([3.0, 2.0, 2.0, 1.0, 1.0, 1.0]) / 10.0)
    return estimate_kneser_ney(TRI_CLAUSES, lex).perplexity(TRI_CLAUSES)
