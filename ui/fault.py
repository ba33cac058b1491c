"""An engine error inside a key, as every front end survives it (the typing pad's bridge,
the IBus session): reported on stderr (a message and the traceback), the composition
dropped, the key taken, so the editor keeps its text and the next key works.

    r = run_guarded(processor, lambda: processor.key(ev))
    if isinstance(r, EngineFault):   # already reported; the front end hides its window
        ...

No Qt: the IBus engine process uses it too.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from ime.keys import KeyProcessor, KeyResult

__all__ = ["EngineFault", "run_guarded"]


@dataclass(frozen=True, slots=True)
class EngineFault:
    """What `run_guarded` returns in place of a KeyResult when the call raised."""

    error: Exception
    reset: bool  # the composition was dropped; False: cancelling failed too (a fresh one is due)

    @property
    def summary(self) -> str:
        return f"{type(self.error).__name__}: {self.error}"


def run_guarded(processor: KeyProcessor, action: Callable[[], KeyResult]
                ) -> KeyResult | EngineFault:
    """`action()`'s result; if it raises, the error is reported on stderr, the processor's
    composition cancelled, and an EngineFault returned."""
    try:
        return action()
    except Exception as e:  # noqa: BLE001 — a front end must survive any engine fault
        print(f"delta-pinyin: engine error, composition reset: {e}", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        try:
            processor.cancel()
        except Exception:  # noqa: BLE001
            return EngineFault(e, reset=False)
        return EngineFault(e, reset=True)
