"""The decontamination filter: drop corpus lines that contain reserved evaluation text.

`decontaminate.py` and `heldout.sha256` are verbatim copies of the project's shared filter
(see README.md here); this wrapper only loads a hash file once and answers per line.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from corpus.decontam.decontaminate import contaminated, load

__all__ = ["Decontaminator", "HASHES"]

HASHES = Path(__file__).with_name("heldout.sha256")


class Decontaminator:
    """`dec(line)` is True when the line holds reserved text and must be dropped."""

    def __init__(self, hashes: Path = HASHES) -> None:
        self.path = Path(hashes)
        data = self.path.read_bytes()
        self.sha256 = hashlib.sha256(data).hexdigest()
        self._starts, self._clauses, self._whole = load(self.path)

    def __call__(self, line: str) -> bool:
        return contaminated(line, self._starts, self._clauses, self._whole)
