"""Kernel test setup: Triton's interpreter on machines without a GPU (see kda_env.py).
`needs_cuda` tests are skipped there by the root conftest."""

from __future__ import annotations

import kda_env  # noqa: F401  (sets TRITON_INTERPRET before any kernel module is imported)
