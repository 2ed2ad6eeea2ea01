"""Version ranges: the grammar, what each form admits, prereleases, refusals — and properties
that tie every answer to the store's version order."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dc43_delta_store import InvalidRequestError, parse_range, version_sort_key
from dc43_delta_store.core.versions import parse_version


@pytest.mark.parametrize(
    ("spec", "meaning"),
    [
        ("1.2.3", "=1.2.3"),
        ("=v1.2.3+build.5", "=1.2.3"),
        ("1.2", ">=1.2.0 <1.3.0-0"),
        ("1", ">=1.0.0 <2.0.0-0"),
        ("1.x", ">=1.0.0 <2.0.0-0"),
        ("1.2.*", ">=1.2.0 <1.3.0-0"),
        ("1.X.x", ">=1.0.0 <2.0.0-0"),
        ("*", "*"),
        ("^1.2.3", ">=1.2.3 <2.0.0-0"),
        ("^1.2", ">=1.2.0 <2.0.0-0"),
        ("^0.3", ">=0.3.0 <0.4.0-0"),
        ("^0.3.1", ">=0.3.1 <0.4.0-0"),
        ("^0.0.3", ">=0.0.3 <0.0.4-0"),
        ("^0.0", ">=0.0.0 <0.1.0-0"),
        ("^0", ">=0.0.0 <1.0.0-0"),
        ("^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0"),
        ("~1.2.3", ">=1.2.3 <1.3.0-0"),
        ("~1.2", ">=1.2.0 <1.3.0-0"),
        ("~1", ">=1.0.0 <2.0.0-0"),
        ("~0.0.3", ">=0.0.3 <0.1.0-0"),
        (">=1.0,<2", ">=1.0.0 <2.0.0-0"),
        (">=1.0 <2", ">=1.0.0 <2.0.0-0"),
        (">= 1.0 , < 2", ">=1.0.0 <2.0.0-0"),
        (">1.2", ">=1.3.0"),
        (">1.2.3", ">1.2.3"),
        ("<=1.2", "<1.3.0-0"),
        ("<1.2", "<1.2.0-0"),
        ("<=1.2.3", "<=1.2.3"),
        ("^1 || ^3", ">=1.0.0 <2.0.0-0 || >=3.0.0 <4.0.0-0"),
        ("<1 || >=2", "<1.0.0-0 || >=2.0.0"),
    ],
)
def test_each_form_stands_for_comparisons(spec: str, meaning: str) -> None:
    assert str(parse_range(spec)) == meaning


@pytest.mark.parametrize(
    ("spec", "version", "matches"),
    [
        ("^1.2", "1.2.0", True),
        ("^1.2", "1.99.7", True),
        ("^1.2", "2.0.0", False),
        ("^1.2", "1.1.9", False),
        ("^0.3", "0.3.9", True),
        ("^0.3", "0.4.0", False),
        ("^0.0.3", "0.0.3", True),
        ("^0.0.3", "0.0.4", False),
        ("~1.2", "1.2.9", True),
        ("~1.2", "1.3.0", False),
        ("1.x", "1.0", True),  # lenient versions are placed as the SemVer they stand for
        ("1.x", "v1.5", True),
        ("1.2.*", "1.2.3+build", True),
        ("1.2.3", "v1.2.3", True),
        ("1.2.3", "1.2.3+other", True),
        ("1.2.3", "1.2.4", False),
        (">=1.0,<2", "1.10.0", True),  # numerically, not as text
        (">=1.0,<2", "2.0.0", False),
        ("*", "0.0.1", True),
        ("*", "2024-01-01", False),  # a version the order cannot place is outside every range
        ("^1 || ^3", "3.1.0", True),
        ("^1 || ^3", "2.1.0", False),
    ],
)
def test_what_a_range_admits(spec: str, version: str, matches: bool) -> None:
    assert parse_range(spec).contains(version) is matches


@pytest.mark.parametrize(
    ("spec", "version", "without", "with_prereleases"),
    [
        ("^1.2", "1.5.0-rc.1", False, True),
        ("^1.2", "2.0.0-rc.1", False, False),  # below 2.0.0, but above the range's ceiling
        ("^1.2", "1.2.0-rc.1", False, False),  # below 1.2.0, as in PEP 440
        (">=1.3.0-rc.1 <2", "1.3.0-rc.2", True, True),  # the range names a 1.3.0 prerelease
        (">=1.3.0-rc.1 <2", "1.4.0-rc.1", False, True),  # ... but none of 1.4.0
        ("^1.2.3-beta.2", "1.2.3-beta.10", True, True),
        ("^1.2.3-beta.2", "1.2.3-beta.1", False, False),
        ("1.2.3-rc.1", "1.2.3-rc.1", True, True),
        ("*", "1.0.0-SNAPSHOT", False, True),
    ],
)
def test_prereleases_match_when_asked_for_or_named(
    spec: str, version: str, without: bool, with_prereleases: bool
) -> None:
    version_range = parse_range(spec)
    assert version_range.contains(version) is without
    assert version_range.contains(version, include_prereleases=True) is with_prereleases


@pytest.mark.parametrize(
    ("spec", "position", "problem"),
    [
        ("", "the end", "empty range"),
        ("1.x.3", "character 1", "cannot follow a wildcard"),
        ("1.2.3 - 2.0.0", "character 7", "hyphen ranges are not supported"),
        ("^^1", "character 2", "expected a version after '^'"),
        ("~*", "character 2", "needs a version number"),
        ("1.2-rc.1", "character 1", "needs all three numbers"),
        ("1.2.3-rc..1", "character 1", "not a SemVer version"),
        (">=1.0;<2", "character 6", "expected ','"),
        ("1,,2", "character 3", "expected a version before ','"),
        ("^1 ||", "the end", "expected a version"),
        ("latest", "character 1", "expected a version"),
        ("1." + "9" * 120, "character 1", "more digits"),
    ],
)
def test_anything_else_is_refused_naming_the_spec_and_position(
    spec: str, position: str, problem: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_range(spec)
    message = str(caught.value)
    assert f"version range {spec!r}" in message
    assert position in message and problem in message


# -- properties ----------------------------------------------------------------------------

numbers = st.integers(min_value=0, max_value=30)
identifiers = st.one_of(
    st.integers(min_value=0, max_value=20).map(str),
    st.sampled_from(["alpha", "beta", "rc", "SNAPSHOT", "x-1"]),
)
prereleases = st.lists(identifiers, min_size=1, max_size=3).map(".".join)


@st.composite
def versions(draw: st.DrawFn, prerelease: bool | None = None) -> str:
    core = ".".join(str(draw(numbers)) for _ in range(3))
    pre = draw(st.booleans()) if prerelease is None else prerelease
    text = core + ("-" + draw(prereleases) if pre else "")
    return draw(st.sampled_from(["", "v"])) + text + draw(st.sampled_from(["", "+build.7"]))


def key(version: str) -> tuple[int, ...]:
    """Precedence of a release version, independent of the module under test."""
    parsed = parse_version(version)
    return parsed.major, parsed.minor, parsed.patch


@given(versions(prerelease=False), numbers, numbers)
def test_caret_admits_exactly_the_versions_up_to_the_next_breaking_one(
    version: str, major: int, minor: int
) -> None:
    low = (major, minor, 0)
    high = (major + 1, 0, 0) if major > 0 else (0, minor + 1, 0)
    assert parse_range(f"^{major}.{minor}").contains(version) is (low <= key(version) < high)


@given(versions(prerelease=False), numbers, numbers)
def test_tilde_admits_the_patches_of_a_minor(version: str, major: int, minor: int) -> None:
    inside = (major, minor, 0) <= key(version) < (major, minor + 1, 0)
    assert parse_range(f"~{major}.{minor}").contains(version) is inside


@given(versions(), versions())
def test_an_exact_spec_matches_only_equal_precedence(version: str, spec: str) -> None:
    def precedence(text: str) -> object:
        parsed = parse_version(text)
        return parsed.major, parsed.minor, parsed.patch, parsed.prerelease

    bare = spec.lstrip("v").split("+")[0]
    matches = parse_range(bare).contains(version, include_prereleases=True)
    assert matches is (precedence(version) == precedence(spec))


@given(versions(), versions(), st.sampled_from([">", ">=", "<", "<="]))
def test_comparisons_agree_with_the_store_order(version: str, bound: str, op: str) -> None:
    bound = bound.lstrip("v").split("+")[0]
    same = key(version) == key(bound) and parse_version(version).prerelease == (
        parse_version(bound).prerelease
    )
    above = version_sort_key(version) > version_sort_key(bound)
    expected = {
        ">": above and not same,
        ">=": above or same,
        "<": not above and not same,
        "<=": not above or same,
    }[op]
    assert parse_range(op + bound).contains(version, include_prereleases=True) is expected


@given(st.text(max_size=30))
def test_any_text_parses_or_is_refused_with_the_typed_error(text: str) -> None:
    try:
        version_range = parse_range(text)
    except InvalidRequestError as exc:
        assert repr(text) in str(exc)
    else:
        assert str(version_range)


@given(st.sampled_from(["^1", "~1.2", "1.x", ">=0.5,<3", "*", "^0.2 || ^2"]), versions())
def test_asking_for_prereleases_only_ever_adds_matches(spec: str, version: str) -> None:
    version_range = parse_range(spec)
    if version_range.contains(version):
        assert version_range.contains(version, include_prereleases=True)
    assume(parse_version(version).prerelease)
    assert not version_range.contains(version)  # no bound of these names a prerelease


@pytest.mark.parametrize(
    ("spec", "version", "matches"),
    [
        ("0.42.0.0", "0.42.0.0", True),
        ("0.42.0.0", "0.42.0", True),  # equal precedence: trailing zeros do not count
        ("0.42.0.0", "0.42.1.0", False),
        (">=0.42.0.0,<0.43.0.0", "0.42.7.1", True),
        (">=0.42.0.0,<0.43.0.0", "0.43.0.0", False),
        ("<0.32.0.0", "0.32.0.0rc2", False),  # a prerelease stage, not asked for
        (">=0.32.0.0rc1", "0.32.0.0rc2", True),  # the range names a prerelease of 0.32
        (">=0.32.0.0rc1", "0.33.0.0rc1", False),
        ("0.32.0.0rc2", "0.32.0.0rc2", True),
        ("^0.42", "0.42.1.0", True),
        ("^0.42", "0.43.0.0", False),
    ],
)
def test_dotted_versions_as_dc43_numbers_them(spec: str, version: str, matches: bool) -> None:
    assert parse_range(spec).contains(version) is matches


@pytest.mark.parametrize("spec", ["^0.42.0.0", "~1.2.3.4", "1.2.3.x", ">=0.42.0.0.", "1.2.3.4 - 2"])
def test_carets_tildes_and_wildcards_take_three_numbers(spec: str) -> None:
    with pytest.raises(InvalidRequestError, match=re.escape(repr(spec))):
        parse_range(spec)
