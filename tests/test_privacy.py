"""Privacy: the engine never opens a network connection, and user files are private."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from evaluation.replay import replay
from evaluation.typing_log import LogRecord, TypingLogRecorder
from ime.config import Config
from ime.engine import Engine
from ime.learner import open_learner
from lexicon.testing import tiny_parts


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_typing_learning_and_replay_never_touch_the_network(no_network, tmp_path):
    lex, lm = tiny_parts()
    learner = open_learner(tmp_path / "d" / "user.db")
    engine = Engine(lex, lm, Config(), learner=learner)
    ctx = engine.new_context()
    ctx.type("xianzai")
    ctx.select(1)
    replay(engine, [LogRecord("nihao", "你好"), LogRecord("xianzai", "先在")])
    engine.forget("先在")
    TypingLogRecorder(tmp_path / "d" / "log.jsonl").record("nihao", "你好", "")
    learner.close()
    for name in ("user.db", "log.jsonl"):
        assert stat.S_IMODE(os.stat(tmp_path / "d" / name).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "d").st_mode) == 0o700
