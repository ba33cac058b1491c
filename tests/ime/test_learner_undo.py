"""WordLearner.undo: a commit deleted at once takes back what its learning wrote, and only
that (tiny lexicon, temporary user DB)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ime.config import Config
from ime.engine import Engine
from ime.learner import WordLearner, open_learner
from lexicon.testing import tiny_parts
from lexicon.user_lexicon import UserEntry, UserLexicon


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    lex, lm = tiny_parts()
    learner = open_learner(tmp_path / "user.db")
    yield Engine(lex, lm, Config(lm=False), learner=learner)
    learner.close()


def pick(engine: Engine, keys: str, text: str):
    """Type `keys`, select the candidate `text`; the CommitEvent the learner saw."""
    ctx = engine.new_context()
    ctx.type(keys)
    ctx.select_candidate([c.text for c in ctx.candidates].index(text))
    assert ctx.state.committed == text and ctx.last_learned is not None
    return ctx.last_learned


def rows(learner: WordLearner) -> list[UserEntry]:
    return learner.store.entries(include_deleted=True)


def test_undo_puts_every_row_back(engine: Engine) -> None:
    learner = engine.learner
    pick(engine, "xianzai", "先在")
    before = rows(learner)
    event = pick(engine, "xianzai", "现在")  # 先在 leads now: 现在 gains, 先在 loses
    assert rows(learner) != before
    assert learner.undo(event) > 0
    assert rows(learner) == before
    assert engine.convert("xianzai")[0].text == "先在"  # as after the first commit
    assert learner.undo(event) == 0  # once


def test_only_the_last_commit_can_be_undone(engine: Engine) -> None:
    learner = engine.learner
    first = pick(engine, "xianzai", "先在")
    pick(engine, "nihao", [c.text for c in engine.convert("nihao") if c.end == 5][1])
    after = rows(learner)
    assert learner.undo(first) == 0 and rows(learner) == after


def test_a_row_another_writer_changed_since_is_left_as_it_is(engine: Engine,
                                                              tmp_path: Path) -> None:
    learner = engine.learner
    event = pick(engine, "xianzai", "先在")
    other = UserLexicon(tmp_path / "user.db")  # a second program on the same file
    try:
        (mine,) = [e for e in other.entries() if e.word == "先在"]
        other.put_many([UserEntry(mine.word, mine.syllables, 0.99, mine.prior, 9,
                                  mine.last_tick, False, mine.source)])
    finally:
        other.close()
    learner.undo(event)
    (kept,) = [e for e in rows(learner) if e.word == "先在"]
    assert (kept.likelihood, kept.commits) == (0.99, 9)


def test_a_forgotten_word_the_commit_brought_back_is_forgotten_again(engine: Engine) -> None:
    learner = engine.learner
    pick(engine, "xianzai", "先在")
    assert engine.forget("先在") == 1
    before = rows(learner)
    ctx = engine.new_context()  # assembled from its characters, it would come back
    ctx.type("xianzai")
    ctx.select_candidate([c.text for c in ctx.candidates].index("先"))
    ctx.select_candidate([c.text for c in ctx.candidates].index("在"))
    event = ctx.last_learned
    assert event is not None
    learner.undo(event)
    assert rows(learner) == before and learner.is_forgotten("先在", ("xian", "zai"))
