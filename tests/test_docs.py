"""Every document a module, a test, a script or a README cites is in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# a cited document: a path (or bare name) of an upper-case Markdown file, e.g.
# docs/TYPING_LOG.md, lexicon/FORMAT.md, PROTOCOL.md (then beside the citing file)
CITED = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[A-Z][A-Z_]+\.md)\b")


def project_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / f for f in out
            if f.endswith((".py", ".md", ".sh", ".c", ".cpp", ".h", "Makefile", ".toml"))
            and (ROOT / f).is_file() and f != "tests/test_docs.py"]


def unresolved(path: Path) -> list[str]:
    bad = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for m in CITED.finditer(text):
        cited = m.group(1)
        if not ((path.parent / cited).is_file() or (ROOT / cited).is_file()):
            line = text.count("\n", 0, m.start()) + 1
            bad.append(f"{path.relative_to(ROOT)}:{line}: {cited}")
    return bad


def test_every_cited_document_resolves() -> None:
    files = project_files()
    assert any(f.name == "engine.py" for f in files)
    bad = [b for f in files for b in unresolved(f)]
    assert bad == [], "cited documents that are not in the repository:\n" + "\n".join(bad)


def test_the_checker_catches_a_missing_document(tmp_path: Path, monkeypatch) -> None:
    import sys

    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "TYPING_LOG.md").write_text("x")
    f = tmp_path / "m.py"
    f.write_text('"""See docs/TYPING_LOG.md and docs/NOWHERE.md."""\n')
    assert unresolved(f) == ["m.py:1: docs/NOWHERE.md"]
