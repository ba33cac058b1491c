"""Shared fixtures: a tiny inline lexicon for unit tests, the full one (built once) for the rest."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from ime.config import Config
from ime.engine import Engine
from lexicon.ngram import estimate_kneser_ney
from lexicon.trie import SystemLexicon

ROOT = Path(__file__).resolve().parent.parent

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


def tiny_parts():
    lex = SystemLexicon.from_entries([(w, s, 0.0) for w, s, _ in TINY_WORDS])
    counts = np.zeros(len(lex), dtype=np.float64)
    for w, _, c in TINY_WORDS:
        counts[lex.word_id(w)] += c
    logp = np.log((counts + 0.5) / (counts.sum() + 0.5 * len(counts)))
    clauses = [[lex.word_id(w) for w in sent] for sent in TINY_CORPUS]
    return lex, estimate_kneser_ney(clauses, logp)


@pytest.fixture
def tiny_engine() -> Engine:
    lex, lm = tiny_parts()
    return Engine(lex, lm, Config(learning=False))


@pytest.fixture(scope="session")
def engine_cache() -> Path:
    """The full system lexicon, built once per machine (about 20 s) and reused."""
    from lexicon.build import ensure_built

    path = Path(os.environ.get("DELTA_PINYIN_CACHE") or ROOT / ".cache" / "lexicon")
    return ensure_built(path, progress=False)


@pytest.fixture(scope="session")
def full_engine(engine_cache: Path) -> Engine:
    return Engine.load(Config(learning=False), engine_cache, progress=False)


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path, monkeypatch):
    """No test touches the real user's config or data."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def close(a: float, b: float, tol: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def write_tiny_cache(directory: Path) -> Path:
    """The tiny lexicon saved as a built cache directory (for CLI tests)."""
    import json

    from lexicon.build import BUILD_VERSION

    directory.mkdir(parents=True, exist_ok=True)
    lex, lm = tiny_parts()
    lex.save(directory)
    lm.save(directory / "bigram.npz")
    (directory / "meta.json").write_text(json.dumps({"version": BUILD_VERSION}))
    return directory


@pytest.fixture
def tiny_cache(tmp_path) -> Path:
    return write_tiny_cache(tmp_path / "cache")
