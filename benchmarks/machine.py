"""What machine a benchmark ran on, for the lines of RESULTS.md."""

from __future__ import annotations

import contextlib
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["cpu_model", "busy_core"]

# one core kept busy, as by the application being typed into (a compile, a page rendering)
_SPIN = "import time\nwhile True:\n    sum(i * i for i in range(10000))\n"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@contextlib.contextmanager
def busy_core(on: bool = True) -> Iterator[subprocess.Popen | None]:
    """A second process spinning on one core for as long as the block runs."""
    if not on:
        yield None
        return
    proc = subprocess.Popen([sys.executable, "-c", _SPIN])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()
