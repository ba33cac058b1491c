"""Commands beyond the engine core, registered on main.py's parser."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_extra_commands"]


def add_extra_commands(sub: argparse._SubParsersAction) -> None:
    """compare and ui add themselves here (their modules are imported only when run)."""
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

    from ui.cli import add_ui_command

    add_ui_command(sub)


def cmd_compare(args) -> int:
    from tqdm import tqdm

    from benchmarks.peers.compare import compare, format_table, plot_compare
    from ime.config import load_config
    from ime.engine import Engine
    from ime.typing_log import load_log

    path = Path(args.log)
    records, _ = load_log(path, limit=args.limit)
    peers = [p for p in args.peers.split(",") if p]
    learner = None
    if args.learn:
        import tempfile

        from ime.learner import open_learner

        learner = open_learner(Path(tempfile.mkdtemp()) / "user.db")  # never the user's own
    cfg = load_config(Path(args.config) if args.config else None).with_(learning=args.learn)
    engine = Engine.load(cfg, Path(args.cache_dir) if args.cache_dir else None, learner=learner)
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
    return 0
