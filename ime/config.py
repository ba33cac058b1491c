"""User configuration: `$XDG_CONFIG_HOME/delta-pinyin/config.toml`, and where user files live."""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from pinyin.syllables import FUZZY_PAIRS

__all__ = [
    "Config", "ConfigError", "config_dir", "data_dir", "load_config", "ensure_private_dir",
    "update_config_file",
]  # fmt: skip

APP = "delta-pinyin"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    page_size: int = 5  # candidates per page (1–9)
    fuzzy: frozenset[str] = field(default_factory=frozenset)  # e.g. {"z/zh", "an/ang"}
    typos: bool = True  # correct gn→ng and transposed letters, with a penalty
    learning: bool = True  # the online learner adapts to what the user commits
    lm: bool = True  # rerank with the neural LM when its weights and torch are present
    device: str = "auto"  # "cpu", "cuda" or "auto" for the neural LM
    recording: bool = False  # append committed units to a typing log (opt-in)
    layout: str = "horizontal"  # candidate window: "horizontal" or "vertical"
    sentence_slots: int = 3  # sentence candidates shown before words and characters
    chinese_punctuation: bool = True  # Chinese mode types ，。？“” for , . ? " (ime/punctuation)

    def with_(self, **kw) -> Config:
        return replace(self, **kw)

    def validate(self) -> Config:
        if not 1 <= self.page_size <= 9:
            raise ConfigError(f"page_size must be 1..9, not {self.page_size}")
        unknown = set(self.fuzzy) - set(FUZZY_PAIRS)
        if unknown:
            raise ConfigError(f"unknown fuzzy pairs {sorted(unknown)}; known: {list(FUZZY_PAIRS)}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"device must be auto, cpu or cuda, not {self.device!r}")
        if self.layout not in ("horizontal", "vertical"):
            raise ConfigError(f"layout must be horizontal or vertical, not {self.layout!r}")
        if self.sentence_slots < 1:
            raise ConfigError("sentence_slots must be at least 1")
        return self


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / APP


def data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                           "share")
    return Path(base) / APP


def ensure_private_dir(path: Path) -> Path:
    """Create a directory readable by the user alone (user data is private)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def load_config(path: Path | None = None) -> Config:
    path = path or config_dir() / "config.toml"
    if not path.exists():
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: {e}") from None
    return _parse(text, str(path))


def _parse(text: str, where: str) -> Config:
    """A validated Config from config.toml's text; errors name `where`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: {e}") from None
    known = {f.name for f in fields(Config)}
    kw = {}
    for k, v in raw.items():
        if k not in known:
            raise ConfigError(f"{where}: unknown setting {k!r}")
        kw[k] = frozenset(v) if k == "fuzzy" else v
    try:
        return Config(**kw).validate()
    except TypeError as e:
        raise ConfigError(f"{where}: {e}") from None


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (set, frozenset, list, tuple)):
        return "[" + ", ".join(json.dumps(str(v), ensure_ascii=False) for v in sorted(value)) + "]"
    raise ConfigError(f"cannot write {value!r} to the config file")


def update_config_file(changes: dict[str, object], path: Path | None = None) -> Path:
    """Set `changes` in config.toml, keeping every other line (comments too); returns its path.

    Each key's `key = ...` line is replaced, or appended when absent. The result must load
    as a valid Config before it replaces the old file, atomically (a temp file in the same
    directory, then rename), created readable by the user alone.
    """
    path = path or config_dir() / "config.toml"
    known = {f.name for f in fields(Config)}
    unknown = set(changes) - known
    if unknown:
        raise ConfigError(f"unknown settings {sorted(unknown)}")
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as e:
        raise ConfigError(f"{path}: {e}") from None
    for key, value in changes.items():
        line = f"{key} = {_toml_value(value)}"
        pattern = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=.*$", re.MULTILINE)
        if pattern.search(text):
            text = pattern.sub(lambda _m, line=line: line, text, count=1)
        else:
            text += ("" if not text or text.endswith("\n") else "\n") + line + "\n"
    _parse(text, f"{path}: the updated settings would not load")
    try:
        ensure_private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config.", suffix=".tmp")  # 0600
    except OSError as e:
        raise ConfigError(f"{path}: {e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ConfigError(f"{path}: {e}") from None
    return path
