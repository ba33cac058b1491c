import math

import numpy as np

from lexicon.ngram import BigramModel, estimate_kneser_ney


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
