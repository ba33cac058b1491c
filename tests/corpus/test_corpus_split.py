"""Held-out splits by document."""

import pytest

from corpus.split import DocSize, assign_splits


def docs(n, han=100):
    return [DocSize(f"doc{i}", han) for i in range(n)]


def test_every_document_gets_one_split_about_the_fractions():
    d = docs(200)
    splits = assign_splits("src", d)
    assert set(splits) == {"train", "dev", "test"}
    assert splits.count("dev") == 10 and splits.count("test") == 10  # 5 % of the Han each


def test_deterministic_and_independent_of_order():
    d = docs(50)
    a = dict(zip((x.name for x in d), assign_splits("src", d)))
    b = dict(zip((x.name for x in reversed(d)), assign_splits("src", list(reversed(d)))))
    assert a == b
    # another source deals its documents differently
    c = dict(zip((x.name for x in d), assign_splits("other", d)))
    assert c != a


def test_pinned_documents_keep_their_split_and_count_toward_it():
    d = [DocSize("dev-news", 1000, "dev")] + docs(40, 100)
    splits = assign_splits("news", d)
    assert splits[0] == "dev"
    assert splits.count("dev") == 1  # the pinned document already fills dev's share
    assert "test" in splits


def test_small_sources_go_to_train_and_huge_documents_are_passed_over():
    assert assign_splits("s", docs(2)) == ["train", "train"]
    d = [DocSize("huge", 10_000)] + docs(100, 100)
    splits = assign_splits("s", d)
    assert splits[0] == "train"  # 50 % of the source: not a held-out document


def test_unknown_pinned_split():
    with pytest.raises(ValueError, match="unknown split"):
        assign_splits("s", [DocSize("a", 1, "valid")] + docs(3))
