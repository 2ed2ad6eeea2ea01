"""The contract table's columns and their Arrow types (no deltalake or polars here).

The seven seed columns are dc43's; the rest are derived from the document for SQL users:
``status``, ``api_version``, ``domain`` and ``data_product`` lifted as they are,
``contract_key`` (a short hash of the id that file statistics and clustering use),
``version_sort_key`` (order by it to get the version order of :mod:`.versions`) and
``prerelease``. Timestamps are UTC-aware, which
keeps the Delta protocol at reader 1 / writer 2.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from .records import ContractRow

__all__ = [
    "REQUIRED_COLUMNS",
    "SEED_COLUMNS",
    "TABLE_SCHEMA",
    "rows_to_table",
]

TIMESTAMP = pa.timestamp("us", tz="UTC")
TABLE_SCHEMA = pa.schema(
    [
        pa.field("contract_id", pa.string(), nullable=False),
        pa.field("version", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("description", pa.string()),
        pa.field("json", pa.string(), nullable=False),
        pa.field("fingerprint", pa.string(), nullable=False),
        pa.field("created_at", TIMESTAMP, nullable=False),
        pa.field("status", pa.string()),
        pa.field("api_version", pa.string()),
        pa.field("domain", pa.string()),
        pa.field("data_product", pa.string()),
        pa.field("contract_key", pa.string()),
        pa.field("version_sort_key", pa.string()),
        pa.field("prerelease", pa.bool_()),
    ]
)
SEED_COLUMNS = (
    "contract_id",
    "version",
    "name",
    "description",
    "json",
    "fingerprint",
    "created_at",
)
REQUIRED_COLUMNS = ("contract_id", "version", "json", "fingerprint")
"""A table without these (as strings) is not a contract table."""


def rows_to_table(
    rows: Sequence[ContractRow],
    created_at: datetime,
    schema: pa.Schema = TABLE_SCHEMA,
    metadata: Mapping[str, Any] | None = None,
) -> pa.Table:
    """Arrow table of ``rows`` with ``schema``'s columns.

    Metadata columns take ``metadata``'s value (the same for every row), ``status`` included:
    a status given at write time wins over the document's. Other columns we do not derive
    are null.
    """
    values = {
        **{name: [getattr(row, name) for row in rows] for name in _ROW_FIELDS},
        "created_at": [created_at] * len(rows),
        **{name: [value] * len(rows) for name, value in (metadata or {}).items()},
    }
    arrays = [
        pa.array(values[f.name], type=f.type) if f.name in values else pa.nulls(len(rows), f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


_ROW_FIELDS = tuple(name for name in ContractRow.__dataclass_fields__)

# Arrow type -> (UC type_name, type_text, Spark JSON type)
_CATALOG_TYPES = {
    "string": ("STRING", "string", "string"),
    "bool": ("BOOLEAN", "boolean", "boolean"),
    "int64": ("LONG", "bigint", "long"),
    "double": ("DOUBLE", "double", "double"),
    "date32[day]": ("DATE", "date", "date"),
    "timestamp[us, tz=UTC]": ("TIMESTAMP", "timestamp", "timestamp"),
}


def catalog_columns(schema: pa.Schema) -> list[dict[str, Any]]:
    """Unity Catalog ``ColumnInfo`` entries for ``schema`` (registering an external table)."""
    columns = []
    for position, field in enumerate(schema):
        type_name, type_text, spark_type = _CATALOG_TYPES[str(field.type)]
        spark_field = {"name": field.name, "type": spark_type, "nullable": field.nullable}
        columns.append(
            {
                "name": field.name,
                "type_name": type_name,
                "type_text": type_text,
                "type_json": json.dumps({**spark_field, "metadata": {}}),
                "position": position,
                "nullable": field.nullable,
            }
        )
    return columns
