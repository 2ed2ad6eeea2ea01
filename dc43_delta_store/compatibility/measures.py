"""Which way a number moved: quality thresholds, SLA values with units, constraint bounds.

Each function answers ``"tightened"`` / ``"loosened"`` (or ``"strengthened"`` /
``"weakened"`` for SLAs), ``"same"`` when both say the same thing in other words, or
``"changed"`` when there is no direction to tell.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from typing import Any, Literal

__all__ = [
    "OPERATORS",
    "Direction",
    "compare_values",
    "quality_direction",
    "sla_direction",
]

Direction = Literal["tightened", "loosened", "same", "changed"]

OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeGreaterThanOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeLessThanOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)
"""ODCS quality operators (and the ``...ThanOrEqualTo`` spellings found in the wild)."""

Bound = tuple[float, bool]  # value, inclusive
Interval = tuple[Bound, Bound]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().rstrip("%"))
        except ValueError:
            return None
    return None


def _instant(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return moment.timestamp()


def compare_values(old: Any, new: Any) -> int | None:
    """-1, 0 or 1 as ``new`` is below, equal to or above ``old`` (numbers, or ISO dates and
    times); None when they do not compare.

    >>> compare_values(255, 100), compare_values("2024-01-01", "2025-06-30")
    (-1, 1)
    """
    for parse in (_number, _instant):
        a, b = parse(old), parse(new)
        if a is not None and b is not None:
            return (b > a) - (b < a)
    return None


def _interval(operators: Mapping[str, Any]) -> Interval | None:
    """The values a quality check accepts, or None if not one numeric interval."""
    low: Bound = (-math.inf, True)
    high: Bound = (math.inf, True)
    for name, value in operators.items():
        if name.startswith("mustNot"):
            return None  # a hole in the range: not one interval
        if name == "mustBeBetween":
            pair = [_number(v) for v in value] if isinstance(value, list) else []
            if len(pair) != 2 or pair[0] is None or pair[1] is None:
                return None
            low = max(low, (min(pair[0], pair[1]), True), key=_low_key)
            high = min(high, (max(pair[0], pair[1]), True), key=_high_key)
            continue
        number = _number(value)
        if number is None:
            return None
        if name == "mustBe":
            low = max(low, (number, True), key=_low_key)
            high = min(high, (number, True), key=_high_key)
        elif name.startswith("mustBeGreater"):
            low = max(low, (number, name != "mustBeGreaterThan"), key=_low_key)
        elif name.startswith("mustBeLess"):
            high = min(high, (number, name != "mustBeLessThan"), key=_high_key)
    return low, high


def _low_key(bound: Bound) -> tuple[float, int]:
    return (bound[0], 0 if bound[1] else 1)  # an exclusive lower bound is stricter


def _high_key(bound: Bound) -> tuple[float, int]:
    return (bound[0], 1 if bound[1] else 0)  # an exclusive upper bound is stricter


def _within(inner: Interval, outer: Interval) -> bool:
    return _low_key(inner[0]) >= _low_key(outer[0]) and _high_key(inner[1]) <= _high_key(outer[1])


def quality_direction(old: Mapping[str, Any], new: Mapping[str, Any]) -> Direction:
    """How the accepted range of a quality check's measure moved between two operator sets.

    >>> quality_direction({"mustBeGreaterThan": 1000}, {"mustBeGreaterThan": 5000})
    'tightened'
    >>> quality_direction({"mustBe": 0}, {"mustBeLessThan": 10})
    'loosened'
    """
    if dict(old) == dict(new):
        return "same"
    a, b = _interval(old), _interval(new)
    if a is None or b is None:
        return "changed"
    inner, outer = _within(b, a), _within(a, b)
    if inner and outer:
        return "same"
    if inner:
        return "tightened"
    if outer:
        return "loosened"
    return "changed"


# -- service levels ------------------------------------------------------------------------

_SECONDS = {
    "ms": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "week": 604800, "weeks": 604800,
    "mo": 2629800, "mon": 2629800, "month": 2629800, "months": 2629800,  # a twelfth of a year
    "y": 31557600, "yr": 31557600, "yrs": 31557600, "year": 31557600, "years": 31557600,
}  # fmt: skip
_PERCENT = {"%", "percent", "pct"}
SMALLER_IS_STRONGER = frozenset(
    {"latency", "frequency", "freshness", "errorrate", "timetodetect", "timetonotify",
     "timetorepair", "rpo", "rto", "mttr", "mttd"}
)  # fmt: skip
LARGER_IS_STRONGER = frozenset(
    {"retention", "availability", "throughput", "endofsupport", "endoflife"}
)  # fmt: skip
_TIME_OF_DAY = re.compile(
    r"(?P<h>\d{1,2}):(?P<m>\d{2})(?::\d{2})?\s*(?:(?P<z>Z)|(?P<sign>[+-])(?P<oh>\d{2}):?(?P<om>\d{2}))?"
)


def _quantity(value: Any, unit: Any) -> tuple[float, str] | None:
    """``value`` in base units (seconds, percent, or plain) with the kind of unit."""
    number = _number(value)
    if number is None:
        return None
    if isinstance(value, str) and value.strip().endswith("%"):
        return number, "percent"
    if unit is None:
        return number, "plain"
    text = str(unit).strip().lower()
    if text in _PERCENT:
        return number, "percent"
    if text in _SECONDS:
        return number * _SECONDS[text], "seconds"
    return None


def _minutes_utc(value: Any) -> float | None:
    match = _TIME_OF_DAY.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    minutes = int(match["h"]) * 60 + int(match["m"])
    if match["sign"]:
        offset = int(match["oh"]) * 60 + int(match["om"])
        minutes -= offset if match["sign"] == "+" else -offset
    return float(minutes)


def sla_direction(prop: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Direction:
    """``"tightened"`` for a stronger promise (to consumers), ``"loosened"`` for a weaker one.

    >>> sla_direction("latency", {"value": 1, "unit": "d"}, {"value": 4, "unit": "h"})
    'tightened'
    >>> sla_direction("retention", {"value": 3, "unit": "y"}, {"value": 6, "unit": "mo"})
    'loosened'
    """
    name = prop.replace("_", "").replace("-", "").lower()
    old_value, new_value = old.get("value"), new.get("value")
    if name == "timeofavailability":
        a, b = _minutes_utc(old_value), _minutes_utc(new_value)
        order = None if a is None or b is None else (b > a) - (b < a)
        smaller_better = True
    elif name in SMALLER_IS_STRONGER or name in LARGER_IS_STRONGER:
        qa, qb = _quantity(old_value, old.get("unit")), _quantity(new_value, new.get("unit"))
        if qa is not None and qb is not None and qa[1] == qb[1]:
            order = (qb[0] > qa[0]) - (qb[0] < qa[0])
        elif old.get("unit") == new.get("unit"):
            order = compare_values(old_value, new_value)
        else:
            order = None
        smaller_better = name in SMALLER_IS_STRONGER
    else:
        return "changed"
    if order is None:
        return "changed"
    if order == 0:
        return "same" if old.get("valueExt") == new.get("valueExt") else "changed"
    return "tightened" if (order < 0) == smaller_better else "loosened"
