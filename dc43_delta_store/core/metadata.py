"""Governance metadata columns: declared by users, typed, updatable without touching payloads.

A metadata column is any column beyond the ones this package derives from the document:
``owner``, ``review_ticket``, ``collibra_status``... plus the built-in ``status``, which starts
as the document's ``status`` and may then be synced from a catalog. Types are Delta's
primitive names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from ..errors import IncompatibleTableError, InvalidRequestError
from .table_schema import TABLE_SCHEMA
from .values import check_value

__all__ = [
    "DERIVED",
    "METADATA_TYPES",
    "RESERVED",
    "case_clashes",
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
RESERVED = frozenset({*TABLE_SCHEMA.names, "tenant", "kind"})
"""Names no metadata column may take, in any case: the table's own columns and the ones the
SQL views read from the payload."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}", re.ASCII)


def parse_columns(
    spec: Mapping[str, str], existing: Mapping[str, Any] | None = None
) -> dict[str, pa.DataType]:
    """Check a ``{name: type}`` declaration; return ``{name: Arrow type}``.

    Names are compared without case, as Delta, Spark and Unity Catalog do: a name that
    differs from a column of ``existing`` (or another declared one) only in case is refused.

    >>> parse_columns({"owner": "string", "reviewed_on": "date"})["reviewed_on"]
    DataType(date32[day])
    """
    if not isinstance(spec, Mapping):
        raise InvalidRequestError(
            f"metadata columns are a mapping of name to type, not {type(spec).__name__}"
        )
    taken = {name.lower(): name for name in existing or {}}
    columns: dict[str, pa.DataType] = {}
    for name, type_name in spec.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InvalidRequestError(
                f"metadata column name {name!r} must be 1 to 128 ASCII letters, digits and "
                "'_', not starting with a digit"
            )
        if name.lower() in RESERVED:
            raise InvalidRequestError(
                f"{name!r} is reserved: the contract table or its SQL views have a column "
                f"{name.lower()!r}"
            )
        clash = taken.get(name.lower())
        if clash is not None and clash != name:
            raise InvalidRequestError(
                f"metadata column {name!r} differs from the column {clash!r} only in case; "
                "Delta column names are case-insensitive"
            )
        if not isinstance(type_name, str) or type_name not in METADATA_TYPES:
            raise InvalidRequestError(
                f"metadata column {name!r}: type {type_name!r} is not one of "
                + ", ".join(METADATA_TYPES)
            )
        taken[name.lower()] = name
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
    """A declared column the table holds under a name differing only in case (Delta names
    are case-insensitive) is refused with :class:`~..errors.InvalidRequestError`; one it
    holds with another type is an :class:`~..errors.IncompatibleTableError`.

    >>> check_declared({"Owner": pa.string()}, {"owner": pa.string()})
    Traceback (most recent call last):
    ...
    dc43_delta_store.errors.InvalidRequestError: metadata column 'Owner' differs from the ...
    """
    clashes = case_clashes(declared, table)
    if clashes:
        name, column = next(iter(clashes.items()))
        raise InvalidRequestError(
            f"metadata column {name!r} differs from the table's column {column!r} only in "
            f"case; Delta column names are case-insensitive: declare it as {column!r}. The "
            f"store goes on without {name!r}"
        )
    for name, dtype in declared.items():
        if name in table and type_name(table[name]) != type_name(dtype):
            raise IncompatibleTableError(
                f"metadata column {name!r} is declared {type_name(dtype)} but the table holds "
                f"it as {table[name]}"
            )


def case_clashes(declared: Mapping[str, Any], table: Mapping[str, Any]) -> dict[str, str]:
    """Declared name -> the table's column it differs from only in case.

    >>> case_clashes({"Owner": "string", "team": "string"}, {"owner": "string"})
    {'Owner': 'owner'}
    """
    columns = {name.lower(): name for name in table}
    return {
        name: columns[name.lower()]
        for name in declared
        if name not in table and name.lower() in columns
    }


def check_values(
    values: Mapping[str, Any], table: Mapping[str, pa.DataType], *, what: str
) -> dict[str, Any]:
    """Check ``values`` for metadata columns of ``table``; None clears a value."""
    if not isinstance(values, Mapping):
        raise InvalidRequestError(
            f"{what}: metadata values are a mapping of column to value, not {type(values).__name__}"
        )
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if not isinstance(name, str):
            raise InvalidRequestError(f"{what}: column names are text, not {name!r}")
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
        if kind is None:
            raise InvalidRequestError(
                f"{what}: {name!r} is a column of type {table[name]}, which this store does "
                "not write (types: " + ", ".join(METADATA_TYPES) + ")"
            )
        try:
            checked[name] = None if value is None else check_value(kind, value)
        except ValueError as exc:
            raise InvalidRequestError(f"{what}: {name!r} is a {kind} column: {exc}") from None
    return checked
