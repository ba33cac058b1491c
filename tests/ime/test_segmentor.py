import pytest

from ime.segmentor import EdgeKind, InvalidKeysError, Segmentor, SyllableGraph


def paths(g: SyllableGraph, kinds=(EdgeKind.FULL,)) -> set[str]:
    """Every complete reading of the graph using only edges of `kinds`, as 'a|b|c'."""
    out: set[str] = set()

    def walk(node: int, acc: list[str]) -> None:
        if node == g.size:
            out.add("|".join(acc))
            return
        for e in g.edges_from[node]:
            if e.kind in kinds:
                walk(e.end, acc + [e.pattern])

    walk(0, [])
    return out


def test_ambiguous_split():
    g = Segmentor().segment("xianzai")
    assert {"xian|zai", "xi|an|zai"} <= paths(g)


def test_apostrophe_forces_a_boundary():
    g = Segmentor().segment("xi'an")
    assert paths(g) == {"xi|an", "xi|a|n"}
    assert "xian" not in {e.pattern for e in g.edges()}


def test_leading_and_repeated_apostrophes():
    assert paths(Segmentor().segment("'ni''hao")) == {"ni|hao", "ni|ha|o"}


def test_incomplete_last_syllable():
    g = Segmentor().segment("zhongguor")
    assert "zhong|guo|r" in paths(g, (EdgeKind.FULL, EdgeKind.PARTIAL))
    last = [e for e in g.edges() if e.end == g.size and e.kind == EdgeKind.PARTIAL]
    assert any(e.pattern == "r" and e.matches("ren") for e in last)


def test_initials_only_and_mixed():
    g = Segmentor().segment("zgrm")
    kinds = (EdgeKind.INITIAL, EdgeKind.PARTIAL, EdgeKind.FULL)
    assert "z|g|r|m" in paths(g, kinds)
    g = Segmentor().segment("nih")
    assert "ni|h" in paths(g, (EdgeKind.FULL, EdgeKind.PARTIAL))


def test_initial_edges_cost_more_than_full_ones():
    g = Segmentor().segment("xianzai")
    ini = [e for e in g.edges() if e.kind == EdgeKind.INITIAL]
    assert ini and all(e.penalty < 0 for e in ini)
    assert all(e.penalty == 0 for e in g.edges() if e.kind == EdgeKind.FULL)


def test_fuzzy_is_off_by_default_and_penalised_when_on():
    assert not [e for e in Segmentor().segment("zi").edges() if e.kind == EdgeKind.FUZZY]
    g = Segmentor(fuzzy=frozenset({"z/zh"})).segment("zi")
    fz = [e for e in g.edges() if e.kind == EdgeKind.FUZZY]
    assert [e.pattern for e in fz] == ["zhi"] and fz[0].penalty < 0


@pytest.mark.parametrize("keys,fixed", [("zhogn", "zhong"), ("haun", "huan"), ("xinag", "xiang")])
def test_common_typos_are_corrected_with_a_penalty(keys, fixed):
    g = Segmentor().segment(keys)
    typo = [e for e in g.edges() if e.kind == EdgeKind.TYPO and e.pattern == fixed]
    assert typo and typo[0].penalty < 0
    assert not [e for e in Segmentor(typos=False).segment(keys).edges()
                if e.kind == EdgeKind.TYPO]


def test_unexplained_letters_pass_through():
    g = Segmentor().segment("iii")
    assert paths(g, (EdgeKind.RAW,)) == {"i|i|i"}


@pytest.mark.parametrize("keys", ["Nihao", "ni hao", "ni3", "你好", "ni-hao"])
def test_invalid_keys_raise_a_clear_error(keys):
    with pytest.raises(InvalidKeysError, match="only a-z and '"):
        Segmentor().segment(keys)


def test_edges_before_a_node_do_not_depend_on_later_keys():
    """What incremental decoding relies on: appending keys only changes the tail."""
    seg = Segmentor()
    short, long = seg.segment("zhongguo"), seg.segment("zhongguoren")
    for j in range(len("zhongguo")):
        a = sorted((e.start, e.end, e.pattern, e.kind) for es in short.edges_from for e in es
                   if e.end <= j)
        b = sorted((e.start, e.end, e.pattern, e.kind) for es in long.edges_from for e in es
                   if e.end <= j)
        assert a == b
