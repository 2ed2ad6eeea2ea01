"""Numbers read from JSON or YAML text that can be stored and read back as written — or not.

``1e-400`` reads as ``0.0`` and ``1e400`` as infinity; an integer of more than 4300 digits
is one Python refuses to turn back into text by default, so a stored one could not be read
by another process. Such numbers are not turned into Python values: they become a
:class:`BadNumber`, which :func:`~.documents.to_json_tree` refuses naming its JSON path.

>>> float_from_text("1.5"), int_from_text("-7")
(1.5, -7)
>>> float_from_text("1e-400").reason
'is too small for a 64-bit float and would be stored as 0'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["MAX_INT_DIGITS", "BadNumber", "float_from_text", "int_from_text"]

MAX_INT_DIGITS = 4300
"""Longest integer accepted: Python's default limit for turning integers into text."""

_NONZERO_MANTISSA = re.compile(r"[1-9]", re.ASCII)


@dataclass(frozen=True)
class BadNumber:
    """A number that would not survive being stored: ``text`` as written, and why."""

    text: str
    reason: str
    line: int | None = None

    def describe(self) -> str:
        shown = self.text if len(self.text) <= 40 else f"a {len(self.text)}-character number"
        where = f" at line {self.line}" if self.line is not None else ""
        return f"{shown}{where} {self.reason}"


def int_from_text(text: str, line: int | None = None) -> int | BadNumber:
    """A decimal integer, or a :class:`BadNumber` beyond 4300 digits."""
    digits = len(text.lstrip("+-"))
    if digits > MAX_INT_DIGITS:
        return BadNumber(
            text, f"is an integer of {digits} digits, above the {MAX_INT_DIGITS} allowed", line
        )
    return int(text)


def float_from_text(text: str, line: int | None = None) -> float | BadNumber:
    """A decimal float, or a :class:`BadNumber` when it overflows or underflows to zero."""
    value = float(text)
    if math.isinf(value):
        return BadNumber(text, "is beyond the largest 64-bit float (about 1.8e308)", line)
    mantissa = re.split("[eE]", text)[0]
    if value == 0.0 and _NONZERO_MANTISSA.search(mantissa):
        return BadNumber(text, "is too small for a 64-bit float and would be stored as 0", line)
    return value
