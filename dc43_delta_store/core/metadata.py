"""Governance metadata columns: declared by users, typed, updatable without touching payloads.

A metadata column is any column beyond the ones this package derives from the document:
``owner``, ``review_ticket``, ``collibra_status``... plus the built-in ``status``, which starts
as the document's ``status`` and may then be synced from a catalog. Types are Delta's
primitive names.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from ..errors import IncompatibleTableError, InvalidRequestError
from .table_schema import TABLE_SCHEMA

__all__ = [
    "DERIVED",
    "METADATA_TYPES",
    "check_declared",
    "check_values",
    "parse_columns",
    "type_name",
]

METADATA_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "boolean": pa.bool_(),
    "long": pa.int64(),
    "double": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}
DERIVED = frozenset(TABLE_SCHEMA.names) - {"status"}
"""Columns that mirror the document or the write; never set by hand."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}", re.ASCII)
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "long": (int,),
    "double": (int, float),
    "date": (_dt.date,),
    "timestamp": (_dt.datetime,),
}


def parse_columns(spec: Mapping[str, str]) -> dict[str, pa.DataType]:
    """Check a ``{name: type}`` declaration; return ``{name: Arrow type}``.

    >>> parse_columns({"owner": "string", "reviewed_on": "date"})["reviewed_on"]
    DataType(date32[day])
    """
    columns: dict[str, pa.DataType] = {}
    for name, type_name in spec.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InvalidRequestError(
                f"metadata column name {name!r} must be letters, digits and '_', "
                "not starting with a digit"
            )
        if name in DERIVED or name == "status":
            raise InvalidRequestError(f"{name!r} is a built-in column of the contract table")
        if type_name not in METADATA_TYPES:
            raise InvalidRequestError(
                f"metadata column {name!r}: type {type_name!r} is not one of "
                + ", ".join(METADATA_TYPES)
            )
        columns[name] = METADATA_TYPES[type_name]
    return columns


def type_name(dtype: pa.DataType) -> str | None:
    """The metadata type name of an Arrow type, or None if it is not one of them."""
    for name, candidate in METADATA_TYPES.items():
        if (
            dtype.equals(candidate)
            or (
                name == "string"
                and (pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype))
            )
            or (name == "timestamp" and pa.types.is_timestamp(dtype) and dtype.tz is not None)
        ):
            return name
    return None


def check_declared(declared: Mapping[str, pa.DataType], table: Mapping[str, pa.DataType]) -> None:
    """A declared column that the table holds with another type is an error."""
    for name, dtype in declared.items():
        if name in table and type_name(table[name]) != type_name(dtype):
            raise IncompatibleTableError(
                f"metadata column {name!r} is declared {type_name(dtype)} but the table holds "
                f"it as {table[name]}"
            )


def check_values(
    values: Mapping[str, Any], table: Mapping[str, pa.DataType], *, what: str
) -> dict[str, Any]:
    """Check ``values`` for metadata columns of ``table``; None clears a value."""
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if name in DERIVED:
            raise InvalidRequestError(
                f"{what}: {name!r} comes from the contract document and cannot be set"
            )
        if name == "status" and name not in table:
            raise InvalidRequestError(
                f"{what}: the table has no status column (a table other tools wrote, such as "
                "dc43's seven columns); `dc43-delta-store adopt --apply` adds it"
            )
        if name not in table:
            metadata = sorted(set(table) - DERIVED)
            raise InvalidRequestError(
                f"{what}: unknown metadata column {name!r}; the table has "
                + (", ".join(metadata) or "none")
                + " (declare new ones with add_metadata_columns)"
            )
        kind = type_name(table[name])
        if value is not None and (
            kind is None
            or not isinstance(value, _PYTHON_TYPES[kind])
            or (kind in ("long", "double") and isinstance(value, bool))
            or (kind == "date" and isinstance(value, _dt.datetime))
        ):
            raise InvalidRequestError(
                f"{what}: {name!r} is a {kind or table[name]} column, got "
                f"{type(value).__name__} {value!r}"
            )
        if isinstance(value, _dt.datetime) and kind == "timestamp" and value.tzinfo is None:
            raise InvalidRequestError(f"{what}: {name!r} needs a timezone-aware datetime")
        checked[name] = value
    return checked
