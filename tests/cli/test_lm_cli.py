"""`main.py lm train`: a tiny run writes a loadable checkpoint, its log and its curve; bad
arguments and unusable text end with one error line and exit status 2."""

from __future__ import annotations

import json

import pytest

from main import main

TINY = '{"d_model": 32, "heads": 2, "head_dim": 16, "mlp_hidden": 32, "gate_rank": 8}'
TEXT = "今天天气很好我们去公园散步\n中国人民大学在北京\n我们都是中国人今天很好\n" * 3


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def train(text, out, *extra: str) -> int:
    """`main.py lm train` on `text` (as training and dev text) into `out`, quietly."""
    paths = ["--text", str(text), "--dev", str(text), "--out", str(out)]
    return main(["lm", "train", "--device", "cpu", "--quiet", *paths, *extra])


def test_a_tiny_training_run(tmp_path, text, capsys) -> None:
    out, log, plot = tmp_path / "w.safetensors", tmp_path / "log.json", tmp_path / "curve.png"
    small = "--steps 6 --batch 2 --length 8 --eval-every 3".split()
    rc = train(text, out, *small, "--model", TINY, "--log", str(log), "--plot", str(plot))
    assert rc == 0
    assert "best dev loss" in capsys.readouterr().out
    from lm.checkpoint import load_checkpoint

    model, vocab = load_checkpoint(out)
    assert model.cfg.d_model == 32 and "天" in vocab.chars
    record = json.loads(log.read_text(encoding="utf-8"))
    assert [step for step, _ in record["dev"]] == [3, 6]
    assert record["best"]["step"] in (3, 6)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "{nope"], "--model: not JSON"),
        (["--model", '{"layers": 3}'], "--model takes an object"),
        (["--steps", "0"], "--steps must be at least 1"),
        (["--length", "5000"], "fewer than one window"),
    ],
    ids=["model-not-json", "model-unknown-field", "no-steps", "text-too-short"],
)
def test_bad_arguments(tmp_path, text, capsys, extra, message) -> None:
    assert train(text, tmp_path / "w.safetensors", *extra) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "w.safetensors").exists()


def test_missing_text_file(tmp_path, capsys) -> None:
    assert train(tmp_path / "none.txt", tmp_path / "w.safetensors") == 2
    assert "none.txt" in capsys.readouterr().err
