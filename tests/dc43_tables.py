"""Tables as other writers leave them, built without Spark.

``dc43_table`` builds what dc43's Spark ``DeltaContractStore`` creates and fills: its seven
columns (``CREATE TABLE … (contract_id STRING, … created_at TIMESTAMP) PARTITIONED BY
(contract_id) TBLPROPERTIES (delta.autoOptimize.autoCompact = true)``, every column
nullable) and the rows its ``put`` MERGEs, made by dc43's own ``prepare_contract_row`` (its
JSON, name, description and fingerprint). ``tests/test_foreign_sail.py`` builds the same
with dc43's own store on Sail, through Spark's API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake

DC43_SCHEMA = pa.schema(
    [(name, pa.string()) for name in ("contract_id", "version", "name", "description")]
    + [("json", pa.string()), ("fingerprint", pa.string())]
    + [("created_at", pa.timestamp("us", tz="UTC"))]
)
DC43_PROPERTIES = {"delta.autoOptimize.autoCompact": "true"}


def dc43_document(contract_id: str, version: str, **fields: Any) -> dict[str, Any]:
    """A contract as dc43 builds them: ``apiVersion`` without the ``v``."""
    return {
        "apiVersion": "3.0.2",
        "kind": "DataContract",
        "id": contract_id,
        "version": version,
        "name": contract_id.split(".")[-1].title(),
        **fields,
    }


def dc43_row(document: Mapping[str, Any]) -> dict[str, Any]:
    """The row dc43's Delta store MERGEs for ``document`` (its own code makes it)."""
    from dc43_service_backends.contracts.backend.stores._sql_common import prepare_contract_row
    from open_data_contract_standard.model import OpenDataContractStandard

    model = OpenDataContractStandard.model_validate(dict(document))
    _, _, payload = prepare_contract_row(model)
    return {**payload, "created_at": datetime.now(UTC)}


def dc43_rows(documents: Iterable[Mapping[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist([dc43_row(document) for document in documents], DC43_SCHEMA)


def dc43_table(path: Path, documents: Iterable[Mapping[str, Any]]) -> Path:
    """A dc43-style table at ``path``: one commit per document, as dc43's ``put`` makes."""
    documents = list(documents)
    write_deltalake(
        path,
        dc43_rows(documents[:1]),
        partition_by=["contract_id"],
        configuration=DC43_PROPERTIES,
    )
    for document in documents[1:]:
        append(path, dc43_rows([document]))
    return path


def append(path: Path, rows: pa.Table) -> None:
    """What another writer's plain append does (no check for existing keys)."""
    write_deltalake(path, rows, mode="append")


def widened(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    """``rows`` with ``schema``'s other columns null: what a writer that knows only the seven
    columns adds to a wider table (Spark's ``MERGE … INSERT *`` from a seven-column source)."""
    columns = [
        rows.column(f.name) if f.name in rows.column_names else pa.nulls(rows.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)
