"""Peer input methods (librime, libime, libpinyin, sunpinyin) for side-by-side comparison.

Each peer runs as a child process: one of our small C/C++ drivers (``build/<peer>_driver``,
built by ``setup.sh``) that speaks the line protocol of PROTOCOL.md. This module starts a
driver, talks to it with a timeout on every answer, and turns every way a peer can be
missing into :class:`PeerUnavailable` with the Debian packages to install.

    with PeerProcess("rime") as rime:
        rime.candidates("nihao")          # ['你好', '妳好', ...]
        rime.learn("xian", "西安")

Standard library only: the ``compare`` command imports this without torch or Qt.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType

__all__ = [
    "PEERS",
    "PeerError",
    "PeerProcess",
    "PeerTimeout",
    "PeerUnavailable",
    "available_peers",
    "build_dir",
    "ensure_driver",
]

HERE = Path(__file__).resolve().parent
SETUP_SCRIPT = HERE / "setup.sh"

# Peer name -> the Debian packages its driver needs (keep in step with setup.sh).
PEERS: dict[str, tuple[str, ...]] = {
    "rime": tuple(
        "librime-bin librime-dev librime-data rime-data-luna-pinyin rime-data-pinyin-simp".split()
    ),
    "libime": tuple(
        "libime-bin libime-data libime-data-language-model libimepinyin-dev libimecore-dev "
        "libfcitx5utils-dev libboost-dev".split()
    ),
    "libpinyin": ("libpinyin-utils", "libpinyin-data", "libpinyin15-dev"),
    "sunpinyin": ("sunpinyin-utils", "sunpinyin-data", "libsunpinyin-dev"),
}
_SOURCES = {
    "rime": "rime_driver.c",
    "libime": "libime_driver.cpp",
    "libpinyin": "libpinyin_driver.c",
    "sunpinyin": "sunpinyin_driver.cpp",
}
_KEYS = re.compile(r"[a-z']+")
_BUILD_TIMEOUT_S = 300.0  # compiling one driver takes about a second; a loaded CI box, longer


class PeerUnavailable(RuntimeError):
    """A peer cannot be used here; ``reason`` says why and what to install."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"peer {name!r} is unavailable: {reason}")
        self.name = name
        self.reason = reason


class PeerError(RuntimeError):
    """A running peer answered something the protocol does not allow, or died."""


class PeerTimeout(PeerError):
    """A peer did not answer in time; its process has been killed."""


def build_dir() -> Path:
    """Where setup.sh puts the drivers: ``$PEERS_BUILD_DIR``, else ``build/`` beside it."""
    return Path(os.environ.get("PEERS_BUILD_DIR") or HERE / "build")


def _check_name(name: str) -> None:
    if name not in PEERS:
        raise ValueError(f"unknown peer {name!r}; peers are {', '.join(PEERS)}")


def _missing_packages(packages: tuple[str, ...]) -> list[str]:
    """Those of ``packages`` that dpkg does not list as installed (all, without dpkg)."""
    if shutil.which("dpkg-query") is None:
        return list(packages)
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *packages],
        capture_output=True,
        text=True,
        check=False,
    )
    installed = {
        line.split()[0].split(":")[0]  # "libfoo:amd64 installed" names the architecture
        for line in result.stdout.splitlines()
        if line.endswith(" installed")
    }
    return [p for p in packages if p not in installed]


def _install_hint(name: str, missing: list[str]) -> str:
    return (
        f"Debian packages not installed: {' '.join(missing)} "
        f"(run evaluation/peers/setup.sh {name}, or apt-get install {' '.join(missing)})"
    )


def _is_stale(driver: Path, name: str) -> bool:
    """Whether the driver is missing or older than anything it is built from."""
    if not driver.exists():
        return True
    built = driver.stat().st_mtime
    inputs = (HERE / _SOURCES[name], HERE / "driver_common.h", SETUP_SCRIPT)
    return any(p.exists() and p.stat().st_mtime > built for p in inputs)


def ensure_driver(name: str) -> Path:
    """The path of ``name``'s driver, building it first (never installing) if needed.

    Raises PeerUnavailable naming the Debian packages when they are missing, or with the
    compiler's complaint when the build fails.
    """
    _check_name(name)
    driver = build_dir() / f"{name}_driver"
    if not _is_stale(driver, name):
        return driver
    missing = _missing_packages(PEERS[name])
    if missing:
        raise PeerUnavailable(name, _install_hint(name, missing))
    try:
        result = subprocess.run(
            ["bash", str(SETUP_SCRIPT), "--no-install", name],
            capture_output=True,
            text=True,
            timeout=_BUILD_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerUnavailable(name, f"building the driver failed: {exc}") from exc
    if result.returncode != 0 or not driver.exists():
        tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        raise PeerUnavailable(
            name,
            f"the driver did not build ({tail}); Debian packages: {' '.join(PEERS[name])}",
        )
    return driver


def available_peers() -> dict[str, str]:
    """Every peer name mapped to ``""`` when it can run here, else to the reason it cannot.

    Builds drivers whose packages are installed but which are not built yet (no apt-get):
    ``ready = [name for name, why in available_peers().items() if not why]``.
    """
    reasons = {}
    for name in PEERS:
        try:
            ensure_driver(name)
            reasons[name] = ""
        except PeerUnavailable as exc:
            reasons[name] = exc.reason
    return reasons


class PeerProcess:
    """One running peer driver; use it as a context manager so the process and its private
    user-data directory are always cleaned up.

    Every answer must arrive within ``timeout`` seconds (start-up, which loads the peer's
    data, within ``start_timeout``). A peer that misses it is killed and PeerTimeout raised;
    the next call starts it afresh, so what it had learned is lost; ``restarts`` counts this.
    """

    def __init__(self, name: str, *, timeout: float = 10.0, start_timeout: float = 120.0) -> None:
        _check_name(name)
        self.name = name
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.version = ""  # from the driver's "ready" line, e.g. "1.8.5"
        self.last_committed = ""  # what the last learn() made the peer commit ("" = nothing)
        self.restarts = 0
        self._killed = False  # set when a driver had to be killed: the next call restarts it
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._workdir: Path | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> PeerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Builds the driver if needed and starts it; raises PeerUnavailable on failure."""
        if self._proc is not None:
            return
        driver = ensure_driver(self.name)
        # <workdir>/user is the peer's private user-data directory, <workdir>/stderr.log
        # its diagnostics (kept out of the pipe so a chatty peer cannot block on it).
        self._workdir = Path(tempfile.mkdtemp(prefix=f"delta-pinyin-{self.name}-"))
        user_dir = self._workdir / "user"
        user_dir.mkdir()
        self._lines = queue.Queue()
        with open(self._workdir / "stderr.log", "w") as stderr:
            try:
                self._proc = subprocess.Popen(
                    [str(driver), str(user_dir)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    text=True,
                    encoding="utf-8",
                    errors="replace",
                    bufsize=1,
                )
            except OSError as exc:
                self.close()
                raise PeerUnavailable(self.name, f"the driver did not start: {exc}") from exc
        # A reader thread turns the blocking pipe into a queue we can wait on with a timeout.
        threading.Thread(
            target=self._read_lines,
            args=(self._proc, self._lines),
            daemon=True,
        ).start()
        try:
            line = self._next_line(self.start_timeout, starting=True)
        except PeerTimeout as exc:
            raise PeerUnavailable(self.name, f"the driver did not start: {exc}") from exc
        if not line.startswith(f"ready\t{self.name}"):
            reason = self._stderr_tail() or f"unexpected first line {line!r}"
            self.close()
            raise PeerUnavailable(
                self.name,
                f"the driver did not start ({reason}); Debian packages: "
                f"{' '.join(PEERS[self.name])}",
            )
        self.version = line.split("\t")[2] if line.count("\t") >= 2 else ""

    def close(self) -> None:
        """Stops the driver (politely, then by force) and deletes its private directory."""
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin:
                    proc.stdin.write("quit\n")
                    proc.stdin.close()
                proc.wait(timeout=5)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    # -- requests ----------------------------------------------------------------------------

    def candidates(self, keys: str) -> list[str]:
        """Up to 10 candidates for ``keys`` (a-z and '), in the peer's order; nothing learned."""
        _check_keys(keys)
        answer = self._request(f"convert\t{keys}")
        return answer.split("\t")[1:] if answer.startswith("ok\t") else []

    def learn(self, keys: str, text: str) -> None:
        """Makes the peer commit ``text`` for ``keys`` through its own selection path, so it
        learns as in a real session; ``last_committed`` tells what it actually committed."""
        _check_keys(keys)
        if not text or any(c in text for c in "\t\r\n"):
            raise ValueError(f"text must be non-empty, without tabs or newlines: {text!r}")
        answer = self._request(f"learn\t{keys}\t{text}")
        self.last_committed = answer.partition("\t")[2]

    # -- plumbing ----------------------------------------------------------------------------

    def _request(self, line: str) -> str:
        if self._proc is None:
            if self._killed:
                self.restarts += 1
                self._killed = False
            self.start()
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(line + "\n")
            self._proc.stdin.flush()
        except OSError as exc:
            detail = self._stderr_tail()
            self._kill()
            raise PeerError(f"peer {self.name!r} died ({detail or exc})") from exc
        answer = self._next_line(self.timeout)
        if answer.startswith("error\t"):
            raise PeerError(f"peer {self.name!r} refused {line!r}: {answer[6:]}")
        if answer != "ok" and not answer.startswith("ok\t"):
            self._kill()
            raise PeerError(f"peer {self.name!r} answered {answer!r} to {line!r}")
        return answer

    def _next_line(self, timeout: float, starting: bool = False) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self._kill()
            raise PeerTimeout(f"peer {self.name!r} gave no answer within {timeout:g} s") from None
        if line is None:  # end of file: the driver exited
            detail = self._stderr_tail()
            code = self._proc.wait() if self._proc else None
            self._kill()
            if starting:
                raise PeerUnavailable(
                    self.name,
                    f"the driver exited with status {code}: {detail or 'no message'}"
                    f"; Debian packages: {' '.join(PEERS[self.name])}",
                )
            raise PeerError(f"peer {self.name!r} exited with status {code}: {detail}")
        return line

    def _kill(self) -> None:
        """Ends a driver that cannot be trusted to answer any more (kept for the next call)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            self._killed = True
            proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe:
                    with contextlib.suppress(OSError):
                        pipe.close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def _stderr_tail(self) -> str:
        if self._workdir is None:
            return ""
        try:
            text = (self._workdir / "stderr.log").read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(text.strip().splitlines()[-3:])

    @staticmethod
    def _read_lines(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                lines.put(line.rstrip("\n"))
        except (OSError, ValueError):  # the pipe was closed under us by _kill/close
            pass
        lines.put(None)


def _check_keys(keys: str) -> None:
    if not _KEYS.fullmatch(keys):
        raise ValueError(f"keys must be a-z and ' only: {keys!r}")
