"""The IBus component file: what tells ibus-daemon that Delta Pinyin exists and how to start it.

    <component>                       one XML file per component, read by ibus-daemon
      <name>org.freedesktop.IBus.DeltaPinyin</name>     the engine process's bus name
      <exec>/…/python /…/main.py ibus --ibus</exec>     run when the engine is first selected
      <engines><engine><name>delta-pinyin</name>…       what `ibus engine delta-pinyin` picks

IBus 1.5 reads component files from `/usr/share/ibus/component/` and from the directories
of `IBUS_COMPONENT_PATH` (it does not read `$XDG_DATA_HOME/ibus/component`), and keeps a
registry cache that a new path does not refresh by itself (docs/IBUS.md). So a user install
writes the file into `$XDG_DATA_HOME/ibus/component/` and tells the user the one
environment line and the restart command it needs; a system install writes into IBus's own
directory and rewrites the system cache. No `gi` here: this is plain files.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["BUS_NAME", "ENGINE_NAME", "COMPONENT_FILE", "SYSTEM_COMPONENT_DIR", "Installed",
           "component_xml", "user_component_dir", "install", "uninstall"]

BUS_NAME = "org.freedesktop.IBus.DeltaPinyin"
ENGINE_NAME = "delta-pinyin"
COMPONENT_FILE = "delta-pinyin.xml"
SYSTEM_COMPONENT_DIR = Path("/usr/share/ibus/component")
VERSION = "0.1.0"


def component_xml(command: list[str]) -> str:
    """The component file for an engine process started by `command` (absolute paths)."""
    exec_line = escape(shlex.join(command))
    return f"""<?xml version="1.0" encoding="utf-8"?>
<!-- written by `python main.py ibus install`; removed by `python main.py ibus uninstall` -->
<component>
  <name>{BUS_NAME}</name>
  <description>Delta Pinyin: a pinyin input method with sentence decoding and learning</description>
  <exec>{exec_line}</exec>
  <version>{VERSION}</version>
  <author>Delta Pinyin</author>
  <license>MIT</license>
  <homepage></homepage>
  <textdomain>delta-pinyin</textdomain>
  <engines>
    <engine>
      <name>{ENGINE_NAME}</name>
      <language>zh_CN</language>
      <license>MIT</license>
      <author>Delta Pinyin</author>
      <icon></icon>
      <layout>us</layout>
      <longname>Delta Pinyin</longname>
      <description>Pinyin: whole sentences, initials, fuzzy pairs; learns your words</description>
      <rank>0</rank>
      <symbol>Δ</symbol>
    </engine>
  </engines>
</component>
"""


def user_component_dir() -> Path:
    """`$XDG_DATA_HOME/ibus/component` (where a user's component files are kept)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                           "share")
    return Path(base) / "ibus" / "component"


@dataclass(frozen=True, slots=True)
class Installed:
    """What an install or uninstall did, and what the user has to do next."""

    path: Path  # the component file
    system: bool
    env_line: str  # the IBUS_COMPONENT_PATH line (user installs), "" for a system install
    restart: str  # the command that makes a running ibus-daemon see the change
    cache: str = ""  # what refreshing the registry cache said, if it was refreshed


def _restart_command() -> str:
    """Restarts the daemon with a fresh registry cache (a cached one ignores a new path);
    run where IBUS_COMPONENT_PATH is set for a user install."""
    return "ibus-daemon --xim --replace --daemonize --cache=refresh"


def _env_line(directory: Path) -> str:
    return f"IBUS_COMPONENT_PATH={SYSTEM_COMPONENT_DIR}:{directory}"


def install(command: list[str], system: bool = False, directory: Path | None = None) -> Installed:
    """Write the component file. `system`: into IBus's component directory (`directory`
    overrides it), then rewrite the system registry cache; else into the user's."""
    target = directory or (SYSTEM_COMPONENT_DIR if system else user_component_dir())
    target.mkdir(parents=True, exist_ok=True)
    path = target / COMPONENT_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(component_xml(command), encoding="utf-8")
    tmp.chmod(0o644)  # ibus-daemon may run as another user than the one installing
    tmp.replace(path)
    if system:
        return Installed(path, True, "", _restart_command(), _write_cache())
    line = _env_line(target)
    return Installed(path, False, line, _restart_command())


def uninstall(system: bool = False, directory: Path | None = None) -> Installed | None:
    """Remove the component file (None when there was none); a system uninstall rewrites
    the system registry cache."""
    target = directory or (SYSTEM_COMPONENT_DIR if system else user_component_dir())
    path = target / COMPONENT_FILE
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    if system:
        return Installed(path, True, "", _restart_command(), _write_cache())
    return Installed(path, False, "", _restart_command())


def _write_cache() -> str:
    """`ibus write-cache --system`: the daemon's registry cache, rebuilt from the files."""
    try:
        proc = subprocess.run(["ibus", "write-cache", "--system"], capture_output=True,
                              text=True, timeout=60)
    except FileNotFoundError:
        return "ibus is not installed: the cache was not refreshed"
    except subprocess.TimeoutExpired:
        return "ibus write-cache timed out"
    if proc.returncode != 0:
        return f"ibus write-cache failed: {(proc.stderr or proc.stdout).strip()[-300:]}"
    return "registry cache refreshed (ibus write-cache --system)"
