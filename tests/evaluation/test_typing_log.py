import json
import os
import stat

import pytest

from evaluation.replay import replay
from evaluation.typing_log import (
    LogRecord,
    TypingLogRecorder,
    clauses,
    keys_for,
    make_log,
    read_log,
    write_log,
)


def test_read_log_reports_bad_records_with_line_numbers(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_text("\n".join([
        json.dumps({"keys": "nihao", "text": "你好", "context": "大家好，", "extra": 1}),
        "",
        "{not json",
        json.dumps({"keys": "nihao"}),
        json.dumps({"keys": "Ni hao", "text": "你好"}),
        json.dumps({"keys": "xi'an", "text": "西安", "session": "u1", "ts": 1.5}),
        json.dumps(["keys", "text"]),
    ]) + "\n", encoding="utf-8")
    good, bad = read_log(p)
    assert [r.text for r in good] == ["你好", "西安"]
    assert good[0].context == "大家好，" and good[1].session == "u1" and good[1].ts == 1.5
    assert [b.line for b in bad] == [3, 4, 5, 7]
    assert "JSON" in bad[0].reason and "text" in bad[1].reason and "a-z" in bad[2].reason


def test_write_then_read_round_trips(tmp_path):
    recs = [LogRecord("nihao", "你好", "上文"), LogRecord("zgrm", "中国人民", "", "s", 3.0)]
    p = tmp_path / "x.jsonl"
    assert write_log(recs, p) == 2
    good, bad = read_log(p)
    assert not bad
    assert [(r.keys, r.text, r.context, r.session, r.ts) for r in good] == [
        ("nihao", "你好", "上文", None, None), ("zgrm", "中国人民", "", "s", 3.0)]


def test_clauses_split_at_punctuation_and_keep_context():
    out = list(clauses("大家好，我是中国人。Linux 很好"))
    assert [c for c, _ in out] == ["大家好", "我是中国人", "很好"]
    assert out[1][1] == "大家好，"
    assert out[2][1].endswith("。Linux ")


def test_keys_for_modes():
    assert keys_for(["xi", "an"]) == "xi'an"
    assert keys_for(["nv", "er"]) == "nv'er"
    assert keys_for(["zhong", "guo", "ren", "min"], "initials") == "zgrm"
    import random

    mixed = keys_for(["zhong", "guo", "ren"], "mixed", random.Random(1))
    assert mixed.replace("'", "") in {a + b + c for a in ("zhong", "z") for b in ("guo", "g")
                                      for c in ("ren", "r")}


def test_make_log_uses_pypinyin_and_v_for_u_umlaut():
    recs = list(make_log("我们去西安，女儿很高兴！"))
    assert [(r.keys, r.text) for r in recs] == [("womenquxi'an", "我们去西安"),
                                                ("nv'erhengaoxing", "女儿很高兴")]
    assert recs[1].context == "我们去西安，"


def test_recorder_appends_valid_private_jsonl(tmp_path):
    p = tmp_path / "rec" / "log.jsonl"
    rec = TypingLogRecorder(p, session="me")
    rec.record("nihao", "你好", "")
    rec.record("BAD", "坏", "")  # not typed keys: never recorded
    rec.record("xi'an", "西安", "你好")
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    good, bad = read_log(p)
    assert not bad and [r.text for r in good] == ["你好", "西安"] and good[1].context == "你好"


def test_replay_metrics_on_a_tiny_log(tiny_engine):
    recs = [LogRecord("nihao", "你好"), LogRecord("xianzai", "先在"),
            LogRecord("xianzai", "现在"), LogRecord("nihao", "你泥")]
    results, summary = replay(tiny_engine, recs, window=2)
    assert summary["records"] == 4
    assert results[0].hits == {1: True, 5: True, 10: True}
    assert results[0].selection_keys == 1 and results[0].kpc == pytest.approx(6 / 2)
    assert results[1].hits[1] is False and results[1].hits[5] is True
    assert summary["p_at_1"] == pytest.approx(0.5)
    assert results[3].char_acc == pytest.approx(0.5)
    assert [c["start"] for c in summary["curve"]] == [0, 2]
    assert summary["latency_ms"]["keystrokes"] == 5 + 7 + 7 + 5
