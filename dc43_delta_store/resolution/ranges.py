"""Version ranges: ``^1.2``, ``~1.2.3``, ``1.x``, ``>=1.0,<2``, ``^1 || ^3`` — parsed and matched.

The grammar (npm's, without hyphen ranges)::

    range       := set ( "||" set )*
    set         := item ( ( "," | whitespace ) item )*        every item must hold
    item        := [ "^" | "~" | ">=" | "<=" | ">" | "<" | "=" ] version   (blanks allowed after
                                                                             the operator)
    version     := [ "v" ] part [ "." part [ "." part [ "-" prerelease ] [ "+" build ] ] ]
    part        := digits | "x" | "X" | "*"
    item        := [ ">=" | "<=" | ">" | "<" | "=" ] dotted          (dc43-style versions)
    dotted      := [ "v" ] digits ( "." digits ){3,} [ stage ]      four or more numbers, or
                 | [ "v" ] digits ( "." digits )* [ "." ] stage      a PEP 440-style stage
    stage       := ( "dev" | "a" | "b" | "rc" | "post" | ... ) [ digits ]

Each item stands for comparisons on SemVer precedence; a missing or wildcard part is a
wildcard, and upper bounds end *below* the prereleases of the next version (``2.0.0-0``)::

    1.2.3    =1.2.3                  ^1.2.3   >=1.2.3 <2.0.0-0      ~1.2.3  >=1.2.3 <1.3.0-0
    1.2      >=1.2.0 <1.3.0-0         ^1.2     >=1.2.0 <2.0.0-0      ~1.2    >=1.2.0 <1.3.0-0
    1.x, 1   >=1.0.0 <2.0.0-0         ^0.3     >=0.3.0 <0.4.0-0      ~1      >=1.0.0 <2.0.0-0
    *, x     any version              ^0.0.3   >=0.0.3 <0.0.4-0
    >1.2     >=1.3.0                  <=1.2    <1.3.0-0              <1.2    <1.2.0-0

**Prereleases** (npm's rule): a prerelease version matches only when the caller asks for
prereleases, or when an item of the same set names a prerelease of the same
major.minor.patch (``>=1.3.0-rc.1`` admits ``1.3.0-rc.2``, not ``1.4.0-rc.1``). Lower bounds
stay as written, so ``^1.2`` never admits ``1.2.0-rc.1`` (it comes before ``1.2.0``), as in
PEP 440.

Dotted versions in dc43's style (``0.42.0.0``, ``0.32.0.0rc2``, ``1.0.0.post1``) are bounds
as written: ``0.42.0.0``, ``>=0.42.0.0``, ``<0.43.0.0rc1``; carets, tildes and wildcards take
at most three numbers (``^0.42`` admits ``0.42.1.0``, as the order places it).

Versions are placed by :func:`~..core.versions.version_sort_key` (the store's order) and
compared for equal precedence with :func:`~..core.versions.parse_version`; a version the
order cannot place (``2024-01-01``) is outside every range.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal, NamedTuple, NoReturn

from ..core.versions import ParsedVersion, parse_version, sort_key
from ..errors import InvalidRequestError

__all__ = ["Comparator", "Place", "VersionRange", "parse_range", "place"]

Operator = Literal[">", ">=", "<", "<=", "="]

_ITEM = re.compile(
    r"(?P<op>\^|~|>=|<=|>|<|=)?[ \t]*"
    r"(?P<version>[vV]?(?:\d+|[xX*])(?:\.(?:\d+|[xX*])){0,2}"
    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)",
    re.ASCII,
)
_DOTTED_ITEM = re.compile(
    r"(?P<op>>=|<=|>|<|=)?[ \t]*"
    r"(?P<version>[vV]?\d+(?:\.\d+){3,}"
    r"(?:[._-]*(?:dev|draft|alpha|a|beta|b|rc|post)(?:[._-]?\d+)?)?"
    r"|[vV]?\d+(?:\.\d+)*\.?(?:dev|draft|alpha|a|beta|b|rc|post)(?:\.?\d+)?)",
    re.ASCII | re.IGNORECASE,
)
_OPERATOR = re.compile(r"\^|~|>=|<=|>|<|=")
_WILDCARD = ("x", "X", "*")
_MAX_LENGTH = 1000


# Every field of a parsed version but its text and build metadata: equal precedence.
def _precedence(parsed: ParsedVersion) -> tuple[object, ...]:
    """What ranks a version, without the text tie-break: ``1.0`` and ``1.0.0`` are equal."""
    return (parsed.significant_release, parsed.prerelease, parsed.stage, parsed.stage_number)


class Place(NamedTuple):
    """Where a version stands: its sort key, its precedence and its parts."""

    key: str
    precedence: tuple[object, ...]
    parsed: ParsedVersion


@functools.lru_cache(maxsize=65536)
def place(version: str) -> Place:
    """The version's :func:`version_sort_key` and parse, remembered (resolutions compare the
    same few thousand strings again and again)."""
    parsed = parse_version(version)
    return Place(sort_key(parsed), _precedence(parsed), parsed)


@dataclass(frozen=True)
class Comparator:
    """``version <op> bound`` on SemVer precedence, ``bound`` a full version (``2.0.0-0``)."""

    op: Operator
    bound: str

    def holds(self, spot: Place) -> bool:
        bound = place(self.bound)
        if spot.precedence == bound.precedence:
            return self.op in (">=", "<=", "=")
        if self.op == "=":
            return False
        above = spot.key > bound.key
        return above if self.op in (">", ">=") else not above

    def admits_prereleases_of(self, version: str) -> bool:
        """True if this comparator names a prerelease of ``version``'s release numbers."""
        bound, mine = place(self.bound).parsed, place(version).parsed
        return bound.is_prerelease and bound.significant_release == mine.significant_release

    def __str__(self) -> str:
        return f"{self.op}{self.bound}"


@dataclass(frozen=True)
class VersionRange:
    """A parsed range: ``text`` as given, ``sets`` of comparators (any set may match; every
    comparator of a set must hold; an empty set matches every version).

    >>> r = parse_range("^1.2")
    >>> str(r), r.contains("1.9.0"), r.contains("2.0.0"), r.contains("1.3.0-rc.1")
    ('>=1.2.0 <2.0.0-0', True, False, False)
    """

    text: str
    sets: tuple[tuple[Comparator, ...], ...]

    def contains(self, version: str, *, include_prereleases: bool = False) -> bool:
        """True if ``version`` matches (see the module for the prerelease rule)."""
        return self.mismatch(version, include_prereleases=include_prereleases) is None

    def mismatch(self, version: str, *, include_prereleases: bool = False) -> str | None:
        """Why ``version`` does not match, or None when it does.

        >>> parse_range(">=1.0,<2").mismatch("2.1.0")
        "range: outside '>=1.0,<2' (>=1.0.0 <2.0.0-0)"
        """
        spot = place(version)
        if not spot.parsed.ordered:
            return f"range: {version!r} is not a SemVer version, so no range can place it"
        inside = [items for items in self.sets if all(c.holds(spot) for c in items)]
        if not inside:
            return f"range: outside {self.text!r} ({self})"
        if not spot.parsed.is_prerelease or include_prereleases:
            return None
        if any(c.admits_prereleases_of(version) for items in inside for c in items):
            return None
        parsed = spot.parsed
        release = f"{parsed.major}.{parsed.minor}.{parsed.patch}"
        return (
            f"prerelease: {self.text!r} names no prerelease of {release} "
            "(include_prereleases admits it)"
        )

    def __str__(self) -> str:
        return " || ".join(" ".join(map(str, items)) or "*" for items in self.sets)


def parse_range(text: str) -> VersionRange:
    """Parse a range; :class:`~..errors.InvalidRequestError` names the spec and the position.

    >>> str(parse_range("~1.2 || >=3.0.0-rc.1"))
    '>=1.2.0 <1.3.0-0 || >=3.0.0-rc.1'
    >>> parse_range("1.2.3 - 2.0.0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dc43_delta_store.errors.InvalidRequestError: ... at character 7 ('- 2.0.0'): hyphen ranges...
    """
    if not isinstance(text, str):
        raise InvalidRequestError(f"a version range is text, not {type(text).__name__}")
    if len(text) > _MAX_LENGTH:
        raise InvalidRequestError(
            f"version range of {len(text)} characters (at most {_MAX_LENGTH})"
        )
    sets: list[tuple[Comparator, ...]] = []
    items: list[Comparator] = []
    expect_item = True  # at the start, after "||" or ","
    position = 0
    while True:
        position = _skip_blanks(text, position)
        if position == len(text):
            if expect_item:
                _refuse(text, position, "expected a version" if text.strip() else "empty range")
            sets.append(tuple(items))
            return VersionRange(text, tuple(sets))
        if text.startswith("||", position):
            if expect_item:
                _refuse(text, position, "expected a version before '||'")
            sets.append(tuple(items))
            items, expect_item, position = [], True, position + 2
            continue
        if text[position] == ",":
            if expect_item:
                _refuse(text, position, "expected a version before ','")
            expect_item, position = True, position + 1
            continue
        if text[position] == "-":
            _refuse(text, position, "hyphen ranges are not supported; write '>=A <=B'")
        dotted = _DOTTED_ITEM.match(text, position)
        if dotted and (dotted.end() == len(text) or text[dotted.end()] in " \t,|"):
            version = dotted["version"]
            if not parse_version(version).ordered:
                _refuse(text, dotted.start("version"), f"{version!r} is not a version")
            items.append(Comparator(dotted["op"] or "=", version))  # type: ignore[arg-type]
            expect_item, position = False, dotted.end()
            continue
        match = _ITEM.match(text, position)
        if match is None:
            operator = _OPERATOR.match(text, position)
            if operator:
                after = _skip_blanks(text, operator.end())
                _refuse(text, after, f"expected a version after {operator[0]!r}")
            _refuse(text, position, "expected a version, optionally after ^, ~, >=, <=, >, < or =")
        end = match.end()
        if text.startswith(".", end):
            _refuse(text, end, "^, ~ and wildcards take at most three numbers (major.minor.patch)")
        if end < len(text) and text[end] not in " \t,|":
            _refuse(text, end, "expected ',', '||', a blank or the end after a version")
        items.extend(_comparators(text, match))
        expect_item, position = False, end


def _skip_blanks(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t":
        position += 1
    return position


def _refuse(text: str, position: int, problem: str) -> NoReturn:
    rest = text[position : position + 20]
    where = f"character {position + 1} ({rest!r})" if rest else f"the end (character {position})"
    raise InvalidRequestError(f"version range {text!r} is not valid at {where}: {problem}")


def _comparators(text: str, match: re.Match[str]) -> list[Comparator]:
    """The comparisons an item stands for."""
    op = match["op"] or "="
    start = match.start("version")
    written = match["version"].lstrip("vV")
    core, _, build = written.partition("+")
    numbers, dash, pre = core.partition("-")
    parts = numbers.split(".")
    wildcard = next((i for i, part in enumerate(parts) if part in _WILDCARD), len(parts))
    if any(part not in _WILDCARD for part in parts[wildcard:]):
        _refuse(text, start, "a number cannot follow a wildcard ('1.x.3')")
    if (dash or build) and wildcard < 3:
        _refuse(text, start, "a prerelease or build needs all three numbers ('1.2.3-rc.1')")
    given = [int(part) for part in parts[:wildcard]]
    if op in ("^", "~") and not given:
        _refuse(text, start, f"'{op}' needs a version number, not a wildcard")
    full = None
    if dash or build:
        full = ".".join(map(str, given)) + (f"-{pre}" if dash else "")
        if not parse_version(full + (f"+{build}" if build else "")).ordered:
            _refuse(text, start, f"{written!r} is not a SemVer version")
    comparators = _bounded(op, given, full if dash else None)
    if not all(parse_version(c.bound).ordered for c in comparators):
        _refuse(text, start, "a number has more digits than versions may have")
    return comparators


def _bounded(op: str, given: list[int], prerelease: str | None) -> list[Comparator]:
    """Comparators for ``op`` on the ``given`` numbers (1 to 3; fewer means wildcards)."""
    low = _text(given) if prerelease is None else prerelease
    if op == "^":
        return [Comparator(">=", low), Comparator("<", _caret_ceiling(given))]
    if op == "~":
        minor = [given[0] + 1] if len(given) == 1 else [given[0], given[1] + 1]
        return [Comparator(">=", low), Comparator("<", _text(minor) + "-0")]
    if len(given) == 3 or prerelease is not None:
        return [Comparator(op, low)]  # type: ignore[arg-type]
    if not given:  # "*" with any operator but > and <: every version; > * and < *: none
        return [Comparator("<", "0.0.0-0")] if op in (">", "<") else []
    ceiling = _text(_next(given)) + "-0"
    if op == "=":
        return [Comparator(">=", low), Comparator("<", ceiling)]
    if op == ">":
        return [Comparator(">=", _text(_next(given)))]
    if op == ">=":
        return [Comparator(">=", low)]
    if op == "<":
        return [Comparator("<", low + "-0")]
    return [Comparator("<", ceiling)]  # "<="


def _caret_ceiling(given: list[int]) -> str:
    """The first version ``^given`` excludes: the next change of the leftmost non-zero part."""
    padded = [*given, 0, 0][:3]
    for index, number in enumerate(padded[: len(given)]):
        if number != 0 or index == len(given) - 1:
            return _text(_next(padded[: index + 1])) + "-0"
    raise AssertionError("unreachable: given has at least one number")


def _next(given: list[int]) -> list[int]:
    return [*given[:-1], given[-1] + 1]


def _text(numbers: list[int]) -> str:
    return ".".join(str(n) for n in [*numbers, 0, 0, 0][:3])
