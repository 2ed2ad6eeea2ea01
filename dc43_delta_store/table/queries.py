"""Polars expressions for the store's lookups, and decoding what they return."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from ..core.records import contract_key
from ..errors import IncompatibleTableError, InvalidRequestError

__all__ = ["FilterValue", "decode_document", "filter_expr", "frozen_filters", "lookup"]

FilterValue = str | bool | int | float | None | Sequence[Any]


def lookup(contract_id: str, columns: Mapping[str, Any]) -> pl.Expr:
    """Rows of ``contract_id``; with contract_key, files of other keys are skipped by stats."""
    match = pl.col("contract_id") == contract_id
    if "contract_key" not in columns:
        return match
    key = pl.col("contract_key")
    return (key.is_null() | (key == contract_key(contract_id))) & match


def filter_expr(column: str, wanted: FilterValue, columns: Mapping[str, Any]) -> pl.Expr:
    if column not in columns:
        raise InvalidRequestError(
            f"unknown filter column {column!r}; the table has " + ", ".join(sorted(columns))
        )
    if wanted is None:
        return pl.col(column).is_null()
    if isinstance(wanted, (str, bool, int, float)):
        return pl.col(column) == wanted
    return pl.col(column).is_in(list(wanted))


def frozen_filters(filters: Mapping[str, FilterValue]) -> tuple[tuple[str, Any], ...]:
    return tuple(
        sorted(
            (name, tuple(value) if isinstance(value, (list, tuple, set, frozenset)) else value)
            for name, value in filters.items()
        )
    )


def decode_document(payload: str, contract_id: str, version: str) -> dict[str, Any]:
    try:
        document = json.loads(payload)
    except ValueError as exc:
        raise IncompatibleTableError(
            f"contract {contract_id!r} version {version!r}: the stored json column is not "
            f"valid JSON ({exc})"
        ) from exc
    if not isinstance(document, dict):
        raise IncompatibleTableError(
            f"contract {contract_id!r} version {version!r}: the stored json is not an object"
        )
    return document
