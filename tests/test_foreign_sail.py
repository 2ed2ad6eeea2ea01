"""A table dc43's own Spark store built, through Spark's API on Sail: the store reads, writes,
optimizes and adopts it, and Spark reads it afterwards — and dc43 keeps writing it.

Sail (``pysail``) is a Spark-compatible engine that PySpark's Spark Connect client drives;
the test starts it on 127.0.0.1 and stops it. dc43's ``DeltaContractStore`` runs unchanged
but for its path DDL: Sail does not know ``CREATE TABLE IF NOT EXISTS delta.`/path` (...)``
("Database not found: delta"), so the same statement names the table and gives the path as
``LOCATION``, run when no table is at the path.
Without pysail or pyspark the tests skip saying so (``CI=true`` makes that a failure).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.cli.commands import cli
from dc43_delta_store.core.records import build_row
from dc43_delta_store.table.adopt import DERIVED_COLUMNS

from .dc43_tables import dc43_document
from .servers import SailServer

pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def need(module: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as exc:
        message = f"{module} is not installed ({exc}); `make test` installs the test extra"
        if IN_CI:
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    need("pysail")
    session_module = need("pyspark.sql")
    server = SailServer()
    try:
        session = session_module.SparkSession.builder.remote(server.remote).create()
        session.conf.set("spark.sql.session.timeZone", "UTC")
        yield session
        session.stop()
    finally:
        server.stop()


SEVEN = "contract_id, version, name, description, json, fingerprint, created_at"


def dc43_store(
    spark: Any, path: Path, *, schema_evolution: bool = False, named_columns: bool = False
) -> Any:
    """dc43's own Delta store on ``path``, its DDL named for Sail (see the module docstring);
    with ``schema_evolution`` its MERGE runs ``WITH SCHEMA EVOLUTION``; with
    ``named_columns`` its ``INSERT *`` names the seven columns it fills."""
    from dc43_service_backends.contracts.backend.stores.delta import DeltaContractStore as Dc43

    class OnSail(Dc43):  # type: ignore[misc]
        def _execute_sql(self, statement: str) -> Any:
            if schema_evolution:
                statement = statement.replace("MERGE INTO", "MERGE WITH SCHEMA EVOLUTION INTO")
            if named_columns:
                values = ", ".join(f"s.{name}" for name in SEVEN.split(", "))
                statement = statement.replace("INSERT *", f"INSERT ({SEVEN}) VALUES ({values})")
            return super()._execute_sql(statement)

        def _ensure_table(self) -> None:
            if (Path(self.path) / "_delta_log").is_dir():
                return  # IF NOT EXISTS, as `delta.`path`` resolves to the existing table
            name = f"contracts_{uuid.uuid4().hex[:8]}"
            spark.sql(
                f"""
                CREATE TABLE IF NOT EXISTS {name} (
                    contract_id STRING,
                    version STRING,
                    name STRING,
                    description STRING,
                    json STRING,
                    fingerprint STRING,
                    created_at TIMESTAMP
                ) USING DELTA
                LOCATION '{self.path}'
                PARTITIONED BY (contract_id)
                TBLPROPERTIES (delta.autoOptimize.autoCompact = true)
                """
            ).collect()

    return OnSail(spark, path=str(path))


def model(document: dict[str, Any]) -> Any:
    from open_data_contract_standard.model import OpenDataContractStandard

    return OpenDataContractStandard.model_validate(document)


DOCUMENTS = [
    dc43_document("sales.orders", "0.9.0.0", status="active", domain="sales"),
    dc43_document("sales.orders", "0.10.0.0", status="active", domain="sales"),
    dc43_document("sales.orders", "1.0.0", status="draft", description={"usage": "orders"}),
    dc43_document("finance.ledger", "2.0.0", status="active", dataProduct="ledger"),
]


@pytest.fixture
def built(spark: Any, tmp_path: Path) -> Path:
    path = tmp_path / "dc43"
    theirs = dc43_store(spark, path)
    for document in DOCUMENTS:
        theirs.put(model(document))
    theirs.put(model(DOCUMENTS[0]))  # dc43's MERGE updates in place: still one row
    return path


def spark_rows(spark: Any, path: Path) -> list[dict[str, Any]]:
    return pa.table(spark.read.format("delta").load(str(path)).toArrow()).to_pylist()


def test_dc43s_own_store_on_spark_builds_the_table(built: Path) -> None:
    from deltalake import DeltaTable

    dt = DeltaTable(built)
    assert dt.metadata().partition_columns == ["contract_id"]
    assert all(field.nullable for field in dt.schema().fields)
    assert len(dt.schema().fields) == 7
    assert dt.history(1)[0]["operation"] == "MERGE"


def test_the_store_reads_writes_and_optimizes_what_dc43_wrote(built: Path) -> None:
    store = DeltaContractStore(path=built, validation="off")
    assert store.list_versions("sales.orders") == ["0.9.0.0", "0.10.0.0", "1.0.0"]
    assert store.latest("sales.orders", status="active")["version"] == "0.10.0.0"
    assert store.get("finance.ledger", "2.0.0")["dataProduct"] == "ledger"
    assert store.put(DOCUMENTS[3]).outcome == "unchanged"  # dc43's fingerprint is ours
    assert store.put(dc43_document("sales.orders", "1.1.0", status="active")).outcome == "inserted"
    assert store.latest("sales.orders", status="active")["version"] == "1.1.0"
    result = store.optimize()
    assert result.partitioned_by == ("contract_id",) and result.files_after == 2
    assert store.latest("sales.orders")["version"] == "1.1.0"


def test_adopted_the_table_stays_spark_readable_and_dc43_keeps_writing(
    spark: Any, built: Path
) -> None:
    store = DeltaContractStore(path=built, validation="off")
    assert store.adopt(dry_run=False).applied
    rows = spark_rows(spark, built)
    assert len(rows) == len(DOCUMENTS)
    for row in rows:
        assert json.loads(row["json"]) == store.get(row["contract_id"], row["version"])
        expected = build_row(json.loads(row["json"]))
        assert {c: row[c] for c in DERIVED_COLUMNS} == {
            c: getattr(expected, c) for c in DERIVED_COLUMNS
        }
    ordered = spark.sql(
        f"SELECT version FROM delta.`{built}` WHERE contract_id = 'sales.orders' "
        "ORDER BY version_sort_key"
    ).collect()
    assert [r.version for r in ordered] == store.list_versions("sales.orders")

    # dc43's Spark store writes on. Its MERGE ... INSERT * names seven columns; Sail wants
    # every target column in the source unless the MERGE evolves the schema
    new = model(dc43_document("sales.orders", "1.2.0", status="active", domain="sales"))
    with pytest.raises(Exception, match="Cannot resolve source column `status`"):
        dc43_store(spark, built).put(new)
    # a MERGE that names the columns it inserts works, and the table keeps its NOT NULL
    theirs = dc43_store(spark, built, named_columns=True)
    theirs.put(new)
    assert theirs.latest("sales.orders").version == "1.2.0"
    assert not_null(built) == REQUIRED
    assert store.latest("sales.orders", status="active")["version"] == "1.2.0"
    assert store.latest("sales.orders", domain="sales")["version"] == "1.2.0"
    assert {f.check for f in store.check().findings} == {"rows_without_derived_columns"}
    assert store.adopt(dry_run=False).applied
    assert store.check().healthy
    assert len(spark_rows(spark, built)) == len(DOCUMENTS) + 1


def test_a_merge_with_schema_evolution_makes_the_required_columns_nullable_and_check_says_so(
    spark: Any, built: Path
) -> None:
    """The MERGE ... WITH SCHEMA EVOLUTION an earlier README suggested: Sail accepts it, and
    silently turns the five NOT NULL columns nullable. check reports it; adopt (its fix)
    makes them NOT NULL again."""
    store = DeltaContractStore(path=built, validation="off")
    store.adopt(dry_run=False)
    assert not_null(built) == REQUIRED and store.check().healthy
    new = model(dc43_document("sales.orders", "1.2.0", status="active", domain="sales"))
    dc43_store(spark, built, schema_evolution=True).put(new)
    assert not_null(built) == ()
    findings = {f.check: f for f in store.check().findings}
    nullable = findings["nullable_required_columns"]
    assert nullable.details["columns"] == list(REQUIRED) and nullable.severity == "warning"
    commands = {f.fix.split(" (")[0] for f in findings.values() if f.fix}
    assert commands <= {"dc43-delta-store adopt --apply", "dc43-delta-store optimize"}
    assert set(findings) >= {"nullable_required_columns", "rows_without_derived_columns"}
    for command in sorted(commands):  # adopt (which rewrites every file), then optimize
        args = ["--path", str(built), *command.split()[1:]]
        assert CliRunner().invoke(cli, args).exit_code == 0
    assert store.check().healthy, store.check().findings
    assert not_null(built) == REQUIRED
    assert [r.version for r in spark.sql(f"SELECT version FROM delta.`{built}`").collect()]
    assert store.latest("sales.orders")["version"] == "1.2.0"


REQUIRED = ("contract_id", "version", "json", "fingerprint", "created_at")


def not_null(path: Path) -> tuple[str, ...]:
    from deltalake import DeltaTable

    return tuple(f.name for f in DeltaTable(path).schema().fields if not f.nullable)
