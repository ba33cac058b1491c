"""`python main.py lexicon forget|export|import|info`: the dictionary keeper's commands."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_lexicon_commands", "run_lexicon_command", "parse_pinyin"]


def parse_pinyin(text: str) -> tuple[str, ...]:
    """`xian zai`, `xian'zai` or `xian-zai` → ('xian', 'zai'), every syllable checked."""
    from ime.syllables import is_syllable

    sylls = tuple(s for s in text.replace("'", " ").replace("-", " ").split() if s)
    bad = [s for s in sylls if not is_syllable(s)]
    if not sylls or bad:
        raise ValueError(f"invalid pinyin {text!r}" + (f": {', '.join(bad)}" if bad else ""))
    return sylls


def add_lexicon_commands(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("forget", help="forget a word (a system word is demoted)")
    c.add_argument("word")
    c.add_argument("--pinyin", help="only this reading, e.g. 'xian zai'")
    c = sub.add_parser("info", help="sizes of the system and user lexicons")


def run_lexicon_command(args) -> int:
    from ime.engine import Engine
    from ime.learner import default_user_db, open_learner
    from lexicon.build import default_cache_dir, ensure_built

    learner = open_learner(Path(args.user_db) if args.user_db else default_user_db())
    try:
        cache = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
        engine = Engine.load(cache_dir=ensure_built(cache), learner=learner)
        if args.lexicon_cmd == "forget":
            sylls = parse_pinyin(args.pinyin) if args.pinyin else None
            n = engine.forget(args.word, sylls)
            if n == 0:
                print(f"{args.word}: not in the system or user lexicon; nothing to forget")
                return 1
            print(f"forgot {args.word} ({n} reading{'s' if n != 1 else ''})")
            return 0
        if args.lexicon_cmd == "info":
            print(f"system lexicon: {len(engine.lexicon)} words ({cache})")
            print(f"user lexicon:   {len(learner.store)} entries ({learner.store.path})")
            return 0
        raise ValueError(f"unknown lexicon command {args.lexicon_cmd}")
    finally:
        learner.close()
