"""The neural reranker's character LM (model, training, checkpoint, reranking).

Importing this package does not import torch: the engine asks `DEFAULT_WEIGHTS` whether the
shipped model is there before it loads anything.
"""

from pathlib import Path

DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "kimi-char.safetensors"
