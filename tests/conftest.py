"""Shared fixtures: a tiny inline lexicon for unit tests, the full one (built once) for the rest."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported inside the fixtures: the kernel tests need none of the engine
    from ime.engine import Engine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tiny_engine() -> Engine:
    from ime.config import Config
    from ime.engine import Engine
    from lexicon.testing import tiny_parts

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
    from ime.config import Config
    from ime.engine import Engine

    # the decoder's own ranking: the neural reranker has its tests in tests/lm
    return Engine.load(Config(learning=False, lm=False), engine_cache, progress=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `needs_cuda` tests on machines without a CUDA device (torch is imported only
    when some are collected)."""
    marked = [item for item in items if "needs_cuda" in item.keywords]
    if not marked:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in marked:
        item.add_marker(skip)


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path, monkeypatch):
    """No test touches the real user's config or data."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def close(a: float, b: float, tol: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


@pytest.fixture
def tiny_cache(tmp_path) -> Path:
    from lexicon.testing import write_tiny_cache

    return write_tiny_cache(tmp_path / "cache")
