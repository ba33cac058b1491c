"""The fuzz suite's bookkeeping: how many cases each target ran, printed at the end of the
run and written to `fuzz-counts.json` in pytest's base temporary directory."""

from __future__ import annotations

import json
from collections import Counter

import pytest

CASES: Counter[str] = Counter()  # target → cases run in this session


@pytest.fixture
def count():
    """`count(target)`: one more case of `target`."""
    return lambda target: CASES.update([target])


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not CASES:
        return
    base = config._tmp_path_factory.getbasetemp()  # what tmp_path_factory uses
    path = base / "fuzz-counts.json"
    path.write_text(json.dumps(dict(sorted(CASES.items())), indent=1) + "\n", encoding="utf-8")
    terminalreporter.section("fuzz cases per target")
    for target, n in sorted(CASES.items()):
        terminalreporter.write_line(f"{target:<24} {n}")
    terminalreporter.write_line(f"(written to {path})")
