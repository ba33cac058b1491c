"""GPU kernels of the reranker LM, each beside a readable PyTorch reference.

`kernels.kda` holds Kimi Delta Attention (naive, chunk, fused_recurrent); `kernels.testing`
the error metric and input factory that the kernel tests and benchmarks share. Nothing here
imports triton at import time, so the engine runs on machines without it.
"""

__all__ = ["kda", "testing"]
