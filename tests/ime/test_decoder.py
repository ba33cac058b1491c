"""Lattice and decoder on the tiny inline lexicon of conftest.py."""

import math

from ime.decoder import Decoder
from ime.lattice import LatticeBuilder
from ime.segmentor import Segmentor
from ime.word_lm import BigramWordLM
from lexicon.testing import tiny_parts


def decode(keys: str, nbest: int = 10):
    lex, lm = tiny_parts()
    lattice = LatticeBuilder(lex, lm.unigram).build(Segmentor().segment(keys))
    sentences, _ = Decoder(BigramWordLM(lm, lex), nbest=nbest).decode(lattice)
    return lattice, sentences


def test_lattice_lays_words_over_every_reading():
    lattice, _ = decode("xianzai")
    spans = {(w.text, w.start, w.end) for ws in lattice.words_to for w in ws}
    assert {("现在", 0, 7), ("先在", 0, 7), ("西", 0, 2), ("安", 2, 4), ("西安", 0, 4),
            ("在", 4, 7)} <= spans


def test_words_from_are_longest_first():
    lattice, _ = decode("zhongguoren")
    ends = [w.end for w in lattice.words_from(0)]
    assert ends == sorted(ends, reverse=True)
    assert lattice.words_from(0)[0].text == "中国人"


def test_decoder_prefers_what_the_ngram_model_prefers():
    _, sents = decode("woshizhongguoren")
    assert sents[0].text == "我是中国人"
    _, sents = decode("xianzai")
    assert sents[0].text == "现在"
    assert "先在" in [s.text for s in sents]


def test_nbest_is_sorted_and_distinct():
    _, sents = decode("xianzai")
    texts = [s.text for s in sents]
    assert len(texts) == len(set(texts)) >= 3
    assert [s.score for s in sents] == sorted((s.score for s in sents), reverse=True)


def test_sentence_score_is_the_sum_of_its_parts():
    lex, lm = tiny_parts()
    _, sents = decode("nihao")
    best = sents[0]
    expected, h = 0.0, lm.bos
    dec = Decoder(BigramWordLM(lm, lex))
    for w in best.words:
        expected += lm.logp(h, w.word_id) + w.emission + (dec.word_penalty if w.exact else 0.0)
        h = w.word_id
    assert len(best.words) == 1 and math.isclose(dec.word_score(best.words[0]), best.score)
    assert math.isclose(best.score, expected, rel_tol=1e-9)


def test_abbreviations_decode():
    _, sents = decode("zgr")
    assert sents[0].text == "中国人"


def test_incremental_decoding_matches_from_scratch():
    lex, lm = tiny_parts()
    seg, builder, dec = Segmentor(), LatticeBuilder(lex, lm.unigram), Decoder(BigramWordLM(lm, lex))
    keys = "woshizhongguoren"
    state = lattice = None
    for i in range(1, len(keys) + 1):
        lattice = builder.build(seg.segment(keys[:i]), lattice)
        inc, state = dec.decode(lattice, None, state)
        fresh, _ = Decoder(BigramWordLM(lm, lex)).decode(LatticeBuilder(lex, lm.unigram).build(
            seg.segment(keys[:i])))
        assert [s.text for s in inc] == [s.text for s in fresh], keys[:i]
