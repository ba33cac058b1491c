"""Character vocabulary and training batches for the neural LM.

Ids: 0 = padding (never predicted), 1 = start of a line, 2 = a character not in the
vocabulary, then the vocabulary's characters, most frequent first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import torch

__all__ = ["PAD", "BOS", "UNK", "Vocab", "read_lines", "encode_lines", "random_batch"]

PAD, BOS, UNK = 0, 1, 2
SPECIALS = 3


class Vocab:
    def __init__(self, chars: str) -> None:
        if len(set(chars)) != len(chars):
            raise ValueError("vocabulary characters must be distinct")
        self.chars = chars
        self._ids = {c: i + SPECIALS for i, c in enumerate(chars)}

    def __len__(self) -> int:
        return len(self.chars) + SPECIALS

    @classmethod
    def build(cls, lines: Iterable[str], min_count: int = 2) -> Vocab:
        """Every character seen at least `min_count` times, most frequent first."""
        counts = Counter(c for line in lines for c in line)
        keep = [c for c, n in counts.most_common() if n >= min_count and not c.isspace()]
        return cls("".join(keep))

    def encode(self, text: str) -> list[int]:
        return [self._ids.get(c, UNK) for c in text]


def read_lines(path: Path) -> list[str]:
    """Non-empty lines of a UTF-8 text file, whitespace inside them removed."""
    with open(path, encoding="utf-8") as f:
        return [s for s in ("".join(line.split()) for line in f) if s]


def encode_lines(lines: Iterable[str], vocab: Vocab) -> torch.Tensor:
    """One stream of ids: each line after a BOS. Returns [N] int64."""
    out: list[int] = []
    for line in lines:
        out.append(BOS)
        out.extend(vocab.encode(line))
    return torch.tensor(out, dtype=torch.long)


def random_batch(
    stream: torch.Tensor, batch: int, length: int, gen: torch.Generator
) -> torch.Tensor:
    """`batch` windows of `length` ids at random offsets of the stream: [batch, length]."""
    if stream.numel() < length:
        raise ValueError(f"the text has {stream.numel()} ids, fewer than one window of {length}")
    starts = torch.randint(0, stream.numel() - length + 1, (batch,), generator=gen)
    return torch.stack([stream[s : s + length] for s in starts.tolist()])
