"""Delta Pinyin command line: one entry point for every job (the top layer).

    python main.py convert nihao woshizhongguoren zgrm
    python main.py console
    python main.py lexicon build
    python main.py make-log TEXT --out LOG [--mode full|initials|mixed] [--seed N]
    python main.py replay LOG [--json F] [--plot F.png] [--no-learn] [--no-lm] [--limit N]
    python main.py lm train [--steps N] [--device cuda] [--log F.json] [--plot F.png]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cli.common import (
    CliError,
    add_common_options,
    cache_dir_of,
    engine_from_args,
)

__all__ = ["main", "build_parser"]


# ---- commands --------------------------------------------------------------------------------


def cmd_convert(args) -> int:
    from ime.segmentor import validate_keys

    for keys in args.keys:
        if not keys:
            raise CliError("convert: an empty key string (give the pinyin to convert)")
        validate_keys(keys)
    engine = engine_from_args(args, learn=False)
    for keys in args.keys:
        cands = engine.convert(keys)
        shown = "  ".join(f"{i + 1}.{c.text}" for i, c in enumerate(cands[: args.top]))
        print(f"{keys}\t{shown}")
    return 0


def console_events(line: str) -> list:
    """The key events a console line stands for: each character is the key that types it,
    `<Name>` is the key of X keysym Name (`<Escape>`, `<BackSpace>`, `<Return>`,
    `<Page_Down>`, `<Delete>`), `<Shift>` is Shift pressed and released alone and `<C-x>`
    is x with Ctrl. An empty line is Space."""
    import re

    from ime.keys import KeyEvent, Mod

    if not line:
        return [KeyEvent.of(" ")]
    out = []
    for m in re.finditer(r"<([^<>\s]+)>|(.)", line):
        name, ch = m.group(1), m.group(2)
        if ch is not None:
            out.append(KeyEvent.of(ch) if ch.isascii() and ch.isprintable() else KeyEvent("", ch))
        elif name == "Shift":
            out += [KeyEvent("Shift_L"), KeyEvent("Shift_L", release=True)]
        elif name.startswith("C-"):
            rest = name[2:]
            out.append(KeyEvent.of(rest, Mod.CTRL) if len(rest) == 1
                       else KeyEvent(rest, mods=Mod.CTRL))
        else:
            out.append(KeyEvent(name, " " if name == "space" else ""))
    return out


def cmd_console(args) -> int:
    """The typing pad's key bindings on stdin, a line at a time (ime.keys.KeyProcessor)."""
    from ime.keys import KeyProcessor

    engine = engine_from_args(args)
    proc = KeyProcessor(engine.new_context())
    print("Delta Pinyin console: type pinyin and Enter; pick with 1-9 or space (an empty "
          "line); - / = page; <Escape> cancels, <BackSpace>, <Return>, <Shift> (中/英); "
          ":q quits.")
    text = ""
    notices: list[str] = []
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line in (":q", ":quit"):
            break
        for ev in console_events(line):
            r = proc.process(ev)
            out = r.committed or ("" if r.handled or ev.release else ev.text)
            if out:  # committed by the IME, or a key the console (the application) types
                text += out
                if r.committed:
                    print(f"committed: {r.committed}    (text so far: {text})")
        st = proc.state
        if st.composing:
            print(f"[{st.preedit}]  page {st.page + 1}/{max(st.page_count, 1)}")
            print("  ".join(f"{i + 1}.{c.text}" for i, c in enumerate(st.candidates)))
        if proc.notices() != notices:
            notices = proc.notices()
            for n in notices:
                print(f"notice: {n}")
        sys.stdout.flush()
    if text:
        print(f"text: {text}")
    return 0


def cmd_lexicon(args) -> int:
    if args.lexicon_cmd == "build":
        from lexicon.build import build_lexicon, default_cache_dir

        d = cache_dir_of(args) or default_cache_dir()
        meta = build_lexicon(d, progress=True)
        sizes = {p.name: p.stat().st_size for p in sorted(d.iterdir()) if p.is_file()}
        print(json.dumps({"dir": str(d), **meta, "bytes": sizes}, ensure_ascii=False, indent=1))
        return 0
    from cli.lexicon import run_lexicon_command

    return run_lexicon_command(args)


def cmd_make_log(args) -> int:
    from evaluation.typing_log import make_log, write_log

    src = Path(args.text)
    if src.exists() and not src.is_file():
        raise CliError(f"{src}: not a regular file (a directory, FIFO or device is not read)")
    try:
        text = src.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{src}: no such file") from None
    except UnicodeDecodeError as e:
        raise CliError(f"{src}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    records = make_log(text, mode=args.mode, seed=args.seed, session=args.session)
    if args.limit:
        import itertools

        records = itertools.islice(records, args.limit)
    n = write_log(records, Path(args.out))
    print(f"wrote {n} records to {args.out}")
    return 0


def cmd_replay(args) -> int:
    import tempfile

    from tqdm import tqdm

    from evaluation.replay import plot_replay, replay
    from evaluation.typing_log import load_log

    path = Path(args.log)
    records, bad = load_log(path, args.strict, args.limit)
    # a replay learns into a scratch lexicon unless --user-db names one: simulated typing
    # must not teach the user's own lexicon
    with tempfile.TemporaryDirectory(prefix="delta-pinyin-replay-") as scratch:
        engine = engine_from_args(args, user_db=Path(scratch) / "user.db")
        with tqdm(total=len(records), desc="replay", unit=" rec", file=sys.stderr,
                  disable=args.quiet) as bar:
            results, summary = replay(engine, records, args.window, progress=bar.update)
        if engine.learner is not None:
            engine.learner.close()
    summary["bad_records"] = len(bad)
    _print_summary(summary)
    if args.json:
        _write_json(Path(args.json), summary)
    if args.plot:
        plot_replay({path.stem: summary}, {path.stem: results}, Path(args.plot),
                    title=f"replay of {path.name}")
    return 0


def _print_summary(s: dict) -> None:
    lat = s["latency_ms"]
    rows = [
        ("records", s["records"]), ("bad records", s.get("bad_records", 0)),
        ("learning", s.get("learn")), ("neural LM", s.get("lm")),
        ("P@1", f"{s['p_at_1']:.3f}"), ("P@5", f"{s['p_at_5']:.3f}"),
        ("P@10", f"{s['p_at_10']:.3f}"), ("char accuracy", f"{s['char_accuracy']:.3f}"),
        ("keystrokes/char", f"{s['keystrokes_per_char']:.3f}"),
        ("selection keys/record", f"{s['selection_keys_per_record']:.3f}"),
        ("failed records", s["failed_records"]),
        ("latency p50/p95/p99 ms", f"{lat['p50']:.2f} / {lat['p95']:.2f} / {lat['p99']:.2f}"),
    ]
    w = max(len(r[0]) for r in rows)
    for k, v in rows:
        print(f"{k:<{w}}  {v}")


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


# ---- argument parsing ----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="delta-pinyin", description="Delta Pinyin input method engine")
    sub = p.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("convert", help="print the top candidates for each key string")
    c.add_argument("keys", nargs="+")
    c.add_argument("--top", type=int, default=5)
    c.add_argument("--fuzzy", help="comma-separated fuzzy pairs, e.g. z/zh,an/ang")
    c.set_defaults(func=cmd_convert)

    c = sub.add_parser("console", help="interactive driver on stdin")
    c.add_argument("--page-size", type=int)
    c.add_argument("--no-learn", action="store_true")
    c.set_defaults(func=cmd_console)

    c = sub.add_parser("lexicon", help="build, forget, export, import")
    lsub = c.add_subparsers(dest="lexicon_cmd", required=True)
    lsub.add_parser("build", help="build the system lexicon and n-gram model")
    from cli.lexicon import add_lexicon_commands

    add_lexicon_commands(lsub)
    c.set_defaults(func=cmd_lexicon)

    c = sub.add_parser("make-log", help="turn text into a typing log")
    c.add_argument("text")
    c.add_argument("--out", required=True)
    c.add_argument("--mode", choices=("full", "initials", "mixed"), default="full")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--session")
    c.add_argument("--limit", type=int)
    c.set_defaults(func=cmd_make_log)

    c = sub.add_parser("replay", help="replay a typing log with the simulated user")
    c.add_argument("log")
    c.add_argument("--json")
    c.add_argument("--plot")
    c.add_argument("--no-learn", action="store_true")
    c.add_argument("--no-lm", action="store_true")
    c.add_argument("--limit", type=int)
    c.add_argument("--strict", action="store_true")
    c.add_argument("--window", type=int, default=200)
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(func=cmd_replay)

    from cli.compare import add_compare_command
    from cli.corpus import add_corpus_command
    from cli.ibus import add_ibus_command
    from cli.lm import add_lm_commands
    from cli.ui import add_ui_command

    add_compare_command(sub)
    add_corpus_command(sub)
    add_ibus_command(sub)
    add_lm_commands(sub)
    add_ui_command(sub)
    add_common_options(p)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from ime.config import ConfigError
    from ime.segmentor import InvalidKeysError
    from lexicon.user_lexicon import UserLexiconError

    try:
        return args.func(args)
    except CliError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.code
    except (InvalidKeysError, ConfigError, UserLexiconError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # never a traceback for the user; DELTA_PINYIN_DEBUG=1 shows it
        if os.environ.get("DELTA_PINYIN_DEBUG"):
            raise
        print(f"error: {type(e).__name__}: {e} (set DELTA_PINYIN_DEBUG=1 for details)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
