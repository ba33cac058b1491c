"""Dev texts and typing logs for the benchmarks (never from the reserved evaluation sources).

    python benchmarks/devsets.py [--out out/dev] [--records 500]

- news:      the held-out last 10 % of People's Daily (January 1998), written by
             `lexicon build` as dev_news.txt; no count of the models has seen it.
- fortunes:  Debian `fortunes-zh`, file `chinese` (modern prose: sayings, Debian tips);
             the classical `tang300`/`song100` are left out. Not in any training data.
- manpages:  a contiguous group of Debian `manpages-zh` pages (the coreutils/util-linux
             commands of zh_CN man1, in name order): one user's technical writing where the
             domain terms recur, for the learning experiment.

Each text becomes a full-pinyin log and an initials log of `--records` clauses (the man
pages log keeps every clause, for the learning curve). Debian packages are installed with
apt-get when missing and this runs as root; otherwise that set is skipped with a message.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.typing_log import make_log, write_log  # noqa: E402
from lexicon.build import default_cache_dir, ensure_built  # noqa: E402

FORTUNES = Path("/usr/share/games/fortunes/chinese")
MAN_DIR = Path("/usr/share/man/zh_CN/man1")
MAN_PAGES = ["basename", "cat", "chgrp", "chmod", "chown", "cp", "cut", "date", "dd", "df",
             "dirname", "du", "echo", "env", "expand", "head", "id", "install", "join", "ln",
             "ls", "mkdir", "mkfifo", "mknod", "mv", "nice", "nl", "od", "paste", "pr",
             "printf", "pwd", "rm", "rmdir", "seq", "sleep", "sort", "split", "stat", "stty",
             "sum", "sync", "tac", "tail", "tee", "test", "touch", "tr", "tty", "uname",
             "uniq", "wc", "who", "whoami", "yes"]
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _apt(package: str, probe: Path) -> bool:
    if probe.exists():
        return True
    if shutil.which("apt-get") is None:
        print(f"devsets: {probe} missing and no apt-get: install Debian package {package}")
        return False
    r = subprocess.run(["apt-get", "install", "-y", "-qq", package], capture_output=True)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
        r = subprocess.run(["apt-get", "install", "-y", "-qq", package], capture_output=True)
    if r.returncode != 0 or not probe.exists():
        print(f"devsets: could not install Debian package {package}; skipping it")
        return False
    return True


def fortunes_text() -> str | None:
    if not _apt("fortunes-zh", FORTUNES):
        return None
    return _ANSI.sub("", FORTUNES.read_text(encoding="utf-8")).replace("\n%\n", "\n\n")


def manpages_text() -> str | None:
    if not _apt("manpages-zh", MAN_DIR) or not _apt("man-db", Path("/usr/bin/man")):
        return None
    parts = []
    for name in MAN_PAGES:
        page = MAN_DIR / f"{name}.1.gz"
        if not page.exists():
            continue
        r = subprocess.run(["man", "-l", str(page)], capture_output=True,
                           env={"MANWIDTH": "1000", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"})
        if r.returncode == 0:
            parts.append(r.stdout.decode("utf-8", "replace"))
        else:  # no renderer: the roff source still carries the prose
            parts.append(gzip.decompress(page.read_bytes()).decode("utf-8", "replace"))
    return "\n".join(parts) if parts else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "out" / "dev"))
    ap.add_argument("--records", type=int, default=500)
    ap.add_argument("--cache-dir")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = ensure_built(Path(args.cache_dir) if args.cache_dir else default_cache_dir())
    texts = {"news": (cache / "dev_news.txt").read_text(encoding="utf-8"),
             "fortunes": fortunes_text(), "manpages": manpages_text()}
    for name, text in texts.items():
        if text is None:
            continue
        (out / f"{name}.txt").write_text(text, encoding="utf-8")
        for mode in ("full", "initials"):
            records = make_log(text, mode=mode, seed=0, min_chars=2, session=name)
            if name != "manpages":
                records = itertools.islice(records, args.records)
            n = write_log(records, out / f"{name}-{mode}.jsonl")
            print(f"{name}-{mode}: {n} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
