"""The engine never imports Qt (DESIGN.md): checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE_MODULES = ["ime", "ime.engine", "ime.context", "evaluation.replay", "lexicon", "lexicon.build",
                  "lm"]

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
import cli.main as main
main.build_parser()  # registering every command (the ui one too) must not pull Qt in
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "PyQt6")))
"""


def test_engine_imports_no_qt() -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, *ENGINE_MODULES], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    qt = json.loads(proc.stdout.strip().splitlines()[-1])
    assert qt == [], f"engine imports pulled in Qt: {qt}"
