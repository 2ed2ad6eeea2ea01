"""Remembered answers: they follow the table across commits that did not touch them, and
their memory is bounded in bytes."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dc43_delta_store.core.records import contract_key
from dc43_delta_store.feed.touched import EVERYTHING, NOTHING, Touched
from dc43_delta_store.table.cache import SCHEMA, TABLE, ResultCache, size_of


class Counting:
    """A compute function that says how often it ran."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, value: Any) -> Any:
        def compute() -> Any:
            self.calls += 1
            return value

        return compute


def following(touched: dict[tuple[int, int], Touched]) -> ResultCache:
    return ResultCache(changes=lambda old, new: touched[(old, new)])


def test_answers_about_untouched_contracts_survive_a_commit() -> None:
    cache = following({(1, 2): Touched(data=True, ids=frozenset({"b"}))})
    count = Counting()
    for cid in ("a", "b"):
        cache.live(1, ("latest", cid), count(f"{cid}@1"), scope=cid)
    cache.live(1, ("contracts",), count(("a", "b")), scope=TABLE)
    cache.live(1, ("columns",), count({"x": 1}), scope=SCHEMA)
    assert count.calls == 4
    assert cache.live(2, ("latest", "a"), count("a@2"), scope="a") == "a@1"
    assert cache.live(2, ("latest", "b"), count("b@2"), scope="b") == "b@2"
    assert cache.live(2, ("contracts",), count(("a", "b", "c")), scope=TABLE) == ("a", "b", "c")
    assert cache.live(2, ("columns",), count({}), scope=SCHEMA) == {"x": 1}
    assert count.calls == 6


def test_upkeep_keeps_everything_and_unattributed_commits_forget_everything() -> None:
    cache = following({(1, 2): NOTHING, (2, 3): EVERYTHING})
    count = Counting()
    cache.live(1, ("contracts",), count("x"), scope=TABLE)
    cache.live(1, ("columns",), count("c"), scope=SCHEMA)
    cache.live(2, ("contracts",), count("y"), scope=TABLE)
    cache.live(2, ("columns",), count("d"), scope=SCHEMA)
    assert count.calls == 2
    cache.live(3, ("contracts",), count("z"), scope=TABLE)
    cache.live(3, ("columns",), count("e"), scope=SCHEMA)
    assert count.calls == 4


def test_keys_and_ranges_reach_the_contracts_they_cover() -> None:
    ids = [f"c{n}" for n in range(40)]
    low, high = sorted(contract_key(i) for i in ids)[10], sorted(contract_key(i) for i in ids)[20]
    touched = Touched(data=True, keys=frozenset({contract_key("c1")}), key_ranges=((low, high),))
    cache = following({(5, 6): touched})
    for cid in ids:
        cache.live(5, ("latest", cid), lambda cid=cid: cid, scope=cid)
    count = Counting()
    for cid in ids:
        cache.live(6, ("latest", cid), count(cid), scope=cid)
    expected = [i for i in ids if touched.covers(i, contract_key(i))]
    assert count.calls == len(expected) == 12


def test_an_older_version_forgets_live_answers_but_pinned_ones_stay() -> None:
    cache = ResultCache(changes=lambda old, new: NOTHING)
    count = Counting()
    cache.live(9, ("latest", "a"), count(1), scope="a")
    cache.pinned(4, ("latest", "a"), count(2))
    cache.live(3, ("latest", "a"), count(3), scope="a")  # the table was replaced
    assert cache.pinned(4, ("latest", "a"), count(4)) == 2
    assert count.calls == 3


def test_memory_is_bounded_in_bytes() -> None:
    cache = ResultCache(max_bytes=1_000_000)
    big = "x" * 200_000
    for n in range(20):
        cache.live(1, ("get", n), lambda: big, scope=f"c{n}")
        assert cache.bytes <= 1_000_000
    assert 4 <= len(cache) <= 5  # five 200 KB answers do not fit with their overhead
    count = Counting()
    cache.live(1, ("get", 19), count(big), scope="c19")  # the most recent stays
    cache.live(1, ("get", 0), count(big), scope="c0")  # the oldest went
    assert count.calls == 1
    cache.live(1, ("huge",), lambda: "y" * 2_000_000, scope=TABLE)  # larger than all: not kept
    assert len(cache) >= 4


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.integers(0, 3),
            st.text(max_size=50),
        ),
        max_size=60,
    ),
    st.integers(2_000, 20_000),
)
def test_the_byte_count_is_what_is_kept(calls: list[tuple[str, int, str]], budget: int) -> None:
    cache = ResultCache(
        max_bytes=budget, changes=lambda old, new: Touched(data=True, ids=frozenset({"a"}))
    )
    version = 0
    for cid, step, text in calls:
        version += step
        cache.live(version, ("q", cid, len(text)), lambda text=text: text, scope=cid)
        assert cache.bytes <= budget
    assert cache.bytes == sum(entry.size for entry in cache._entries.values())


def test_size_of_counts_nested_values() -> None:
    assert size_of(("1.0.0", "x" * 10_000)) > 10_000
    assert size_of({"k": ["v" * 500]}) > 500


def exact_size(value: Any) -> int:
    """size_of without sampling: every item of every container."""
    if isinstance(value, str):
        return size_of(value)
    if isinstance(value, tuple):
        return 56 + 8 * len(value) + sum(exact_size(item) for item in value)
    raise TypeError(value)


@pytest.mark.parametrize("seed", range(5))
def test_a_long_answer_counts_close_to_its_size(seed: int) -> None:
    # An explanation of 1,000 versions or 250,000 contract ids is sized from an even sample
    # of its items (exact item by item, it cost more than computing the answer).
    rnd = random.Random(seed)
    texts = ["v" * rnd.randrange(0, 2_000) for _ in range(rnd.randrange(65, 5_000))]
    value = tuple((text, text[:10]) for text in texts)
    exact = exact_size(value)
    assert 0.8 * exact <= size_of(value) <= 1.25 * exact
