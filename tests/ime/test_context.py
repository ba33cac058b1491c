"""InputContext on the tiny lexicon: typing, backspace, selection, paging, commit."""

import pytest

from ime.candidates import CandidateKind
from ime.segmentor import InvalidKeysError


def texts(ctx):
    return [c.text for c in ctx.candidates]


def test_type_then_commit(tiny_engine):
    ctx = tiny_engine.new_context()
    st = ctx.type("nihao")
    assert st.candidates[0].text == "你好"
    assert st.preedit == "ni'hao"
    st = ctx.commit()
    assert st.committed == "你好" and not st.composing and ctx.context.endswith("你好")


def test_type_then_backspace_equals_typing_from_scratch(tiny_engine):
    for keys in ["woshizhongguoren", "xianzai", "xi'anzai", "zgrnihao"]:
        ctx = tiny_engine.new_context()
        for ch in keys:
            ctx.type(ch)
        for cut in range(len(keys) - 1, 0, -1):
            ctx.backspace()
            fresh = tiny_engine.new_context()
            fresh.type(keys[:cut])
            assert texts(ctx) == texts(fresh), keys[:cut]
            assert [s.score for s in ctx.sentences] == [s.score for s in fresh.sentences]


def test_partial_selection_consumes_its_keys(tiny_engine):
    ctx = tiny_engine.new_context()
    ctx.type("xianzai")
    i = next(i for i, c in enumerate(ctx.candidates) if c.text == "先" and c.end == 4)
    st = ctx.select_candidate(i)
    assert st.composing and ctx.remaining == "zai"
    assert st.preedit.startswith("先") and "zai" in st.preedit
    assert ctx.candidates[0].text == "在"
    st = ctx.select(0)
    assert st.committed == "先在"


def test_backspace_after_a_pick_undoes_it(tiny_engine):
    ctx = tiny_engine.new_context()
    ctx.type("xianzai")
    i = next(i for i, c in enumerate(ctx.candidates) if c.text == "先")
    ctx.select_candidate(i)
    ctx.backspace()  # deletes the last key: "zai" → "za"
    assert ctx.remaining == "za"
    ctx.backspace()
    ctx.backspace()
    ctx.backspace()  # nothing left after the pick: the pick is undone
    assert ctx.offset == 0 and ctx.keys == "xian"


def test_paging_and_highlight(tiny_engine):
    ctx = tiny_engine.new_context()
    ctx.type("xianzai")
    n = len(ctx.candidates)
    assert n > 5
    st = ctx.page(+1)
    assert st.page == 1 and st.candidates[0] == ctx.candidates[5] and st.has_prev_page
    st = ctx.page(+100)
    assert st.page == st.page_count - 1
    st = ctx.page(-100)
    assert st.page == 0
    st = ctx.move(+1)
    assert st.highlighted == 1


def test_space_commits_the_highlighted_candidate(tiny_engine):
    ctx = tiny_engine.new_context()
    ctx.type("xianzai")
    second = ctx.candidates[1]
    ctx.move(+1)
    st = ctx.commit()
    if second.end == len("xianzai"):
        assert st.committed == second.text
    else:
        assert ctx.keys == "xianzai" and ctx.offset == second.end


def test_enter_commits_raw_letters_and_esc_cancels(tiny_engine):
    ctx = tiny_engine.new_context()
    ctx.type("nihao")
    assert ctx.commit_raw().committed == "nihao"
    ctx.type("nihao")
    st = ctx.cancel()
    assert not st.composing and st.committed == "" and not ctx.candidates


def test_sentences_come_first(tiny_engine):
    ctx = tiny_engine.new_context()
    ctx.type("woshizhongguoren")
    assert ctx.candidates[0].kind == CandidateKind.SENTENCE
    assert any(c.kind == CandidateKind.WORD for c in ctx.candidates)
    assert len(texts(ctx)) == len(set(texts(ctx)))


def test_invalid_keys_are_refused_and_change_nothing(tiny_engine):
    ctx = tiny_engine.new_context()
    ctx.type("ni")
    with pytest.raises(InvalidKeysError):
        ctx.type("H")
    assert ctx.keys == "ni"


def test_many_contexts_share_one_engine(tiny_engine):
    a, b = tiny_engine.new_context(), tiny_engine.new_context()
    a.type("nihao")
    b.type("xianzai")
    assert a.candidates[0].text == "你好" and b.candidates[0].text == "现在"
    assert a.commit().committed == "你好"
    assert b.keys == "xianzai"


def test_page_size_is_configurable(tiny_engine):
    tiny_engine.set_config(tiny_engine.config.with_(page_size=3))
    ctx = tiny_engine.new_context()
    st = ctx.type("xianzai")
    assert len(st.candidates) == 3 and st.page_size == 3


def test_a_forgotten_word_is_not_offered_composed_from_pieces(tmp_path):
    from ime.config import Config
    from ime.engine import Engine
    from ime.learner import open_learner
    from lexicon.testing import tiny_parts

    lex, lm = tiny_parts()
    learner = open_learner(tmp_path / "user.db")
    engine = Engine(lex, lm, Config(), learner=learner)
    ctx = engine.new_context()
    ctx.type("nihao")
    assert ctx.candidates[0].text == "你好"
    engine.forget("你好")
    st = ctx.refresh()
    assert "你好" not in [c.text for c in ctx.candidates]  # neither the word nor 你+好
    assert st.candidates and ctx.sentences[0].text == "你好"  # the decoder still finds it
    learner.close()
