"""UI test setup: Qt runs offscreen, user files live in tmp_path, the lexicon is built once.

`ui_engine` is the path of a built system lexicon: the session fixture `engine_cache` of
tests/conftest.py when there is one, else `$DELTA_PINYIN_CACHE` / the default cache (built
on first use, ~20 s). `make_engine` builds engines on it, with a private user DB on request.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# before pytest-qt creates the QApplication: no display is needed (the screenshot test
# starts its own X server for a subprocess)
os.environ["QT_QPA_PLATFORM"] = "offscreen"

if importlib.util.find_spec("PyQt6") is None:  # the UI is an optional extra
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def ui_engine(request: pytest.FixtureRequest) -> Path:
    """A built system-lexicon directory (shared with the other tests when they provide one)."""
    try:
        return Path(request.getfixturevalue("engine_cache"))
    except pytest.FixtureLookupError:
        pass
    from lexicon.build import default_cache_dir, ensure_built

    return ensure_built(default_cache_dir(), progress=False)


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point XDG_DATA_HOME and XDG_CONFIG_HOME at tmp_path: no real user file is touched."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


@pytest.fixture
def make_engine(ui_engine: Path, tmp_path: Path) -> Iterator[Callable[..., object]]:
    """`make_engine(learn=False, **config)`: an Engine; with `learn`, a tmp user DB."""
    from ime.config import Config
    from ime.engine import Engine
    from ime.learner import open_learner

    learners = []

    def make(learn: bool = False, **config) -> Engine:
        learner = None
        if learn:
            learner = open_learner(tmp_path / "data" / "delta-pinyin" / "user.db")
            learners.append(learner)
        # the UI tests are about the window: the neural LM stays out unless a test asks
        return Engine.load(Config(**{"lm": False, **config}), ui_engine, learner=learner,
                           progress=False)

    yield make
    for learner in learners:
        learner.close()
