"""The character LM: cached state equals one pass, shared-state candidates equal separate runs,
training lowers the loss, checkpoints round-trip, bad files are refused."""

from __future__ import annotations

import pytest
import torch

from lm.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from lm.data import BOS, PAD, UNK, Vocab, encode_lines, random_batch
from lm.model import KimiLinearLM, LMConfig

SMALL = dict(d_model=64, heads=2, head_dim=32, mlp_hidden=96, gate_rank=16, window=8)


def small_model(vocab: int = 50, seed: int = 0, **kw) -> KimiLinearLM:
    torch.manual_seed(seed)
    return KimiLinearLM(LMConfig(vocab=vocab, **{**SMALL, **kw})).eval()


def test_layers_are_kda_then_attention_three_to_one() -> None:
    m = small_model(n_layers=8)
    assert [b.attention for b in m.blocks] == [False, False, False, True] * 2


@pytest.mark.parametrize("split", [1, 5, 13], ids=lambda s: f"context{s}")
def test_continuing_from_a_state_equals_one_pass(split: int) -> None:
    """Text longer than the attention window, run in two pieces from the cached state."""
    m = small_model()
    ids = torch.randint(3, 50, (2, 21))
    with torch.no_grad():
        full, _ = m(ids)
        a, state = m(ids[:, :split])
        b, _ = m(ids[:, split:], state)
    assert torch.allclose(torch.cat([a, b], dim=1), full, atol=1e-4, rtol=1e-4)


def test_candidates_from_one_shared_state_equal_separate_runs() -> None:
    m = small_model()
    context = torch.randint(3, 50, (1, 11))
    cands = torch.randint(3, 50, (5, 4))
    with torch.no_grad():
        _, state = m(context)
        shared, _ = m(cands, state, shared=True)
        for i in range(5):
            alone, _ = m(torch.cat([context, cands[i : i + 1]], dim=1))
            assert torch.allclose(shared[i], alone[0, 11:], atol=1e-4, rtol=1e-4)


def test_training_lowers_the_loss() -> None:
    torch.manual_seed(0)
    m = small_model().train()
    text = torch.tensor([BOS] + [3, 4, 5, 6, 7, 8] * 6)  # a repeating pattern
    ids = text.expand(4, -1)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-2)
    first = m.loss(ids).item()
    for _ in range(40):
        opt.zero_grad()
        loss = m.loss(ids)
        loss.backward()
        opt.step()
    assert loss.item() < 0.3 * first


def test_padding_is_never_a_target() -> None:
    m = small_model()
    ids = torch.tensor([[BOS, 5, 6, PAD, PAD]])
    logits, _ = m(ids[:, :-1])
    want = torch.nn.functional.cross_entropy(logits[0, :2], ids[0, 1:3])
    assert torch.allclose(m.loss(ids), want)


def test_vocab_and_batches() -> None:
    v = Vocab.build(["天天向上", "天气好", "好"], min_count=2)
    assert v.chars == "天好"  # most frequent first, singletons left out
    assert v.encode("天好雨") == [3, 4, UNK]
    stream = encode_lines(["天好", "好"], v)
    assert stream.tolist() == [BOS, 3, 4, BOS, 4]
    batch = random_batch(stream, 3, 4, torch.Generator().manual_seed(0))
    assert batch.shape == (3, 4)
    with pytest.raises(ValueError, match="fewer than one window"):
        random_batch(stream, 1, 9, torch.Generator())
    with pytest.raises(ValueError, match="distinct"):
        Vocab("天天")


def test_checkpoint_round_trip(tmp_path) -> None:
    v = Vocab("".join(chr(0x4E00 + i) for i in range(47)))
    m = small_model(vocab=len(v))
    path = tmp_path / "w.safetensors"
    save_checkpoint(m, v, path, dtype=torch.float32)
    m2, v2 = load_checkpoint(path)
    assert v2.chars == v.chars and m2.cfg == m.cfg
    ids = torch.randint(3, len(v), (1, 9))
    with torch.no_grad():
        assert torch.equal(m(ids)[0], m2(ids)[0])
    assert not list(tmp_path.glob("*.tmp"))  # the temp file was renamed, not left behind


def test_bad_checkpoints_are_refused(tmp_path) -> None:
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_checkpoint(junk)
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(tmp_path / "missing.safetensors")
    from safetensors.torch import save_file

    other = tmp_path / "other.safetensors"
    save_file({"x": torch.zeros(2)}, str(other), metadata={"format": "something else"})
    with pytest.raises(CheckpointError, match="not a Delta Pinyin LM checkpoint"):
        load_checkpoint(other)
