"""config.toml: loading with clear errors, and updates that keep the user's other lines."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ime.config import Config, ConfigError, load_config, update_config_file


def test_missing_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "none.toml") == Config()


@pytest.mark.parametrize(
    "text, message",
    [("page_size = 12\n", "page_size"), ("colour = 1\n", "unknown setting"),
     ("page_size = \n", "config.toml"), ('fuzzy = ["x/y"]\n', "fuzzy")],
)  # fmt: skip
def test_bad_files_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_update_keeps_comments_and_other_settings(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "config.toml"
    path.parent.mkdir()
    path.write_text('# my settings\npage_size = 7\nlearning = true  # adapt\nfuzzy = ["z/zh"]\n')
    update_config_file({"learning": False, "layout": "vertical"}, path)
    text = path.read_text()
    assert text.startswith("# my settings\npage_size = 7\n")
    assert "learning = false\n" in text and 'layout = "vertical"\n' in text
    cfg = load_config(path)
    assert (cfg.page_size, cfg.learning, cfg.layout) == (7, False, "vertical")
    assert cfg.fuzzy == frozenset({"z/zh"})
    update_config_file({"fuzzy": {"an/ang", "z/zh"}, "chinese_punctuation": False}, path)
    cfg = load_config(path)
    assert cfg.fuzzy == frozenset({"an/ang", "z/zh"}) and not cfg.chinese_punctuation


def test_update_creates_a_private_file(tmp_path: Path) -> None:
    path = update_config_file({"lm": False}, tmp_path / "new" / "config.toml")
    assert load_config(path).lm is False
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_an_update_that_would_not_load_leaves_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("page_size = 4\n")
    with pytest.raises(ConfigError):
        update_config_file({"page_size": 20}, path)
    with pytest.raises(ConfigError, match="unknown"):
        update_config_file({"colour": "red"}, path)
    assert path.read_text() == "page_size = 4\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temp file left
