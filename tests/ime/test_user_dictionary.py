"""ime.user_dictionary: the learned-words listing (sorts, filters, limits, queried in SQLite)
and restore, on a tiny lexicon and a temporary user DB."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from ime import likelihood as lk
from ime.config import Config
from ime.engine import Engine
from ime.learner import open_learner
from ime.user_dictionary import count_learned, learned_words, restore
from lexicon.testing import tiny_parts
from lexicon.user_lexicon import UserEntry, UserLexicon

# word, syllables, likelihood, prior, commits, last_tick, deleted, source
ROWS = [
    UserEntry("先在", ("xian", "zai"), 0.90, 0.5, 3, 40, False, "system"),  # picked 3 times
    UserEntry("西安人", ("xi", "an", "ren"), 0.60, 0.0, 7, 10, False, "learned"),  # assembled
    UserEntry("你号", ("ni", "hao"), 0.70, 0.5, 0, 30, False, "import"),  # imported
    UserEntry("现在", ("xian", "zai"), 0.55, 0.5, 0, 45, False, "system"),  # only confirmed
    UserEntry("泥好", ("ni", "hao"), 0.00, 0.0, 2, 20, True, "learned"),  # forgotten
]
TICK = 50


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UserLexicon]:
    s = UserLexicon(tmp_path / "user.db")
    s.put_many(ROWS)
    s.set_tick(TICK)
    yield s
    s.close()


def words(rows) -> list[str]:
    return [r.word for r in rows]


def test_the_default_listing_is_what_the_user_chose_or_imported(store: UserLexicon) -> None:
    rows = learned_words(store)
    assert words(rows) == ["先在", "你号", "西安人"]  # most recent use first
    top = rows[0]
    assert (top.pinyin, top.uses, top.last_tick, top.ticks_ago, top.source, top.forgotten) \
        == ("xian zai", 3, 40, 10, "learned", False)
    assert top.likelihood == pytest.approx(lk.decay(0.90, 0.5, TICK - 40))
    assert rows[1].source == "imported" and rows[2].source == "learned"
    assert count_learned(store) == 3


@pytest.mark.parametrize("sort, expected", [
    ("recent", ["现在", "先在", "你号", "西安人"]),
    ("count", ["西安人", "先在", "现在", "你号"]),
    ("likelihood", ["先在", "你号", "西安人", "现在"]),
])
def test_sorts(store: UserLexicon, sort: str, expected: list[str]) -> None:
    rows = learned_words(store, sort=sort, every=True)
    assert words(rows) == expected
    if sort == "likelihood":
        got = [r.likelihood for r in rows]
        assert got == sorted(got, reverse=True)


def test_grep_finds_text_in_the_word_or_letters_in_the_reading(store: UserLexicon) -> None:
    assert words(learned_words(store, grep="安")) == ["西安人"]
    for typed in ("xianzai", "xian zai", "xian'zai", "anre"):
        found = words(learned_words(store, grep=typed, every=True))
        assert found == (["西安人"] if typed == "anre" else ["现在", "先在"]), typed
    assert learned_words(store, grep="zzz") == [] and count_learned(store, grep="zzz") == 0
    # letters, as typed: xian is also xi'an (西安人), as the input method reads it
    assert words(learned_words(store, grep="xian", every=True)) == ["现在", "先在", "西安人"]
    assert count_learned(store, grep="xian", every=True) == 3


def test_forgotten_lists_the_tombstones_and_limit_cuts(store: UserLexicon) -> None:
    (row,) = learned_words(store, forgotten=True)
    assert (row.word, row.forgotten, row.uses) == ("泥好", True, 2)
    assert words(learned_words(store, limit=2)) == ["先在", "你号"]
    assert learned_words(store, limit=0) == []
    with pytest.raises(ValueError, match="unknown sort"):
        learned_words(store, sort="alphabetical")
    with pytest.raises(ValueError, match="0 or more"):
        learned_words(store, limit=-1)


def test_a_large_user_lexicon_is_listed_without_reading_it_whole(tmp_path: Path) -> None:
    s = UserLexicon(tmp_path / "big.db")
    try:
        s.put_many(UserEntry(chr(0x4E00 + i // 400) + chr(0x4E00 + i % 400), ("xian", "zai"),
                             0.9, 0.0, i % 5 + 1, i, False, "learned") for i in range(40_000))
        s.set_tick(40_000)
        tracemalloc.start()
        rows = learned_words(s, sort="likelihood", limit=20)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(rows) == 20 and count_learned(s) == 40_000
        assert rows[0].last_tick == 39_999  # the least decayed: the last one used
        assert peak < 2_000_000, peak  # 40 k rows as objects would be several MB
    finally:
        s.close()


def test_restore_undoes_a_forget(tmp_path: Path) -> None:
    lex, lm = tiny_parts()
    learner = open_learner(tmp_path / "user.db")
    try:
        engine = Engine(lex, lm, Config(lm=False), learner=learner)
        assert "现在" in [c.text for c in engine.convert("xianzai")]
        assert engine.forget("现在") == 1
        assert "现在" not in [c.text for c in engine.convert("xianzai")]
        assert words(learned_words(learner.store, forgotten=True)) == ["现在"]
        assert restore(engine, "现在", ("xian", "zai")) == 1
        assert "现在" in [c.text for c in engine.convert("xianzai")]
        assert learned_words(learner.store, forgotten=True) == []
        (row,) = learner.store.of_word("现在")
        assert not row.deleted and row.likelihood == lk.SYSTEM_PRIOR  # its dictionary rank
        assert restore(engine, "现在") == 0  # nothing forgotten any more
    finally:
        learner.close()


def test_a_forgotten_system_word_is_listed_as_system_not_learned(tmp_path: Path) -> None:
    """forget writes a tombstone (source 'system') for a system word the user never chose:
    listed under forgotten as the system's word, never among the learned ones."""
    lex, lm = tiny_parts()
    learner = open_learner(tmp_path / "user.db")
    try:
        engine = Engine(lex, lm, Config(lm=False), learner=learner)
        assert engine.forget("现在") == 1
        (row,) = learned_words(learner.store, forgotten=True)
        assert (row.word, row.source, row.forgotten) == ("现在", "system", True)
        assert learned_words(learner.store) == [] and learned_words(learner.store, every=True) \
            == []
    finally:
        learner.close()
