"""Kernel test setup: interpreter mode (see kda_env.py) and skipping `needs_cuda` tests."""

from __future__ import annotations

import pytest
from kda_env import HAS_CUDA


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `needs_cuda` tests on machines without a CUDA device."""
    if HAS_CUDA:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "needs_cuda" in item.keywords:
            item.add_marker(skip)
