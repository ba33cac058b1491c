"""User configuration: `$XDG_CONFIG_HOME/delta-pinyin/config.toml`, and where user files live."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from ime.syllables import FUZZY_PAIRS

__all__ = ["Config", "ConfigError", "config_dir", "data_dir", "load_config", "ensure_private_dir"]

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
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: {e}") from None
    known = {f.name: f for f in fields(Config)}
    kw = {}
    for k, v in raw.items():
        if k not in known:
            raise ConfigError(f"{path}: unknown setting {k!r}")
        kw[k] = frozenset(v) if k == "fuzzy" else v
    try:
        return Config(**kw).validate()
    except TypeError as e:
        raise ConfigError(f"{path}: {e}") from None
