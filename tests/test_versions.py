"""Version order: SemVer 2.0.0 precedence, dc43's dotted versions, unordered text, total order."""

from __future__ import annotations

import functools
import itertools
import re
import sqlite3

import polars as pl
import pytest
import semver
from dc43_core.versioning import _VERSION_KEY_PATTERN, _VERSION_KEY_STAGE, version_key
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from dc43_delta_store.core.versions import (
    compare_versions,
    is_prerelease,
    parse_version,
    sort_versions,
    version_sort_key,
)

relaxed = settings(suppress_health_check=[HealthCheck.too_slow])  # a shared, busy machine
numbers = st.integers(min_value=0, max_value=10**12).map(str)
IDENTIFIER_CHARS = "0123456789abcxyzABCXYZ-"
alnum_ids = st.text(IDENTIFIER_CHARS, min_size=1, max_size=8).filter(lambda s: not s.isdigit())
pre_ids = st.one_of(numbers, alnum_ids)
build_ids = st.text(IDENTIFIER_CHARS, min_size=1, max_size=6)
STAGE_WORDS = ["dev", "draft", "a", "alpha", "b", "beta", "rc", "post"]


@st.composite
def semver_strings(draw: st.DrawFn) -> str:
    text = ".".join(draw(numbers) for _ in range(3))
    if draw(st.booleans()):
        text += "-" + ".".join(draw(st.lists(pre_ids, min_size=1, max_size=4)))
    if draw(st.booleans()):
        text += "+" + ".".join(draw(st.lists(build_ids, min_size=1, max_size=3)))
    return text


@st.composite
def dotted_strings(draw: st.DrawFn, *, max_parts: int = 6, words: list[str] = STAGE_WORDS) -> str:
    """Dotted versions with an optional stage, in the forms dc43's own releases use and more."""
    parts = draw(st.lists(st.integers(0, 10**6), min_size=1, max_size=max_parts))
    text = ".".join(map(str, parts))
    if draw(st.booleans()):
        word = draw(st.sampled_from(words))
        word = word.upper() if draw(st.booleans()) else word
        text += draw(st.sampled_from(["", ".", "-", "_"])) + word
        text += draw(st.one_of(st.just(""), st.integers(0, 10**6).map(str)))
    return text


any_version = st.one_of(semver_strings(), dotted_strings(), st.text(max_size=12))


def sign(a: object, b: object) -> int:
    return (a > b) - (a < b)  # type: ignore[operator]


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
    # compare_versions agrees: beta.2 < beta.11 although "beta.11" < "beta.2" as text
    assert sorted(reversed(ordered), key=functools.cmp_to_key(compare_versions)) == ordered


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
    assert sort_versions(["1.0.0", "1.0", "v1.0.0", "1.0.0.0"]) == [
        "1.0",
        "1.0.0",
        "1.0.0.0",
        "v1.0.0",
    ]


def test_dc43_release_numbers_order_as_dc43_orders_them() -> None:
    # the two cases issue 10 found ordered as text
    assert sort_versions(["0.10.0.0", "0.9.0.0"]) == ["0.9.0.0", "0.10.0.0"]
    assert sort_versions(["0.32.0.0", "0.32.0.0rc2", "0.31.1.0"]) == [
        "0.31.1.0",
        "0.32.0.0rc2",
        "0.32.0.0",
    ]
    assert version_key("0.32.0.0rc2") < version_key("0.32.0.0")


def test_one_release_ranks_its_stages_as_dc43_does() -> None:
    ladder = [
        "1.0.0-SNAPSHOT",  # SemVer prereleases: a band below every stage, in SemVer order
        "1.0.0-a2",
        "1.0.0-rc.1",
        "1.0.0.dev1",
        "1.0.0draft2",
        "1.0.0a1",
        "1.0.0alpha3",
        "1.0.0b1",
        "1.0.0RC1",
        "1.0.0rc2",
        "1.0.0rc10",
        "1.0",
        "1.0.0",
        "1.0.0.post1",
        "1.0.0_post2",
        "1.0.0.0.1",
        "1.0.1",
    ]
    assert sort_versions(list(reversed(ladder))) == ladder


def test_any_number_of_parts_compares_number_by_number() -> None:
    assert sort_versions(["1.2.3.5", "1.2.3.4.6", "1.2.3.4.5", "1.2.3.0.1", "1.2.3"]) == [
        "1.2.3",
        "1.2.3.0.1",
        "1.2.3.4.5",
        "1.2.3.4.6",
        "1.2.3.5",
    ]
    assert parse_version("1.2.3.4.5").release == (1, 2, 3, 4, 5)


def test_prereleases_are_the_stages_below_the_release() -> None:
    for version in ("0.32.0.0rc2", "1.0.dev1", "1.0draft", "2.0a1", "2.0-alpha", "2.0.0.0b3"):
        assert is_prerelease(version), version
    for version in ("0.42.0.0", "1.0.post1", "1.0.0.0", "v2", "1.2.3.4.5", "2024-01-01"):
        assert not is_prerelease(version), version
    assert is_prerelease("1.0.0-post1")  # SemVer: anything after "-" is a prerelease


def test_unordered_versions_rank_below_every_ordered_one_and_by_text() -> None:
    versions = ["2024-02-01", "0.0.1", "latest", "2024-01-01", "1.0+local", "1.0-x1"]
    assert sort_versions(versions) == [
        "1.0+local",
        "1.0-x1",
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
    assert not parse_version("1." + "9" * 100).ordered  # too long for the key's length prefix


@relaxed
@given(semver_strings(), semver_strings())
def test_order_agrees_with_the_semver_reference(a: str, b: str) -> None:
    expected = semver.Version.parse(a).compare(b)
    actual = sign(version_sort_key(a), version_sort_key(b))
    if expected == 0:
        assert actual == sign(a, b)
    else:
        assert actual == expected


@relaxed
@given(semver_strings())
def test_prerelease_flag_agrees_with_the_semver_reference(text: str) -> None:
    assert is_prerelease(text) == bool(semver.Version.parse(text).prerelease)


def dc43_reads_whole(text: str) -> bool:
    """dc43's ``version_key`` reads every character: four numbers at most, then a stage word
    followed by nothing but its digits (dc43 reads ``alpha2`` as ``a`` and drops the rest)."""
    match = _VERSION_KEY_PATTERN.match(text)
    if not match or text != text.strip():
        return False
    suffix = (match.group(5) or "").lstrip(".-_").lower()
    stage = _VERSION_KEY_STAGE.match(suffix)
    return not suffix or (stage is not None and stage.end() == len(suffix))


@relaxed
@given(dotted_strings(max_parts=4), dotted_strings(max_parts=4))
def test_order_agrees_with_dc43_wherever_dc43_reads_both_versions(a: str, b: str) -> None:
    assume(dc43_reads_whole(a) and dc43_reads_whole(b))
    # SemVer prereleases (1.0.0-rc1) keep SemVer precedence, which dc43 does not follow
    assume(not parse_version(a).prerelease and not parse_version(b).prerelease)
    expected = sign(version_key(a), version_key(b))
    if expected:  # where dc43 ties (rc and rc0, 1.0 and 1.0.0), the text decides here
        assert compare_versions(a, b) == expected
        assert sign(version_sort_key(a), version_sort_key(b)) == expected


def test_where_dc43_reads_only_part_of_the_version_the_order_differs_as_documented() -> None:
    # dc43 tries "a" before "alpha": it reads alpha2 as "a" without a number
    assert version_key("1.0alpha2") < version_key("1.0a1")
    assert sort_versions(["1.0alpha2", "1.0a1"]) == ["1.0a1", "1.0alpha2"]
    # dc43 reads four numbers, then ".5" as an unknown suffix below every stage
    assert version_key("1.2.3.4.5") < version_key("1.2.3.4")
    assert sort_versions(["1.2.3.4.5", "1.2.3.4"]) == ["1.2.3.4", "1.2.3.4.5"]
    # SemVer precedence for SemVer prereleases: identifiers compare as text
    assert version_key("1.0.0-rc2") < version_key("1.0.0-rc10")
    assert sort_versions(["1.0.0-rc2", "1.0.0-rc10"]) == ["1.0.0-rc10", "1.0.0-rc2"]


LONG = "9" * 100  # a number of 100 digits: beyond what the key encodes, so unordered


@relaxed
@given(any_version, any_version)
@example("latest", "0.0.0-rc.1")  # unordered below a prerelease of 0.0.0
@example("latest", "0")
@example("1.0.0-x", "1.0.dev0")  # a SemVer prerelease below the dev stage
@example("1.0.0-a", "1.0.0-b")
@example("1.0.0-1", "1.0.0-a")  # numeric identifiers below alphanumeric ones
@example("1.0.0-1.a", "1.0.0-1.1")
@example("latest", f"1.0.{LONG}")  # unordered SemVer-shaped text
@example("latest", f"1.0.0.{LONG}")  # unordered dotted text
@example("1.0", "1.0.post0")
def test_key_order_is_the_comparator_order(a: str, b: str) -> None:
    assert sign(version_sort_key(a), version_sort_key(b)) == compare_versions(a, b)
    assert compare_versions(a, b) == -compare_versions(b, a)


@relaxed
@given(any_version, any_version)
def test_keys_are_distinct_for_distinct_versions(a: str, b: str) -> None:
    # distinct keys for distinct strings make the order total and strict
    assert (version_sort_key(a) == version_sort_key(b)) == (a == b)
    assert (compare_versions(a, b) == 0) == (a == b)


@relaxed
@given(st.lists(any_version, max_size=20))
def test_order_is_transitive_and_independent_of_input_order(versions: list[str]) -> None:
    ordered = sort_versions(versions)
    assert sort_versions(list(reversed(versions))) == ordered
    assert all(compare_versions(x, y) <= 0 for x, y in itertools.pairwise(ordered))
    for x, y, z in itertools.combinations(ordered, 3):  # sorted: x <= y <= z
        assert compare_versions(x, z) <= 0 and compare_versions(y, z) <= 0


# The key function of the previous release (SemVer and one or two numbers ordered, all
# else "0 " + text), kept verbatim in spirit to prove stored keys stay valid.
_OLD_SEMVER = re.compile(
    r"[vV]?(\d+)\.(\d+)\.(\d+)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?",
    re.ASCII,
)
_OLD_SHORT = re.compile(r"[vV]?(\d+)(?:\.(\d+))?", re.ASCII)


def _old_key(version: str) -> str:
    match = _OLD_SEMVER.fullmatch(version)
    if match:
        nums, pre = [match[1], match[2], match[3]], match[4]
    else:
        match = _OLD_SHORT.fullmatch(version)
        if not match:
            return "0 " + version
        nums, pre = [match[1], match[2] or "0", "0"], None
    if any(len(n.lstrip("0")) > 99 for n in nums):
        return "0 " + version
    parts = [int(p) if p.isdigit() else p for p in pre.split(".")] if pre else []
    if any(isinstance(p, int) and len(str(p)) > 99 for p in parts):
        return "0 " + version

    def number(value: int) -> str:
        return f"{len(str(value)):02d}{value}"

    key = "1" + "".join(number(int(n)) for n in nums)
    if parts:
        body = "".join("#" + number(p) if isinstance(p, int) else "$" + p + "!" for p in parts)
        key += "-" + body + "!"
    else:
        key += "~"
    return key + " " + version


@relaxed
@given(st.one_of(any_version, st.from_regex(r"v?\d{1,3}(\.\d{1,3}){0,2}", fullmatch=True)))
def test_keys_the_previous_release_ordered_are_unchanged(version: str) -> None:
    old = _old_key(version)
    if old.startswith("1"):
        assert version_sort_key(version) == old
        assert is_prerelease(version) == ("-" in old.split(" ", 1)[0])
    else:
        assert old == "0 " + version  # stale only where the old key said "unordered"


@relaxed
@given(st.lists(any_version, max_size=20))
def test_polars_and_sqlite_sort_the_key_column_exactly_as_python(versions: list[str]) -> None:
    keys = [version_sort_key(v) for v in versions]
    frame = pl.DataFrame(
        {"version": versions, "k": keys}, schema={"version": pl.String, "k": pl.String}
    )
    assert frame.sort("k")["version"].to_list() == sort_versions(versions)
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE t (version TEXT, k TEXT)")
        db.executemany("INSERT INTO t VALUES (?, ?)", list(zip(versions, keys, strict=True)))
        rows = db.execute("SELECT version FROM t ORDER BY k").fetchall()
    assert [row[0] for row in rows] == sort_versions(versions)


def test_numbers_of_up_to_99_digits_are_ordered() -> None:
    for digits in (1, 98, 99):
        number = "9" * digits
        for version in (f"1.0.{number}", f"1.0.0.{number}", f"1.0.0-{number}", f"1.0rc{number}"):
            assert parse_version(version).ordered, version
            assert sort_versions([version, "latest"]) == ["latest", version]
    for version in (f"1.0.{LONG}", f"1.0.0.{LONG}", f"1.0.0-{LONG}", f"1.0rc{LONG}"):
        assert not parse_version(version).ordered, version
        assert version_sort_key(version) == "0 " + version


def test_parsed_versions_name_their_parts() -> None:
    short = parse_version("2")
    assert (short.major, short.minor, short.patch) == (2, 0, 0)
    assert (parse_version("1.2").minor, parse_version("1.2").patch) == (2, 0)
    full = parse_version("v1.2.3-rc.1+build.5")
    assert (full.major, full.minor, full.patch) == (1, 2, 3)
    assert (full.prerelease, full.build) == (("rc", 1), "build.5")
    assert parse_version("0.32.0.0rc2").release == (0, 32, 0, 0)


def test_a_capital_v_prefix_is_semver_too() -> None:
    """``V2.0.0-SNAPSHOT`` is a SemVer prerelease (skipped by latest), ``V1.0.0+build.1`` a
    release, and ``V`` versions rank exactly as their ``v`` spellings."""
    assert is_prerelease("V2.0.0-SNAPSHOT")
    assert parse_version("V1.0.0-alpha.beta").prerelease == ("alpha", "beta")
    assert parse_version("V1.0.0+build.1").ordered
    assert sort_versions(["V1.0.0", "V1.0.0-alpha.beta", "V1.0.0-SNAPSHOT", "0.9.0"]) == [
        "0.9.0",
        "V1.0.0-SNAPSHOT",
        "V1.0.0-alpha.beta",
        "V1.0.0",
    ]
