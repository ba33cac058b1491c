"""`lm train` in two processes (torchrun, gloo on the CPU) against one process with the same
global batch, and the training state: a run stopped and resumed gives the uninterrupted
run's steps. Tiny config, a few steps: the two launches of torchrun take ~10 s each here."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch.distributed as dist

from main import main

ROOT = Path(__file__).resolve().parents[2]
TINY = '{"d_model": 32, "heads": 2, "head_dim": 16, "mlp_hidden": 32, "gate_rank": 8}'
SENTENCES = ["今天天气很好我们去公园散步", "中国人民大学在北京", "我们都是中国人今天很好",
             "明天下午我们一起去图书馆看书", "这家饭店的菜很好吃价格也不贵"]


@pytest.fixture(scope="module")
def texts(tmp_path_factory) -> tuple[Path, Path]:
    """Training text with something to learn (five sentences in random order), dev text."""
    where = tmp_path_factory.mktemp("ddp")
    rng = random.Random(0)
    train, dev = where / "train.txt", where / "dev.txt"
    train.write_text("\n".join(rng.choice(SENTENCES) for _ in range(300)) + "\n", "utf-8")
    dev.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    return train, dev


def args(texts, out: Path, log: Path, *extra: str) -> list[str]:
    train, dev = texts
    return ["lm", "train", "--text", str(train), "--dev", str(dev), "--device", "cpu",
            "--quiet", "--model", TINY, "--steps", "6", "--batch", "8", "--length", "16",
            "--warmup", "1", "--lr", "0.01", "--eval-every", "3", "--eval-windows", "8",
            "--final-windows", "8", "--log-every", "1", "--out", str(out), "--json", str(log),
            *extra]


def torchrun(argv: list[str]) -> None:
    """main.py ARGV in two processes."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(ROOT / "main.py"), *argv]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("best dev loss") == 1  # rank 0 alone reports


def curve(log: Path) -> list[float]:
    record = json.loads(log.read_text(encoding="utf-8"))
    assert [step for step, _ in record["train"]] == list(range(len(record["train"])))
    return [loss for _, loss in record["train"]]


def near(a: list[float], b: list[float], tol: float) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))


pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="torch.distributed with gloo")


@pytest.mark.parametrize("optimizer", ["muonclip", "adamw"])
def test_two_processes_follow_one(tmp_path, texts, optimizer) -> None:
    """The loss curve of one process with batch 8 is the two processes' (4 each); for
    MuonClip across a stop at step 3 and a resume from its training state."""
    opt = ["--optimizer", optimizer]
    one = tmp_path / "one.json"
    assert main(args(texts, tmp_path / "one.safetensors", one, *opt)) == 0
    single = curve(one)
    assert single[-1] < single[0] - 0.1  # it learns: the curve says something
    two, state = tmp_path / "two.json", tmp_path / "state.pt"
    if optimizer == "muonclip":  # steps 0-2, the state written at the stop, then 3-5
        first = tmp_path / "first.json"
        torchrun(args(texts, tmp_path / "two.safetensors", first, *opt, "--stop-after", "3",
                      "--state", str(state)))
        assert len(curve(first)) == 3
        torchrun(args(texts, tmp_path / "two.safetensors", two, *opt, "--resume", str(state)))
    else:
        torchrun(args(texts, tmp_path / "two.safetensors", two, *opt))
    double = curve(two)
    # step 0: the same windows and weights, so the same loss but for the order of the sums
    assert abs(single[0] - double[0]) < 1e-5
    # later steps: AdamW's fp32 updates stay within rounding (3e-6 nats here); Muon
    # orthogonalises each gradient in bf16, where a last-bit difference of the all-reduced
    # sum can round differently, so its curves part by up to 2e-4 nats over 6 steps. With
    # no all-reduce (each process on its half alone) they part by 0.09 at step 2.
    assert near(single, double, 5e-5 if optimizer == "adamw" else 2e-3), (single, double)
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (one, two))
    assert b["processes"] == 2 and a["processes"] == 1
    assert [s for s, *_ in b["dev"]] == [3, 6]
    assert near([m for _, m, _ in a["dev"]], [m for _, m, _ in b["dev"]], 5e-3)
    if optimizer == "muonclip":  # the max logit all-reduced as a max: the whole batch's
        assert b["resumed"]["step"] == 3
        assert abs(a["max_logit"][0][1][0] - b["max_logit"][0][1][0]) < 1e-6
        assert a["clips"] == b["clips"]


def test_resume_continues_exactly(tmp_path, texts) -> None:
    """In one process, stopping at step 3 and resuming from the state gives the same
    weights and losses as the run that never stopped."""
    whole, part, rest = (tmp_path / f"{n}.json" for n in ("whole", "part", "rest"))
    state = tmp_path / "state.pt"
    drop = ["--model", TINY.replace("}", ', "dropout": 0.1}')]  # random state restored too
    assert main(args(texts, tmp_path / "a.safetensors", whole, *drop)) == 0
    assert main(args(texts, tmp_path / "b.safetensors", part, *drop, "--stop-after", "3",
                     "--state", str(state))) == 0
    assert main(args(texts, tmp_path / "b.safetensors", rest, *drop,
                     "--resume", str(state))) == 0
    assert curve(whole) == curve(rest)
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (whole, rest))
    assert a["dev"] == b["dev"] and a["best"] == b["best"]
    from lm.checkpoint import load_checkpoint

    (ma, _), (mb, _) = (load_checkpoint(tmp_path / f"{n}.safetensors") for n in "ab")
    assert all(x.equal(y) for x, y in zip(ma.state_dict().values(), mb.state_dict().values()))


def test_resume_with_other_settings(tmp_path, texts, capsys) -> None:
    state = tmp_path / "state.pt"
    assert main(args(texts, tmp_path / "a.safetensors", tmp_path / "a.json", "--stop-after",
                     "2", "--state", str(state))) == 0
    rc = main(args(texts, tmp_path / "a.safetensors", tmp_path / "b.json", "--lr", "0.5",
                   "--resume", str(state)))
    assert rc == 2
    err = capsys.readouterr().err
    assert "settings differ from the saved run's (lr)" in err and "Traceback" not in err
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a state")
    assert main(args(texts, tmp_path / "a.safetensors", tmp_path / "c.json",
                     "--resume", str(bad))) == 2
    assert "not a readable training state" in capsys.readouterr().err
