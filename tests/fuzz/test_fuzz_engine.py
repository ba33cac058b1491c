"""Property-based fuzzing of the engine's typing API (issue 19).

Random keys and edit sequences through `InputContext` and `KeyProcessor`, on the tiny inline
lexicon and on the full one. The properties:

- every edit sequence gives the candidates of typing its final keys from scratch (the
  incremental path and the from-scratch path agree; `segmentor.reusable_nodes`);
- non-empty keys always have a candidate;
- any key event, in any mode, gives a KeyResult and never an exception, and the state
  stays coherent (composing exactly when there are keys);
- random configs (valid ones) applied mid-composition: the next keystroke equals a fresh
  engine with that config.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ime.config import Config
from ime.engine import Engine
from ime.keys import COMPOSING_KEYS, KEYSYM_OF_CHAR, KeyEvent, KeyProcessor, Mod
from lexicon.testing import tiny_parts
from pinyin.syllables import FUZZY_PAIRS

FUZZ = settings(max_examples=250, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
FULL = settings(FUZZ, max_examples=120)

_LEX, _LM = tiny_parts()
TINY = Engine(_LEX, _LM, Config(learning=False))

# keys that read as pinyin more often than uniform letters would, plus the awkward ones
_KEYS = st.text(alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyz'") +
                                         ["n", "i", "h", "a", "o", "g", "u", "z", "x"]),
                min_size=0, max_size=14)
# an edit: append some keys, or delete some
_EDITS = st.lists(st.one_of(_KEYS.map(lambda k: ("type", k)),
                            st.integers(1, 4).map(lambda n: ("back", n))),
                  min_size=1, max_size=8)


def _edit(engine: Engine, edits) -> tuple[str, list[str]]:
    ctx = engine.new_context()
    for op, arg in edits:
        if op == "type":
            ctx.type(arg)
        else:
            for _ in range(arg):
                ctx.backspace()
    return ctx.keys, [c.text for c in ctx.candidates]


def _check_edits(engine: Engine, edits) -> None:
    keys, got = _edit(engine, edits)
    fresh = engine.new_context()
    fresh.type(keys)
    assert got == [c.text for c in fresh.candidates], (edits, keys)
    if keys.strip("'"):
        assert got, f"no candidate for {keys!r}"


@FUZZ
@given(edits=_EDITS)
def test_edits_equal_typing_from_scratch_tiny(edits, count) -> None:
    count("engine_edits_tiny")
    _check_edits(TINY, edits)


@FULL
@given(edits=_EDITS)
def test_edits_equal_typing_from_scratch_full(full_engine, edits, count) -> None:
    count("engine_edits_full")
    _check_edits(full_engine, edits)


_EVENT = st.one_of(
    st.sampled_from(sorted(KEYSYM_OF_CHAR)).map(KeyEvent.of),
    st.sampled_from(sorted(COMPOSING_KEYS) + ["Shift_L", "Delete", "Tab", "F1", "Home"])
    .map(lambda k: KeyEvent(k, " " if k == "space" else "")),
    st.builds(lambda k, m, r: KeyEvent(k, "", m, r),
              st.sampled_from(["Shift_L", "Delete", "a", "comma", "Return"]),
              st.sampled_from([Mod(0), Mod.SHIFT, Mod.CTRL, Mod.ALT, Mod.CTRL | Mod.SHIFT]),
              st.booleans()),
)


@FUZZ
@given(events=st.lists(_EVENT, min_size=1, max_size=30), private=st.booleans())
def test_any_key_sequence_gives_coherent_results(events, private, count) -> None:
    count("key_processor")
    proc = KeyProcessor(TINY.new_context())
    proc.set_private(private)
    typed = ""
    for ev in events:
        r = proc.process(ev)
        typed += r.committed
        st_ = r.state
        assert st_.composing == bool(proc.context.keys)
        assert 0 <= st_.highlighted <= max(len(st_.candidates) - 1, 0)
        assert st_.page_size == TINY.config.page_size
        if proc.context.keys.strip("'") and proc.chinese:
            assert proc.context.candidates, proc.context.keys
        if private:
            assert not r.committed and not st_.composing


_CONFIG = st.builds(
    Config,
    page_size=st.integers(1, 9),
    fuzzy=st.frozensets(st.sampled_from(list(FUZZY_PAIRS)), max_size=4),
    typos=st.booleans(),
    sentence_slots=st.integers(1, 10),
    learning=st.just(False),
)


@FUZZ
@given(cfg=_CONFIG, keys=_KEYS.filter(lambda k: k.strip("'")), more=_KEYS.filter(bool))
def test_a_config_change_mid_composition_equals_a_fresh_engine(cfg, keys, more, count) -> None:
    count("config_mid_composition")
    e = Engine(_LEX, _LM, Config(learning=False))
    ctx = e.new_context()
    ctx.type(keys)
    e.set_config(cfg)
    ctx.type(more)
    fresh = Engine(_LEX, _LM, cfg).new_context()
    fresh.type(keys + more)
    assert [c.text for c in ctx.candidates] == [c.text for c in fresh.candidates]
    assert ctx.state.page_size == cfg.page_size
