"""Train the character LM: `python main.py lm train` (see the README for the shipped run).

Text: the corpus's train split (all domains) or --text files; dev loss per domain on the
corpus's dev splits (or --dev files). Batches mix the domains in proportion to
size^`mix` (1: as the text comes, 0: equally). The optimizer is MuonClip (`lm.optim`) or
AdamW. The checkpoint with the best mean dev loss over the domains (on `eval_windows` windows
of each) is written (safetensors, bf16) and then measured on every dev window
(`final_dev`), with a JSON log (losses, the max attention logit of each attention layer,
QK-clip counts) and a PNG learning curve.

Several processes (`torchrun --nproc_per_node=N main.py lm train ...`, `lm.dist`): the model
is wrapped in DistributedDataParallel and every process draws the same global batch of
`batch` windows from one generator seeded alike (the draws are a few hundred integers a
step), then cuts out and trains on its own rows, rank r's `batch / N` from row r batch / N:
a deterministic split of the stream of training windows by rank, which together are the
windows a single process with the same `batch` trains on. The gradients are all-reduced in
the backward pass (DDP's mean over processes of each part's mean loss: the whole batch's
mean, since no training window holds padding), MuonClip all-reduces the max logits
(`lm.optim`), and the logged loss is the mean over processes. The main process (rank 0)
alone evaluates, writes the checkpoint, the training state and the log.

`state`: the training state (fp32 weights, optimizer state, generator and every process's
random state, the log so far) is written there at each evaluation; `resume` continues from
such a file with the same settings (`stop_after` and `max_seconds` may differ) and gives the
steps an uninterrupted run gives (in one process to the bit; in several, but for the order
of the all-reduced sums).
"""

from __future__ import annotations

import json
import math
import os
import pickle
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

from lm.checkpoint import load_checkpoint, save_checkpoint
from lm.data import Vocab, encode_lines, fixed_windows
from lm.dist import World, any_rank, gather_objects, join, leave, mean_over_ranks
from lm.model import KimiLinearLM, LMConfig
from lm.optim import MuonClip, OptimizerSettings, all_reduce_max_logits, make_optimizer, max_logits

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
    log_every: int = 10  # steps between logged training losses and max logits
    state: str = ""  # training state written here at each evaluation ("": none)
    resume: str = ""  # continue from this training state ("": from scratch)
    model: dict = field(default_factory=dict)  # LMConfig fields other than vocab


# settings a resumed run may change: when to stop, where it runs, what it writes
RESUMABLE = {"stop_after", "max_seconds", "device", "final_windows", "log_every", "state",
             "resume"}
STATE_FORMAT = "delta-pinyin-lm-train-state-1"


class StateError(ValueError):
    """A training state that cannot be resumed with these settings."""


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
                 gen: torch.Generator, rows: slice = slice(None)) -> torch.Tensor:
    """`batch` windows of `length` ids, each from a domain drawn by `weights`, or the `rows`
    of them (every draw is made, so every process's generator stays where a single
    process's is): [rows, length]."""
    doms = torch.multinomial(weights, batch, replacement=True, generator=gen).tolist()
    starts = [int(torch.randint(0, streams[d].numel() - length + 1, (1,), generator=gen))
              for d in doms]
    return torch.stack([streams[d][a : a + length] for d, a in list(zip(doms, starts))[rows]])


class _Loss(torch.nn.Module):
    """The model's training loss as a forward pass, for DistributedDataParallel (which
    prepares its gradient all-reduce in forward)."""

    def __init__(self, model: KimiLinearLM) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model.loss(ids)


def _rng_state(dev: torch.device) -> dict:
    return {"cpu": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None}


def _set_rng_state(state: dict, dev: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if dev.type == "cuda" and state["cuda"] is not None:
        torch.cuda.set_rng_state(state["cuda"], dev)


def _save_state(path: Path, state: dict) -> None:
    """Atomically (temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load_state(path: Path, s: TrainSettings, vocab: Vocab) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StateError(f"--resume {path}: not a readable training state ({why})") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise StateError(f"--resume {path}: not a training state of `lm train --state`")
    now = {k: v for k, v in vars(s).items() if k not in RESUMABLE}
    then = {k: v for k, v in state["settings"].items() if k not in RESUMABLE}
    differ = sorted(k for k in now.keys() | then.keys() if now.get(k) != then.get(k))
    if differ:
        raise StateError(f"--resume {path}: settings differ from the saved run's "
                         f"({', '.join(differ)})")
    if state["vocab"] != vocab.chars:
        raise StateError(f"--resume {path}: the training text is not the saved run's")
    return state


def train(
    train_text: list[str] | dict[str, list[str]],
    dev_text: list[str] | dict[str, list[str]],
    s: TrainSettings,
    out: Path,
    progress: bool = True,
) -> dict:
    """Train from scratch; writes the best checkpoint (by mean dev loss) to `out`. Returns
    the log (in a process of rank > 0 under torchrun, only {"rank", "processes"}). Text per
    domain ({domain: lines}), or one list of lines."""
    if isinstance(train_text, list):
        train_text = {"train": train_text}
    if isinstance(dev_text, list):
        dev_text = {"dev": dev_text}
    world, dev = join(s.device)
    try:
        return _train(train_text, dev_text, s, out, progress, world, dev)
    finally:
        leave(world)


def _train(train_text: dict[str, list[str]], dev_text: dict[str, list[str]], s: TrainSettings,
           out: Path, progress: bool, world: World, dev: torch.device) -> dict:
    from tqdm import tqdm

    if s.batch % world.size:
        raise ValueError(f"--batch {s.batch} is not a multiple of the {world.size} processes")
    part = s.batch // world.size
    rows = slice(world.rank * part, (world.rank + 1) * part)  # this process's part of a batch
    torch.manual_seed(s.seed)
    vocab = Vocab.build([line for lines in train_text.values() for line in lines])
    cfg = LMConfig(vocab=len(vocab), **s.model)
    model = KimiLinearLM(cfg).to(dev)  # the same initial weights in every process
    if world.rank:  # dropout masks of its own
        torch.manual_seed(s.seed + 1_000_003 * world.rank)
    streams = {d: encode_lines(lines, vocab) for d, lines in train_text.items()}
    streams = {d: t for d, t in streams.items() if t.numel() >= s.length + 1}
    if not streams:
        raise ValueError(f"the text is fewer than one window of {s.length + 1} ids")
    names = sorted(streams)
    weights = torch.tensor([streams[d].numel() ** s.mix for d in names], dtype=torch.float64)
    dev_windows = {d: fixed_windows(encode_lines(lines, vocab), s.length + 1, s.eval_windows)
                   for d, lines in sorted(dev_text.items())}
    resumed = _load_state(Path(s.resume), s, vocab) if s.resume else None
    if resumed:
        model.load_state_dict(resumed["model"])
    opt = make_optimizer(model, OptimizerSettings(
        name=s.optimizer, lr=s.lr, weight_decay=s.weight_decay, tau=s.tau))
    if resumed:
        opt.load_state_dict(resumed["optimizer"])
    net = (DistributedDataParallel(_Loss(model), device_ids=[dev.index] if dev.type == "cuda"
                                   else None) if world.distributed else _Loss(model))

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
        "processes": world.size,
        "torch": torch.__version__,
        "train_chars": {d: int(streams[d].numel()) for d in names},
        "mix_weights": {d: float(w / weights.sum()) for d, w in zip(names, weights)},
        "dev_chars": {d: int((w[:, 1:] != 0).sum()) for d, w in dev_windows.items()},
        "params": sum(p.numel() for p in model.parameters()),
        "train": [],
        "dev": [],
        "max_logit": [],  # (step, [max pre-softmax logit of each attention layer])
    }
    best, first, spent = math.inf, 0, 0.0
    if resumed:
        first, spent = resumed["step"], resumed["seconds"]
        gen.set_state(resumed["generator"])
        if len(resumed["rng"]) == world.size:  # else each process's dropout from its seed
            _set_rng_state(resumed["rng"][world.rank], dev)
        for key in ("train", "dev", "max_logit", "best"):
            if key in resumed["log"]:
                log[key] = resumed["log"][key]
        best = log["best"]["dev_loss"] if "best" in log else math.inf
        log["resumed"] = {"from": s.resume, "step": first}
    t0 = time.perf_counter()
    model.train()
    step = first - 1
    bar = tqdm(range(first, s.steps), desc="lm train", unit=" step", file=sys.stderr,
               initial=first, total=s.steps, disable=not progress or not world.main)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        ids = _mixed_batch([streams[d] for d in names], weights, s.batch, s.length + 1, gen,
                           rows)
        ids = ids.to(dev, non_blocking=True)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            loss = net(ids)
        opt.zero_grad(set_to_none=True)
        loss.backward()  # under DDP: the gradients all-reduced (averaged) here
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        logged = step % s.log_every == 0
        if logged and not isinstance(opt, MuonClip):
            all_reduce_max_logits(model)  # MuonClip's step does it
        opt.step()
        if logged:  # the logits this batch had before the step's clip, over all processes
            log["max_logit"].append((step, max_logits(model)))
            log["train"].append((step, mean_over_ranks(loss, world)))
        last = step + 1 == s.steps
        late = any_rank(bool(s.max_seconds and time.perf_counter() - t0 + spent > s.max_seconds),
                        world, dev) if s.max_seconds else False
        late = late or bool(s.stop_after and step + 1 >= s.stop_after and not last)
        if (step + 1) % s.eval_every == 0 or last or late:
            if world.main:
                d = dev_losses(model, dev_windows, s.batch, dev, amp)
                mean = sum(d.values()) / len(d)
                log["dev"].append((step + 1, mean, d))
                bar.set_postfix(train=f"{loss.item():.3f}", dev=f"{mean:.3f}")
                if mean < best:
                    best = mean
                    log["best"] = {"step": step + 1, "dev_loss": mean, "per_domain": d}
                    save_checkpoint(model, vocab, out)
            if s.state:
                rng = gather_objects(_rng_state(dev), world)
                if world.main:
                    _save_state(Path(s.state), {
                        "format": STATE_FORMAT, "step": step + 1, "settings": dict(vars(s)),
                        "vocab": vocab.chars,
                        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                        "optimizer": opt.state_dict(), "generator": gen.get_state(), "rng": rng,
                        "seconds": time.perf_counter() - t0 + spent,
                        "log": {k: log[k] for k in ("train", "dev", "max_logit", "best")
                                if k in log},
                    })  # fmt: skip
        if late:
            log["stopped_early"] = {"step": step + 1, "max_seconds": s.max_seconds,
                                    "stop_after": s.stop_after}
            break
    log["seconds"] = time.perf_counter() - t0 + spent
    log["steps_run"] = step + 1
    log["tokens"] = (step + 1) * s.batch * s.length
    log["tokens_per_second"] = (step + 1 - first) * s.batch * s.length / max(
        1e-9, time.perf_counter() - t0)
    if isinstance(opt, MuonClip):
        log["clips"] = opt.clips.tolist()  # [attention layer][head]: steps that clipped
    if not world.main:
        return {"rank": world.rank, "processes": world.size}
    if "best" in log and out.exists():  # the shipped weights (bf16, as written) on every dev window
        best_model, _ = load_checkpoint(out, str(dev))
        limit = s.final_windows or 10**9
        whole = {d: fixed_windows(encode_lines(lines, vocab), s.length + 1, limit)
                 for d, lines in sorted(dev_text.items())}
        final = dev_losses(best_model, whole, s.batch, dev, amp)
        log["final_dev"] = {"mean": sum(final.values()) / len(final), "per_domain": final,
                            "chars": {d: int((w[:, 1:] != 0).sum()) for d, w in whole.items()}}
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
