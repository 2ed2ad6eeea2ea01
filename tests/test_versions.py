"""Version order: SemVer 2.0.0 precedence, the lenient and unordered policy, total order."""

from __future__ import annotations

import itertools

import polars as pl
import pytest
import semver
from hypothesis import given
from hypothesis import strategies as st

from dc43_delta_store.core.versions import (
    is_prerelease,
    parse_version,
    sort_versions,
    version_sort_key,
)

numbers = st.integers(min_value=0, max_value=10**12).map(str)
IDENTIFIER_CHARS = "0123456789abcxyzABCXYZ-"
alnum_ids = st.text(IDENTIFIER_CHARS, min_size=1, max_size=8).filter(lambda s: not s.isdigit())
pre_ids = st.one_of(numbers, alnum_ids)
build_ids = st.text(IDENTIFIER_CHARS, min_size=1, max_size=6)


@st.composite
def semver_strings(draw: st.DrawFn) -> str:
    text = ".".join(draw(numbers) for _ in range(3))
    if draw(st.booleans()):
        text += "-" + ".".join(draw(st.lists(pre_ids, min_size=1, max_size=4)))
    if draw(st.booleans()):
        text += "+" + ".".join(draw(st.lists(build_ids, min_size=1, max_size=3)))
    return text


@pytest.mark.parametrize(
    "ordered",
    [
        # semver.org, item 11
        ["1.0.0", "2.0.0", "2.1.0", "2.1.1"],
        ["1.0.0-alpha", "1.0.0"],
        [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ],
    ],
)
def test_semver_spec_examples(ordered: list[str]) -> None:
    assert sort_versions(list(reversed(ordered))) == ordered


def test_numeric_parts_compare_as_numbers_not_text() -> None:
    # dc43's SQL store sorts as text and puts 1.10.0 below 1.9.0
    assert sort_versions(["1.10.0", "1.9.0", "1.2.0"]) == ["1.2.0", "1.9.0", "1.10.0"]


def test_prerelease_forms_that_crash_dc43_rank_below_their_release() -> None:
    assert sort_versions(["1.2.0", "1.2.0-rc1", "1.2.0-SNAPSHOT", "1.1.9"]) == [
        "1.1.9",
        "1.2.0-SNAPSHOT",
        "1.2.0-rc1",
        "1.2.0",
    ]
    assert is_prerelease("1.2.0-rc1") and is_prerelease("1.0.0-SNAPSHOT")
    assert not is_prerelease("1.0.0+build.5")


def test_build_metadata_is_ignored_for_precedence_and_text_breaks_the_tie() -> None:
    assert sort_versions(["1.0.0+b", "1.0.0+a", "1.0.1", "1.0.0"]) == [
        "1.0.0",
        "1.0.0+a",
        "1.0.0+b",
        "1.0.1",
    ]


def test_lenient_forms_rank_as_the_semver_they_stand_for() -> None:
    assert parse_version("v2").ordered and parse_version("v2").major == 2
    assert sort_versions(["1.1", "v2", "1.0.5", "0.9"]) == ["0.9", "1.0.5", "1.1", "v2"]
    assert sort_versions(["2024.01.10", "2024.1.9"]) == ["2024.1.9", "2024.01.10"]
    assert sort_versions(["V1.2.3-rc.1", "1.2.3"]) == ["V1.2.3-rc.1", "1.2.3"]
    # equal precedence: ordered by text, so the order never depends on input order
    assert sort_versions(["1.0.0", "1.0", "v1.0.0"]) == ["1.0", "1.0.0", "v1.0.0"]


def test_unordered_versions_rank_below_every_ordered_one_and_by_text() -> None:
    versions = ["2024-02-01", "0.0.1", "latest", "2024-01-01", "1.2.3.4", "1.0-rc1"]
    assert sort_versions(versions) == [
        "1.0-rc1",
        "1.2.3.4",
        "2024-01-01",
        "2024-02-01",
        "latest",
        "0.0.1",
    ]
    assert not parse_version("2024-01-01").ordered
    assert not is_prerelease("2024-01-01")


def test_invalid_semver_prerelease_is_unordered() -> None:
    assert not parse_version("1.0.0-01").ordered  # numeric identifiers have no leading zeros
    assert not parse_version("1.0.0-").ordered
    assert not parse_version("1.0.0\n").ordered


@given(semver_strings(), semver_strings())
def test_order_agrees_with_the_semver_reference(a: str, b: str) -> None:
    expected = semver.Version.parse(a).compare(b)
    key_a, key_b = version_sort_key(a), version_sort_key(b)
    actual = (key_a > key_b) - (key_a < key_b)
    if expected == 0:
        assert actual == (a > b) - (a < b)
    else:
        assert actual == expected


@given(semver_strings())
def test_prerelease_flag_agrees_with_the_semver_reference(text: str) -> None:
    assert is_prerelease(text) == bool(semver.Version.parse(text).prerelease)


@given(st.text(), st.text())
def test_keys_are_distinct_for_distinct_versions(a: str, b: str) -> None:
    # distinct keys for distinct strings make the order total and strict
    assert (version_sort_key(a) == version_sort_key(b)) == (a == b)


@given(st.lists(st.one_of(semver_strings(), st.text(max_size=12)), max_size=20))
def test_order_is_transitive_and_independent_of_input_order(versions: list[str]) -> None:
    ordered = sort_versions(versions)
    assert sort_versions(list(reversed(versions))) == ordered
    keys = [version_sort_key(v) for v in ordered]
    assert all(x <= y for x, y in itertools.pairwise(keys))


@given(st.lists(st.one_of(semver_strings(), st.text(max_size=12)), max_size=20))
def test_polars_sorts_the_key_column_exactly_as_python(versions: list[str]) -> None:
    keys = [version_sort_key(v) for v in versions]
    frame = pl.DataFrame(
        {"version": versions, "k": keys}, schema={"version": pl.String, "k": pl.String}
    )
    assert frame.sort("k")["version"].to_list() == sort_versions(versions)
