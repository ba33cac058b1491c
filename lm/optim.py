"""Optimizers for the character LM: MuonClip (Kimi K2) and the AdamW baseline.

MuonClip = `torch.optim.Muon` on the weight matrices, AdamW on everything else, and after
each step Kimi K2's QK-clip on the attention layers:

    for each attention head h whose largest pre-softmax logit S_max of the batch exceeds tau:
        gamma = tau / S_max;  W_q[h] *= sqrt(gamma);  W_k[h] *= sqrt(gamma)

so that head's logits are scaled by gamma (to tau at most) and no other head changes. Where
a key head is shared by several query heads (GQA), the key is left alone and that query
head's W_q takes all of gamma (K2's rule for its shared rotary key).

Muon's torch defaults, and what is done with them here:
* it takes 2-D parameters only: the Linear weights go to Muon; the embedding (tied to the
  output layer, so a lookup table as much as a matrix), the norms, the depthwise
  convolutions [C, 1, 4], biases and the gate scalars (A_log, dt_bias) go to AdamW;
* weight decay 0.1, decoupled and multiplied by the unadjusted lr: kept at 0.1 for both,
  which with `adjust_lr_fn="match_rms_adamw"` (update RMS matched to AdamW's, 0.2 sqrt(max
  dim)) decays as AdamW at the same lr does; the default ("original", Keller Jordan's
  sqrt(max(1, rows/cols))) wants lr ~0.02, where the same decay would shrink every matrix
  by e^-6 over 3,000 steps;
* momentum 0.95, Nesterov, 5 Newton-Schulz steps in bf16: kept.

Under DistributedDataParallel (`torchrun ... main.py lm train`) the gradients are all-reduced
in the backward pass, so every process runs Muon's Newton-Schulz step on the same averaged
gradient and the weights stay identical; the max logit each process saw in its part of the
batch is all-reduced as a max before the clip (`all_reduce_max_logits`), so every process
clips the heads a single process with the whole batch would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn as nn

from lm.model import AttnMixer, KimiLinearLM

__all__ = ["OptimizerSettings", "split_parameters", "qk_clip", "MuonClip", "make_optimizer",
           "max_logits", "all_reduce_max_logits"]


@dataclass(frozen=True)
class OptimizerSettings:
    name: str = "muonclip"  # "muonclip" or "adamw"
    lr: float = 2e-3
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)  # AdamW's (both optimizers' AdamW part)
    tau: float = 100.0  # QK-clip threshold on the max attention logit (Kimi K2: 100)
    adjust_lr_fn: str = "match_rms_adamw"


def split_parameters(model: nn.Module) -> tuple[list[tuple[str, nn.Parameter]],
                                                list[tuple[str, nn.Parameter]]]:
    """(Muon's, AdamW's) named parameters: the Linear weights, and everything else."""
    linear = {id(m.weight) for m in model.modules() if isinstance(m, nn.Linear)}
    muon, adamw = [], []
    for name, p in model.named_parameters():
        (muon if id(p) in linear and p.dim() == 2 else adamw).append((name, p))
    return muon, adamw


@torch.no_grad()
def qk_clip(attn: AttnMixer, max_logit: torch.Tensor, tau: float) -> torch.Tensor:
    """Scale the query/key weights of the heads whose max logit [H] exceeds tau, in place.
    Returns which heads were clipped, [H] bool. The other heads' rows are multiplied by
    exactly 1 (unchanged to the bit), so the call never waits for the GPU."""
    m = max_logit.float()
    over = m > tau
    gamma = torch.where(over, tau / m, torch.ones_like(m))  # [H]
    H, Hkv, D = attn.H, attn.Hkv, attn.D
    wq = attn.q.weight.view(H, D, -1)  # [H, D, d]: head h's rows of W_q
    if Hkv == H:
        s = gamma.sqrt().to(wq.dtype)[:, None, None]
        wq.mul_(s)
        attn.k.weight.view(H, D, -1).mul_(s)
    else:
        wq.mul_(gamma.to(wq.dtype)[:, None, None])
    return over


class MuonClip:
    """torch.optim.Muon (matrices) + torch.optim.AdamW (the rest) + QK-clip after each step.

    `param_groups` lists both optimizers' groups, so a schedule sets `lr` on all of them."""

    def __init__(self, model: KimiLinearLM, s: OptimizerSettings) -> None:
        muon, adamw = split_parameters(model)
        self.model, self.tau = model, s.tau
        self.muon = torch.optim.Muon(
            [p for _, p in muon], lr=s.lr, weight_decay=s.weight_decay,
            adjust_lr_fn=s.adjust_lr_fn,
        )  # fmt: skip
        decay = [p for n, p in adamw if p.dim() >= 2 and "embed" not in n]  # convolutions
        rest = [p for n, p in adamw if not (p.dim() >= 2 and "embed" not in n)]
        self.adamw = _adamw(decay, rest, s)
        # [layers, H]: how many steps clipped each head of each attention layer
        device = next(model.parameters()).device
        self.clips = torch.zeros(len(model.attention_layers()), model.cfg.heads,
                                 dtype=torch.long, device=device)

    @property
    def param_groups(self) -> list[dict]:
        return self.muon.param_groups + self.adamw.param_groups

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.muon.zero_grad(set_to_none)
        self.adamw.zero_grad(set_to_none)

    def state_dict(self) -> dict:
        return {"muon": self.muon.state_dict(), "adamw": self.adamw.state_dict(),
                "clips": self.clips.cpu()}

    def load_state_dict(self, state: dict) -> None:
        self.muon.load_state_dict(state["muon"])
        self.adamw.load_state_dict(state["adamw"])
        self.clips.copy_(state["clips"])

    def step(self) -> None:
        all_reduce_max_logits(self.model)
        self.muon.step()
        self.adamw.step()
        for n, (_, attn) in enumerate(self.model.attention_layers()):
            if attn.max_logit is not None:
                self.clips[n] += qk_clip(attn, attn.max_logit, self.tau)


def _adamw(decay: list, rest: list, s: OptimizerSettings) -> torch.optim.AdamW:
    groups = [{"params": decay, "weight_decay": s.weight_decay},
              {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=s.lr, betas=s.betas)


def make_optimizer(model: KimiLinearLM, s: OptimizerSettings) -> MuonClip | torch.optim.AdamW:
    """MuonClip, or the baseline: AdamW on everything (decay on matrices but the embedding)."""
    if s.name == "muonclip":
        return MuonClip(model, s)
    if s.name == "adamw":
        named = list(model.named_parameters())
        decay = [p for n, p in named if p.dim() >= 2 and "embed" not in n]
        rest = [p for n, p in named if not (p.dim() >= 2 and "embed" not in n)]
        return _adamw(decay, rest, s)
    raise ValueError(f"unknown optimizer {s.name!r} (muonclip or adamw)")


@torch.no_grad()
def all_reduce_max_logits(model: KimiLinearLM) -> None:
    """In a process group of more than one: each attention head's max logit of the last
    training forward becomes the max over every process's (one all-reduce for all layers)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    mixers = [m for _, m in model.attention_layers() if m.max_logit is not None]
    if not mixers:
        return
    flat = torch.stack([m.max_logit.float() for m in mixers])  # [layers, H]
    dist.all_reduce(flat, op=dist.ReduceOp.MAX)
    for m, row in zip(mixers, flat):
        m.max_logit = row


def max_logits(model: KimiLinearLM) -> list[float]:
    """The last training forward's max attention logit of each attention layer (over heads)."""
    return [float(m.max_logit.max()) if m.max_logit is not None else math.nan
            for _, m in model.attention_layers()]

