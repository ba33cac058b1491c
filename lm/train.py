"""Train the character LM: `python main.py lm train` (see the README for the shipped run).

Text: the corpus's train split (all domains) or --text files; dev loss per domain on the
corpus's dev splits (or --dev files). Batches mix the domains in proportion to
size^`mix` (1: as the text comes, 0: equally). The optimizer is MuonClip (`lm.optim`) or
AdamW. The checkpoint with the best mean dev loss over the domains (on `eval_windows` windows
of each) is written (safetensors, bf16) and then measured on every dev window
(`final_dev`), with a JSON log (losses, the max attention logit of each attention layer,
QK-clip counts) and a PNG learning curve.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lm.checkpoint import load_checkpoint, save_checkpoint
from lm.data import Vocab, encode_lines, fixed_windows
from lm.model import KimiLinearLM, LMConfig
from lm.optim import MuonClip, OptimizerSettings, make_optimizer, max_logits

__all__ = ["TrainSettings", "train", "plot_curve", "dev_losses"]


@dataclass
class TrainSettings:
    steps: int = 3000
    batch: int = 64
    length: int = 256  # ids per training window
    optimizer: str = "muonclip"  # or "adamw"
    lr: float = 2e-3  # peak, after a linear warm-up; cosine to a tenth
    warmup: int = 100
    weight_decay: float = 0.1
    tau: float = 100.0  # QK-clip threshold (MuonClip only)
    mix: float = 1.0  # domain sampling weights ∝ (characters of the domain) ** mix
    eval_every: int = 200
    eval_windows: int = 256  # dev windows of `length` per domain, spread over each domain
    final_windows: int = 0  # windows per domain of the final measurement; 0: every one
    seed: int = 0
    device: str = "auto"
    max_seconds: float = 0.0  # stop (and say so in the log) after this long; 0: never
    stop_after: int = 0  # stop after this many steps of the `steps`-step schedule; 0: run it all
    model: dict = field(default_factory=dict)  # LMConfig fields other than vocab


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@torch.no_grad()
def dev_losses(model: KimiLinearLM, windows: dict[str, torch.Tensor], batch: int,
               dev: torch.device, amp: bool) -> dict[str, float]:
    """Loss in nats per predicted character of each domain's fixed dev windows."""
    was = model.training
    model.eval()
    out = {}
    for name, w in windows.items():
        total, count = 0.0, 0
        for i in range(0, w.shape[0], batch):
            ids = w[i : i + batch].to(dev)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
                total += model.loss(ids, reduction="sum").item()
            count += int((ids[:, 1:] != 0).sum())
        out[name] = total / max(1, count)
    model.train(was)
    return out


def _mixed_batch(streams: list[torch.Tensor], weights: torch.Tensor, batch: int, length: int,
                 gen: torch.Generator) -> torch.Tensor:
    """`batch` windows of `length` ids, each from a domain drawn by `weights`: [batch, length]."""
    doms = torch.multinomial(weights, batch, replacement=True, generator=gen).tolist()
    rows = []
    for d in doms:
        s = streams[d]
        start = int(torch.randint(0, s.numel() - length + 1, (1,), generator=gen))
        rows.append(s[start : start + length])
    return torch.stack(rows)


def train(
    train_text: list[str] | dict[str, list[str]],
    dev_text: list[str] | dict[str, list[str]],
    s: TrainSettings,
    out: Path,
    progress: bool = True,
) -> dict:
    """Train from scratch; writes the best checkpoint (by mean dev loss) to `out`. Returns
    the log. Text per domain ({domain: lines}), or one list of lines."""
    from tqdm import tqdm

    if isinstance(train_text, list):
        train_text = {"train": train_text}
    if isinstance(dev_text, list):
        dev_text = {"dev": dev_text}
    torch.manual_seed(s.seed)
    dev = _device(s.device)
    vocab = Vocab.build([line for lines in train_text.values() for line in lines])
    cfg = LMConfig(vocab=len(vocab), **s.model)
    model = KimiLinearLM(cfg).to(dev)
    streams = {d: encode_lines(lines, vocab) for d, lines in train_text.items()}
    streams = {d: t for d, t in streams.items() if t.numel() >= s.length + 1}
    if not streams:
        raise ValueError(f"the text is fewer than one window of {s.length + 1} ids")
    names = sorted(streams)
    weights = torch.tensor([streams[d].numel() ** s.mix for d in names], dtype=torch.float64)
    dev_windows = {d: fixed_windows(encode_lines(lines, vocab), s.length + 1, s.eval_windows)
                   for d, lines in sorted(dev_text.items())}
    opt = make_optimizer(model, OptimizerSettings(
        name=s.optimizer, lr=s.lr, weight_decay=s.weight_decay, tau=s.tau))

    def lr_at(step: int) -> float:  # linear warm-up, cosine to a tenth
        if step < s.warmup:
            return s.lr * (step + 1) / s.warmup
        t = (step - s.warmup) / max(1, s.steps - s.warmup)
        return s.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))

    amp = dev.type == "cuda"
    gen = torch.Generator().manual_seed(s.seed)
    log: dict = {
        "config": json.loads(cfg.to_json()),
        "settings": dict(vars(s)),
        "device": str(torch.cuda.get_device_name(dev) if amp else "cpu"),
        "torch": torch.__version__,
        "train_chars": {d: int(streams[d].numel()) for d in names},
        "mix_weights": {d: float(w / weights.sum()) for d, w in zip(names, weights)},
        "dev_chars": {d: int((w[:, 1:] != 0).sum()) for d, w in dev_windows.items()},
        "params": sum(p.numel() for p in model.parameters()),
        "train": [],
        "dev": [],
        "max_logit": [],  # (step, [max pre-softmax logit of each attention layer])
    }
    best = math.inf
    t0 = time.perf_counter()
    model.train()
    bar = tqdm(range(s.steps), desc="lm train", unit=" step", file=sys.stderr, disable=not progress)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        ids = _mixed_batch([streams[d] for d in names], weights, s.batch, s.length + 1, gen)
        ids = ids.to(dev, non_blocking=True)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            loss = model.loss(ids)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        if step % 10 == 0:  # before the step: the logits this batch had, clipped or not
            log["max_logit"].append((step, max_logits(model)))
        opt.step()
        if step % 10 == 0:
            log["train"].append((step, loss.item()))
        last = step + 1 == s.steps
        late = (s.max_seconds and time.perf_counter() - t0 > s.max_seconds
                or s.stop_after and step + 1 >= s.stop_after and not last)
        if (step + 1) % s.eval_every == 0 or last or late:
            d = dev_losses(model, dev_windows, s.batch, dev, amp)
            mean = sum(d.values()) / len(d)
            log["dev"].append((step + 1, mean, d))
            bar.set_postfix(train=f"{loss.item():.3f}", dev=f"{mean:.3f}")
            if mean < best:
                best = mean
                log["best"] = {"step": step + 1, "dev_loss": mean, "per_domain": d}
                save_checkpoint(model, vocab, out)
        if late:
            log["stopped_early"] = {"step": step + 1, "max_seconds": s.max_seconds,
                                    "stop_after": s.stop_after}
            break
    log["seconds"] = time.perf_counter() - t0
    if "best" in log:  # the shipped weights (bf16, as written) on every dev window
        best_model, _ = load_checkpoint(out, str(dev))
        limit = s.final_windows or 10**9
        whole = {d: fixed_windows(encode_lines(lines, vocab), s.length + 1, limit)
                 for d, lines in sorted(dev_text.items())}
        final = dev_losses(best_model, whole, s.batch, dev, amp)
        log["final_dev"] = {"mean": sum(final.values()) / len(final), "per_domain": final,
                            "chars": {d: int((w[:, 1:] != 0).sum()) for d, w in whole.items()}}
    log["steps_run"] = step + 1
    log["tokens"] = (step + 1) * s.batch * s.length
    if isinstance(opt, MuonClip):
        log["clips"] = opt.clips.tolist()  # [attention layer][head]: steps that clipped
    return log


def plot_curve(log: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    tr = log["train"]
    ax.plot([a for a, _ in tr], [b for _, b in tr], lw=0.8, alpha=0.6, label="train (batch)")
    dv = log["dev"]
    ax.plot([a for a, *_ in dv], [b for _, b, _ in dv], "o-", ms=3, label="dev, mean of domains")
    for name in dv[0][2] if dv else []:
        ax.plot([a for a, *_ in dv], [c[name] for *_, c in dv], lw=1, label=f"dev, {name}")
    if "best" in log:
        ax.axvline(log["best"]["step"], color="grey", ls=":", lw=1)
    ax.set_xlabel("step")
    ax.set_ylabel("loss, nats per character")
    ax.set_title(f"character LM, {log['params'] / 1e6:.1f} M parameters, {log['device']}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ml = log.get("max_logit", [])
    n = len(ml[0][1]) if ml else 0
    for i in range(n):
        ax2.plot([a for a, _ in ml], [b[i] for _, b in ml], lw=1, label=f"attention layer {i + 1}")
    if log["settings"].get("optimizer") == "muonclip" and n:
        ax2.axhline(log["settings"]["tau"], color="red", ls="--", lw=1, label="tau (QK-clip)")
    ax2.set_xlabel("step")
    ax2.set_ylabel("max pre-softmax attention logit")
    ax2.set_title("attention logits (before each step's clip)")
    if n:
        ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
