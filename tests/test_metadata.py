"""Governance columns: which names and types a declaration may use, and which values an update
or a put may set (README, "Metadata columns"). Pure: no table here."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from dc43_delta_store import IncompatibleTableError, InvalidRequestError
from dc43_delta_store.core.metadata import (
    DERIVED,
    METADATA_TYPES,
    check_declared,
    check_values,
    parse_columns,
    type_name,
)
from dc43_delta_store.core.table_schema import TABLE_SCHEMA

TABLE = {field.name: field.type for field in TABLE_SCHEMA} | {
    "owner": pa.string(),
    "score": pa.int64(),
    "ratio": pa.float64(),
    "flag": pa.bool_(),
    "due": pa.date32(),
    "reviewed": pa.timestamp("us", tz="UTC"),
}


def test_every_documented_type_can_be_declared() -> None:
    declared = parse_columns({name: name for name in METADATA_TYPES})
    assert {name: type_name(dtype) for name, dtype in declared.items()} == {
        "string": "string",
        "boolean": "boolean",
        "long": "long",
        "double": "double",
        "date": "date",
        "timestamp": "timestamp",
    }
    assert declared["timestamp"] == pa.timestamp("us", tz="UTC")
    assert parse_columns({"_private": "string", "A" * 128: "long"}) == {
        "_private": pa.string(),
        "A" * 128: pa.int64(),
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"1st": "string"},
            "metadata column name '1st' must be 1 to 128 ASCII letters, digits and '_', not starting with a digit",
        ),
        ({"": "string"}, "metadata column name '' must be"),
        ({"a" * 129: "string"}, "must be 1 to 128 ASCII letters"),
        ({"has-dash": "string"}, "must be 1 to 128 ASCII letters"),
        ({"naïve": "string"}, "must be 1 to 128 ASCII letters"),
        ({5: "string"}, "metadata column name 5 must be"),
        (
            {"Status": "string"},
            "'Status' is reserved: the contract table or its SQL views have a column 'status'",
        ),
        ({"JSON": "string"}, "'JSON' is reserved"),
        ({"tenant": "string"}, "'tenant' is reserved"),
        (
            {"KIND": "string"},
            "'KIND' is reserved: the contract table or its SQL views have a column 'kind'",
        ),
        (
            {"owner": "int"},
            "metadata column 'owner': type 'int' is not one of string, boolean, long, double, date, timestamp",
        ),
        ({"owner": None}, "type None is not one of"),
        (
            {"owner": "string", "OWNER": "string"},
            "metadata column 'OWNER' differs from the column 'owner' only in case; Delta column names are case-insensitive",
        ),
    ],
)
def test_bad_declarations_are_refused_naming_the_column(spec: Any, message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_columns(spec)
    assert message in str(caught.value)


def test_a_declaration_is_a_mapping() -> None:
    with pytest.raises(InvalidRequestError, match="a mapping of name to type, not list"):
        parse_columns([("owner", "string")])  # type: ignore[arg-type]


def test_names_compare_without_case_against_the_tables_columns() -> None:
    existing = {"Owner": pa.string()}
    with pytest.raises(
        InvalidRequestError, match="'owner' differs from the column 'Owner' only in case"
    ):
        parse_columns({"owner": "string"}, existing)
    assert parse_columns({"Owner": "string"}, existing) == {"Owner": pa.string()}


@pytest.mark.parametrize(
    ("dtype", "name"),
    [
        (pa.string(), "string"),
        (pa.large_string(), "string"),
        (pa.string_view(), "string"),
        (pa.bool_(), "boolean"),
        (pa.int64(), "long"),
        (pa.float64(), "double"),
        (pa.date32(), "date"),
        (pa.timestamp("us", tz="UTC"), "timestamp"),
        (pa.timestamp("ns", tz="Europe/Paris"), "timestamp"),
        (pa.timestamp("us"), None),  # no time zone: not a type this store writes
        (pa.int32(), None),
        (pa.float32(), None),
        (pa.binary(), None),
    ],
)
def test_column_types_as_the_store_names_them(dtype: pa.DataType, name: str | None) -> None:
    assert type_name(dtype) == name


def test_a_declared_column_the_table_holds_with_another_type_is_refused() -> None:
    check_declared({"owner": pa.string(), "new": pa.int64()}, TABLE)
    check_declared({"owner": pa.large_string()}, TABLE)  # both strings
    with pytest.raises(
        IncompatibleTableError,
        match="metadata column 'score' is declared string but the table holds it as int64",
    ):
        check_declared({"score": pa.string()}, TABLE)


def test_values_are_checked_in_their_columns_type() -> None:
    when = dt.datetime(2024, 5, 1, 14, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    checked = check_values(
        {"owner": "ann", "score": 3, "ratio": 2, "flag": False, "due": dt.date(2024, 5, 1)}
        | {"reviewed": when, "status": None},
        TABLE,
        what="update",
    )
    assert checked == {
        "owner": "ann",
        "score": 3,
        "ratio": 2.0,
        "flag": False,
        "due": dt.date(2024, 5, 1),
        "reviewed": dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC),
        "status": None,  # None clears a column
    }
    assert type(checked["ratio"]) is float


@pytest.mark.parametrize(
    ("values", "table", "message"),
    [
        ({"owner": 5}, TABLE, "update: 'owner' is a string column: got int 5"),
        ({"score": True}, TABLE, "update: 'score' is a long column: got bool True"),
        ({"ratio": True}, TABLE, "update: 'ratio' is a double column: got bool True"),
        ({"flag": "true"}, TABLE, "update: 'flag' is a boolean column: got str 'true'"),
        (
            {"team": "x"},
            TABLE,
            "update: unknown metadata column 'team'; the table has due, flag, owner, ratio, reviewed, score, status (declare new ones with add_metadata_columns)",
        ),
        ({"team": "x"}, {n: t for n, t in TABLE.items() if n in DERIVED}, "the table has none"),
        (
            {"json": "{}"},
            TABLE,
            "update: 'json' comes from the contract document and cannot be set",
        ),
        ({"fingerprint": "f"}, TABLE, "'fingerprint' comes from the contract document"),
        ({"contract_key": "k"}, TABLE, "'contract_key' comes from the contract document"),
        (
            {"status": "x"},
            {"contract_id": pa.string(), "json": pa.string()},
            "update: the table has no status column (a table other tools wrote, such as dc43's seven columns); `dc43-delta-store adopt --apply` adds it",
        ),
        (
            {"odd": 1},
            {**TABLE, "odd": pa.int32()},
            "update: 'odd' is a column of type int32, which this store does not write (types: string, boolean, long, double, date, timestamp)",
        ),
        ({1: "x"}, TABLE, "update: column names are text, not 1"),
    ],
)
def test_bad_values_are_refused_naming_the_column(
    values: Any, table: dict[str, pa.DataType], message: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_values(values, table, what="update")
    assert message in str(caught.value)


def test_values_are_a_mapping() -> None:
    with pytest.raises(
        InvalidRequestError, match="put: metadata values are a mapping of column to value, not list"
    ):
        check_values([("owner", "x")], TABLE, what="put")  # type: ignore[arg-type]
