"""The LM checkpoint: one safetensors file with the weights, the config and the vocabulary.

The config carries the architecture version (`lm.model.ARCH`; the first model's had none
and loads as version 1: its fused attention `qkv` weight is split into q, k, v here); a
checkpoint of a version this code does not build is refused with a CheckpointError.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from lm import DEFAULT_WEIGHTS
from lm.data import Vocab
from lm.model import ArchitectureError, KimiLinearLM, LMConfig

__all__ = ["DEFAULT_WEIGHTS", "FORMAT", "save_checkpoint", "load_checkpoint", "CheckpointError"]

FORMAT = "delta-pinyin-char-lm-1"


class CheckpointError(ValueError):
    pass


def save_checkpoint(model: KimiLinearLM, vocab: Vocab, path: Path, dtype=torch.bfloat16) -> None:
    """Write atomically (temp file, then rename); weights in `dtype` (bf16 keeps it small)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "config": model.cfg.to_json(), "vocab": vocab.chars}
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=meta)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_checkpoint(path: Path, device: str = "cpu", **overrides) -> tuple[KimiLinearLM, Vocab]:
    """The model (fp32, eval mode, on `device`) and its vocabulary. `overrides` change config
    fields that hold no weights (an attention layer's `window`, say, for a benchmark)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        tensors = load_file(str(path))
    except (OSError, SafetensorError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: not a Delta Pinyin LM checkpoint (format {meta.get('format')!r})"
        )
    try:
        cfg = LMConfig.from_json(meta["config"])
    except ArchitectureError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    except (TypeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{path}: a config this code cannot read ({exc})") from None
    if overrides:
        cfg = dataclasses.replace(cfg, **overrides)
    vocab = Vocab(meta["vocab"])
    if len(vocab) != cfg.vocab:
        raise CheckpointError(f"{path}: vocabulary of {len(vocab)} ids, config says {cfg.vocab}")
    model = KimiLinearLM(cfg)
    if cfg.arch == 1:
        tensors = _split_qkv(tensors)
    try:
        model.load_state_dict({k: v.float() for k, v in tensors.items()})
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the config ({exc})") from exc
    return model.to(device).eval(), vocab


def _split_qkv(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Version 1's fused attention projection `mixer.qkv.weight` [3 H D, d] as q, k, v."""
    out = {}
    for name, t in tensors.items():
        if name.endswith(".mixer.qkv.weight"):
            stem = name[: -len("qkv.weight")]
            for part, w in zip("qkv", t.chunk(3, dim=0)):
                out[f"{stem}{part}.weight"] = w
        else:
            out[name] = t
    return out
