"""`delta-pinyin compare`: our engine and the peer IMEs on one typing log (evaluation.peers)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_compare_command", "cmd_compare"]


def add_compare_command(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("compare", help="our engine and peer IMEs on the same typing log")
    c.add_argument("log")
    c.add_argument("--peers", default="rime,libime,libpinyin,sunpinyin",
                   help="comma-separated: rime, libime, libpinyin, sunpinyin")
    c.add_argument("--learn", action="store_true", help="every system learns from the picks")
    c.add_argument("--limit", type=int)
    c.add_argument("--json")
    c.add_argument("--plot")
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(func=cmd_compare)


def cmd_compare(args) -> int:
    from tqdm import tqdm

    from cli.common import engine_from_args
    from evaluation.peers.compare import compare, format_table, plot_compare
    from evaluation.typing_log import load_log

    path = Path(args.log)
    records, _ = load_log(path, limit=args.limit)
    peers = [p for p in args.peers.split(",") if p]
    import tempfile

    scratch = tempfile.TemporaryDirectory(prefix="delta-pinyin-compare-")
    args.user_db = None  # every system learns from scratch: never the user's own lexicon
    engine = engine_from_args(args, learn=args.learn, user_db=Path(scratch.name) / "user.db",
                              learning=args.learn)
    learner = engine.learner
    with tqdm(total=len(records) * (1 + len(peers)), desc="compare", unit=" rec",
              file=sys.stderr, disable=args.quiet) as bar:
        summaries, skipped = compare(engine, records, peers, args.learn,
                                     progress=lambda: bar.update(1))
    print(format_table(summaries))
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    if args.json:
        out = {"log": path.name, "records": len(records), "learn": args.learn,
               "systems": summaries, "skipped": skipped}
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n",
                                   encoding="utf-8")
    if args.plot:
        plot_compare({path.stem: summaries}, Path(args.plot), title="P@k on the same log")
    if learner is not None:
        learner.close()
    scratch.cleanup()
    return 0
