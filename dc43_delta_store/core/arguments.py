"""Checks of plain arguments of the public API: modes, counts, sizes, iterables.

Each refusal is an :class:`~.errors.InvalidRequestError` naming the argument.

>>> check_number("limit", 0, low=1, whole=True)
Traceback (most recent call last):
...
dc43_delta_store.errors.InvalidRequestError: limit must be a whole number of at least 1, not 0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from ..errors import InvalidRequestError
from .validation import ValidationMode

__all__ = ["check_number", "contracts_iterable", "validation_mode"]


def validation_mode(value: Any) -> ValidationMode:
    if value not in ("strict", "warn", "off"):
        raise InvalidRequestError(f"validation must be 'strict', 'warn' or 'off', not {value!r}")
    return cast(ValidationMode, value)


def check_number(
    name: str, value: Any, *, low: float, high: float | None = None, whole: bool = False
) -> None:
    ceiling = float("inf") if high is None else high
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (whole and not isinstance(value, int))
        or not low <= value <= ceiling  # NaN fails too
    ):
        what = "a whole number" if whole else "a number"
        upper = f" and at most {_figure(high)}" if high is not None else ""
        raise InvalidRequestError(
            f"{name} must be {what} of at least {_figure(low)}{upper}, not {value!r}"
        )


def _figure(bound: float) -> str:
    """``9,223,372,036,854,775,807`` exactly (a float would round it)."""
    return f"{bound:,}" if isinstance(bound, int) else f"{bound:,.0f}"


def contracts_iterable(contracts: Iterable[Any]) -> Iterable[Any]:
    """``contracts``, refusing a single contract or text passed where a list is wanted."""
    if isinstance(contracts, (str, bytes, Mapping)) or not isinstance(contracts, Iterable):
        raise InvalidRequestError(
            "put_many takes an iterable of contracts (a list of paths, mappings, texts...), "
            f"not a single {type(contracts).__name__}; use put() for one"
        )
    return contracts
