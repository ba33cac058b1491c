"""Reading a built corpus back: its documents, and dev excerpts for typing logs.

    for source, name, lines in read_documents(corpus_dir, "dev", "dialogue"): ...
    text = dev_log_text(corpus_dir, "everyday", clauses=500)   # then make_log(text, ...)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from corpus.build import CorpusError, text_path

__all__ = ["read_documents", "dev_log_text", "EXCERPT_SEP"]

# between excerpts of different documents in `dev_log_text`: a private-use character,
# which the cleaner never lets into the corpus; a log maker cuts the left context there
EXCERPT_SEP = "\ue000"
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


def read_documents(corpus_dir: Path, split: str, domain: str
                   ) -> list[tuple[str, str, list[str]]]:
    """(source, document name, lines) of one split of one domain, in file order."""
    corpus_dir = Path(corpus_dir)
    index = corpus_dir / "documents.tsv"
    path = text_path(corpus_dir, split, domain)
    if not index.is_file() or not path.is_file():
        raise CorpusError(f"{corpus_dir}: no corpus built here (run: main.py corpus build)")
    rows = []
    for line in index.read_text(encoding="utf-8").split("\n")[1:]:
        parts = line.split("\t")
        if len(parts) == 6 and parts[0] == split and parts[1] == domain:
            rows.append((parts[2], parts[3], int(parts[4])))
    text = path.read_text(encoding="utf-8")
    blocks = text.split("\n\n") if text else []
    if len(blocks) != len(rows):
        raise CorpusError(f"{path}: {len(blocks)} documents, the index lists {len(rows)}")
    out = []
    for (source, name, n), block in zip(rows, blocks):
        lines = block.rstrip("\n").split("\n")
        if len(lines) != n:
            raise CorpusError(f"{path}: {source}/{name} has {len(lines)} lines, the index {n}")
        out.append((source, name, lines))
    return out


def _clauses(line: str, min_chars: int) -> int:
    return sum(1 for m in _HAN_RUN.finditer(line) if len(m.group()) >= min_chars)


def _runs(docs: list[tuple[str, list[str]]], run: int, min_chars: int
          ) -> Iterator[tuple[int, int, int, int]]:
    """(document index, first line, end line, clauses) of excerpts of about `run` clauses,
    taken from the documents in turn."""
    cursor = [0] * len(docs)
    live = list(range(len(docs)))
    while live:
        for i in list(live):
            lines = docs[i][1]
            start = end = cursor[i]
            n = 0
            while end < len(lines) and n < run:
                n += _clauses(lines[end], min_chars)
                end += 1
            cursor[i] = end
            if end >= len(lines):
                live.remove(i)
            if n:
                yield i, start, end, n


def dev_log_text(corpus_dir: Path, domain: str, clauses: int = 500, run: int = 10,
                 min_chars: int = 2, split: str = "dev") -> str:
    """Excerpts of a domain's dev documents, enough for `clauses` clauses of at least
    `min_chars` Han characters, such that the first ones cover every source and many
    documents: the sources in turn, and each source's documents in turn, `run` clauses at
    a time. Excerpts of different documents are joined by a line break and EXCERPT_SEP
    (where the left context starts afresh); consecutive excerpts of one document (a source
    with one document, like news) are joined by a line break alone, as the text itself."""
    docs = read_documents(corpus_dir, split, domain)
    by_source: dict[str, list[tuple[str, list[str]]]] = {}
    for source, name, lines in docs:
        by_source.setdefault(source, []).append((name, lines))
    gens = {s: _runs(d, run, min_chars) for s, d in by_source.items()}
    want = int(clauses * 1.1) + 20  # a few clauses have no reading and make no record
    pieces: list[tuple[str, int, int, int]] = []
    total = 0
    while gens and total < want:
        for s in list(gens):
            piece = next(gens[s], None)
            if piece is None:
                del gens[s]
                continue
            i, start, end, n = piece
            pieces.append((s, i, start, end))
            total += n
            if total >= want:
                break
    out: list[str] = []
    prev: tuple[str, int, int] | None = None
    for s, i, start, end in pieces:
        lines = by_source[s][i][1][start:end]
        if out:
            out.append("\n" if prev == (s, i, start) else "\n" + EXCERPT_SEP)
        out.append("\n".join(lines))
        prev = (s, i, end)
    return "".join(out)
