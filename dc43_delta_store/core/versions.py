"""Ordering of ODCS ``version`` strings.

Two kinds of version text are *ordered*; everything else is not:

1. **SemVer 2.0.0** (``1.2.3``, ``1.2.3-rc.1``, ``1.2.3+build.5``), also with a leading
   ``v`` and leading zeros in its three numbers (``v1.2.3``, ``2024.01.05``).
2. **Dotted versions**, as dc43 numbers its own releases: any number of numeric parts
   (``2``, ``v1.0``, ``0.42.0.0``, ``1.2.3.4.5``), optionally followed by a *stage* --
   ``dev``/``draft``, ``a``/``alpha``, ``b``/``beta``, ``rc`` or ``post``, in any case, with
   an optional number -- written right after the numbers or after ``.``, ``-`` or ``_``
   (``0.32.0.0rc2``, ``1.0.dev1``, ``2.0-rc1``, ``1.0.post2``).

Anything else (``2024-01-01``, ``latest``, ``1.0+local``) is *unordered*. The order:

- Unordered versions rank below every ordered one, and by text among themselves.
- An ordered version ranks first by its *release*: its numbers compared one by one as
  numbers, trailing zeros ignored (``0.9.0.0`` < ``0.10.0.0``, ``1.2.3`` < ``1.2.3.1``;
  ``1`` = ``1.0`` = ``1.0.0`` = ``1.0.0.0``). Within one release, by stage::

      SemVer prereleases < dev = draft < a = alpha < b = beta < rc < (the release) < post

  SemVer prereleases rank among themselves by SemVer precedence (identifiers one by one,
  numeric ones numerically and below alphanumeric ones); a stage's number ranks
  numerically, a missing number counting as 0; SemVer build metadata is ignored.
- Versions of equal precedence (``1.0`` and ``1.0.0``, ``1.0.0+a`` and ``1.0.0+b``,
  ``rc`` and ``rc0``) rank by text, so the order is total and the same everywhere.

SemVer strings thus keep SemVer precedence among themselves, and dotted versions rank as
dc43's ``version_key`` ranks them wherever that key reads the whole text (up to four numbers,
then nothing or a stage word directly followed by digits). Where they part:

- A SemVer prerelease is SemVer's: ``1.0.0-a1`` < ``1.0.0-dev1`` and ``1.0.0-rc10`` <
  ``1.0.0-rc2`` (identifiers compare as text), and ``1.0.0-post1`` is a prerelease below
  ``1.0.0``; dc43 ranks them by stage word. As a band, SemVer prereleases rank below every
  stage of the same release, where dc43 ranks suffixes it does not know.
- dc43 reads ``alpha2`` and ``beta2`` as ``a`` and ``b`` without a number (its pattern tries
  ``a`` first), a fifth number as an unknown suffix, and ``v1.0`` or ``2024-01-01`` barely at
  all; here they are ``alpha 2``, a fifth number, ``1.0``, and unordered.

A *prerelease* -- a SemVer prerelease or a ``dev``, ``draft``, ``a``, ``alpha``, ``b``,
``beta`` or ``rc`` stage -- is what ``latest`` skips; ``post`` versions are releases.

:func:`version_sort_key` encodes the order as a string whose plain (byte or code point)
order *is* the order, so Python, Polars and SQL engines sort it alike; the table stores it
in the ``version_sort_key`` column. The keys of versions that earlier releases of this
package ordered (SemVer, one or two numbers) are unchanged; earlier releases called every
other text unordered (key ``"0 " + version``), so a stored key starting with ``"0 "`` may be
stale and readers recompute it from the version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ParsedVersion",
    "compare_versions",
    "is_prerelease",
    "parse_version",
    "sort_key",
    "sort_versions",
    "version_sort_key",
]

_NUMBER = r"0|[1-9]\d*"
_PRE_ID = rf"(?:{_NUMBER}|\d*[A-Za-z-][0-9A-Za-z-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"[vV]?(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)"
    rf"(?:-(?P<pre>{_PRE_ID}(?:\.{_PRE_ID})*))?"
    rf"(?:\+(?P<build>{_BUILD_ID}(?:\.{_BUILD_ID})*))?",
    re.ASCII,
)
_DOTTED = re.compile(
    r"[vV]?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[._-]*(?P<stage>dev|draft|alpha|a|beta|b|rc|post)(?:[._-]?(?P<number>\d+))?)?",
    re.ASCII | re.IGNORECASE,
)
_STAGES = {
    **{"dev": "dev", "draft": "dev", "alpha": "a", "a": "a"},
    **{"beta": "b", "b": "b", "rc": "rc", "post": "post"},
}
_PRERELEASE_STAGES = ("dev", "a", "b", "rc")
# Rank within a release; the SemVer-prerelease band is 0 and the release itself 5.
_STAGE_RANK = {"dev": 1, "a": 2, "b": 3, "rc": 4, "post": 6}
# Key codes after the release numbers. Byte order: "-" (SemVer prerelease) < "0".."3"
# (dev, a, b, rc) < "~" then " " (the release) < "~+" (post) < "~." (one more number).
_STAGE_CODE = {"dev": "0", "a": "1", "b": "2", "rc": "3", "post": "~+"}
_MAX_DIGITS = 99  # numbers are length-prefixed with two digits in the sort key


@dataclass(frozen=True)
class ParsedVersion:
    """A version string and what ranks it; ``ordered`` is False for unordered text.

    ``release`` holds the numbers as written (``(0, 32, 0, 0)``), ``prerelease`` the SemVer
    prerelease identifiers, ``stage`` a dotted version's stage (``"dev"``, ``"a"``, ``"b"``,
    ``"rc"`` or ``"post"``; ``draft``, ``alpha`` and ``beta`` are read as their synonyms).
    """

    text: str
    ordered: bool
    release: tuple[int, ...] = ()
    prerelease: tuple[int | str, ...] = ()
    stage: str | None = None
    stage_number: int = 0
    build: str | None = None

    @property
    def major(self) -> int:
        return self._part(0)

    @property
    def minor(self) -> int:
        return self._part(1)

    @property
    def patch(self) -> int:
        return self._part(2)

    def _part(self, index: int) -> int:
        return self.release[index] if index < len(self.release) else 0

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease) or self.stage in _PRERELEASE_STAGES

    @property
    def significant_release(self) -> tuple[int, ...]:
        """The release without trailing zeros: ``1.0.0.0`` and ``1`` both give ``(1,)``."""
        release = self.release
        while release and release[-1] == 0:
            release = release[:-1]
        return release


def _too_long(numbers: list[str]) -> bool:
    return any(len(n.lstrip("0")) > _MAX_DIGITS for n in numbers)


def parse_version(text: str) -> ParsedVersion:
    """Parse ``text`` under the module's policy.

    >>> parse_version("v1.2.0-rc.1").prerelease
    ('rc', 1)
    >>> parse_version("0.32.0.0rc2").stage, parse_version("0.32.0.0rc2").stage_number
    ('rc', 2)
    """
    match = _SEMVER.fullmatch(text)
    if match:
        numbers = [match["major"], match["minor"], match["patch"]]
        identifiers = match["pre"].split(".") if match["pre"] else []
        if _too_long(numbers + [p for p in identifiers if p.isdigit()]):
            return ParsedVersion(text, ordered=False)
        return ParsedVersion(
            text,
            True,
            tuple(int(n) for n in numbers),
            tuple(int(p) if p.isdigit() else p for p in identifiers),
            build=match["build"],
        )
    match = _DOTTED.fullmatch(text)
    if not match:
        return ParsedVersion(text, ordered=False)
    numbers = match["release"].split(".")
    number = match["number"] or "0"
    if _too_long([*numbers, number]):
        return ParsedVersion(text, ordered=False)
    stage = _STAGES[match["stage"].lower()] if match["stage"] else None
    return ParsedVersion(
        text, True, tuple(int(n) for n in numbers), stage=stage, stage_number=int(number)
    )


def _precedence(parsed: ParsedVersion) -> tuple[object, ...]:
    """What the order compares, as a tuple; the text comes last and breaks ties."""
    if not parsed.ordered:
        return (0, (), 0, (), parsed.text)
    detail: tuple[object, ...]
    if parsed.prerelease:
        rank = 0
        detail = tuple((0, p) if isinstance(p, int) else (1, p) for p in parsed.prerelease)
    elif parsed.stage:
        rank, detail = _STAGE_RANK[parsed.stage], (parsed.stage_number,)
    else:
        rank, detail = 5, ()
    return (1, parsed.significant_release, rank, detail, parsed.text)


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` ranks below, equal to (same text) or above ``b``.

    >>> compare_versions("0.9.0.0", "0.10.0.0"), compare_versions("0.32.0.0rc2", "0.32.0.0")
    (-1, -1)
    """
    left, right = _precedence(parse_version(a)), _precedence(parse_version(b))
    return (left > right) - (left < right)


def _number(value: int) -> str:
    digits = str(value)
    return f"{len(digits):02d}{digits}"


def version_sort_key(version: str) -> str:
    """Return a string whose ordinary string order is the version order of the policy.

    >>> sorted(["1.10.0", "1.9.0", "1.10.0-rc.1"], key=version_sort_key)
    ['1.9.0', '1.10.0-rc.1', '1.10.0']
    >>> sorted(["0.10.0.0", "0.9.0.0", "0.32.0.0", "0.32.0.0rc2"], key=version_sort_key)
    ['0.9.0.0', '0.10.0.0', '0.32.0.0rc2', '0.32.0.0']
    """
    return sort_key(parse_version(version))


def sort_key(parsed: ParsedVersion) -> str:
    """:func:`version_sort_key` of a version already parsed."""
    version = parsed.text
    if not parsed.ordered:
        return "0 " + version
    release = parsed.significant_release
    head = (*release[:3], 0, 0, 0)[:3]
    key = "1" + "".join(_number(n) for n in head)
    key += "".join("~." + _number(n) for n in release[3:])
    if parsed.prerelease:
        # "!" ends a list or an identifier: it is below "#" (numeric), "$" (alphanumeric)
        # and every character allowed in an identifier, so shorter lists rank lower.
        key += "-"
        key += "".join(
            "#" + _number(part) if isinstance(part, int) else "$" + part + "!"
            for part in parsed.prerelease
        )
        key += "!"
    elif parsed.stage:
        key += _STAGE_CODE[parsed.stage] + _number(parsed.stage_number)
    else:
        key += "~"
    return key + " " + version


def is_prerelease(version: str) -> bool:
    """True for the versions ``latest`` skips: SemVer prereleases and dev/a/b/rc stages.

    >>> is_prerelease("2.0.0-SNAPSHOT"), is_prerelease("0.32.0.0rc2")
    (True, True)
    >>> is_prerelease("2.0.0+build.7"), is_prerelease("1.0.post1")
    (False, False)
    """
    return parse_version(version).is_prerelease


def sort_versions(versions: list[str]) -> list[str]:
    """Return ``versions`` from lowest to highest under the policy."""
    return sorted(versions, key=version_sort_key)
