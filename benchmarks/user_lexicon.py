"""The user lexicon at scale: start-up, memory and keystroke latency with many user entries,
and the time and memory of importing a large dictionary (issue 19).

    python benchmarks/user_lexicon.py startup [--entries 0,300000,1000000] [--limit 200]
    python benchmarks/user_lexicon.py import [--size-mb 100] [--format tsv|libime|rime]
    python benchmarks/user_lexicon.py all --json benchmarks/user_lexicon.json

Dictionaries are synthetic and written to a temporary directory: words of 2 to 4 Han
characters of the system lexicon, each read with one of its character's readings, with a
random weight at or below a new word's (valid Han words with valid pinyin, as a real
dictionary has). A user lexicon
of N entries is made by the real `python main.py lexicon import` of such a file.

`startup` runs each measurement in a fresh process: open the user lexicon and the engine
(the system lexicon built), type one key (candidates shown), then type and commit a word
the learner learns (a pick below the top: one SQLite write); then a replay of `--limit`
records of a typing log with learning on, for the keystroke latency; RSS read from /proc
after the first commit and at the end (peak). `import` times `lexicon import` of a
`--size-mb` file into an empty user lexicon in a child process, peak RSS from wait4.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import cpu_model  # noqa: E402

DEFAULT_LOG = ROOT / "out" / "dev" / "news-full.jsonl"


# ---- synthetic dictionaries -----------------------------------------------------------------


def han_characters(cache: Path) -> list[tuple[str, str]]:
    """(character, one reading) of every single Han character of the system lexicon."""
    from lexicon.sources import is_han
    from lexicon.trie import SystemLexicon, decode

    lex = SystemLexicon.load(cache)
    out = []
    for key in lex.full.keys():
        if len(key) == 1:
            for wid, _ in lex.full[key]:
                text = lex.text(wid)
                if len(text) == 1 and is_han(text):
                    out.append((text, decode(key)[0]))
    return sorted(set(out))


def synthetic_words(chars: list[tuple[str, str]], seed: int = 0
                    ) -> Iterator[tuple[str, tuple[str, ...], float]]:
    """Endless distinct (word, syllables, logp): 2-4 characters, logp in [-14, -7] (at or
    below a new word's NEW_WORD_LOGP, as in a cell dictionary: made-up words must not crowd
    the real ones out of the candidates)."""
    rng = random.Random(seed)
    seen: set[tuple[str, tuple[str, ...]]] = set()
    while True:
        n = rng.choice((2, 2, 2, 3, 3, 4))
        picked = [rng.choice(chars) for _ in range(n)]
        key = ("".join(c for c, _ in picked), tuple(s for _, s in picked))
        if key in seen:
            continue
        seen.add(key)
        yield key[0], key[1], rng.uniform(-14.0, -7.0)


def write_dictionary(path: Path, chars: list[tuple[str, str]], fmt: str = "tsv",
                     entries: int | None = None, size_mb: float | None = None,
                     seed: int = 0) -> int:
    """A dictionary of `entries` entries or of about `size_mb` MB, streamed to disk."""
    from tqdm import tqdm

    from lexicon.formats import FormatEntry, write_entries

    limit = int(size_mb * 1e6) if size_mb else None
    total = entries if entries is not None else None
    bar = tqdm(total=total or limit, desc=f"write {path.name}", unit=" words" if total else "B",
               unit_scale=True, mininterval=0.5, file=sys.stderr)

    def rows() -> Iterator[FormatEntry]:
        written = 0
        for i, (word, sylls, logp) in enumerate(synthetic_words(chars, seed)):
            if entries is not None and i >= entries:
                return
            if limit is not None and written >= limit:
                return
            # a TSV line exactly (word, pinyin, repr of the weight); other formats about it
            size = len(word.encode()) + sum(len(s) + 1 for s in sylls) + len(repr(logp)) + 2
            written += size
            bar.update(1 if total else size)
            yield FormatEntry(word, sylls, logp)

    try:
        return write_entries(rows(), path, fmt)
    finally:
        bar.close()


# ---- child processes ---------------------------------------------------------------------------


# Linux keeps a process's peak RSS across fork and exec, so a child of this (large) process
# would report this process's size: a small interpreter starts the child and measures it
_MEASURE = """
import json, os, subprocess, sys
p = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(p.pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump({"rc": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss,
               "cpu_s": usage.ru_utime + usage.ru_stime}, f)
"""


def run_child(argv: list[str]) -> tuple[int, float, float, str, float]:
    """(exit status, wall seconds, peak RSS MB, stdout, CPU seconds) of a child process."""
    with tempfile.NamedTemporaryFile(suffix=".json") as m:
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", _MEASURE, m.name, *argv], cwd=ROOT,
                           stdout=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        got = json.loads(Path(m.name).read_text() or "{}")
    if not got:
        return p.returncode or 1, wall, float("nan"), p.stdout, float("nan")
    return got["rc"], wall, got["maxrss_kb"] / 1024, p.stdout, got["cpu_s"]


def import_file(cache: Path, db: Path, src: Path, fmt: str) -> dict:
    load = os.getloadavg()[0]
    rc, wall, rss, out, cpu = run_child([sys.executable, str(ROOT / "main.py"), "--cache-dir",
                                         str(cache), "--user-db", str(db), "lexicon", "import",
                                         str(src), "--format", fmt])
    if rc != 0:
        raise SystemExit(f"import of {src} failed (exit {rc})")
    return {"file_mb": round(src.stat().st_size / 1e6, 1), "format": fmt,
            "import_s": round(wall, 2), "import_cpu_s": round(cpu, 2),
            "import_peak_rss_mb": round(rss, 1), "db_mb": round(db.stat().st_size / 1e6, 1),
            "load_average": round(load, 2),
            "report": (out.strip().splitlines()[-1] if out.strip() else "")
            .replace(str(src.parent) + "/", "")}  # the report names the file, not its directory


def _rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_startup(db: Path, cache: Path, log: Path | None, limit: int) -> dict:
    """In this (fresh) process: open, first keystroke, first commit, then a replay."""
    t0 = time.perf_counter()
    from evaluation.replay import replay, simulate_record
    from evaluation.typing_log import LogRecord, load_log
    from ime.config import Config
    from ime.engine import Engine
    from ime.learner import open_learner

    t_imports = time.perf_counter() - t0
    learner = open_learner(db)
    engine = Engine.load(Config(learning=True, lm=False), cache, learner=learner,
                         progress=False)
    t_open = time.perf_counter() - t0
    ctx = engine.new_context()
    t1 = time.perf_counter()
    ctx.type("x")
    t_key = time.perf_counter() - t1
    res = simulate_record(engine.new_context(), LogRecord("xianzai", "先在"))
    t_commit = time.perf_counter() - t0
    rss_commit = _rss_mb()
    learned = learner.is_learned("先在", ("xian", "zai"))
    out = {"imports_s": round(t_imports, 3), "open_s": round(t_open, 3),
           "first_key_ms": round(t_key * 1000, 1), "first_commit_s": round(t_commit, 3),
           "rss_after_first_commit_mb": round(rss_commit, 1), "learned_first_commit": learned,
           "first_commit_top1": res.top1}
    if log is not None and limit > 0:
        records = load_log(log, limit=limit)[0]
        learn = learner.learn
        commit_ms: list[float] = []

        def timed(event) -> None:
            t = time.perf_counter()
            learn(event)
            commit_ms.append((time.perf_counter() - t) * 1000)

        learner.learn = timed  # type: ignore[method-assign]
        _, summary = replay(engine, records)
        lat = summary["latency_ms"]
        commit_ms.sort()
        out.update({"records": summary["records"], "p_at_1": round(summary["p_at_1"], 3),
                    "keystroke_ms": {k: round(lat[k], 2) for k in ("p50", "p95", "p99")},
                    "keystrokes": lat["keystrokes"],
                    "learn_ms": {"p50": round(commit_ms[len(commit_ms) // 2], 2),
                                 "p95": round(commit_ms[int(len(commit_ms) * 0.95)], 2)}
                    if commit_ms else None,
                    "paused": learner.paused})
    out["peak_rss_mb"] = round(_rss_mb("VmHWM"), 1)
    learner.close()
    return out


# ---- commands -----------------------------------------------------------------------------------


def cmd_startup(args, cache: Path, chars: list[tuple[str, str]], work: Path) -> list[dict]:
    from tqdm import tqdm

    log = Path(args.log) if args.log else (DEFAULT_LOG if DEFAULT_LOG.exists() else None)
    if log is None:
        log = work / "sample.jsonl"
        from evaluation.typing_log import make_log, write_log

        text = (ROOT / "benchmarks" / "data" / "sample.txt").read_text(encoding="utf-8")
        write_log(make_log(text, min_chars=2), log)
    rows = []
    for n in tqdm([int(x) for x in args.entries.split(",")], desc="user lexicons",
                  file=sys.stderr):
        db = work / f"user-{n}.db"
        row: dict = {"entries": n}
        if n:
            src = work / f"dict-{n}.tsv"
            write_dictionary(src, chars, "tsv", entries=n, seed=n)
            row["setup"] = import_file(cache, db, src, "tsv")
            src.unlink()
        runs = []
        for _ in range(args.repeat):
            load = os.getloadavg()[0]
            rc, wall, rss, out, _ = run_child([sys.executable, __file__, "_startup", "--db",
                                               str(db), "--cache-dir", str(cache), "--log",
                                               str(log), "--limit", str(args.limit)])
            if rc != 0:
                raise SystemExit(f"start-up measurement with {n} entries failed (exit {rc})")
            runs.append(json.loads(out.strip().splitlines()[-1])
                        | {"process_s": round(wall, 2), "load_average": round(load, 2)})
        row["runs"] = runs
        best = min(runs, key=lambda r: r["first_commit_s"])
        row.update({k: best[k] for k in best if k != "process_s"})
        row["db_mb"] = round(db.stat().st_size / 1e6, 1) if db.exists() else 0.0
        rows.append(row)
        print(f"{n:>9} entries: open {row['open_s']} s, first key {row['first_key_ms']} ms, "
              f"first commit {row['first_commit_s']} s, RSS {row['rss_after_first_commit_mb']} "
              f"MB (peak {row['peak_rss_mb']}); keystroke p50/p95/p99 "
              f"{row.get('keystroke_ms')}", flush=True)
    return rows


def cmd_import(args, cache: Path, chars: list[tuple[str, str]], work: Path) -> dict:
    suffix = {"tsv": ".tsv", "libime": ".txt", "rime": ".dict.yaml"}[args.format]
    src = work / f"dict-{args.size_mb:g}mb{suffix}"
    n = write_dictionary(src, chars, args.format, size_mb=args.size_mb, seed=7)
    row = {"entries": n} | import_file(cache, work / "import.db", src, args.format)
    print(f"import of {row['file_mb']} MB ({n} entries, {args.format}): {row['import_s']} s, "
          f"peak RSS {row['import_peak_rss_mb']} MB — {row['report']}", flush=True)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["startup", "import", "all", "_startup"])
    ap.add_argument("--entries", default="0,300000,1000000")
    ap.add_argument("--repeat", type=int, default=1, help="start-up runs per size (best kept)")
    ap.add_argument("--limit", type=int, default=200, help="records replayed for latency")
    ap.add_argument("--log", help="typing log for the latency replay (default: "
                                  "out/dev/news-full.jsonl, else one made from sample.txt)")
    ap.add_argument("--size-mb", type=float, default=100.0)
    ap.add_argument("--format", default="tsv", choices=["tsv", "libime", "rime"])
    ap.add_argument("--cache-dir")
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--json")
    args = ap.parse_args()

    from lexicon.build import default_cache_dir, ensure_built

    cache = ensure_built(Path(args.cache_dir) if args.cache_dir else default_cache_dir())
    if args.what == "_startup":
        print(json.dumps(measure_startup(Path(args.db), cache, Path(args.log), args.limit)))
        return 0
    report: dict = {"machine": f"{cpu_model()}, {os.cpu_count()} cores, "
                               f"Python {platform.python_version()}",
                    "date": time.strftime("%Y-%m-%d")}
    chars = han_characters(cache)
    with tempfile.TemporaryDirectory(prefix="delta-pinyin-bench-") as tmp:
        work = Path(tmp)
        if args.what in ("startup", "all"):
            report["startup"] = cmd_startup(args, cache, chars, work)
        if args.what in ("import", "all"):
            report["import"] = cmd_import(args, cache, chars, work)
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
