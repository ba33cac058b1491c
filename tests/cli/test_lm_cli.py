"""`main.py lm train`: a tiny run writes a loadable checkpoint, its log (dev loss per domain,
max attention logits, clip counts) and its curve, with either optimizer and from the
corpus's splits; bad arguments and unusable text end with one error line and exit status 2."""

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
    assert [step for step, *_ in record["dev"]] == [3, 6]
    assert record["best"]["step"] in (3, 6)
    assert set(record["best"]["per_domain"]) == {"dev"}
    assert record["settings"]["optimizer"] == "muonclip"
    assert [step for step, _ in record["max_logit"]] == [0]  # one attention layer, logged
    assert len(record["max_logit"][0][1]) == 1 and len(record["clips"]) == 1
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dev_loss_per_domain_with_adamw(tmp_path, text, capsys) -> None:
    other = tmp_path / "other.txt"
    other.write_text("我们都是中国人\n今天天气很好\n" * 4, encoding="utf-8")
    out, log = tmp_path / "w.safetensors", tmp_path / "log.json"
    paths = ["--text", str(text), "--dev", f"news={text}", f"everyday={other}"]
    rc = main(["lm", "train", "--device", "cpu", "--quiet", *paths, "--out", str(out),
               "--optimizer", "adamw", "--steps", "4", "--batch", "2", "--length", "8",
               "--eval-every", "2", "--model", TINY, "--log", str(log)])
    assert rc == 0
    record = json.loads(log.read_text(encoding="utf-8"))
    assert set(record["dev"][-1][2]) == {"news", "everyday"}
    step, mean, per = record["dev"][-1]
    assert mean == pytest.approx(sum(per.values()) / 2)
    assert "clips" not in record  # AdamW has no QK-clip
    assert "everyday" in capsys.readouterr().out


def test_training_on_a_built_corpus(tmp_path, capsys) -> None:
    """--data corpus reads the train split of every domain and the dev split per domain."""
    corpus = tmp_path / "corpus"
    rows = ["split\tdomain\tsource\tdocument\tlines\than"]
    for split, domain, lines in [("train", "news", ["今天天气很好我们去公园散步"] * 6),
                                 ("train", "everyday", ["我们都是中国人今天很好"] * 6),
                                 ("dev", "news", ["中国人民大学在北京"] * 3),
                                 ("dev", "everyday", ["我们去公园散步"] * 3)]:
        (corpus / split).mkdir(parents=True, exist_ok=True)
        (corpus / split / f"{domain}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        rows.append(f"{split}\t{domain}\tsrc\tdoc\t{len(lines)}\t{sum(map(len, lines))}")
    (corpus / "documents.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    out, log = tmp_path / "w.safetensors", tmp_path / "log.json"
    rc = main(["lm", "train", "--device", "cpu", "--quiet", "--corpus", str(corpus),
               "--out", str(out), "--steps", "2", "--batch", "2", "--length", "8",
               "--eval-every", "2", "--model", TINY, "--log", str(log)])
    assert rc == 0
    record = json.loads(log.read_text(encoding="utf-8"))
    assert set(record["train_chars"]) == {"news", "everyday"}
    assert set(record["dev"][-1][2]) == {"news", "everyday"}


def test_stop_after_part_of_the_schedule(tmp_path, text) -> None:
    log = tmp_path / "log.json"
    rc = train(text, tmp_path / "w.safetensors", "--steps", "10", "--stop-after", "3",
               "--batch", "2", "--length", "8", "--eval-every", "5", "--model", TINY,
               "--log", str(log))
    assert rc == 0
    record = json.loads(log.read_text(encoding="utf-8"))
    assert record["steps_run"] == 3 and record["stopped_early"]["stop_after"] == 3
    assert [step for step, *_ in record["dev"]] == [3]  # measured where it stopped
    assert record["settings"]["steps"] == 10  # the schedule was the 10-step one


def test_no_corpus_built(tmp_path, capsys) -> None:
    rc = main(["lm", "train", "--device", "cpu", "--quiet", "--corpus", str(tmp_path / "none"),
               "--out", str(tmp_path / "w.safetensors")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "no corpus built here" in err and "--data news" in err


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
