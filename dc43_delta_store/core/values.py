"""Values of metadata columns and of ``as_of``: checked, and read from text by documented
spellings only (nothing is guessed: ``maybe`` is not a boolean, ``1e3`` not a long).

Text spellings, for the command line and for filters given as text:

- ``boolean``: ``true`` or ``false`` (any case);
- ``long``: a decimal integer from -2**63 to 2**63-1 (``42``, ``-7``);
- ``double``: a finite decimal number (``1.5``, ``-2``, ``1e3``);
- ``date``: ``YYYY-MM-DD``;
- ``timestamp``: RFC 3339 with a time zone (``2024-05-01T12:00:00Z``, ``...+02:00``);
- ``string``: the text itself.

>>> from_text("long", "42"), from_text("boolean", "TRUE"), from_text("date", "2024-05-01")
(42, True, datetime.date(2024, 5, 1))
>>> from_text("boolean", "maybe")
Traceback (most recent call last):
...
ValueError: 'maybe' is not a boolean: write true or false
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "LONG_RANGE",
    "MAX_TABLE_VERSION",
    "as_of_value",
    "check_value",
    "filter_value",
    "from_text",
]

LONG_RANGE = (-(2**63), 2**63 - 1)
MAX_TABLE_VERSION = 2**63 - 1
_LONG = re.compile(r"[-+]?[0-9]+", re.ASCII)
_DOUBLE = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:[Zz]|[-+][0-9]{2}:[0-9]{2})",
    re.ASCII,
)
_LOCAL_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?",
    re.ASCII,
)
_EXACT_FLOAT_INT = 2**53


def from_text(kind: str, text: str) -> Any:
    """``text`` as a value of column type ``kind``; ``ValueError`` saying what is accepted."""
    if kind == "boolean":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"{text!r} is not a boolean: write true or false")
        return lowered == "true"
    if kind == "long":
        if not _LONG.fullmatch(text):
            raise ValueError(f"{text!r} is not a long: write a decimal integer such as 42")
        return check_value("long", int(text))
    if kind == "double":
        if not _DOUBLE.fullmatch(text):
            raise ValueError(f"{text!r} is not a double: write a decimal number such as 1.5")
        return check_value("double", float(text))
    if kind == "date":
        try:
            if not _DATE.fullmatch(text):
                raise ValueError
            return _dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date: write YYYY-MM-DD") from None
    if kind == "timestamp":
        try:
            if not _TIMESTAMP.fullmatch(text):
                raise ValueError
            return _dt.datetime.fromisoformat(_zulu(text))
        except ValueError:
            raise ValueError(
                f"{text!r} is not a timestamp: write RFC 3339 with a time zone, such as "
                "2024-05-01T12:00:00Z"
            ) from None
    if kind == "string":
        return check_value("string", text)
    raise TypeError(f"{kind!r} is not a column type")


def check_value(kind: str, value: Any) -> Any:
    """``value`` if it fits a column of type ``kind``, else ``ValueError`` saying why."""
    if kind == "string" and isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"{value!r} holds an unpaired surrogate at position {exc.start + 1}"
            ) from None
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "long" and isinstance(value, int) and not isinstance(value, bool):
        if not LONG_RANGE[0] <= value <= LONG_RANGE[1]:
            raise ValueError(f"{_short(value)} is outside a long's range (-2**63 to 2**63-1)")
        return value
    if kind == "double" and isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, int) and abs(value) > _EXACT_FLOAT_INT:
            raise ValueError(f"{_short(value)} cannot be held exactly by a double")
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number")
        return float(value)
    if kind == "date" and isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    if kind == "timestamp" and isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{value.isoformat()} has no time zone: give an aware datetime")
        return value.astimezone(_dt.UTC)
    raise ValueError(f"got {type(value).__name__} {_short(value)}")


def filter_value(kind: str, wanted: Any) -> Any:
    """A filter value for a column of type ``kind``: text is converted by the spellings
    above, a list element by element; anything ambiguous raises ``ValueError``."""
    if wanted is None:
        return None
    if isinstance(wanted, str):
        return from_text(kind, wanted)
    if isinstance(wanted, (list, tuple, set, frozenset)):
        return [filter_value(kind, item) for item in _ordered(wanted)]
    if isinstance(wanted, (Mapping, bytes, bytearray)) or not _scalar(wanted):
        raise ValueError(
            f"a {type(wanted).__name__} is not a filter value: give a value, a list of values "
            "or None"
        )
    return check_value(kind, wanted)


def as_of_value(as_of: Any) -> int | _dt.datetime:
    """A table version (0 to 2**63-1) or an aware point in time; naive datetimes and times
    written without an offset are local time, as Python takes them (``datetime.now()``)."""
    if isinstance(as_of, bool) or not isinstance(as_of, (int, _dt.datetime, str)):
        raise ValueError(
            "as_of must be a table version (int) or a time (datetime or RFC 3339 text), "
            f"not {type(as_of).__name__}"
        )
    if isinstance(as_of, int):
        if not 0 <= as_of <= MAX_TABLE_VERSION:
            raise ValueError(f"as_of={_short(as_of)} is not a table version (0 or more)")
        return as_of
    given = as_of
    if isinstance(as_of, str):
        text = as_of.strip()
        if _TIMESTAMP.fullmatch(text):
            text = _zulu(text)
        elif _LOCAL_TIME.fullmatch(text):
            text = text.upper().replace("T", " ")
        else:
            raise ValueError(
                f"as_of={given!r} is neither a table version nor an RFC 3339 time such as "
                "2024-05-01T12:00:00Z"
            )
        try:
            as_of = _dt.datetime.fromisoformat(text)
        except ValueError as exc:  # a day, hour... out of its range
            raise ValueError(f"as_of={given!r} is not a time ({exc})") from None
    try:
        point: _dt.datetime = as_of.astimezone(_dt.UTC)  # a naive datetime is local time
        return point
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"as_of={given!r} is out of range ({exc})") from None


def _zulu(text: str) -> str:
    return text[:-1] + "+00:00" if text[-1] in "Zz" else text


def _scalar(value: Any) -> bool:
    return isinstance(value, (bool, int, float, _dt.date, _dt.datetime))


def _ordered(values: Iterable[Any]) -> list[Any]:
    items = list(values)
    if isinstance(values, (set, frozenset)):
        try:
            return sorted(items)
        except TypeError:
            return items
    return items


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"a {len(text)}-character value"
