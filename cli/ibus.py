"""The `ibus` command: Delta Pinyin as the system input method.

    python main.py ibus                  run the engine process (ibus-daemon starts it with
                                         --ibus through the component file)
    python main.py ibus install          write the component file for this user; prints the
                                         IBUS_COMPONENT_PATH line and the restart command
    python main.py ibus install --system into IBus's component directory, cache refreshed
    python main.py ibus uninstall [--system]

--config, --cache-dir and --user-db given to `install` are written into the component's
command, so the daemon starts the engine with them. This module imports neither `gi` nor Qt:
they are imported when the engine runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.common import CliError

__all__ = ["add_ibus_command", "cmd_ibus", "engine_command"]

_PASSED_ON = (("config", "--config"), ("cache_dir", "--cache-dir"), ("user_db", "--user-db"))


def add_ibus_command(sub: argparse._SubParsersAction) -> None:
    """Register `ibus` on the command line's subcommand parser."""
    c = sub.add_parser("ibus", help="the system input method: run the IBus engine, or "
                                    "install / uninstall its component file")
    c.add_argument("--ibus", action="store_true",
                   help="started by ibus-daemon (the component's command line)")
    isub = c.add_subparsers(dest="ibus_cmd")
    for name, text in (("install", "write the IBus component file"),
                       ("uninstall", "remove the IBus component file")):
        i = isub.add_parser(name, help=text)
        i.add_argument("--system", action="store_true",
                       help="IBus's system component directory (root), and refresh its cache")
        i.add_argument("--component-dir", help="write or remove the file here instead")
    c.set_defaults(func=cmd_ibus)


def engine_command(args: argparse.Namespace) -> list[str]:
    """The command line ibus-daemon runs: this Python, main.py (or `-m cli.main` where the
    package is installed without it), `ibus --ibus` and the file options given."""
    main_py = Path(__file__).resolve().parents[1] / "main.py"
    cmd = [sys.executable, str(main_py)] if main_py.is_file() else [sys.executable, "-m",
                                                                    "cli.main"]
    cmd += ["ibus", "--ibus"]
    for attr, flag in _PASSED_ON:
        value = getattr(args, attr, None)
        if value:
            cmd += [flag, str(Path(value).resolve())]
    return cmd


def cmd_ibus(args: argparse.Namespace) -> int:
    if args.ibus_cmd in ("install", "uninstall"):
        return _install(args)
    return _run(args)


def _install(args: argparse.Namespace) -> int:
    from ui.ibus.component import install, uninstall

    directory = Path(args.component_dir) if args.component_dir else None
    try:
        if args.ibus_cmd == "install":
            done = install(engine_command(args), args.system, directory)
        else:
            done = uninstall(args.system, directory)
    except PermissionError as e:
        hint = " (a --system install needs root)" if args.system else ""
        raise CliError(f"{e.filename}: permission denied{hint}") from None
    if done is None:
        print("nothing to remove: the component file is not installed")
        return 0
    verb = "wrote" if args.ibus_cmd == "install" else "removed"
    print(f"{verb} {done.path}")
    if done.cache:
        print(done.cache)
    if args.ibus_cmd == "install" and not done.system:
        print("add this line to ~/.config/environment.d/ibus.conf (GNOME, KDE: log in again) "
              "or to ~/.profile:")
        print(done.env_line)
        print("then restart IBus where that variable is set (the new path needs a fresh cache):")
    else:
        print("then restart IBus:")
    print(done.restart)
    if args.ibus_cmd == "install":
        print("and choose \"Delta Pinyin\" in your desktop's input sources, or: "
              "ibus engine delta-pinyin")
    return 0


def _run(args: argparse.Namespace) -> int:
    try:
        import gi  # noqa: F401
    except ImportError:
        raise CliError("the IBus engine needs PyGObject: run `make ibus-deps`") from None
    from cli.common import cache_dir_of, config_from_args, engine_from_args

    cfg = config_from_args(args)  # read now: the view and the thread count depend on it
    config_path = Path(args.config) if getattr(args, "config", None) else None
    try:
        from ui.ibus.engine import run
    except (ImportError, ValueError) as e:  # gi without IBus's introspection data
        raise CliError(f"the IBus engine cannot start ({e}): run `make ibus-deps`") from None

    def load():
        # the learner is always opened so that learning can be switched on from the menu;
        # the neural LM comes after (load_lm): keys are composed while torch loads
        return engine_from_args(args, always_learner=True, lm=False)

    def load_lm():
        from ime.engine import load_reranker

        return load_reranker(cfg.device, cfg.threads)

    return run(load, cfg, config_path, cache_dir_of(args), exec_by_daemon=args.ibus,
               command=engine_command(args), load_lm=load_lm if cfg.lm else None)
