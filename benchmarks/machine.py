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


def shown_path(path) -> str:
    """A path as a benchmark's results record it: relative to the repository when inside
    it, else its file name (results say what was run, not where on some machine)."""
    path = Path(path).resolve()
    root = Path(__file__).resolve().parent.parent
    return str(path.relative_to(root)) if path.is_relative_to(root) else path.name


def git_commit(checkout) -> str:
    """The commit checked out at `checkout` (a short hash), or "" if it cannot be read."""
    import subprocess

    try:
        return subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


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
