"""Imports run one way: a module imports only from its own package and from layers below it
(README, "Layers"). Every import is checked, module-level and inside functions; and in a
fresh interpreter, the engine pulls in neither Qt nor (for the lexicon commands) torch."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# bottom to top; packages on one line share a layer but may not import each other
LAYERS: list[tuple[str, ...]] = [
    ("pinyin",),
    ("lexicon", "kernels", "corpus"),
    ("lm",),
    ("ime",),
    ("evaluation",),
    ("ui",),
    ("cli",),
    ("main",),
]
LAYER_OF = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}


def project_modules() -> list[Path]:
    out = []
    for pkg in LAYER_OF:
        path = ROOT / pkg
        if path.is_dir():
            out += sorted(p for p in path.rglob("*.py") if "build" not in p.parts)
        elif (ROOT / f"{pkg}.py").is_file():
            out.append(ROOT / f"{pkg}.py")
    return out


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """(top-level package, line) of every absolute import of a project package in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in LAYER_OF:
                found.add((top, node.lineno))
    return found


def violations(path: Path) -> list[str]:
    rel = path.relative_to(ROOT)
    own = rel.parts[0].removesuffix(".py")
    out = []
    for top, line in sorted(imported_packages(path)):
        if top == own:
            continue
        if LAYER_OF[top] >= LAYER_OF[own]:
            out.append(f"{rel}:{line}: {own} (layer {LAYER_OF[own]}) imports {top} "
                       f"(layer {LAYER_OF[top]})")
    return out


def test_every_module_imports_only_from_below() -> None:
    modules = project_modules()
    assert len(modules) > 40  # the walk found the project
    bad = [v for p in modules for v in violations(p)]
    assert bad == [], "imports that run upward:\n" + "\n".join(bad)


def test_the_checker_catches_an_upward_import(tmp_path: Path, monkeypatch) -> None:
    """The rule itself: a lexicon module importing the engine, or ime importing ui, fails."""
    fake = tmp_path / "lexicon" / "bad.py"
    fake.parent.mkdir()
    fake.write_text("import os\n\ndef f():\n    from ime.engine import Engine\n    import ui.app\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = violations(fake)
    assert len(found) == 2 and "imports ime" in found[0] and "imports ui" in found[1]


PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
import cli.main
cli.main.build_parser()  # registering every command (the ui one too) pulls in nothing heavy
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & {"PyQt6", "torch"})))
"""


@pytest.mark.parametrize("modules", [
    ["ime", "ime.engine", "ime.context", "ime.keys", "evaluation.replay", "lexicon",
     "lexicon.build", "lm", "pinyin.spelling", "cli.lexicon"],
])
def test_the_engine_imports_neither_qt_nor_torch(modules: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, *modules], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
