"""Kernel test setup: run Triton in its CPU interpreter when there is no GPU.

TRITON_INTERPRET must be set before any `@triton.jit` function is defined, i.e. before
`kernels.kda.chunk` / `kernels.kda.fused_recurrent` are imported, so it is set here, at
collection time. With a GPU the same tests run on it for real (fp32 dots then use tf32,
hence the looser tolerance).
"""

from __future__ import annotations

import importlib.util
import os

import pytest
import torch

HAS_CUDA = torch.cuda.is_available()
HAS_TRITON = importlib.util.find_spec("triton") is not None
if not HAS_CUDA:
    os.environ["TRITON_INTERPRET"] = "1"

# where the small fp32 Triton-vs-naive tests run, and their relative-RMS tolerance
DEVICE = "cuda" if HAS_CUDA else "cpu"
TRITON_FP32_TOL = 1e-2 if HAS_CUDA else 2e-3

needs_triton = pytest.mark.skipif(not HAS_TRITON, reason="triton is not installed")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `needs_cuda` tests on machines without a CUDA device."""
    if HAS_CUDA:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "needs_cuda" in item.keywords:
            item.add_marker(skip)
