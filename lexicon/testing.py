"""A tiny inline lexicon and n-gram model, for tests and examples (no build needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lexicon.ngram import BigramModel, estimate_kneser_ney
from lexicon.trie import SystemLexicon

__all__ = ["TINY_WORDS", "TINY_CORPUS", "tiny_parts", "write_tiny_cache"]

# (word, syllables, count): a handful of words with made-up counts, enough to decode
TINY_WORDS = [
    ("你", ("ni",), 900), ("好", ("hao",), 800), ("你好", ("ni", "hao"), 500),
    ("号", ("hao",), 100), ("泥", ("ni",), 50),
    ("西", ("xi",), 300), ("安", ("an",), 300), ("西安", ("xi", "an"), 200),
    ("先", ("xian",), 400), ("现", ("xian",), 300), ("在", ("zai",), 900),
    ("现在", ("xian", "zai"), 700), ("先在", ("xian", "zai"), 5),
    ("中", ("zhong",), 500), ("国", ("guo",), 400), ("中国", ("zhong", "guo"), 600),
    ("人", ("ren",), 700), ("中国人", ("zhong", "guo", "ren"), 300),
    ("我", ("wo",), 900), ("是", ("shi",), 900), ("我是", ("wo", "shi"), 50),
    ("民", ("min",), 100), ("人民", ("ren", "min"), 400),
]
TINY_CORPUS = [["我", "是", "中国人"], ["你好"], ["现在", "我", "在", "西安"],
               ["中国", "人民"], ["我", "是", "中国", "人"], ["现在", "你好"]]


def tiny_parts() -> tuple[SystemLexicon, BigramModel]:
    lex = SystemLexicon.from_entries([(w, s, 0.0) for w, s, _ in TINY_WORDS])
    counts = np.zeros(len(lex), dtype=np.float64)
    for w, _, c in TINY_WORDS:
        counts[lex.word_id(w)] += c
    logp = np.log((counts + 0.5) / (counts.sum() + 0.5 * len(counts)))
    clauses = [[lex.word_id(w) for w in sent] for sent in TINY_CORPUS]
    return lex, estimate_kneser_ney(clauses, logp)


def write_tiny_cache(directory: Path) -> Path:
    """The tiny lexicon saved as a built cache directory (for CLI tests)."""
    from lexicon.build import BUILD_VERSION

    directory.mkdir(parents=True, exist_ok=True)
    lex, lm = tiny_parts()
    lex.save(directory)
    lm.save(directory / "bigram.npz")
    (directory / "meta.json").write_text(json.dumps({"version": BUILD_VERSION}))
    return directory
