"""Character vocabulary, training text and batches for the neural LM.

Ids: 0 = padding (never predicted), 1 = start of a line, 2 = a character not in the
vocabulary, then the vocabulary's characters, most frequent first.

Text comes from plain files (`read_lines`, also gzipped) or from the built corpus
(`corpus_lines`: one split, per domain).
"""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import torch

__all__ = ["PAD", "BOS", "UNK", "Vocab", "read_lines", "corpus_lines", "encode_lines",
           "random_batch", "fixed_windows"]

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
    """Non-empty lines of a UTF-8 text file (gzipped if its name ends in .gz), whitespace
    inside them removed."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [s for s in ("".join(line.split()) for line in f) if s]


def corpus_lines(corpus_dir: Path, split: str) -> dict[str, list[str]]:
    """The lines of one split of the built corpus, per domain (documents in file order;
    domains with no text in that split left out), whitespace inside lines removed."""
    from corpus import DOMAINS, CorpusError, read_documents

    out: dict[str, list[str]] = {}
    for domain in DOMAINS:
        try:
            docs = read_documents(corpus_dir, split, domain)
        except CorpusError:
            if not (Path(corpus_dir) / "documents.tsv").is_file():
                raise
            continue  # no file for this domain in this split
        lines = [s for _, _, ls in docs for s in ("".join(x.split()) for x in ls) if s]
        if lines:
            out[domain] = lines
    if not out:
        raise CorpusError(f"{corpus_dir}: no {split} text")
    return out


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


def fixed_windows(stream: torch.Tensor, length: int, limit: int) -> torch.Tensor:
    """The dev set: the stream cut into consecutive windows of `length` ids (each id but the
    first a target exactly once; the last window padded with PAD, never a target), or
    `limit` of them spread evenly over the stream when there are more. The same windows
    every time. Returns [n, length]."""
    step = length - 1  # windows share one id: the last of one is the first of the next
    total = max(1, -(-(stream.numel() - 1) // step))
    picks = range(total) if total <= limit else (
        round(i * (total - 1) / max(1, limit - 1)) for i in range(limit))
    rows = []
    for w in picks:
        piece = stream[w * step : w * step + length]
        row = torch.full((length,), PAD, dtype=torch.long)
        row[: piece.numel()] = piece
        rows.append(row)
    return torch.stack(rows)
