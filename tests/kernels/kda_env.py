"""Where the kernel tests run: Triton's CPU interpreter without a GPU, the GPU otherwise.

TRITON_INTERPRET must be set before any `@triton.jit` function is defined, i.e. before
`kernels.kda.chunk` / `kernels.kda.fused_recurrent` are imported; importing this module
(conftest.py and every kernel test module do, first) sets it. With a GPU the same small
tests run on it for real (fp32 dots then use tf32, hence the looser tolerance).
"""

from __future__ import annotations

import importlib.util
import os

import torch

HAS_CUDA = torch.cuda.is_available()
HAS_TRITON = importlib.util.find_spec("triton") is not None
if not HAS_CUDA:
    os.environ["TRITON_INTERPRET"] = "1"

DEVICE = "cuda" if HAS_CUDA else "cpu"  # device of the small fp32 Triton-vs-naive tests
TRITON_FP32_TOL = 1e-2 if HAS_CUDA else 2e-3  # their relative-RMS tolerance
