"""`main.py lm train`: the command line of the neural LM. Its defaults are the shipped run's."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["add_lm_commands", "run_lm_command"]


def add_lm_commands(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("lm", help="train the neural reranker's character LM")
    lsub = c.add_subparsers(dest="lm_cmd", required=True)
    t = lsub.add_parser("train", help="train from scratch; writes the best checkpoint by dev loss")
    t.add_argument(
        "--text",
        nargs="+",
        help="training text files (default: the lexicon build's People's Daily training split)",
    )
    t.add_argument("--dev", help="held-out text (default: the build's dev split)")
    t.add_argument("--out", help="checkpoint (default: lm/weights/kimi-char.safetensors)")
    t.add_argument("--log", help="JSON training log")
    t.add_argument("--plot", help="PNG learning curve")
    t.add_argument("--steps", type=int, default=3000)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--length", type=int, default=256)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--eval-every", type=int, default=200)
    t.add_argument("--device", default="auto", help="cpu, cuda or auto")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument(
        "--model",
        default='{"dropout": 0.3}',
        help='LMConfig fields as JSON (default: the shipped model\'s, {"dropout": 0.3})',
    )
    t.add_argument("--quiet", action="store_true")
    c.set_defaults(func=run_lm_command)


def run_lm_command(args) -> int:
    from cli.common import cache_dir_of
    from lexicon.build import default_cache_dir, ensure_built
    from lm.checkpoint import DEFAULT_WEIGHTS
    from lm.data import read_lines
    from lm.model import LMConfig
    from lm.train import TrainSettings, plot_curve, train

    try:
        model = json.loads(args.model)
    except json.JSONDecodeError as e:
        raise ValueError(f"--model: not JSON ({e})") from None
    known = set(LMConfig.__dataclass_fields__) - {"vocab"}
    if not isinstance(model, dict) or set(model) - known:
        raise ValueError(f"--model takes an object with fields among {sorted(known)}")
    for name in ("steps", "batch", "length", "eval_every"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    if args.text is None or args.dev is None:
        built = ensure_built(cache_dir_of(args) or default_cache_dir())
    texts = [Path(p) for p in args.text] if args.text else [built / "train_news.txt"]
    dev = Path(args.dev) if args.dev else built / "dev_news.txt"
    train_lines = [line for p in texts for line in read_lines(p)]
    dev_lines = read_lines(dev)
    if not train_lines or not dev_lines:
        raise ValueError("no training or dev text")
    s = TrainSettings(
        steps=args.steps,
        batch=args.batch,
        length=args.length,
        lr=args.lr,
        eval_every=args.eval_every,
        device=args.device,
        seed=args.seed,
        model=model,
    )
    out = Path(args.out) if args.out else DEFAULT_WEIGHTS
    log = train(train_lines, dev_lines, s, out, progress=not args.quiet)
    log["text"] = [str(p) for p in texts]
    log["dev_text"] = str(dev)
    log["out"] = str(out)
    if args.log:
        Path(args.log).parent.mkdir(parents=True, exist_ok=True)
        Path(args.log).write_text(json.dumps(log, indent=1) + "\n", encoding="utf-8")
    if args.plot:
        plot_curve(log, Path(args.plot))
    best = log.get("best", {})
    print(
        f"best dev loss {best.get('dev_loss', float('nan')):.4f} nats/char at step "
        f"{best.get('step')}; {log['params'] / 1e6:.2f} M parameters; "
        f"{log['seconds']:.0f} s on {log['device']}; wrote {out}"
    )
    return 0
