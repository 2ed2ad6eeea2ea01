"""Polars expressions for the store's lookups, and decoding what they return.

Rows other tools wrote may lack what a read needs: a null ``version`` or ``json``, or a
``json`` that is not a JSON object. Every read skips them (:func:`readable_rows`,
:func:`payload_document`) rather than fail on them; ``check`` reports them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl
from deltalake import DeltaTable

from ..core.duplicates import StoredRow, one_row
from ..core.metadata import type_name
from ..core.records import contract_key
from ..core.values import filter_value
from ..errors import IncompatibleTableError, InvalidRequestError
from .scanning import scan_frame

__all__ = [
    "DOCUMENT_FIELDS",
    "FilterValue",
    "checked_filters",
    "decode_document",
    "document_column",
    "filter_expr",
    "frozen_filters",
    "lookup",
    "object_like",
    "one_copy",
    "payload_document",
    "readable_rows",
]

FilterValue = str | bool | int | float | None | Sequence[Any]

DOCUMENT_FIELDS = {
    "status": "$.status",
    "api_version": "$.apiVersion",
    "domain": "$.domain",
    "data_product": "$.dataProduct",
    "tenant": "$.tenant",
    "kind": "$.kind",
}
"""Columns whose values come from the document, and where in the JSON they are."""
_DERIVED = ("status", "api_version", "domain", "data_product")  # text columns of the table


def lookup(contract_id: str, columns: Mapping[str, Any]) -> pl.Expr:
    """Rows of ``contract_id``; with contract_key, files of other keys are skipped by stats."""
    match = pl.col("contract_id") == contract_id
    if "contract_key" not in columns:
        return match
    key = pl.col("contract_key")
    return (key.is_null() | (key == contract_key(contract_id))) & match


def readable_rows(frame: pl.LazyFrame, columns: Sequence[str]) -> pl.LazyFrame:
    """``frame`` without the rows lacking a ``version``, or a ``json`` where ``columns``
    (those a read wants) hold it: rows other writers left so, which no read answers with."""
    wanted = ["version", *(["json"] if "json" in columns else [])]
    return frame.filter(pl.all_horizontal(pl.col(name).is_not_null() for name in wanted))


def object_like(payloads: pl.Expr) -> pl.Expr:
    """Whether each text holds a JSON object, by Polars' JSON reader (a column of booleans,
    false for null). Vectorised, for whole-table scans: every text :func:`payload_document`
    refuses, it refuses too (a property test holds it to that); the few it refuses are then
    judged by :func:`payload_document`."""
    return payloads.str.json_path_match("$").str.starts_with("{").fill_null(False)


def payload_document(payload: str | None) -> dict[str, Any] | None:
    """The document a ``json`` value holds, or None when it holds none (null, not JSON,
    not a JSON object): a row reads skip.

    >>> payload_document('{"id": "a"}'), payload_document("{bad"), payload_document("[1]")
    ({'id': 'a'}, None, None)
    """
    if not isinstance(payload, str):
        return None
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def one_copy(
    dt: DeltaTable,
    contract_id: str,
    version: str,
    columns: Mapping[str, Any],
    collect: Callable[[pl.LazyFrame], pl.DataFrame],
) -> str | None:
    """The payload of a key other writers stored several times, if every readable copy
    holds the same content; else :class:`~..errors.DuplicateVersionError` (see
    :mod:`..core.duplicates`); None when no copy is readable. Lookups call it only when they
    found more than one row for the key."""
    match = lookup(contract_id, columns) & (pl.col("version") == version)
    found = collect(scan_frame(dt).filter(match).select("version", "fingerprint", "json"))
    rows = [StoredRow(*r) for r in found.iter_rows() if payload_document(r[2]) is not None]
    row = one_row(contract_id, version, rows)
    return None if row is None else row.payload


def checked_filters(filters: Mapping[str, Any], columns: Mapping[str, Any]) -> dict[str, Any]:
    """Filter values as the columns' types: text converted by the documented spellings
    (``"5"`` for a long, ``"true"`` for a boolean), anything ambiguous refused before a scan.
    """
    checked: dict[str, Any] = {}
    for column, wanted in filters.items():
        if column not in columns and column not in DOCUMENT_FIELDS:
            raise InvalidRequestError(
                f"unknown filter column {column!r}; the table has " + ", ".join(sorted(columns))
            )
        kind = type_name(columns[column]) if column in columns else "string"
        if kind is None:
            raise InvalidRequestError(
                f"filter on {column!r}: its type {columns[column]} cannot be filtered on"
            )
        try:
            checked[column] = filter_value(kind, wanted)
        except ValueError as exc:
            raise InvalidRequestError(f"filter on {column!r} (a {kind} column): {exc}") from None
    return checked


def filter_expr(column: str, wanted: Any, columns: Mapping[str, Any]) -> pl.Expr:
    """Rows whose ``column`` equals ``wanted`` (a value from :func:`checked_filters`), is one
    of a list of them, or is null for None; document fields the table lacks are read from
    the JSON (see :func:`document_column`)."""
    values = document_column(column, columns)
    if values is None:
        raise InvalidRequestError(
            f"unknown filter column {column!r}; the table has " + ", ".join(sorted(columns))
        )
    if wanted is None:
        return values.is_null()
    if isinstance(wanted, list):
        return values.is_in(wanted)
    return values == pl.lit(wanted)


def document_column(column: str, columns: Mapping[str, Any]) -> pl.Expr | None:
    """``column``'s values, read from the document where the table does not hold them.

    For the fields of :data:`DOCUMENT_FIELDS`: a table without the column (dc43's seven
    columns) reads it from ``json``; in a table with it, rows other writers added without
    the derived columns (``contract_key`` null) and left it unset read it from ``json`` too
    (a value set since wins), and only those rows are parsed. Other columns as they are;
    None for a column neither the table nor the document has.

    >>> columns = {"contract_id": str, "json": str}
    >>> frame = pl.DataFrame({"json": ['{"status": "active"}']})
    >>> frame.select(document_column("status", columns)).item()
    'active'
    """
    path = DOCUMENT_FIELDS.get(column)
    if column not in columns:
        return None if path is None else pl.col("json").str.json_path_match(path).alias(column)
    if column not in _DERIVED or "contract_key" not in columns:
        return pl.col(column)
    rows = pl.struct(column, "contract_key", "json")
    return rows.map_batches(
        lambda batch: _filled_from_json(batch, column, DOCUMENT_FIELDS[column]),
        return_dtype=pl.String,
        is_elementwise=True,
    ).alias(column)


def _filled_from_json(batch: pl.Series, column: str, path: str) -> pl.Series:
    rows = batch.struct.unnest()
    values = rows[column].cast(pl.String)
    unset = (rows["contract_key"].is_null() & values.is_null()).arg_true()
    if unset.len():
        values = values.scatter(unset, rows["json"].gather(unset).str.json_path_match(path))
    return values


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
    except (ValueError, RecursionError) as exc:
        raise IncompatibleTableError(
            f"contract {contract_id!r} version {version!r}: the stored json column is not "
            f"valid JSON ({exc})"
        ) from exc
    if not isinstance(document, dict):
        raise IncompatibleTableError(
            f"contract {contract_id!r} version {version!r}: the stored json is not an object"
        )
    return document
