"""lexicon.build: the cache directory is written only where that deletes nothing of the user's.

The long build itself (`_build_into`, 20-80 s) is replaced by a fake that writes the same file
names; what is tested is where the build goes, what it refuses and what it cleans up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lexicon import build
from lexicon.build import (
    BUILD_MARKER,
    BUILD_VERSION,
    FILES,
    WORK_MARKER,
    WORK_PREFIX,
    CacheDirError,
    build_lexicon,
    ensure_built,
    is_built,
)

ROOT = Path(__file__).resolve().parents[2]


def _fake_build_into(out: Path, progress: bool, say) -> dict:
    for name in FILES:
        if name != "meta.json":
            (out / name).write_bytes(b"built")
    (out / "dev_news.txt").write_text("新闻\n", encoding="utf-8")
    (out / "train_news.txt").write_text("新闻\n", encoding="utf-8")
    return {"version": BUILD_VERSION, "entries": 1}


@pytest.fixture
def builds(monkeypatch) -> list[Path]:
    """The fake build in place of the real one; the list of directories it built into."""
    calls: list[Path] = []

    def fake(out: Path, progress: bool, say) -> dict:
        calls.append(out)
        return _fake_build_into(out, progress, say)

    monkeypatch.setattr(build, "_build_into", fake)
    return calls


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under `root` with its bytes (None for a directory)."""
    return {str(p.relative_to(root)): None if p.is_dir() else p.read_bytes()
            for p in sorted(root.rglob("*"))}


def _decoy(path: Path) -> Path:
    (path / "Documents").mkdir(parents=True)
    (path / "Documents" / "thesis.tex").write_text("four years of work")
    (path / ".bashrc").write_text("export PS1='$ '")
    (path / "meta.json").write_text('{"version": 1}')  # even a file of the build's name
    return path


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith((WORK_PREFIX, ".build-")))


# ---- what the build refuses ------------------------------------------------------------------


def test_a_decoy_directory_is_untouched_and_the_build_refused(tmp_path, builds) -> None:
    home = _decoy(tmp_path / "home")
    before = _tree(home)
    with pytest.raises(CacheDirError, match=r"home: not empty and not a lexicon cache built by "
                                            r"Delta Pinyin \(3 entries: \.bashrc, Documents, "):
        build_lexicon(home, progress=False)
    assert _tree(home) == before and builds == []  # refused before the build began
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("how", ["option", "environment"])
def test_the_build_command_refuses_a_decoy_in_one_line(tmp_path, builds, monkeypatch, capsys,
                                                       how: str) -> None:
    import main

    home = _decoy(tmp_path / "home")
    before = _tree(home)
    if how == "option":
        argv = ["--cache-dir", str(home), "lexicon", "build"]
    else:
        monkeypatch.setenv("DELTA_PINYIN_CACHE", str(home))
        argv = ["lexicon", "build"]
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {home}: not empty and not a lexicon cache")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert _tree(home) == before and builds == []


def test_ensure_built_refuses_a_decoy_too(tmp_path, builds) -> None:
    home = _decoy(tmp_path / "home")
    before = _tree(home)
    with pytest.raises(CacheDirError):
        ensure_built(home, progress=False)
    assert _tree(home) == before and builds == []


def test_a_file_is_refused_before_the_build(tmp_path, builds) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    with pytest.raises(CacheDirError, match="exists and is not a directory"):
        build_lexicon(target, progress=False)
    assert target.read_text() == "mine" and builds == [] and _leftovers(tmp_path) == []
    with pytest.raises(CacheDirError, match="cannot create the directory it goes in"):
        build_lexicon(target / "cache", progress=False)
    assert builds == []


def test_a_symlink_to_a_decoy_is_refused(tmp_path, builds) -> None:
    home = _decoy(tmp_path / "home")
    before = _tree(home)
    link = tmp_path / "cache"
    link.symlink_to(home)
    with pytest.raises(CacheDirError, match="not empty"):
        build_lexicon(link, progress=False)
    assert _tree(home) == before and link.is_symlink() and builds == []


def test_a_previous_build_with_a_file_of_the_users_is_refused(tmp_path, builds) -> None:
    cache = tmp_path / "cache"
    build_lexicon(cache, progress=False)
    (cache / "my-notes.txt").write_text("kept here by mistake")
    with pytest.raises(CacheDirError, match="not empty"):
        build_lexicon(cache, progress=False)
    assert (cache / "my-notes.txt").read_text() == "kept here by mistake" and is_built(cache)


def test_a_directory_filled_during_the_build_is_not_replaced(tmp_path, monkeypatch) -> None:
    target = tmp_path / "cache"

    def meanwhile(out: Path, progress: bool, say) -> dict:
        _decoy(target)  # the user (or another program) put things there in the meantime
        return _fake_build_into(out, progress, say)

    monkeypatch.setattr(build, "_build_into", meanwhile)
    with pytest.raises(CacheDirError, match="not empty"):
        build_lexicon(target, progress=False)
    assert (target / "Documents" / "thesis.tex").read_text() == "four years of work"
    assert _leftovers(tmp_path) == []


# ---- what it writes ----------------------------------------------------------------------------


def test_builds_into_an_absent_or_empty_directory_with_its_marker(tmp_path, builds) -> None:
    for target in (tmp_path / "a" / "new" / "cache", tmp_path / "empty"):
        if target.name == "empty":
            target.mkdir()
        build_lexicon(target, progress=False)
        assert is_built(target)
        marker = json.loads((target / BUILD_MARKER).read_text())
        assert marker["version"] == BUILD_VERSION
        assert set(marker["files"]) == {*FILES, "dev_news.txt", "train_news.txt"}
        assert not (target / WORK_MARKER).exists()
        assert _leftovers(target.parent) == []


def test_a_previous_build_is_replaced_and_nothing_is_left_beside_it(tmp_path, builds) -> None:
    cache = tmp_path / "cache"
    build_lexicon(cache, progress=False)
    (cache / "words.marisa").write_bytes(b"old")
    build_lexicon(cache, progress=False)
    assert (cache / "words.marisa").read_bytes() == b"built" and len(builds) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_a_build_from_before_markers_is_replaced(tmp_path, builds) -> None:
    from lexicon.testing import write_tiny_cache

    cache = write_tiny_cache(tmp_path / "cache")
    assert not (cache / BUILD_MARKER).exists()
    build_lexicon(cache, progress=False)
    assert (cache / BUILD_MARKER).exists() and (cache / "words.marisa").read_bytes() == b"built"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


# ---- failures and kills clean up -----------------------------------------------------------------


@pytest.mark.parametrize("fault", [RuntimeError("out of memory"), KeyboardInterrupt()],
                         ids=["error", "interrupt"])
def test_a_failed_build_leaves_no_temporary_directory(tmp_path, monkeypatch,
                                                      fault: BaseException) -> None:
    cache = tmp_path / "cache"

    def failing(out: Path, progress: bool, say) -> dict:
        _fake_build_into(out, progress, say)
        raise fault

    monkeypatch.setattr(build, "_build_into", failing)
    with pytest.raises(type(fault)):
        build_lexicon(cache, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_sigterm_during_the_build_removes_the_temporary_directory(tmp_path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from lexicon import build\n"
        "def slow(out, progress, say):\n"
        "    (out / 'words.marisa').write_bytes(b'half')\n"
        "    print('building', flush=True)\n"
        "    time.sleep(60)\n"
        "build._build_into = slow\n"
        "build.build_lexicon(Path(sys.argv[1]), progress=False)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "cache")], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "building\n"
        assert len(_leftovers(tmp_path)) == 1  # the work in progress
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == -signal.SIGTERM  # still ends as killed by SIGTERM
    finally:
        proc.kill()
        proc.wait()
    assert list(tmp_path.iterdir()) == []


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_the_next_build_removes_stale_temporary_directories_of_its_own(tmp_path, builds) -> None:
    host = os.uname().nodename

    def work_dir(name: str, marker: dict | None) -> Path:
        d = tmp_path / name
        d.mkdir()
        (d / "words.marisa").write_bytes(b"half")
        if marker is not None:
            (d / WORK_MARKER).write_text(json.dumps(marker))
        return d

    work_dir(WORK_PREFIX + "killed", {"pid": _dead_pid(), "host": host})
    work_dir(WORK_PREFIX + "garbled", None)
    (tmp_path / (WORK_PREFIX + "garbled") / WORK_MARKER).write_text("{not json")
    running = work_dir(WORK_PREFIX + "running", {"pid": os.getpid(), "host": host})
    elsewhere = work_dir(WORK_PREFIX + "other-host", {"pid": 1, "host": host + "-not"})
    unmarked = work_dir(WORK_PREFIX + "unmarked", None)  # the name alone proves nothing
    old_style = work_dir(".build-abcd", None)
    time.sleep(0.01)
    build_lexicon(tmp_path / "cache", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["cache", running.name, elsewhere.name, unmarked.name, old_style.name])
    assert (unmarked / "words.marisa").read_bytes() == b"half"
