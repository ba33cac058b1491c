"""Train the character LM: `python main.py lm train` (see the README for the shipped run).

Text: the People's Daily training split that `lexicon build` writes (train_news.txt), or
--text files; dev loss on the held-out split (dev_news.txt) or --dev. The best checkpoint by
dev loss is written (safetensors, bf16), with a JSON log and a PNG learning curve.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lm.checkpoint import save_checkpoint
from lm.data import Vocab, encode_lines, random_batch
from lm.model import KimiLinearLM, LMConfig

__all__ = ["TrainSettings", "train", "plot_curve"]


@dataclass
class TrainSettings:
    steps: int = 3000
    batch: int = 64
    length: int = 256  # ids per training window
    lr: float = 2e-3
    warmup: int = 100
    weight_decay: float = 0.1
    eval_every: int = 200
    eval_batches: int = 16
    seed: int = 0
    device: str = "auto"
    model: dict = field(default_factory=dict)  # LMConfig fields other than vocab


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@torch.no_grad()
def _dev_loss(
    model: KimiLinearLM, stream: torch.Tensor, s: TrainSettings, dev: torch.device, amp: bool
) -> float:
    """Mean loss over fixed windows of the dev stream (the same windows every time)."""
    model.eval()
    gen = torch.Generator().manual_seed(12345)
    total = 0.0
    for _ in range(s.eval_batches):
        ids = random_batch(stream, s.batch, s.length + 1, gen).to(dev)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            total += model.loss(ids).item()
    model.train()
    return total / s.eval_batches


def train(
    train_lines: list[str], dev_lines: list[str], s: TrainSettings, out: Path, progress: bool = True
) -> dict:
    """Train from scratch; writes the best checkpoint (by dev loss) to `out`. Returns the log."""
    from tqdm import tqdm

    torch.manual_seed(s.seed)
    dev = _device(s.device)
    vocab = Vocab.build(train_lines)
    cfg = LMConfig(vocab=len(vocab), **s.model)
    model = KimiLinearLM(cfg).to(dev)
    train_ids = encode_lines(train_lines, vocab)
    dev_ids = encode_lines(dev_lines, vocab)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": s.weight_decay}, {"params": rest, "weight_decay": 0.0}],
        lr=s.lr, betas=(0.9, 0.95),
    )  # fmt: skip

    def lr_at(step: int) -> float:  # linear warm-up, cosine to a tenth
        if step < s.warmup:
            return s.lr * (step + 1) / s.warmup
        t = (step - s.warmup) / max(1, s.steps - s.warmup)
        return s.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))

    amp = dev.type == "cuda"
    gen = torch.Generator().manual_seed(s.seed)
    log = {
        "config": json.loads(cfg.to_json()),
        "settings": {k: v for k, v in vars(s).items()},
        "device": str(torch.cuda.get_device_name(dev) if amp else "cpu"),
        "train_chars": int(train_ids.numel()),
        "dev_chars": int(dev_ids.numel()),
        "params": sum(p.numel() for p in model.parameters()),
        "train": [],
        "dev": [],
    }
    best = math.inf
    t0 = time.perf_counter()
    model.train()
    bar = tqdm(range(s.steps), desc="lm train", unit=" step", file=sys.stderr, disable=not progress)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        ids = random_batch(train_ids, s.batch, s.length + 1, gen).to(dev, non_blocking=True)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            loss = model.loss(ids)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 10 == 0:
            log["train"].append((step, loss.item()))
        if (step + 1) % s.eval_every == 0 or step + 1 == s.steps:
            d = _dev_loss(model, dev_ids, s, dev, amp)
            log["dev"].append((step + 1, d))
            bar.set_postfix(train=f"{loss.item():.3f}", dev=f"{d:.3f}")
            if d < best:
                best = d
                log["best"] = {"step": step + 1, "dev_loss": d}
                save_checkpoint(model, vocab, out)
    log["seconds"] = time.perf_counter() - t0
    return log


def plot_curve(log: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    tr = log["train"]
    ax.plot([a for a, _ in tr], [b for _, b in tr], lw=0.8, alpha=0.6, label="train (batch)")
    dv = log["dev"]
    ax.plot([a for a, _ in dv], [b for _, b in dv], "o-", ms=3, label="dev (held-out news)")
    if "best" in log:
        ax.axvline(log["best"]["step"], color="grey", ls=":", lw=1)
    ax.set_xlabel("step")
    ax.set_ylabel("loss, nats per character")
    ax.set_title(f"character LM, {log['params'] / 1e6:.1f} M parameters, {log['device']}")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
