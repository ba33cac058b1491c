"""`main.py lm train`: the command line of the neural LM. Its defaults are the shipped run's.

The same command runs in N processes under `torchrun --nproc_per_node=N main.py lm train ...`
(one GPU each, or gloo on CPUs; `lm.train`): --batch is the global batch, and only rank 0
prints, writes the checkpoint, the log, the plot and the training state."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["add_lm_commands", "run_lm_command"]

DEFAULT_MODEL = '{"dropout": 0.1}'


def add_lm_commands(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("lm", help="train the neural reranker's character LM")
    lsub = c.add_subparsers(dest="lm_cmd", required=True)
    t = lsub.add_parser("train", help="train from scratch; writes the best checkpoint by dev loss")
    t.add_argument(
        "--data", choices=("corpus", "news"), default="corpus",
        help="corpus: the built corpus's train split, dev loss per domain on its dev splits "
             "(main.py corpus build); news: the lexicon build's People's Daily split",
    )  # fmt: skip
    t.add_argument("--corpus", help="corpus directory (default: the built corpus's)")
    t.add_argument("--text", nargs="+", help="training text files instead (UTF-8, or .gz)")
    t.add_argument(
        "--dev", nargs="+", metavar="[NAME=]FILE",
        help="held-out text files instead, each a domain of the dev loss",
    )  # fmt: skip
    t.add_argument("--out", help="checkpoint (default: lm/weights/kimi-char.safetensors)")
    t.add_argument("--log", "--json", dest="log",
                   help="JSON training log (under torchrun write --json: torchrun takes --log "
                        "for its own --log-dir)")
    t.add_argument("--plot", help="PNG learning curve")
    t.add_argument("--steps", type=int, default=1250, help="steps of the lr schedule")
    t.add_argument("--stop-after", type=int, default=0,
                   help="stop after this many of them (the shipped run: 637, where its time "
                        "ran out)")
    t.add_argument("--batch", type=int, default=128)
    t.add_argument("--length", type=int, default=256)
    t.add_argument("--optimizer", choices=("muonclip", "adamw"), default="muonclip")
    t.add_argument("--lr", type=float, default=8e-3)
    t.add_argument("--warmup", type=int, default=100)
    t.add_argument("--weight-decay", type=float, default=0.1)
    t.add_argument("--tau", type=float, default=100.0, help="QK-clip threshold (MuonClip)")
    t.add_argument("--mix", type=float, default=1.0,
                   help="domain sampling weights ∝ size**MIX (1: as the text comes, 0: equal)")
    t.add_argument("--eval-every", type=int, default=125)
    t.add_argument("--eval-windows", type=int, default=256, help="dev windows per domain")
    t.add_argument("--final-windows", type=int, default=0,
                   help="dev windows per domain measured at the end (default: every one)")
    t.add_argument("--max-seconds", type=float, default=0.0, help="stop after this long")
    t.add_argument("--log-every", type=int, default=10,
                   help="steps between logged training losses and max logits")
    t.add_argument("--state", metavar="FILE",
                   help="write the training state (weights, optimizer, random state, log) "
                        "here at each evaluation, for --resume")
    t.add_argument("--resume", metavar="FILE",
                   help="continue from a --state file (same settings; --stop-after and "
                        "--max-seconds may differ)")
    t.add_argument("--device", default="auto", help="cpu, cuda or auto")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument(
        "--model", default=DEFAULT_MODEL,
        help=f"LMConfig fields as JSON (default: the shipped model's, {DEFAULT_MODEL})",
    )  # fmt: skip
    t.add_argument("--quiet", action="store_true")
    c.set_defaults(func=run_lm_command)


def _dev_files(specs: list[str]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = (Path(spec).name.split(".")[0] if len(specs) > 1 else "dev"), spec
        if name in out:
            raise ValueError(f"--dev: domain {name!r} given twice")
        out[name] = Path(path)
    return out


def _text(args) -> tuple[dict[str, list[str]], dict[str, list[str]], list[str], list[str]]:
    """(train lines per domain, dev lines per domain, training sources, dev sources)."""
    from lm.data import corpus_lines, read_lines

    train: dict[str, list[str]] | None = None
    dev: dict[str, list[str]] | None = None
    src_train: list[str] = []
    src_dev: list[str] = []
    if args.text:
        train = {"train": [line for p in args.text for line in read_lines(Path(p))]}
        src_train = list(args.text)
    if args.dev:
        files = _dev_files(args.dev)
        dev = {name: read_lines(p) for name, p in files.items()}
        src_dev = [str(p) for p in files.values()]
    if train is None or dev is None:
        if args.data == "corpus":
            from cli.common import CliError
            from corpus import CorpusError, default_corpus_dir

            where = Path(args.corpus) if args.corpus else default_corpus_dir()
            try:
                if train is None:
                    train, src_train = corpus_lines(where, "train"), [f"{where} (train)"]
                if dev is None:
                    dev, src_dev = corpus_lines(where, "dev"), [f"{where} (dev)"]
            except CorpusError as e:
                raise CliError(f"{e} (or --data news)") from None
        else:
            from cli.common import cache_dir_of
            from lexicon.build import default_cache_dir, ensure_built

            built = ensure_built(cache_dir_of(args) or default_cache_dir())
            if train is None:
                train = {"news": read_lines(built / "train_news.txt")}
                src_train = [str(built / "train_news.txt")]
            if dev is None:
                dev = {"news": read_lines(built / "dev_news.txt")}
                src_dev = [str(built / "dev_news.txt")]
    if not any(train.values()) or not all(dev.values()) or not dev:
        raise ValueError("no training or dev text")
    return train, dev, src_train, src_dev


def run_lm_command(args) -> int:
    from lm.checkpoint import DEFAULT_WEIGHTS
    from lm.model import LMConfig
    from lm.train import TrainSettings, plot_curve, train

    try:
        model = json.loads(args.model)
    except json.JSONDecodeError as e:
        raise ValueError(f"--model: not JSON ({e})") from None
    known = set(LMConfig.__dataclass_fields__) - {"vocab", "arch"}
    if not isinstance(model, dict) or set(model) - known:
        raise ValueError(f"--model takes an object with fields among {sorted(known)}")
    for name in ("steps", "batch", "length", "eval_every", "eval_windows", "log_every"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    if args.length < 2:
        raise ValueError("--length must be at least 2")
    if args.resume and not Path(args.resume).is_file():
        raise ValueError(f"--resume {args.resume}: no such file")
    train_text, dev_text, src_train, src_dev = _text(args)
    s = TrainSettings(
        steps=args.steps,
        batch=args.batch,
        length=args.length,
        optimizer=args.optimizer,
        lr=args.lr,
        warmup=args.warmup,
        weight_decay=args.weight_decay,
        tau=args.tau,
        mix=args.mix,
        eval_every=args.eval_every,
        eval_windows=args.eval_windows,
        final_windows=args.final_windows,
        max_seconds=args.max_seconds,
        stop_after=args.stop_after,
        log_every=args.log_every,
        state=args.state or "",
        resume=args.resume or "",
        device=args.device,
        seed=args.seed,
        model=model,
    )
    out = Path(args.out) if args.out else DEFAULT_WEIGHTS
    log = train(train_text, dev_text, s, out, progress=not args.quiet)
    if log.get("rank", 0):  # torchrun: rank 0 writes and reports
        return 0
    log["text"] = src_train
    log["dev_text"] = src_dev
    log["out"] = str(out)
    if args.log:
        Path(args.log).parent.mkdir(parents=True, exist_ok=True)
        Path(args.log).write_text(json.dumps(log, indent=1, ensure_ascii=False) + "\n",
                                  encoding="utf-8")
    if args.plot:
        plot_curve(log, Path(args.plot))
    best = log.get("best", {})
    per = ", ".join(f"{k} {v:.3f}" for k, v in best.get("per_domain", {}).items())
    print(
        f"best dev loss {best.get('dev_loss', float('nan')):.4f} nats/char ({per}) at step "
        f"{best.get('step')}; {log['params'] / 1e6:.2f} M parameters; "
        f"{log['seconds']:.0f} s on {log['device']}; wrote {out}"
    )
    return 0
