"""User configuration: `$XDG_CONFIG_HOME/delta-pinyin/config.toml`, and where user files live.

Every key of the file is checked once, at load, against `SCHEMA` (its type and range): a
value of the wrong type is an error, never a silent default, because a wrong type can invert
what the user meant (`learning = "no"` is a non-empty string, so truthy). The error names the
file and line, the key, the value and what is expected:

    config.toml:3: learning = "no": expected true or false (a TOML boolean, unquoted)

Unknown keys are errors too (a misspelt `learnig = false` would otherwise leave learning on),
with the nearest known name suggested. The file is at most `MAX_CONFIG_BYTES`, UTF-8, and a
regular file. `load_config()` without a path reads the default file, which may be absent
(then the defaults); a path given explicitly must exist.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import stat
import tempfile
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from pinyin.syllables import FUZZY_PAIRS

__all__ = [
    "Config", "ConfigError", "Setting", "SCHEMA", "MAX_CONFIG_BYTES", "config_dir", "data_dir",
    "load_config", "ensure_private_dir", "update_config_file",
]  # fmt: skip

APP = "delta-pinyin"
MAX_CONFIG_BYTES = 64 * 1024  # a config file is a dozen lines; anything this big is not one


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    page_size: int = 5  # candidates per page (1–9)
    fuzzy: frozenset[str] = field(default_factory=frozenset)  # e.g. {"z/zh", "an/ang"}
    typos: bool = True  # correct gn→ng and transposed letters, with a penalty
    learning: bool = True  # the online learner adapts to what the user commits
    # entries (learned words, promoted or demoted system words) the learner may add to the
    # user lexicon in one session, i.e. while one engine runs (0–1,000,000): junk from one
    # odd day stays bounded; entries already there keep learning past it
    learn_session_cap: int = 2000
    lm: bool = True  # rank with the neural LM when its weights and torch are present
    # where the neural LM ranks: "rerank" the decoder's n-best afterwards, or "search" inside
    # the decoder's beam (each hypothesis scored after the committed text: about a point of
    # P@1 better on the dev logs, and half as slow again; benchmarks/RESULTS.md)
    lm_mode: str = "rerank"
    device: str = "auto"  # "cpu", "cuda" or "auto" for the neural LM
    recording: bool = False  # append committed units to a typing log (opt-in)
    layout: str = "horizontal"  # candidate window: "horizontal" or "vertical"
    sentence_slots: int = 3  # sentence candidates shown before words and characters (1–10)
    chinese_punctuation: bool = True  # Chinese mode types ，。？“” for , . ? " (ime/punctuation)
    # torch threads the neural LM may use (1–64): an input method shares the CPU with the
    # application being typed into, so one thread unless the user asks for more
    threads: int = 1
    # the system input method (ui/ibus): candidates in our Qt window at the cursor, or in
    # IBus's own lookup table ("ibus": what GNOME on Wayland draws); what focus out does
    # with a composition: commit it as typed, keep it for the focus's return, or cancel it
    candidate_window: str = "qt"
    focus_out: str = "commit"

    def with_(self, **kw) -> Config:
        return replace(self, **kw)

    def validate(self) -> Config:
        """This config, if every field has the type and range SCHEMA gives it; else ConfigError
        naming the first field that has not."""
        for f in fields(self):
            value = getattr(self, f.name)
            if not SCHEMA[f.name].accepts(value, from_file=False):
                raise ConfigError(f"{f.name} = {_shown(value)}: expected "
                                  f"{SCHEMA[f.name].expected}")
        return self


# ---- the schema ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Setting:
    """What one key may hold: a boolean, an integer in [low, high], one of `choices`, or (kind
    "pairs") a list of fuzzy pair names from `choices` (a frozenset in a Config)."""

    kind: str  # "bool", "int", "choice" or "pairs"
    low: int = 0
    high: int = 0
    choices: tuple[str, ...] = ()

    @property
    def expected(self) -> str:
        if self.kind == "bool":
            return "true or false (a TOML boolean, unquoted)"
        if self.kind == "int":
            return f"an integer from {self.low} to {self.high}"
        names = ", ".join(json.dumps(c) for c in self.choices)
        if self.kind == "choice":
            return f"one of {names} (a quoted string)"
        return f"a list of fuzzy pairs from {names}, e.g. [\"z/zh\", \"an/ang\"]"

    def accepts(self, value: object, from_file: bool = True) -> bool:
        """`from_file`: a TOML value (pairs: a list); otherwise a Config's (pairs: a set)."""
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "int":  # bool is an int subclass: `page_size = true` is no number
            return (isinstance(value, int) and not isinstance(value, bool)
                    and self.low <= value <= self.high)
        if self.kind == "choice":
            return isinstance(value, str) and value in self.choices
        collection = list if from_file else (set, frozenset)
        return (isinstance(value, collection)
                and all(isinstance(v, str) and v in self.choices for v in value))

    def convert(self, value: object) -> object:
        """A checked TOML value as the Config holds it."""
        return frozenset(value) if self.kind == "pairs" else value  # type: ignore[arg-type]


_BOOL = Setting("bool")
SCHEMA: dict[str, Setting] = {
    "page_size": Setting("int", 1, 9),
    "fuzzy": Setting("pairs", choices=tuple(FUZZY_PAIRS)),
    "typos": _BOOL,
    "learning": _BOOL,
    "learn_session_cap": Setting("int", 0, 1_000_000),
    "lm": _BOOL,
    "lm_mode": Setting("choice", choices=("search", "rerank")),
    "device": Setting("choice", choices=("auto", "cpu", "cuda")),
    "recording": _BOOL,
    "layout": Setting("choice", choices=("horizontal", "vertical")),
    "sentence_slots": Setting("int", 1, 10),
    "chinese_punctuation": _BOOL,
    "threads": Setting("int", 1, 64),
    "candidate_window": Setting("choice", choices=("qt", "ibus")),
    "focus_out": Setting("choice", choices=("commit", "keep", "cancel")),
}
assert set(SCHEMA) == {f.name for f in fields(Config)}, "every Config field has a Setting"


def _shown(value: object, limit: int = 40) -> str:
    """A value as TOML would write it, cut short (a huge number, a long string)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):  # str() of a huge int is slow, or refused past 4300 digits
        text = str(value) if abs(value) < 10 ** 30 else f"an integer of {value.bit_length()} bits"
    elif isinstance(value, float):
        text = repr(value) if math.isfinite(value) else str(value)  # inf, -inf, nan as TOML
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        text = "[" + ", ".join(_shown(v, limit) for v in list(items)[:8]) + \
            (", ...]" if len(items) > 8 else "]")
    elif isinstance(value, dict):
        text = "a table"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _line_of(text: str, key: str) -> int | None:
    """The 1-based line where `key` is set (`key =`, `"key" =`, `[key]`), if it is found."""
    k = re.escape(key)
    m = re.search(rf"^[ \t]*(?:{k}|\"{k}\"|'{k}')[ \t]*[=.]|^[ \t]*\[+[ \t]*{k}[ \t]*[\].]",
                  text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else None


# ---- reading ---------------------------------------------------------------------------------


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
    """The checked Config of `path`, or of the default file. The default file may be absent
    (then the defaults); a `path` given explicitly must exist. ConfigError otherwise."""
    if path is None:
        path = config_dir() / "config.toml"
        if not path.exists() and not path.is_symlink():
            return Config()
    path = Path(path)
    return _parse(_read_text(path), str(path))


def _read_text(path: Path) -> str:
    """The text of a config file: a regular file of at most MAX_CONFIG_BYTES, UTF-8."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            what = "a directory" if stat.S_ISDIR(st.st_mode) else "a pipe, socket or device"
            raise ConfigError(f"{path}: not a config file ({what})")
        if st.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: {st.st_size} bytes; a config file is at most "
                              f"{MAX_CONFIG_BYTES} bytes ({MAX_CONFIG_BYTES // 1024} KiB)")
        data = os.read(fd, MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_CONFIG_BYTES:  # grew since the fstat
        raise ConfigError(f"{path}: a config file is at most {MAX_CONFIG_BYTES} bytes "
                          f"({MAX_CONFIG_BYTES // 1024} KiB)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte {data[e.start]:#04x} at "
                          f"offset {e.start}); save the file as UTF-8") from None


def _problems(raw: dict, text: str) -> list[tuple[int | None, str]]:
    """(line, message) for every key that is unknown or has a value SCHEMA refuses."""
    out: list[tuple[int | None, str]] = []
    for key, value in raw.items():
        line = _line_of(text, key)
        setting = SCHEMA.get(key)
        if setting is None:
            near = difflib.get_close_matches(key, SCHEMA, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"known: {', '.join(SCHEMA)}"
            out.append((line, f"unknown setting {_shown(key)} ({hint})"))
        elif not setting.accepts(value):
            out.append((line, f"{key} = {_shown(value)}: expected {setting.expected}"))
    return sorted(out, key=lambda p: (p[0] is None, p[0] or 0))


def _parse(text: str, where: str) -> Config:
    """A checked Config from config.toml's text; errors name `where` and the line."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{where}: a config file is at most {MAX_CONFIG_BYTES} bytes")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{where}: not valid TOML: values nested too deeply") from None
    except ValueError as e:  # an integer of thousands of digits
        raise ConfigError(f"{where}: not valid TOML: {e}") from None
    problems = _problems(raw, text)
    if problems:
        line, message = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"{where}{'' if line is None else f':{line}'}: {message}{more}")
    return Config(**{k: SCHEMA[k].convert(v) for k, v in raw.items()})


# ---- writing ---------------------------------------------------------------------------------


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


def _check_changes(changes: dict[str, object]) -> None:
    unknown = set(changes) - set(SCHEMA)
    if unknown:
        raise ConfigError(f"unknown settings {sorted(unknown)}")
    for key, value in changes.items():
        setting = SCHEMA[key]
        as_file = sorted(value) if setting.kind == "pairs" and isinstance(
            value, (set, frozenset, tuple)) else value
        if not setting.accepts(as_file):
            raise ConfigError(f"{key} = {_shown(value)}: expected {setting.expected}")


def update_config_file(changes: dict[str, object], path: Path | None = None) -> Path:
    """Set `changes` in config.toml, keeping every other line (comments too); returns its path.

    Each key's `key = ...` line is replaced, or appended when absent. The result must load
    as a valid Config before it replaces the old file, atomically (a temp file in the same
    directory, then rename), created readable by the user alone.
    """
    path = Path(path) if path is not None else config_dir() / "config.toml"
    _check_changes(changes)
    text = _read_text(path) if path.exists() or path.is_symlink() else ""
    for key, value in changes.items():
        line = f"{key} = {_toml_value(value)}"
        pattern = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=.*$", re.MULTILINE)
        if pattern.search(text):
            text = pattern.sub(lambda _m, line=line: line, text, count=1)
        else:
            text += ("" if not text or text.endswith("\n") else "\n") + line + "\n"
    try:
        _parse(text, str(path))
    except ConfigError as e:
        raise ConfigError(f"the updated settings would not load: {e}") from None
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
