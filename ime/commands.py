"""Commands beyond the engine core, registered on main.py's parser."""

from __future__ import annotations

import argparse

__all__ = ["add_extra_commands"]


def add_extra_commands(sub: argparse._SubParsersAction) -> None:
    """compare, ui and ibus add themselves here."""
    from ui.cli import add_ui_command

    add_ui_command(sub)
