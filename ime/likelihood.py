"""Loose word likelihood: the learner's formulas, as pure functions.

After "Tracing a Loose Wordhood for Chinese Input Method Engine" (Zhang, Wei, Zhao 2017):
instead of a fixed vocabulary, every character sequence has a likelihood L ∈ [0, 1] of
being a word *to this user*. The engine compares its prediction with the user's true
choice on each commit and moves L:

    gain    L' = L + η (1 − L)          what the user chose (below the top) or assembled
    loss    L' = L (1 − ρ)              predicted words the user rejected
    decay   L(t) = L0 + (L − L0) · 2^(−Δt / H)    relaxes toward the prior with disuse

Δt counts commits (a global tick, as RIME's user dictionary counts), H is a half-life.
The prior L0 is 0.5 for a word of the system lexicon (neutral: the dictionary says it is a
word) and 0 for any other sequence. A sequence enters the lattice as a new word once its
likelihood reaches THRESHOLD; the decoder adds `score_adjustment` (log domain) to every
word with a user record.

Junk control: the gain of a selection falls with length (`selection_gain`), so one
accidental pick of a long phrase stays below the threshold, while a short word picked once
goes straight to the top (the behaviour users know from RIME); assembling a sequence from
pieces gains less than choosing it, so a new word needs three assemblies.
"""

from __future__ import annotations

import math

__all__ = [
    "SYSTEM_PRIOR",
    "NEW_PRIOR",
    "THRESHOLD",
    "HALF_LIFE",
    "SCALE",
    "NEW_WORD_LOGP",
    "gain",
    "loss",
    "decay",
    "selection_gain",
    "assembly_gain",
    "REJECT_RATE",
    "ACCEPT_GAIN",
    "score_adjustment",
    "new_word_logp",
]

SYSTEM_PRIOR = 0.5  # L0 of a system-lexicon word
NEW_PRIOR = 0.0  # L0 of any other character sequence
THRESHOLD = 0.5  # a new sequence takes part in decoding from this likelihood on
HALF_LIFE = 5000.0  # commits after which a learned deviation from the prior halves
SCALE = 12.0  # nats of score per unit of likelihood above (or below) the prior
NEW_WORD_LOGP = -7.0  # log unigram of a new word at the threshold (a common word's)
REJECT_RATE = 0.5  # ρ: a rejected prediction loses half its likelihood
ACCEPT_GAIN = 0.05  # η for the words of a prediction the user accepted as it was


def gain(likelihood: float, eta: float) -> float:
    """Move toward 1 by the fraction `eta` of the remaining distance."""
    return likelihood + eta * (1.0 - likelihood)


def loss(likelihood: float, rho: float = REJECT_RATE) -> float:
    """Shrink by the fraction `rho`."""
    return likelihood * (1.0 - rho)


def decay(likelihood: float, prior: float, ticks: float, half_life: float = HALF_LIFE) -> float:
    """Relax toward the prior after `ticks` commits without use."""
    if ticks <= 0:
        return likelihood
    return prior + (likelihood - prior) * math.pow(2.0, -ticks / half_life)


def selection_gain(length: int) -> float:
    """η when the user chooses a candidate below the top, by its length in characters.

    One character: small (characters are picked piecewise all the time); two to four: enough
    to pass the threshold at once; longer: falls with the square of the length, so a long
    phrase needs several deliberate choices.
    """
    if length <= 1:
        return 0.15
    if length <= 4:
        return 0.6
    return 0.6 * (4.0 / length) ** 2


def assembly_gain(length: int) -> float:
    """η when the user assembles a sequence from several picks (three passes THRESHOLD)."""
    if length <= 1:
        return 0.0
    base = 0.25
    return base if length <= 4 else base * 4.0 / length


def score_adjustment(likelihood: float, system_word: bool) -> float:
    """Log-domain change of a word's decoder score for this user.

    A system word moves from its n-gram score by SCALE per unit away from its prior; a new
    word starts from NEW_WORD_LOGP at the threshold and rises with its likelihood.
    """
    return SCALE * (likelihood - (SYSTEM_PRIOR if system_word else THRESHOLD))


def new_word_logp(likelihood: float) -> float:
    """Log unigram of a learned word the system vocabulary lacks (−inf below THRESHOLD)."""
    if likelihood < THRESHOLD:
        return -math.inf
    return NEW_WORD_LOGP
