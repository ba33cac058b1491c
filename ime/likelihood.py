"""Loose word likelihood: the learner's formulas, as pure functions.

After "Tracing a Loose Wordhood for Chinese Input Method Engine" (Zhang, Wei, Zhao 2017):
instead of a fixed vocabulary, every character sequence has a likelihood L ∈ [0, 1] of
being a word *to this user*. The engine compares its prediction with the user's true
choice on each commit and moves L:

    gain    L' = L + η (0.9 − L)        what the user chose (below the top) or assembled
    loss    L' = L (1 − ρ)              predicted words the user rejected
    confirm L' = L + η (C − L), L < C   predicted words the user accepted (ceiling C)
    decay   L(t) = L0 + (L − L0) · 2^(−Δt / H)    relaxes toward the prior with disuse

Δt counts commits (a global tick, as RIME's user dictionary counts), H is a half-life.
The prior L0 is 0.5 for a word of the system lexicon (neutral: the dictionary says it is a
word) and 0 for any other sequence. A sequence enters the lattice as a new word once its
likelihood reaches THRESHOLD; the decoder adds `score_adjustment` (log domain) to every
word with a user record: the change in log-odds of being a word, times SCALE. Log-odds make
one deliberate choice (L 0.5 → 0.8) worth about 8 nats, enough to lift a word over the
n-gram favourite; confirmations of accepted predictions stop at a low ceiling, so words that
are merely typed often do not drown the n-gram model.

The delta rule: when the user chooses a short word (2–4 characters) below the top, the
engine knows by how many nats its prediction led (the decoder scores of both); the chosen
word's likelihood is raised at least far enough to lead by MARGIN next time (`overtake`).

Junk control: the gain of a selection falls with length (`selection_gain`), so one
accidental pick of a long phrase stays below the threshold, while a short word picked once
goes straight to the top (the behaviour users know from RIME); assembling a sequence from
pieces gains less than choosing it, so a new word needs three assemblies.
"""

from __future__ import annotations

import math

from lexicon.user_lexicon import NEW_WORD_LOGP

__all__ = [
    "SYSTEM_PRIOR",
    "NEW_PRIOR",
    "THRESHOLD",
    "HALF_LIFE",
    "SCALE",
    "NEW_WORD_LOGP",
    "gain",
    "confirm",
    "ACCEPT_CEILING",
    "loss",
    "decay",
    "selection_gain",
    "assembly_gain",
    "REJECT_RATE",
    "rejection_rate",
    "system_loss",
    "SYSTEM_REJECT_RATE",
    "SYSTEM_FLOOR",
    "CONTEXT_SHARE",
    "CHAR_CEILING",
    "SYSTEM_GAIN_SHARE",
    "gain_ceiling",
    "ACCEPT_GAIN",
    "score_adjustment",
    "likelihood_for",
    "overtake",
    "new_word_logp",
    "HISTORY_SCALE",
    "HISTORY_GAIN",
    "HISTORY_REJECT",
    "HISTORY_FLOOR",
    "history_gain",
    "history_loss",
    "history_bonus",
]

SYSTEM_PRIOR = 0.5  # L0 of a system-lexicon word
NEW_PRIOR = 0.0  # L0 of any other character sequence
THRESHOLD = 0.5  # a new sequence takes part in decoding from this likelihood on
HALF_LIFE = 5000.0  # commits after which a learned deviation from the prior halves
SCALE = 6.0  # nats of score per unit of log-odds above (or below) the prior's
REJECT_RATE = 0.5  # ρ: a rejected prediction loses half its likelihood
MARGIN = 1.0  # nats by which a word chosen over the prediction then leads it
TOP_LIKELIHOOD = 0.97  # the delta rule never goes past this
ACCEPT_GAIN = 0.05  # η for the words of a prediction the user accepted as it was
ACCEPT_CEILING = 0.65  # confirmations alone never take a new word past this likelihood
# a system word the user rejected loses this fraction of what learning gave it, and never
# falls below its prior by rejections alone: its rejection in one context says little about
# the next, where it may be right, and the word chosen over it gains anyway (issue 16: the
# demoted right words were the first cause of the misses learning added over long runs;
# forgetting a word still hides it)
SYSTEM_REJECT_RATE = 0.2
SYSTEM_FLOOR = SYSTEM_PRIOR
# a choice made right after a previous word may be the context's (的 after one word, 地 after
# another): the history pair takes it whole, the word's own likelihood this share of the gain
# or loss (1 at a clause start, where no pair can hold it)
CONTEXT_SHARE = 0.5
# picks never lift a system character past this (SCALE · logit 0.6 ≈ 2.4 nats): characters
# picked over and over in their contexts were the promoted words that most often took the
# place of right ones over long runs (issue 16)
CHAR_CEILING = 0.6
# a system word's share of a pick's gain: the dictionary knows it already, and a pick in one
# context (made to win there by `overtake`) should not make it win everywhere
SYSTEM_GAIN_SHARE = 0.5


def gain(likelihood: float, eta: float, ceiling: float = 0.9) -> float:
    """Move toward `ceiling` by the fraction `eta` of the remaining distance.

    The ceiling bounds a word's boost (SCALE · logit 0.9 ≈ 13 nats): a word chosen a
    hundred times outranks its homophones, but does not override the whole n-gram model.
    """
    if likelihood >= ceiling:
        return likelihood
    return likelihood + eta * (ceiling - likelihood)


def gain_ceiling(length: int, system_word: bool) -> float:
    """The ceiling of `gain` for a word: CHAR_CEILING for a single character of the system
    lexicon, whose choice is nearly always its context's (的 / 地 / 得, 他 / 她 / 它: the
    history pairs hold that), else 0.9."""
    return CHAR_CEILING if system_word and length == 1 else 0.9


def confirm(likelihood: float, eta: float = ACCEPT_GAIN,
            ceiling: float = ACCEPT_CEILING) -> float:
    """Move toward `ceiling` (never down): the user accepted the prediction."""
    if likelihood >= ceiling:
        return likelihood
    return likelihood + eta * (ceiling - likelihood)


def loss(likelihood: float, rho: float = REJECT_RATE, floor: float = 0.0) -> float:
    """Shrink by the fraction `rho`, not below `floor` (nor below where it is)."""
    return max(likelihood * (1.0 - rho), min(floor, likelihood))


def system_loss(likelihood: float, length: int, share: float = 1.0) -> float:
    """A rejected prediction's loss for a system word: gentle and floored (`share`: the
    part of it the word takes, CONTEXT_SHARE after a previous word)."""
    rho = share * min(SYSTEM_REJECT_RATE, rejection_rate(length))
    return loss(likelihood, rho, SYSTEM_FLOOR)


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


def rejection_rate(length: int) -> float:
    """ρ for a predicted word the user did not keep: characters lose little, since one
    rejected character (是 in 我使中国人) says little about the character elsewhere."""
    return REJECT_RATE if length >= 2 else 0.15


def assembly_gain(length: int) -> float:
    """η when the user assembles a sequence from several picks (three pass THRESHOLD).

    Up to eight characters; longer assemblies are sentences, not words, and gain less.
    """
    if length <= 1:
        return 0.0
    return 0.25 if length <= 8 else 0.25 * (8.0 / length) ** 2


def score_adjustment(likelihood: float, system_word: bool) -> float:
    """Log-domain change of a word's decoder score for this user.

    A system word moves from its n-gram score by SCALE per unit away from its prior; a new
    word starts from NEW_WORD_LOGP at the threshold and rises with its likelihood.
    """
    return SCALE * (_logit(likelihood) - _logit(SYSTEM_PRIOR if system_word else THRESHOLD))


def likelihood_for(adjustment: float, system_word: bool) -> float:
    """The likelihood whose score_adjustment is `adjustment` (its inverse)."""
    z = _logit(SYSTEM_PRIOR if system_word else THRESHOLD) + adjustment / SCALE
    return 1.0 / (1.0 + math.exp(-z))


def overtake(likelihood: float, deficit: float, system_word: bool) -> float:
    """The delta rule: the likelihood that lifts a word chosen below the top over the
    prediction, `deficit` nats ahead of it, by MARGIN; capped at TOP_LIKELIHOOD."""
    target = score_adjustment(likelihood, system_word) + deficit + MARGIN
    return max(likelihood, min(likelihood_for(target, system_word), TOP_LIKELIHOOD))


def _logit(p: float) -> float:
    p = min(max(p, 0.005), 0.995)
    return math.log(p / (1.0 - p))


def new_word_logp(likelihood: float) -> float:
    """Log unigram of a learned word the system vocabulary lacks (−inf below THRESHOLD)."""
    if likelihood < THRESHOLD:
        return -math.inf
    return NEW_WORD_LOGP


# ---- the history bigram (ime.history) ---------------------------------------------------------
#
# A pair (previous word, word) the user committed has a strength S ∈ [0, 1] (prior 0):
#
#     commit   S' = S + η (1 − S)       the pair was committed (picked or accepted)
#     reject   S' = S (1 − ρ)           the engine predicted the pair, the user took another
#     decay    S(t) = S · 2^(−Δt / H)   the words' decay, with their half-life
#
# and the decoder adds HISTORY_SCALE · S nats to the word after that previous word.

HISTORY_SCALE = 6.0  # nats of score for a pair of strength 1
HISTORY_GAIN = 0.5  # η: one commit S = 0.5 (3 nats), two 0.75 (4.5 nats), three 0.875
HISTORY_REJECT = 0.5  # ρ
HISTORY_FLOOR = 0.05  # a pair decayed below this is dropped (0.3 nats)


def history_gain(strength: float, eta: float = HISTORY_GAIN) -> float:
    return strength + eta * (1.0 - strength)


def history_loss(strength: float, rho: float = HISTORY_REJECT) -> float:
    return strength * (1.0 - rho)


def history_bonus(strength: float) -> float:
    """Nats added to a word's score right after the pair's previous word."""
    return HISTORY_SCALE * strength
