"""The `ui` command: `python main.py ui` opens the typing pad.

This module imports no Qt, so registering the command costs nothing for the other commands;
PyQt6 is imported when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_ui_command", "cmd_ui"]


def add_ui_command(sub: argparse._SubParsersAction) -> None:
    """Register `ui` on the command line's subcommand parser."""
    c = sub.add_parser("ui", help="open the typing pad (PyQt6 candidate window)")
    c.add_argument("--page-size", type=int, help="candidates per page (1-9)")
    c.add_argument("--layout", choices=("horizontal", "vertical"), help="candidate layout")
    c.add_argument("--no-learn", action="store_true", help="start with learning off")
    c.add_argument("--no-lm", action="store_true", help="start with the neural LM off")
    c.add_argument("--record", action="store_true",
                   help="start recording a typing log (off by default)")
    c.add_argument("--log", help="typing log to record to "
                                 "(default: $XDG_DATA_HOME/delta-pinyin/typing-log.jsonl)")
    c.set_defaults(func=cmd_ui)


def cmd_ui(args: argparse.Namespace) -> int:
    """Run the typing pad until its window closes; returns the exit status."""
    try:
        from PyQt6.QtWidgets import QApplication
    except ImportError:
        print("error: the typing pad needs PyQt6: pip install -e '.[ui]'", file=sys.stderr)
        return 2
    from cli.common import engine_from_args
    from ui.app import TypingPad

    # the learner is always opened so that learning can be switched on from the menu
    engine = engine_from_args(args, always_learner=True)
    learner = engine.learner
    try:
        app = QApplication.instance() or QApplication(sys.argv[:1])
        app.setApplicationName("Delta Pinyin")
        config_path = Path(args.config) if getattr(args, "config", None) else None
        pad = TypingPad(engine, Path(args.log) if args.log else None, config_path=config_path)
        pad.resize(pad.fontMetrics().averageCharWidth() * 90, pad.fontMetrics().height() * 30)
        pad.show()
        return app.exec()
    finally:
        learner.close()
