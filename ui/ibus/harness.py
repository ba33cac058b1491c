"""A headless desktop with IBus, for the end-to-end test and the latency benchmark.

    with Desktop(tmp, cache_dir=...) as desk:          # D-Bus, Xvfb, ibus-daemon, installed
        desk.select_engine()                            # `ibus engine delta-pinyin`
        app = desk.start_client("gtk")                  # a real GTK3 window with text fields
        app.focus("text"); desk.type("nihao"); desk.key("space")
        app.state()["entries"]["text"]["text"]          # → "你好"

Everything runs as children of this process with its own bus addresses, display and
XDG directories under `tmp`, and is stopped on exit. The component file is written by the
real `main.py ibus install`, and the daemon reads it from the IBUS_COMPONENT_PATH line that
command prints. The clients are this module run as a program:

    python -m ui.ibus.harness gtk|qt TITLE

a window titled TITLE with a text field `text`, a second one `other` and a password field
`password`; it reads commands on stdin (`focus NAME`, `clear`, `state`, `quit`) and writes
JSON lines on stdout: `ready`, every key press that reaches it (`key`, with a
`time.monotonic()` stamp), every preedit change and (GTK) text change, and the answer to
`state` (each field's text and rectangle in root coordinates, the last preedit).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["Desktop", "Client", "MISSING", "missing", "DesktopError"]

ROOT = Path(__file__).resolve().parents[2]
SCREEN = (1024, 768)

# what the desktop needs, each with the Debian package that brings it (make ibus-deps)
MISSING = {
    "ibus-daemon": "ibus", "dbus-daemon": "dbus-daemon", "Xvfb": "xvfb",
    "xdotool": "xdotool",
}
_GI_NEEDS = (("IBus", "1.0", "gir1.2-ibus-1.0"), ("Gtk", "3.0", "gir1.2-gtk-3.0"))
_GTK_IBUS_MODULE = "/usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules/im-ibus.so"


class DesktopError(RuntimeError):
    pass


def missing() -> list[str]:
    """The packages (or pip requirement) missing for the desktop, by name; [] when complete."""
    out = [pkg for tool, pkg in MISSING.items() if shutil.which(tool) is None]
    probe = ("import gi, sys\n"
             "for ns, v, pkg in " + repr(_GI_NEEDS) + ":\n"
             "    try:\n"
             "        gi.require_version(ns, v); __import__('gi.repository.' + ns)\n"
             "    except (ValueError, ImportError):\n"
             "        print(pkg)\n")
    try:
        import gi  # noqa: F401
    except ImportError:
        out.append("PyGObject (pip install 'pygobject>=3.42,<3.51'; make ibus-deps)")
    else:
        proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              timeout=60)
        out += proc.stdout.split()
    if not any(Path(p).exists() for p in (_GTK_IBUS_MODULE,)):
        out.append("ibus-gtk3")
    try:
        import PyQt6  # noqa: F401
    except ImportError:
        out.append("PyQt6 (pip install -e '.[ui]')")
    return out


class Client:
    """A running client window (GTK3 or PyQt6), driven through its stdin."""

    def __init__(self, kind: str, title: str, env: dict[str, str], log: Path) -> None:
        self.kind = kind
        self.title = title
        self._log = open(log, "w", encoding="utf-8")  # noqa: SIM115 — the client's stderr
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ui.ibus.harness", kind, title], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
            encoding="utf-8", bufsize=1)
        self.events: queue.Queue[dict] = queue.Queue()
        self.keys: list[dict] = []  # every key press seen (with its time)
        self.preedits: list[dict] = []  # every preedit change (with its time)
        self.changes: list[dict] = []  # every change of a field's text (GTK; with its time)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wid = ""

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == "key":
                self.keys.append(ev)
            elif ev.get("event") == "preedit":
                self.preedits.append(ev)
            elif ev.get("event") == "changed":
                self.changes.append(ev)
            else:
                self.events.put(ev)

    def wait_for(self, event: str, timeout: float = 20.0) -> dict:
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise DesktopError(f"{self.kind} client: no {event!r} within {timeout} s")
            try:
                ev = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if ev.get("event") == event:
                return ev

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def state(self) -> dict:
        self.send("state")
        return self.wait_for("state")

    def text(self, name: str = "text") -> str:
        return self.state()["entries"][name]["text"]

    def focus(self, name: str) -> None:
        self.send(f"focus {name}")
        self.wait_for("focused")

    def clear(self) -> None:
        self.send("clear")
        self.wait_for("cleared")

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class Desktop:
    """D-Bus session bus, Xvfb, ibus-daemon with our component installed, under `tmp`."""

    def __init__(self, tmp: Path, cache_dir: Path | None = None, config: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.tmp = Path(tmp)
        self.cache_dir = cache_dir
        self.config = config
        self.extra_env = env or {}
        self.procs: list[subprocess.Popen] = []
        self.clients: list[Client] = []
        self.env: dict[str, str] = {}
        self.display = ""
        self.trace = self.tmp / "engine-trace.jsonl"
        self._trace: list[dict] = []
        self._trace_at = 0
        self.daemon_log = self.tmp / "ibus-daemon.log"
        self.user_db = self.tmp / "data" / "delta-pinyin" / "user.db"

    # ---- the services -------------------------------------------------------------------------

    def __enter__(self) -> Desktop:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        t = self.tmp
        for d in ("config", "data", "cache", "runtime"):
            (t / d).mkdir(parents=True, exist_ok=True, mode=0o700)
        env = {k: v for k, v in os.environ.items()
               if k not in ("WAYLAND_DISPLAY", "IBUS_ADDRESS", "DBUS_SESSION_BUS_ADDRESS",
                            "QT_QPA_PLATFORM", "DISPLAY", "XDG_SESSION_TYPE")}
        env.update(XDG_CONFIG_HOME=str(t / "config"), XDG_DATA_HOME=str(t / "data"),
                   XDG_CACHE_HOME=str(t / "cache"), XDG_RUNTIME_DIR=str(t / "runtime"),
                   NO_AT_BRIDGE="1", GTK_IM_MODULE="ibus", QT_IM_MODULE="ibus",
                   XMODIFIERS="@im=ibus", DELTA_PINYIN_IBUS_TRACE=str(self.trace),
                   PYTHONUNBUFFERED="1")
        env.update(self.extra_env)
        # the session bus
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                                f"--address=unix:path={t / 'runtime' / 'bus'}"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=env)
        self.procs.append(bus)
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        if not address:
            raise DesktopError("dbus-daemon did not start")
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        # the display
        read_fd, write_fd = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                                 f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
                                pass_fds=(write_fd,), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env)
        os.close(write_fd)
        self.procs.append(xvfb)
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()  # the number and the newline come in two writes
        if not number:
            raise DesktopError("Xvfb did not start")
        self.display = f":{number}"
        env["DISPLAY"] = self.display
        # our component, installed by the real command
        cmd = [sys.executable, str(ROOT / "main.py")]
        opts = []
        if self.config is not None:
            opts += ["--config", str(self.config)]
        if self.cache_dir is not None:
            opts += ["--cache-dir", str(self.cache_dir)]
        opts += ["--user-db", str(self.user_db)]
        out = subprocess.run(cmd + ["ibus", "install", *opts], env=env, capture_output=True,
                             text=True, timeout=60, cwd=ROOT)
        if out.returncode != 0:
            raise DesktopError(f"ibus install failed: {out.stderr.strip()}")
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("IBUS_COMPONENT_PATH=")]
        if len(lines) != 1:
            raise DesktopError(f"ibus install printed no IBUS_COMPONENT_PATH line: {out.stdout}")
        env["IBUS_COMPONENT_PATH"] = lines[0].split("=", 1)[1]
        self.install_output = out.stdout
        # the daemon, on its own socket
        sock = t / "runtime" / "ibus"
        env["IBUS_ADDRESS"] = f"unix:path={sock}"
        self.env = env
        self._daemon_log = open(self.daemon_log, "w", encoding="utf-8")  # noqa: SIM115
        daemon = subprocess.Popen(
            ["ibus-daemon", "--xim", "--panel=disable", "--emoji-extension=disable",
             "--cache=refresh", f"--address=unix:path={sock}", "--verbose"],
            env=env, stdout=self._daemon_log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.procs.append(daemon)
        self.wait(lambda: self._ibus("list-engine").returncode == 0, 20, "ibus-daemon")

    def _ibus(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["ibus", *args], env=self.env, capture_output=True, text=True,
                              timeout=30)

    def engine_listed(self) -> bool:
        return "delta-pinyin" in self._ibus("list-engine").stdout

    def select_engine(self, name: str = "delta-pinyin") -> float:
        """`ibus engine NAME` (it also runs setxkbmap, which may fail here: what counts is
        the engine the daemon reports afterwards); returns when it was run."""
        t0 = time.monotonic()
        self._ibus("engine", name)
        self.wait(lambda: self._ibus("engine").stdout.strip() == name, 20, f"engine {name}")
        return t0

    def start_client(self, kind: str, title: str | None = None) -> Client:
        title = title or f"delta-pinyin-{kind}-client"
        env = {**self.env, "QT_QPA_PLATFORM": "xcb", "QT_SCALE_FACTOR": "1"}
        env.pop("DELTA_PINYIN_IBUS_TRACE", None)
        c = Client(kind, title, env, self.tmp / f"{kind}-client.log")
        self.clients.append(c)
        c.wait_for("ready", 30)
        out = self._xdotool("search", "--sync", "--onlyvisible", "--name", f"^{title}$")
        c.wid = out.split()[0]
        return c

    def activate(self, client: Client) -> None:
        """Give the client's window the X input focus (there is no window manager)."""
        self._xdotool("windowfocus", "--sync", client.wid)

    # ---- keys ---------------------------------------------------------------------------------

    def _xdotool(self, *args: str) -> str:
        proc = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True,
                              timeout=30)
        if proc.returncode != 0:
            raise DesktopError(f"xdotool {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def type(self, text: str, delay_ms: int = 30) -> None:
        self._xdotool("type", "--delay", str(delay_ms), text)

    def key(self, *names: str, delay_ms: int = 30) -> None:
        self._xdotool("key", "--delay", str(delay_ms), *names)

    def click(self, x: int, y: int, button: int = 1) -> None:
        self._xdotool("mousemove", "--sync", str(x), str(y), "click", str(button))

    def property_probe(self, key: str, setting: str) -> list[str]:
        """Run the `props` client: the property keys the engine registered, then what
        config.toml says of `setting` after toggling `key` off and on."""
        assert self.config is not None
        env = {k: v for k, v in self.env.items() if k != "DELTA_PINYIN_IBUS_TRACE"}
        proc = subprocess.run([sys.executable, "-m", "ui.ibus.harness", "props", key, setting,
                               str(self.config)], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)
        if proc.returncode != 0:
            raise DesktopError(f"props client: {proc.stderr.strip()[-1000:]}")
        return proc.stdout.split()

    def table_probe(self, keys: list[str]) -> list[dict]:
        """Run the `table` client: what IBus's lookup table showed after each key."""
        env = {k: v for k, v in self.env.items() if k != "DELTA_PINYIN_IBUS_TRACE"}
        proc = subprocess.run([sys.executable, "-m", "ui.ibus.harness", "table", *keys],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise DesktopError(f"table client: {proc.stderr.strip()[-1000:]}")
        return [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]

    def window_geometry(self, name: str) -> tuple[int, int, int, int] | None:
        """Position and size of the visible window named `name` (xdotool), or None."""
        proc = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name,
                               "getwindowgeometry", "--shell"], env=self.env,
                              capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            return None
        v = dict(line.split("=", 1) for line in proc.stdout.split() if "=" in line)
        return int(v["X"]), int(v["Y"]), int(v["WIDTH"]), int(v["HEIGHT"])

    # ---- the engine's trace -------------------------------------------------------------------

    def trace_events(self, event: str | None = None) -> list[dict]:
        """The engine's trace so far (read on from where the last call stopped)."""
        try:
            with open(self.trace, "rb") as f:
                f.seek(self._trace_at)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1  # a line still being written waits for the next call
        self._trace_at += end
        self._trace += [json.loads(ln) for ln in data[:end].splitlines() if ln.strip()]
        return [e for e in self._trace if event is None or e["event"] == event]

    def engine_pid(self) -> int | None:
        regs = self.trace_events("registered")
        return regs[-1]["pid"] if regs else None

    @staticmethod
    def wait(cond: Callable[[], object], timeout: float, what: str,
             interval: float = 0.02) -> object:
        end = time.monotonic() + timeout
        while True:
            v = cond()
            if v:
                return v
            if time.monotonic() > end:
                raise DesktopError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(interval)

    def daemon_output(self) -> str:
        try:
            return self.daemon_log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    # ---- cleanup ------------------------------------------------------------------------------

    def close(self) -> None:
        for c in self.clients:
            c.close()
        self.clients.clear()
        pid = self.engine_pid()
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    if p.args[0] == "ibus-daemon":  # its session holds the engine it started
                        os.killpg(p.pid, signal.SIGTERM)
                    else:
                        p.terminate()
                    p.wait(timeout=10)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    p.kill()
                    p.wait()
        self.procs.clear()
        if pid is not None:  # the engine, should it have outlived its daemon
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if hasattr(self, "_daemon_log"):
            self._daemon_log.close()


# ---- the client programs ------------------------------------------------------------------------


class _Commands:
    """Lines from stdin, read without Python's buffering (a watch on the fd sees them all)."""

    def __init__(self) -> None:
        self._buf = b""
        self.eof = False

    def read(self) -> list[str]:
        data = os.read(0, 65536)
        if not data:
            self.eof = True
        self._buf += data
        *lines, self._buf = self._buf.split(b"\n")
        return [ln.decode("utf-8") for ln in lines]


def _emit(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _gtk_client(title: str) -> int:
    import gi

    gi.require_version("Gtk", "3.0")
    gi.require_version("Gdk", "3.0")
    from gi.repository import Gdk, GLib, Gtk

    ignored = (1 << 24) | (1 << 25)  # IBus's HANDLED / IGNORED (FORWARD) bits: re-sent keys
    win = Gtk.Window(title=title)
    win.set_default_size(600, 200)
    win.move(80, 60)
    box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=12)
    box.set_border_width(24)
    win.add(box)
    entries: dict[str, Gtk.Entry] = {}
    last_preedit = {"text": ""}
    for name in ("text", "other", "password"):
        e = Gtk.Entry()
        if name == "password":
            e.set_visibility(False)
            e.set_input_purpose(Gtk.InputPurpose.PASSWORD)
        e.connect("preedit-changed", lambda _e, s, n=name: (
            last_preedit.__setitem__("text", s),
            _emit(event="preedit", t=time.monotonic(), field=n, preedit=s)))
        e.connect("changed", lambda e, n=name: _emit(event="changed", t=time.monotonic(),
                                                     field=n, text=e.get_text()))
        box.pack_start(e, False, False, 0)
        entries[name] = e

    def on_event(ev) -> None:
        # every event as GDK reads it from X, before GTK (and IBus's key snooper) sees it
        if ev.type == Gdk.EventType.KEY_PRESS and not ev.key.state & ignored:
            _emit(event="key", t=time.monotonic(), keyval=ev.key.keyval)
        Gtk.main_do_event(ev)

    Gdk.event_handler_set(on_event)
    win.connect("destroy", Gtk.main_quit)

    def rect(e: Gtk.Entry) -> list[int]:
        a = e.get_allocation()
        _, ox, oy = e.get_toplevel().get_window().get_origin()
        x, y = e.translate_coordinates(e.get_toplevel(), 0, 0)
        return [ox + x, oy + y, a.width, a.height]

    commands = _Commands()

    def command(_source, _cond) -> bool:
        for line in commands.read():
            if not run(line.split()):
                Gtk.main_quit()
                return False
        if commands.eof:
            Gtk.main_quit()
            return False
        return True

    def run(words: list[str]) -> bool:
        if not words:
            return True
        if words[0] == "focus":
            entries[words[1]].grab_focus()
            _emit(event="focused", field=words[1])
        elif words[0] == "clear":
            for e in entries.values():
                e.set_text("")
            _emit(event="cleared")
        elif words[0] == "state":
            _emit(event="state", preedit=last_preedit["text"],
                  entries={n: {"text": e.get_text(), "rect": rect(e)}
                           for n, e in entries.items()})
        elif words[0] == "quit":
            return False
        return True

    GLib.io_add_watch(GLib.IOChannel.unix_new(0), GLib.IO_IN | GLib.IO_HUP, command)
    win.show_all()
    entries["text"].grab_focus()
    GLib.timeout_add(200, lambda: _emit(event="ready") or False)
    Gtk.main()
    return 0


def _qt_client(title: str) -> int:
    from PyQt6.QtCore import QObject, QSocketNotifier, QTimer
    from PyQt6.QtGui import QInputMethodEvent
    from PyQt6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget

    app = QApplication([sys.argv[0]])
    win = QWidget()
    win.setWindowTitle(title)
    win.move(80, 300)
    win.resize(600, 200)
    lay = QVBoxLayout(win)
    entries: dict[str, QLineEdit] = {}
    last_preedit = {"text": ""}

    class Watch(QObject):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def eventFilter(self, obj, ev) -> bool:  # noqa: N802 (Qt's name)
            if isinstance(ev, QInputMethodEvent):
                if ev.preeditString() != last_preedit["text"]:
                    last_preedit["text"] = ev.preeditString()
                    _emit(event="preedit", t=time.monotonic(), field=self.name,
                          preedit=ev.preeditString())
            return False

    watches = []
    for name in ("text", "other", "password"):
        e = QLineEdit()
        if name == "password":
            e.setEchoMode(QLineEdit.EchoMode.Password)
        w = Watch(name)
        e.installEventFilter(w)
        watches.append(w)
        lay.addWidget(e)
        entries[name] = e

    def rect(e: QLineEdit) -> list[int]:
        p = e.mapToGlobal(e.rect().topLeft())
        return [p.x(), p.y(), e.width(), e.height()]

    commands = _Commands()

    def command() -> None:
        for line in commands.read():
            run(line.split())
        if commands.eof:
            app.quit()

    def run(words: list[str]) -> None:
        if not words:
            return
        if words[0] == "focus":
            entries[words[1]].setFocus()
            _emit(event="focused", field=words[1])
        elif words[0] == "clear":
            for e in entries.values():
                e.clear()
            _emit(event="cleared")
        elif words[0] == "state":
            _emit(event="state", preedit=last_preedit["text"],
                  entries={n: {"text": e.text(), "rect": rect(e)} for n, e in entries.items()})
        elif words[0] == "quit":
            app.quit()

    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(command)
    win.show()
    entries["text"].setFocus()
    QTimer.singleShot(200, lambda: _emit(event="ready"))
    return app.exec()


def _props_client(key: str, setting: str, config: Path) -> int:
    """An input context as the panel sees it: print the keys of the properties the engine
    registers, then toggle `key` off and on, printing what config.toml says each time."""
    import re

    import gi

    gi.require_version("IBus", "1.0")
    from gi.repository import GLib, IBus

    IBus.init()
    bus = IBus.Bus()
    ctx = bus.create_input_context("delta-pinyin-props-probe")
    lists: list[list[str]] = []

    def registered(_ctx, props) -> None:
        keys, i = [], 0
        while (p := props.get(i)) is not None:
            keys.append(p.get_key())
            i += 1
        lists.append(keys)

    ctx.connect("register-properties", registered)
    caps = IBus.Capabilite
    ctx.set_capabilities(caps.PREEDIT_TEXT | caps.FOCUS | caps.PROPERTY)
    ctx.focus_in()
    main = GLib.MainContext.default()

    def pump(cond: Callable[[], object], timeout: float = 10) -> object:
        end = time.monotonic() + timeout
        while not (v := cond()) and time.monotonic() < end:
            main.iteration(False)
            time.sleep(0.01)
        return v

    if not pump(lambda: lists):
        print("no properties registered", file=sys.stderr)
        return 1
    print(" ".join(lists[-1]))

    def saved() -> str | None:
        m = re.search(rf"^{setting} = (\w+)", config.read_text(encoding="utf-8"), re.M)
        return m.group(1) if m else None

    for state, word in ((IBus.PropState.UNCHECKED, "off"), (IBus.PropState.CHECKED, "on")):
        before = saved()
        ctx.property_activate(key, state)
        pump(lambda before=before: saved() != before)
        print(f"{word}:{saved()}")
    ctx.focus_out()
    pump(lambda: False, 0.2)
    return 0


def _table_client(keys: list[str]) -> int:
    """An input context that takes IBus's lookup table (as GNOME's shell does): send each
    keysym of `keys` (press and release), print every table update and commit as JSON."""
    import gi

    gi.require_version("IBus", "1.0")
    from gi.repository import GLib, IBus

    from ui.ibus.keymap import RELEASE_MASK, keyval_of

    IBus.init()
    bus = IBus.Bus()
    ctx = bus.create_input_context("delta-pinyin-table-probe")
    seen: list[object] = []

    def table(_ctx, t, visible) -> None:
        n = t.get_number_of_candidates()
        _emit(event="table", visible=bool(visible), page_size=t.get_page_size(),
              cursor=t.get_cursor_pos(), candidates=[t.get_candidate(i).get_text()
                                                     for i in range(n)],
              labels=[t.get_label(i).get_text() if t.get_label(i) else ""
                      for i in range(t.get_page_size())])
        seen.append(1)

    ctx.connect("update-lookup-table", table)
    ctx.connect("hide-lookup-table", lambda _c: (_emit(event="hidden"), seen.append(1)))
    ctx.connect("commit-text", lambda _c, t: (_emit(event="commit", text=t.get_text()),
                                              seen.append(1)))
    caps = IBus.Capabilite
    ctx.set_capabilities(caps.PREEDIT_TEXT | caps.FOCUS | caps.LOOKUP_TABLE
                         | caps.AUXILIARY_TEXT)
    ctx.focus_in()
    main = GLib.MainContext.default()

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            main.iteration(False)
            time.sleep(0.005)

    pump(0.5)
    for name in keys:
        kv = keyval_of(name)
        n = len(seen)
        ctx.process_key_event(kv, 0, 0)
        ctx.process_key_event(kv, 0, RELEASE_MASK)
        end = time.monotonic() + 5
        while len(seen) == n and time.monotonic() < end:
            main.iteration(False)
            time.sleep(0.005)
        pump(0.05)
    ctx.focus_out()
    pump(0.2)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) >= 2 and argv[0] == "table":
        return _table_client(argv[1:])
    if len(argv) == 4 and argv[0] == "props":
        return _props_client(argv[1], argv[2], Path(argv[3]))
    if len(argv) != 2 or argv[0] not in ("gtk", "qt"):
        print("usage: python -m ui.ibus.harness gtk|qt TITLE | props KEY SETTING CONFIG | "
              "table KEYSYM...", file=sys.stderr)
        return 2
    return _gtk_client(argv[1]) if argv[0] == "gtk" else _qt_client(argv[1])


if __name__ == "__main__":
    sys.exit(main())
