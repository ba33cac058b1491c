"""The learner's formulas (pure functions)."""

import math

import pytest

from ime import likelihood as lk


def test_gain_moves_toward_one_and_loss_toward_zero():
    assert lk.gain(0.0, 0.25) == pytest.approx(0.225)
    assert lk.gain(0.5, 0.5) == pytest.approx(0.7)
    assert lk.gain(0.95, 0.9) == pytest.approx(0.95)  # never down, never past the ceiling
    L = 0.0
    for _ in range(100):
        L = lk.gain(L, 0.6)
    assert L == pytest.approx(0.9)
    assert lk.confirm(0.5) > 0.5 and lk.confirm(0.7) == 0.7
    assert lk.loss(0.8, 0.5) == pytest.approx(0.4)
    assert lk.loss(0.0) == 0.0


def test_decay_relaxes_to_the_prior_with_the_half_life():
    assert lk.decay(0.9, 0.5, 0) == 0.9
    assert lk.decay(0.9, 0.5, lk.HALF_LIFE) == pytest.approx(0.7)
    assert lk.decay(0.1, 0.5, 2 * lk.HALF_LIFE) == pytest.approx(0.4)
    assert lk.decay(0.9, 0.0, 1e9) == pytest.approx(0.0)


def test_three_assemblies_make_a_word_two_do_not():
    L = lk.NEW_PRIOR
    for _ in range(2):
        L = lk.gain(L, lk.assembly_gain(4))
    assert L < lk.THRESHOLD
    L = lk.gain(L, lk.assembly_gain(4))
    assert L >= lk.THRESHOLD


def test_one_pick_of_a_short_word_passes_a_long_phrase_does_not():
    assert lk.gain(lk.NEW_PRIOR, lk.selection_gain(2)) >= lk.THRESHOLD
    assert lk.gain(lk.NEW_PRIOR, lk.selection_gain(6)) < lk.THRESHOLD
    assert lk.selection_gain(1) < lk.selection_gain(2)
    gains = [lk.selection_gain(n) for n in range(4, 12)]
    assert gains == sorted(gains, reverse=True)


def test_score_adjustment_is_zero_at_the_prior_and_monotone():
    assert lk.score_adjustment(lk.SYSTEM_PRIOR, True) == 0.0
    assert lk.score_adjustment(0.9, True) > 0 > lk.score_adjustment(0.2, True)
    assert lk.score_adjustment(lk.THRESHOLD, False) == 0.0
    assert lk.new_word_logp(lk.THRESHOLD - 0.01) == -math.inf
    assert lk.new_word_logp(lk.THRESHOLD) == lk.NEW_WORD_LOGP


def test_likelihood_for_inverts_the_adjustment():
    for system in (True, False):
        for L in (0.2, 0.5, 0.8):
            adj = lk.score_adjustment(L, system)
            assert lk.likelihood_for(adj, system) == pytest.approx(L)


def test_overtake_lifts_a_choice_past_the_prediction_by_the_margin():
    L = lk.overtake(lk.SYSTEM_PRIOR, 5.0, True)
    assert lk.score_adjustment(L, True) == pytest.approx(5.0 + lk.MARGIN)
    assert lk.overtake(0.8, -100.0, True) == 0.8  # never lowers
    assert lk.overtake(0.5, 1e6, True) == lk.TOP_LIKELIHOOD  # bounded
