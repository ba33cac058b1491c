"""What every command shares: the user-facing error, and one way to build config and engine
from the command line's arguments.

    cfg = config_from_args(args)                     # --config, then the command's overrides
    engine = engine_from_args(args)                  # + --cache-dir, --user-db, the learner
    engine = engine_from_args(args, lm=False)        # lexicon commands: never loads torch
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["CliError", "config_from_args", "engine_from_args", "add_common_options",
           "cache_dir_of"]

# the options every command takes, before or after its name
_COMMON = (
    ("--config", "config.toml (default: $XDG_CONFIG_HOME/delta-pinyin/config.toml)"),
    ("--cache-dir", "built system lexicon (default: $XDG_CACHE_HOME/delta-pinyin/...)"),
    ("--user-db", "user lexicon (default: $XDG_DATA_HOME/delta-pinyin/user.db)"),
)


class CliError(Exception):
    """A user-facing error: printed as one line, exit status `code`."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """--config, --cache-dir and --user-db on `parser` and on every command below it; after
    a command's name they override what came before it (`lexicon info --config F`)."""
    for flag, text in _COMMON:
        parser.add_argument(flag, help=text)
    _add_below(parser)


def _add_below(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                for flag, text in _COMMON:
                    if flag not in sub._option_string_actions:
                        sub.add_argument(flag, help=text, default=argparse.SUPPRESS)
                _add_below(sub)


def cache_dir_of(args) -> Path | None:
    return Path(args.cache_dir) if getattr(args, "cache_dir", None) else None


def config_from_args(args, **overrides):
    """The config file (`--config`, which must exist when given), then the command's options:
    --page-size, --fuzzy, --layout, --no-learn, --no-lm, --record, then `overrides`."""
    from ime.config import load_config

    path = getattr(args, "config", None)
    if path is not None and not Path(path).is_file():
        raise CliError(f"--config {path}: no such file")
    cfg = load_config(Path(path) if path else None)
    kw = {}
    if getattr(args, "page_size", None) is not None:
        kw["page_size"] = args.page_size
    if getattr(args, "fuzzy", None):
        kw["fuzzy"] = frozenset(x for x in args.fuzzy.split(",") if x)
    if getattr(args, "layout", None):
        kw["layout"] = args.layout
    if getattr(args, "no_learn", False):
        kw["learning"] = False
    if getattr(args, "no_lm", False):
        kw["lm"] = False
    if getattr(args, "record", False):
        kw["recording"] = True
    kw.update(overrides)
    return cfg.with_(**kw).validate() if kw else cfg


def engine_from_args(args, learn: bool = True, user_db: Path | None = None,
                     always_learner: bool = False, **overrides):
    """The Engine the arguments describe. `learn`: attach the user lexicon when the config
    learns (`always_learner`: even when it does not, so a menu can turn learning on);
    `user_db`: the default when --user-db is not given; `overrides`: config fields."""
    from ime.engine import Engine
    from ime.learner import open_learner

    cfg = config_from_args(args, **overrides)
    learner = None
    if learn and (cfg.learning or always_learner):
        db = Path(args.user_db) if getattr(args, "user_db", None) else user_db
        learner = open_learner(db)
    try:
        return Engine.load(cfg, cache_dir_of(args), learner=learner, progress=True)
    except BaseException:
        if learner is not None:
            learner.close()
        raise
