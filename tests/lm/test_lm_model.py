"""The character LM: chunk and recurrent KDA give the same logits with the convolutions, a
cached state (KDA state, convolution windows, attention cache) continues like one pass,
shared-state candidates equal separate runs, training lowers the loss, checkpoints
round-trip, bad files and old architectures are refused."""

from __future__ import annotations

import json

import pytest
import torch

from lm.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from lm.data import BOS, PAD, UNK, Vocab, encode_lines, fixed_windows, random_batch
from lm.model import KimiLinearLM, LMConfig

SMALL = dict(d_model=64, heads=2, head_dim=32, mlp_hidden=96, gate_rank=16, window=8)
# the ablation's layouts: the hybrid, all attention (NoPE and RoPE), all KDA
LAYOUTS = {
    "hybrid": {},
    "attention-nope": {"attn_every": 1},
    "attention-rope": {"attn_every": 1, "rope": True},
    "kda": {"attn_every": 0},
    "gqa": {"heads": 4, "head_dim": 16, "kv_heads": 2},
}


def small_model(vocab: int = 50, seed: int = 0, **kw) -> KimiLinearLM:
    torch.manual_seed(seed)
    return KimiLinearLM(LMConfig(vocab=vocab, **{**SMALL, **kw})).eval()


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def test_layers_are_kda_then_attention_three_to_one() -> None:
    m = small_model(n_layers=8)
    assert [b.attention for b in m.blocks] == [False, False, False, True] * 2
    assert not any(b.attention for b in small_model(attn_every=0).blocks)
    assert all(b.attention for b in small_model(attn_every=1).blocks)


@pytest.mark.parametrize("mode", ["naive", "naive_recurrent"])
def test_chunk_and_recurrent_modes_give_the_same_logits(mode: str) -> None:
    """Over more than one 64-token chunk, from a state, with the convolutions: the chunk
    form, the token recurrence and decoding one token at a time agree."""
    m = small_model()
    ids = torch.randint(3, 50, (2, 150))
    with torch.no_grad():
        m.set_kda_mode("naive_recurrent")
        want, want_state = m(ids[:, 70:], m(ids[:, :70])[1])
        m.set_kda_mode(mode)
        got, got_state = m(ids[:, 70:], m(ids[:, :70])[1])
        state, steps = m(ids[:, :70])[1], []
        for t in range(70, 150):
            logits, state = m(ids[:, t : t + 1], state)
            steps.append(logits)
    assert rel(got, want) < 1e-5
    assert rel(torch.cat(steps, dim=1), want) < 1e-5
    for layer_got, layer_want in zip(got_state, want_state):
        for a, b in zip(layer_got, layer_want):
            assert rel(a, b) < 1e-5


def test_the_convolution_windows_are_part_of_the_state() -> None:
    """Without them a continuation is not the one pass: they carry the last 3 inputs."""
    m = small_model()
    ids = torch.randint(3, 50, (1, 12))
    with torch.no_grad():
        full, _ = m(ids)
        _, state = m(ids[:, :6])
        cut = [(s[0], None, None, None) if len(s) == 4 else s for s in state]
        broken, _ = m(ids[:, 6:], cut)
        kept, _ = m(ids[:, 6:], state)
    S, wq, wk, wv = state[0]
    assert wq.shape == wk.shape == wv.shape == (1, 3, 64)  # [B, conv_size - 1, H*D]
    assert S.shape == (1, 2, 32, 32) and S.dtype == torch.float32
    assert rel(kept, full[:, 6:]) < 1e-5
    assert rel(broken, full[:, 6:]) > 1e-3


@pytest.mark.parametrize("layout", list(LAYOUTS), ids=list(LAYOUTS))
@pytest.mark.parametrize("split", [1, 5, 13], ids=lambda s: f"context{s}")
def test_continuing_from_a_state_equals_one_pass(layout: str, split: int) -> None:
    """Text longer than the attention window, run in two pieces from the cached state."""
    m = small_model(**LAYOUTS[layout])
    ids = torch.randint(3, 50, (2, 21))
    with torch.no_grad():
        full, _ = m(ids)
        a, state = m(ids[:, :split])
        b, _ = m(ids[:, split:], state)
    assert torch.allclose(torch.cat([a, b], dim=1), full, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("layout", list(LAYOUTS), ids=list(LAYOUTS))
def test_candidates_from_one_shared_state_equal_separate_runs(layout: str) -> None:
    m = small_model(**LAYOUTS[layout])
    context = torch.randint(3, 50, (1, 11))
    cands = torch.randint(3, 50, (5, 4))
    with torch.no_grad():
        _, state = m(context)
        shared, _ = m(cands, state, shared=True)
        for i in range(5):
            alone, _ = m(torch.cat([context, cands[i : i + 1]], dim=1))
            assert torch.allclose(shared[i], alone[0, 11:], atol=1e-4, rtol=1e-4)


def test_rope_attention_sees_order_nope_attention_needs_the_kda_layers() -> None:
    """One attention layer alone: without positions it cannot tell 'ab' from 'ba' before
    the last token; with RoPE it can."""
    ids = torch.tensor([[5, 6, 7], [6, 5, 7]])
    with torch.no_grad():
        nope, _ = small_model(n_layers=1, attn_every=1)(ids)
        rope, _ = small_model(n_layers=1, attn_every=1, rope=True)(ids)
    assert torch.allclose(nope[0, 2], nope[1, 2], atol=1e-5)
    assert not torch.allclose(rope[0, 2], rope[1, 2], atol=1e-3)


def test_training_records_each_heads_max_logit() -> None:
    m = small_model().train()
    ids = torch.randint(3, 50, (3, 10))
    m(ids)
    (i, attn), = m.attention_layers()
    assert attn.max_logit is not None and attn.max_logit.shape == (2,)
    # recompute head by head from the layer's input
    with torch.no_grad():
        x = ids
        h = m.embed(x)
        for block in m.blocks[:i]:
            h, _ = block(h, None, False)
        z = m.blocks[i].norm1(h)
        q = attn.q(z).view(3, 10, 2, 32).transpose(1, 2)
        k = attn.k(z).view(3, 10, 2, 32).transpose(1, 2)
        s = (q @ k.transpose(-1, -2)) / 32**0.5
        causal = torch.ones(10, 10, dtype=torch.bool).tril()
        want = s.masked_fill(~causal, -torch.inf).amax(dim=(0, 2, 3))
    assert torch.allclose(attn.max_logit, want, atol=1e-4)


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
    assert torch.allclose(m.loss(ids, reduction="sum"), 2 * want)


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


def test_dev_windows_cover_the_stream_once() -> None:
    stream = torch.arange(3, 13)  # 10 ids: 9 targets
    w = fixed_windows(stream, 4, limit=100)
    assert w.tolist() == [[3, 4, 5, 6], [6, 7, 8, 9], [9, 10, 11, 12]]
    targets = [t for row in w.tolist() for t in row[1:] if t != PAD]
    assert targets == list(range(4, 13))  # each id but the first is predicted once
    assert fixed_windows(torch.arange(3, 8), 4, 100).tolist() == [[3, 4, 5, 6], [6, 7, 0, 0]]
    spread = fixed_windows(torch.arange(3, 103), 4, limit=3)  # 33 windows, 3 taken
    assert spread[:, 0].tolist() == [3, 3 + 16 * 3, 3 + 32 * 3]  # first, middle, last


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
    wide, _ = load_checkpoint(path, window=512)  # a field that holds no weights
    assert wide.cfg.window == 512 and wide.blocks[3].mixer.window == 512


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


def test_a_first_version_checkpoint_loads_as_version_1(tmp_path) -> None:
    """The first model's config had no `arch` field, its attention a fused qkv projection,
    its KDA layers no convolutions: it loads, and computes what it computed."""
    from safetensors.torch import save_file

    from lm.checkpoint import FORMAT

    v = Vocab("".join(chr(0x4E00 + i) for i in range(47)))
    m = small_model(vocab=len(v), conv_size=0, arch=1)
    tensors = {}
    for name, t in m.state_dict().items():
        if ".mixer.q.weight" in name and m.blocks[int(name.split(".")[1])].attention:
            stem = name[: -len("q.weight")]
            parts = [m.state_dict()[f"{stem}{p}.weight"] for p in "qkv"]
            tensors[f"{stem}qkv.weight"] = torch.cat(parts)
        elif not (".mixer.k.weight" in name or ".mixer.v.weight" in name) or not m.blocks[
                int(name.split(".")[1])].attention:
            tensors[name] = t.contiguous()
    cfg = {k: v for k, v in json.loads(m.cfg.to_json()).items()
           if k not in ("arch", "kv_heads", "rope", "conv_size")}
    old = tmp_path / "v1.safetensors"
    save_file(tensors, str(old), metadata={"format": FORMAT, "config": json.dumps(cfg),
                                          "vocab": v.chars})
    m1, _ = load_checkpoint(old)
    assert m1.cfg.arch == 1 and m1.cfg.conv_size == 0
    ids = torch.randint(3, len(v), (2, 12))
    with torch.no_grad():
        assert torch.allclose(m1(ids)[0], m(ids)[0], atol=1e-6)
        _, state = m1(ids[:, :5])
        assert torch.allclose(m1(ids[:, 5:], state)[0], m(ids)[0][:, 5:], atol=1e-4)


def test_an_unknown_architecture_is_refused(tmp_path) -> None:
    v = Vocab("天好")
    m = small_model(vocab=len(v))
    path = tmp_path / "w.safetensors"
    save_checkpoint(m, v, path)
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    cfg = json.loads(meta["config"])
    cfg["arch"] = 7
    save_file(load_file(str(path)), str(path), metadata={**meta, "config": json.dumps(cfg)})
    with pytest.raises(CheckpointError, match="architecture version 7; this code builds"):
        load_checkpoint(path)
