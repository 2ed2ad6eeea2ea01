"""Ordering of ODCS ``version`` strings.

The policy, in order:

1. A SemVer 2.0.0 string (``1.2.3``, ``1.2.3-rc.1``, ``1.2.3+build.5``) ranks by SemVer
   precedence: numeric parts numerically, a prerelease below its release, prerelease
   identifiers compared one by one (numeric below alphanumeric), build metadata ignored.
2. A lenient form ranks as the SemVer it stands for: a leading ``v``/``V``
   (``v1.2.3-rc1`` = ``1.2.3-rc1``), one or two parts padded with zeros (``1.0`` =
   ``1.0.0``, ``v2`` = ``2.0.0``), leading zeros in the three numeric parts (``2024.01.05``
   = ``2024.1.5``). Short forms take no ``-prerelease`` or ``+build`` suffix.
3. Anything else (``2024-01-01``, ``1.2.3.4``, ``latest``) is *unordered*: it ranks below
   every version of rules 1-2, and unordered versions rank among themselves by text.
4. Versions of equal precedence (``1.0`` and ``1.0.0``, ``1.0.0+a`` and ``1.0.0+b``) rank
   by text, so the order is total and the same on every machine.

:func:`version_sort_key` encodes this order as a plain ASCII-led string whose byte order
*is* the order, so Python, Polars and SQL engines all sort it the same way; the table
stores it in the ``version_sort_key`` column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ParsedVersion", "is_prerelease", "parse_version", "sort_versions", "version_sort_key"]

_NUMBER = r"0|[1-9]\d*"
_PRE_ID = rf"(?:{_NUMBER}|\d*[A-Za-z-][0-9A-Za-z-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"[vV]?(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)"
    rf"(?:-(?P<pre>{_PRE_ID}(?:\.{_PRE_ID})*))?"
    rf"(?:\+(?P<build>{_BUILD_ID}(?:\.{_BUILD_ID})*))?",
    re.ASCII,
)
_SHORT = re.compile(r"[vV]?(?P<major>\d+)(?:\.(?P<minor>\d+))?", re.ASCII)
_MAX_DIGITS = 99  # numbers are length-prefixed with two digits in the sort key


@dataclass(frozen=True)
class ParsedVersion:
    """A version string with its rank: ``ordered`` is False for rule 3 (unordered) versions."""

    text: str
    ordered: bool
    major: int = 0
    minor: int = 0
    patch: int = 0
    prerelease: tuple[int | str, ...] = ()
    build: str | None = None

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)


def parse_version(text: str) -> ParsedVersion:
    """Parse ``text`` under the module's policy.

    >>> parse_version("v1.2.0-rc.1").prerelease
    ('rc', 1)
    """
    match = _SEMVER.fullmatch(text)
    if match:
        numbers = (match["major"], match["minor"], match["patch"])
        pre = match["pre"]
        build = match["build"]
    else:
        match = _SHORT.fullmatch(text)
        if not match:
            return ParsedVersion(text, ordered=False)
        numbers = (match["major"], match["minor"] or "0", "0")
        pre = build = None
    if any(len(n.lstrip("0")) > _MAX_DIGITS for n in numbers):
        return ParsedVersion(text, ordered=False)
    identifiers: tuple[int | str, ...] = ()
    if pre:
        parts = pre.split(".")
        if any(p.isdigit() and len(p) > _MAX_DIGITS for p in parts):
            return ParsedVersion(text, ordered=False)
        identifiers = tuple(int(p) if p.isdigit() else p for p in parts)
    major, minor, patch = (int(n) for n in numbers)
    return ParsedVersion(text, True, major, minor, patch, identifiers, build)


def _number(value: int) -> str:
    digits = str(value)
    return f"{len(digits):02d}{digits}"


def version_sort_key(version: str) -> str:
    """Return a string whose ordinary string order is the version order of the policy.

    >>> sorted(["1.10.0", "1.9.0", "1.10.0-rc.1"], key=version_sort_key)
    ['1.9.0', '1.10.0-rc.1', '1.10.0']
    """
    parsed = parse_version(version)
    if not parsed.ordered:
        return "0 " + version
    key = "1" + _number(parsed.major) + _number(parsed.minor) + _number(parsed.patch)
    if parsed.prerelease:
        # "!" ends a list or an identifier: it is below "#" (numeric), "$" (alphanumeric)
        # and every character allowed in an identifier, so shorter lists rank lower.
        encoded = (
            "#" + _number(part) if isinstance(part, int) else "$" + part + "!"
            for part in parsed.prerelease
        )
        key += "-" + "".join(encoded) + "!"
    else:
        key += "~"  # a release ranks above all of its prereleases ("~" > "-")
    return key + " " + version


def is_prerelease(version: str) -> bool:
    """True for versions with a SemVer prerelease part (``1.0.0-rc.1``), which ``latest`` skips.

    >>> is_prerelease("2.0.0-SNAPSHOT"), is_prerelease("2.0.0+build.7")
    (True, False)
    """
    return parse_version(version).is_prerelease


def sort_versions(versions: list[str]) -> list[str]:
    """Return ``versions`` from lowest to highest under the policy."""
    return sorted(versions, key=version_sort_key)
