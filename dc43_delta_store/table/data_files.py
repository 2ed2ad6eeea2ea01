"""The Parquet data files of a table as other engines see them: the Arrow schema each embeds.

Writers built on Arrow put the Arrow schema of what they wrote into each file's footer (the
``ARROW:schema`` key), and readers trust it: Daft refuses a file that says ``string_view``
("Unsupported Arrow DataType: Utf8View"), Sail (Spark) refuses to cast it to the table's
``string``. delta-rs 1.6's MERGE, UPDATE and DELETE write such files, and mark every column
nullable; its ``write_deltalake`` and ``optimize`` write ``string``, NOT NULL where the table
declares it. :func:`schema_problems` says what in one file's schema differs from the table's.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.fs import DeltaStorageHandler

__all__ = ["data_file_problems", "embedded_schema", "schema_problems"]

_VIEW = (pa.types.is_string_view, pa.types.is_binary_view)
_NULLABILITY = {True: "nullable", False: "NOT NULL"}


def embedded_schema(source: Any) -> pa.Schema:
    """The Arrow schema a Parquet file embeds, else the one its Parquet schema implies.

    ``source``: a path or a file object (anything ``pyarrow.parquet.read_metadata`` opens).
    """
    metadata = pq.read_metadata(source)
    encoded = (metadata.metadata or {}).get(b"ARROW:schema")
    if encoded is None:
        return metadata.schema.to_arrow_schema()
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(encoded)))


def schema_problems(found: pa.Schema, declared: pa.Schema) -> list[str]:
    """What in a data file's schema ``found`` differs from the table's ``declared`` one.

    View types, other types than declared, and nullability other than declared (NOT NULL
    columns must say so, nullable ones must not). Columns the file lacks are fine: files
    written before a column was added read it as null.

    >>> table = pa.schema([pa.field("id", pa.string(), nullable=False)])
    >>> for problem in schema_problems(pa.schema([pa.field("id", pa.string_view())]), table):
    ...     print(problem)
    id: string_view (a view type), table declares string
    id: nullable, table declares NOT NULL
    >>> schema_problems(pa.schema([pa.field("id", pa.string(), nullable=False)]), table)
    []
    """
    problems = []
    for field in found:
        if declared.get_field_index(field.name) < 0:
            problems.append(f"{field.name}: not a column of the table")
            continue
        want = declared.field(field.name)
        if any(is_view(field.type) for is_view in _VIEW):
            problems.append(f"{field.name}: {field.type} (a view type), table declares {want.type}")
        elif field.type != want.type:
            problems.append(f"{field.name}: {field.type}, table declares {want.type}")
        if field.nullable != want.nullable:
            said, wanted = (_NULLABILITY[flag] for flag in (field.nullable, want.nullable))
            problems.append(f"{field.name}: {said}, table declares {wanted}")
    return problems


def data_file_problems(
    dt: DeltaTable, storage_options: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """Every data file of snapshot ``dt`` (its path in the table) -> :func:`schema_problems`."""
    declared = pa.schema(dt.schema().to_arrow())
    handler = DeltaStorageHandler(dt.table_uri, dict(storage_options or {}) or None)
    paths = pa.table(dt.get_add_actions()).column("path").to_pylist() if dt.file_uris() else []
    return {
        path: schema_problems(embedded_schema(handler.open_input_file(path)), declared)
        for path in paths
    }
