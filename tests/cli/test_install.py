"""`pip install .` into a fresh venv, then the installed `delta-pinyin` from another directory:
every command's code ships in the package (compare once failed with "No module named
'benchmarks'"), and `lexicon info` runs without importing torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from lexicon.testing import write_tiny_cache

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _source_copy(dest: Path) -> Path:
    """The checkout's files (tracked and untracked, not ignored), so that building the wheel
    leaves nothing in the checkout."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the installed package; its dependencies come from this venv's
    site-packages through a .pth line (so nothing is downloaded or rebuilt)."""
    if shutil.which("git") is None:
        pytest.skip("needs git (the file list of the checkout)")
    base = tmp_path_factory.mktemp("install")
    src = _source_copy(base / "src")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    wheels = base / "wheels"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                        "--no-build-isolation", "--no-index", "-w", str(wheels), str(src)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    (wheel,) = wheels.glob("delta_pinyin-*.whl")
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q",
                        "--no-deps", "--no-index", str(wheel)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['purelib'])"], capture_output=True, text=True, check=True)
    site = Path(purelib.stdout.strip())
    (site / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def run(venv: Path, cwd: Path, *args: str, env: dict | None = None):
    return subprocess.run([str(venv / "bin" / "delta-pinyin"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)


def test_installed_commands_run_from_another_directory(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cache = write_tiny_cache(tmp_path / "cache")
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONPATH": ""}
    where = subprocess.run([str(installed / "bin" / "python"), "-c",
                            "import cli, ime, evaluation.peers; print(cli.__file__)"],
                           cwd=elsewhere, capture_output=True, text=True, env=env)
    assert where.returncode == 0, where.stderr
    assert str(installed) in where.stdout  # the installed copy, not the checkout

    info = run(installed, elsewhere, "lexicon", "info", "--cache-dir", str(cache), env=env)
    assert info.returncode == 0, info.stderr
    assert "system lexicon" in info.stdout and "user lexicon" in info.stdout

    log = elsewhere / "log.jsonl"
    log.write_text(json.dumps({"keys": "nihao", "text": "你好"}, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    cmp = run(installed, elsewhere, "compare", str(log), "--peers", "", "--quiet",
              "--cache-dir", str(cache), env=env)
    assert cmp.returncode == 0, cmp.stderr
    assert "delta" in cmp.stdout.lower()


def test_lexicon_info_imports_no_torch(installed: Path, tmp_path: Path) -> None:
    cache = write_tiny_cache(tmp_path / "cache")
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONPATH": "",
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    probe = ("import sys; from cli.main import main; "
             f"rc = main(['lexicon', 'info', '--cache-dir', {str(cache)!r}]); "
             "print('torch' in sys.modules, rc)")
    r = subprocess.run([str(installed / "bin" / "python"), "-c", probe], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "False 0"
