import json
import os
import re
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


# ---- bad input and faults (issue 19) -----------------------------------------------------------


def _line(keys: str = "nihao", text: str = "你好", **extra) -> bytes:
    return (json.dumps({"keys": keys, "text": text, **extra}, ensure_ascii=False) + "\n").encode()


def test_a_non_utf8_byte_spoils_its_own_line_only(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_bytes(_line() * 3 + b'{"keys": "nihao", "text": "caf\xe9"}\n' + _line("xi'an", "西安"))
    good, bad = read_log(p)
    assert [r.line for r in good] == [1, 2, 3, 5] and good[3].text == "西安"
    assert [(b.line, b.encoding) for b in bad] == [(4, True)]
    assert "not UTF-8" in bad[0].reason and "0xe9" in bad[0].reason


def test_many_good_lines_before_a_bad_byte_are_all_kept(tmp_path):
    """The old reader decoded in buffered chunks: one bad byte dropped the chunk before it."""
    p = tmp_path / "log.jsonl"
    p.write_bytes(_line() * 5000 + b"\xff\n" + _line() * 10)
    good, bad = read_log(p)
    assert len(good) == 5010 and [b.line for b in bad] == [5001]


def test_deep_nesting_and_out_of_range_numbers_are_bad_records(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_bytes(b"".join([
        _line(),
        b"[" * 100_000 + b"]" * 100_000 + b"\n",
        b'{"keys": "nihao", "text": "\xe4\xbd\xa0\xe5\xa5\xbd", "ts": 1' + b"0" * 400 + b"}\n",
        b'{"keys": "nihao", "text": "x", "ts": ' + b"9" * 5000 + b"}\n",
        b'{"keys": "nihao", "text": "x", "ts": 1e999}\n',
        _line(ts=True),
        _line(ts=1.5e9),
    ]))
    good, bad = read_log(p)
    assert [r.line for r in good] == [1, 7] and good[1].ts == 1.5e9
    assert [b.line for b in bad] == [2, 3, 4, 5, 6]
    assert "nested too deeply" in bad[0].reason
    assert all("ts" in b.reason for b in bad[1:2] + bad[3:5]), bad
    assert "not valid JSON" in bad[2].reason


def test_an_overlong_line_is_a_bad_record_and_the_next_is_read(tmp_path):
    from evaluation.typing_log import MAX_LINE_BYTES

    p = tmp_path / "log.jsonl"
    p.write_bytes(_line() + b'{"keys": "' + b"a" * (2 * MAX_LINE_BYTES) + b'"}\n' + _line())
    good, bad = read_log(p)
    assert [r.line for r in good] == [1, 3]
    assert [b.line for b in bad] == [2] and "longer than" in bad[0].reason


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_log_in_another_encoding_is_refused_naming_it(tmp_path, encoding):
    from evaluation.typing_log import LogFileError, load_log

    p = tmp_path / "log.jsonl"
    p.write_text('{"keys": "kafei", "text": "café"}\n{"keys": "nihao", "text": "naïve"}\n',
                 encoding=encoding)
    with pytest.raises(LogFileError) as err:
        load_log(p, report=lambda m: None)
    assert "not UTF-8 text (2 of 2 lines; first at line 1:" in str(err.value)
    assert "no valid records" not in str(err.value)


@pytest.mark.parametrize("encoding, needle", [
    ("utf-16", "UTF-16 text (byte order mark)"),
    ("utf-16-le", "UTF-16 or binary data"),
    ("utf-32", "UTF-32 text"),
], ids=["utf16-bom", "utf16-no-bom", "utf32"])
def test_a_utf16_log_is_refused_as_a_whole(tmp_path, encoding, needle):
    from evaluation.typing_log import LogFileError

    p = tmp_path / "log.jsonl"
    p.write_text('{"keys": "nihao", "text": "你好"}\n', encoding=encoding)
    with pytest.raises(LogFileError, match=rf"{re.escape(needle)}.*not UTF-8"):
        read_log(p)


def test_a_utf8_byte_order_mark_is_allowed(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + _line())
    good, bad = read_log(p)
    assert len(good) == 1 and not bad


def test_what_is_not_a_regular_file_is_refused_not_read(tmp_path):
    import threading

    from evaluation.typing_log import LogFileError

    with pytest.raises(LogFileError, match="a directory"):
        read_log(tmp_path)
    with pytest.raises(LogFileError, match="a pipe, socket or device"):
        read_log("/dev/null")
    fifo = tmp_path / "log.jsonl"
    os.mkfifo(fifo)
    outcome: list[object] = []

    def read() -> None:
        try:
            outcome.append(read_log(fifo))
        except Exception as e:  # reported below
            outcome.append(e)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(5)
    if t.is_alive():  # blocked on the pipe: unblock it, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        t.join(5)
        pytest.fail("read_log blocked on a FIFO")
    assert isinstance(outcome[0], LogFileError) and "a pipe" in str(outcome[0])


def test_replay_of_a_latin1_log_is_one_error_line(tmp_path, tiny_cache, capsys):
    import main

    p = tmp_path / "log.jsonl"
    p.write_text('{"keys": "kafei", "text": "café"}\n', encoding="latin-1")
    assert main.main(["--cache-dir", str(tiny_cache), "replay", str(p), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {p}: not UTF-8 text") and err.count("\n") == 1


# ---- the recorder never fails the front end ----------------------------------------------------


def test_recorder_pauses_when_it_cannot_write_and_resumes_by_itself(tmp_path):
    blocker = tmp_path / "rec"
    blocker.write_text("a file where the log's directory should be")
    rec = TypingLogRecorder(blocker / "log.jsonl")
    assert rec.paused is None
    rec.record("nihao", "你好", "")  # must not raise
    assert rec.paused is not None and str(blocker) in rec.paused and rec.dropped == 1
    blocker.unlink()
    rec.record("xi'an", "西安", "")
    assert rec.paused is None and rec.dropped == 1
    good, bad = read_log(blocker / "log.jsonl")
    assert [r.text for r in good] == ["西安"] and not bad
    assert stat.S_IMODE(os.stat(blocker / "log.jsonl").st_mode) == 0o600


def test_recorder_survives_a_full_disk_without_a_half_line(tmp_path, monkeypatch):
    import errno

    import evaluation.typing_log as tl

    p = tmp_path / "log.jsonl"
    rec = TypingLogRecorder(p)
    rec.record("nihao", "你好", "")
    real_write = os.write

    def half_then_full(fd, data):  # the disk fills up in the middle of a line
        if len(data) > 10:
            return real_write(fd, data[:10])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tl.os, "write", half_then_full)
    rec.record("xianzai", "现在", "你好")
    assert rec.paused is not None and "No space left" in rec.paused
    monkeypatch.setattr(tl.os, "write", real_write)
    rec.record("xi'an", "西安", "")
    assert rec.paused is None and rec.dropped == 1
    good, bad = read_log(p)
    assert [r.text for r in good] == ["你好", "西安"] and not bad


def test_recorder_ends_a_line_left_unfinished_by_someone_else(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_bytes(_line()[:-8])  # a crash mid-line in an earlier session
    TypingLogRecorder(p).record("xi'an", "西安", "")
    good, bad = read_log(p)
    assert [r.text for r in good] == ["西安"] and [b.line for b in bad] == [1]


def test_recorder_permission_denied_and_a_fifo_pause_it(tmp_path, monkeypatch):
    import evaluation.typing_log as tl

    p = tmp_path / "log.jsonl"
    rec = TypingLogRecorder(p)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tl.os, "open", denied)
    rec.record("nihao", "你好", "")
    assert rec.paused is not None and "Permission denied" in rec.paused
    monkeypatch.undo()
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    on_fifo = TypingLogRecorder(fifo)
    on_fifo.record("nihao", "你好", "")  # no reader: must neither block nor raise
    assert on_fifo.paused is not None and on_fifo.dropped == 1
    rec.record("nihao", "你好", "")
    assert rec.paused is None and len(read_log(p)[0]) == 1


def test_recorder_keeps_recording_after_the_file_is_removed(tmp_path):
    p = tmp_path / "d" / "log.jsonl"
    rec = TypingLogRecorder(p)
    rec.record("nihao", "你好", "")
    p.unlink()
    p.parent.rmdir()
    rec.record("xi'an", "西安", "")
    assert rec.paused is None and [r.text for r in read_log(p)[0]] == ["西安"]
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600


def test_recorder_makes_a_readable_log_private(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_bytes(_line())
    p.chmod(0o644)
    TypingLogRecorder(p).record("xi'an", "西安", "")
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600 and len(read_log(p)[0]) == 2


def test_recorder_skips_what_a_log_cannot_hold(tmp_path):
    p = tmp_path / "log.jsonl"
    rec = TypingLogRecorder(p)
    rec.record("nihao", "你\ud800", "")  # a lone surrogate cannot be UTF-8
    rec.record("nihao", "你好", "", ts=float("nan"))
    assert rec.paused is None and rec.dropped == 0
    good, bad = read_log(p)
    assert [(r.text, r.ts) for r in good] == [("你好", None)] and not bad
