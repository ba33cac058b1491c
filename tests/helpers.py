"""Helpers shared by test modules of different folders: `from helpers import sibling`
(tests/ is on sys.path as the folder of the root conftest.py, which is not in a package)."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

__all__ = ["TESTS", "sibling"]

TESTS = Path(__file__).resolve().parent


@functools.cache
def sibling(name: str) -> ModuleType:
    """The test module tests/NAME.py (`sibling("lexicon/test_formats").make_scel`), loaded by
    its path whatever the rootdir, once a session."""
    path = TESTS / (name + ".py")
    spec = importlib.util.spec_from_file_location("_sibling_" + name.replace("/", "_"), path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
