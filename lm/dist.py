"""Training in several processes: `torchrun --nproc_per_node=N main.py lm train ...`.

torchrun starts N copies of the command with RANK, WORLD_SIZE and LOCAL_RANK set; `join`
reads them and joins the process group: NCCL with one CUDA device per local rank, gloo on
CPUs (so the distributed path runs and is tested where there is no GPU). Without them the
world is one process and nothing here communicates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["World", "join", "leave", "mean_over_ranks", "any_rank", "gather_objects"]


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        """The process that evaluates and writes checkpoints and logs."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def join(device: str) -> tuple[World, torch.device]:
    """(the world, this process's device) for `device` ("auto", "cpu", "cuda", "cuda:0"):
    under torchrun a CUDA device is the local rank's, and the process group is joined."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if size <= 1:
        return World(), torch.device(device)
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if torch.device(device).type == "cuda":
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
        backend = "nccl"
    else:
        dev, backend = torch.device(device), "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, rank=rank, world_size=size)
    return World(rank, size), dev


def leave(world: World) -> None:
    """Wait for every process (the main one ends with the final evaluation), then leave."""
    if world.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def mean_over_ranks(x: torch.Tensor, world: World) -> float:
    """The mean of a scalar over the processes (itself in a world of one)."""
    if not world.distributed:
        return float(x.detach())
    t = x.detach().float().reshape(1).clone()
    dist.all_reduce(t)  # gloo has no AVG
    return float(t) / world.size


def any_rank(flag: bool, world: World, device: torch.device) -> bool:
    """True in every process when it is true in any (a time limit read by each clock)."""
    if not world.distributed:
        return flag
    t = torch.tensor([int(flag)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def gather_objects(obj, world: World) -> list:
    """Every process's `obj`, in rank order (in every process)."""
    if not world.distributed:
        return [obj]
    out: list = [None] * world.size
    dist.all_gather_object(out, obj)
    return out
