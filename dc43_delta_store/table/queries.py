"""Polars expressions for the store's lookups, and decoding what they return."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from ..core.metadata import type_name
from ..core.records import contract_key
from ..core.values import filter_value
from ..errors import IncompatibleTableError, InvalidRequestError

__all__ = [
    "FilterValue",
    "checked_filters",
    "decode_document",
    "filter_expr",
    "frozen_filters",
    "lookup",
]

FilterValue = str | bool | int | float | None | Sequence[Any]


def lookup(contract_id: str, columns: Mapping[str, Any]) -> pl.Expr:
    """Rows of ``contract_id``; with contract_key, files of other keys are skipped by stats."""
    match = pl.col("contract_id") == contract_id
    if "contract_key" not in columns:
        return match
    key = pl.col("contract_key")
    return (key.is_null() | (key == contract_key(contract_id))) & match


def checked_filters(filters: Mapping[str, Any], columns: Mapping[str, Any]) -> dict[str, Any]:
    """Filter values as the columns' types: text converted by the documented spellings
    (``"5"`` for a long, ``"true"`` for a boolean), anything ambiguous refused before a scan.
    """
    checked: dict[str, Any] = {}
    for column, wanted in filters.items():
        if column not in columns:
            raise InvalidRequestError(
                f"unknown filter column {column!r}; the table has " + ", ".join(sorted(columns))
            )
        kind = type_name(columns[column])
        if kind is None:
            raise InvalidRequestError(
                f"filter on {column!r}: its type {columns[column]} cannot be filtered on"
            )
        try:
            checked[column] = filter_value(kind, wanted)
        except ValueError as exc:
            raise InvalidRequestError(f"filter on {column!r} (a {kind} column): {exc}") from None
    return checked


def filter_expr(column: str, wanted: Any) -> pl.Expr:
    """Rows whose ``column`` equals ``wanted`` (a value from :func:`checked_filters`), is one
    of a list of them, or is null for None."""
    if wanted is None:
        return pl.col(column).is_null()
    if isinstance(wanted, list):
        return pl.col(column).is_in(wanted)
    return pl.col(column) == pl.lit(wanted)


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
