"""ime.word_lm: the bigram and trigram word LMs as the decoder sees them."""

from __future__ import annotations

import math

import numpy as np

from ime.decoder import Decoder
from ime.lattice import LatticeBuilder
from ime.segmentor import Segmentor
from ime.word_lm import BigramWordLM, TrigramWordLM, word_lm_for
from lexicon.ngram import estimate_kneser_ney, estimate_kneser_ney_trigram
from lexicon.trie import SystemLexicon

# 说 is followed by 事 more often, but after 我说 by 是: only two words of history know it
WORDS = [("我", ("wo",)), ("他", ("ta",)), ("说", ("shuo",)), ("是", ("shi",)),
         ("事", ("shi",))]
CLAUSES = ([["我", "说", "是"]] * 4 + [["我", "说", "事"]] + [["他", "说", "事"]] * 4
           + [["他", "说", "是"]] + [["说", "事"]] * 5
           + [["是", "我"], ["事", "他"], ["我", "是"], ["他", "事"], ["是", "他", "我"]])


def parts(order: int):
    lex = SystemLexicon.from_entries([(w, s, 0.0) for w, s in WORDS])
    V = len(lex)
    lexp = np.log(np.full(V, 1.0 / V))
    clauses = [[lex.word_id(w) for w in c] for c in CLAUSES]
    if order == 3:
        return lex, estimate_kneser_ney_trigram(clauses, lexp, min_bigram=1, min_trigram=1)
    return lex, estimate_kneser_ney(clauses, lexp)


def best(order: int, keys: str, context: str = "") -> str:
    lex, model = parts(order)
    lm = word_lm_for(model, lex)
    lattice = LatticeBuilder(lex, model.unigram).build(Segmentor().segment(keys))
    sentences, _ = Decoder(lm).decode(lattice, lm.start(context))
    return sentences[0].text


def test_a_trigram_model_gives_a_trigram_word_lm() -> None:
    lex, model = parts(3)
    lm = word_lm_for(model, lex)
    assert isinstance(lm, TrigramWordLM) and lm.bos == model.bos_pair
    lex2, bigram = parts(2)
    assert type(word_lm_for(bigram, lex2)) is BigramWordLM


def test_the_trigram_context_changes_the_choice_in_the_lattice() -> None:
    assert best(2, "woshuoshi") == "我说事"  # the bigram knows only 说 → 事
    assert best(3, "woshuoshi") == "我说是"
    assert best(3, "tashuoshi") == "他说事"


def test_the_trigram_state_comes_from_the_committed_context() -> None:
    assert best(3, "shi", context="我说") == "是"
    assert best(3, "shi", context="他说") == "事"
    assert best(3, "shi", context="，说") == "事"  # one word of history: the bigram's choice
    lex, model = parts(3)
    lm = word_lm_for(model, lex)
    assert lm.start("") == lm.bos and lm.start("abc") == lm.bos
    assert lm.start("我说") == model.pair(lex.word_id("我"), lex.word_id("说"))


def test_extend_scores_are_the_models_and_states_the_last_two_words() -> None:
    lex, model = parts(3)
    lm = word_lm_for(model, lex)
    lattice = LatticeBuilder(lex, model.unigram).build(Segmentor().segment("shi"))
    shi = next(w for ws in lattice.words_to for w in ws if w.text == "是")
    wo, shuo = lex.word_id("我"), lex.word_id("说")
    states = [lm.bos, model.pair(wo, shuo), model.pair(model.bos, shuo)]
    out = list(lm.extend(states, shi))
    assert [i for i, _, _ in out] == [0, 1, 2]
    for (_, lp, st), hh in zip(out, states):
        assert math.isclose(lp, model.logp3(hh, shi.word_id), rel_tol=1e-12)
        assert st == model.pair(hh % (len(lex) + 1), shi.word_id)
    dec = Decoder(lm)
    assert dec.after([shi], model.pair(wo, shuo)) == model.pair(shuo, shi.word_id)
