"""``check``: the table's health, from real tables in each condition; column-mapped tables
read (through deltalake's DataFusion reader) and refused for writes, naming the feature."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, PostCommitHookProperties, write_deltalake

from dc43_delta_store import (
    DeltaContractStore,
    IncompatibleTableError,
    InvalidLocationError,
    TableNotFoundError,
)
from dc43_delta_store.cli.commands import cli
from dc43_delta_store.cli.support import EXIT_CODES, exit_code
from dc43_delta_store.core.health import TableFacts, judge
from dc43_delta_store.errors import DuplicateVersionError
from dc43_delta_store.table.delta_table import WRITABLE_FEATURES

from .conftest import minimal, need
from .dc43_tables import DC43_SCHEMA, dc43_document, dc43_rows

NO_CHECKPOINT = PostCommitHookProperties(create_checkpoint=False)


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def checks(store: DeltaContractStore) -> set[str]:
    return {finding.check for finding in store.check().findings}


def test_a_store_table_is_healthy_and_check_exits_0(store: DeltaContractStore) -> None:
    store.put(minimal())
    result = run("--path", store.location.uri, "check", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["healthy"] is True and report["findings"] == []
    assert report["facts"]["rows"] == 1 and report["facts"]["missing_columns"] == []
    assert "healthy: no problems found" in run("--path", store.location.uri, "check").output


@pytest.mark.parametrize("where", ["missing", "empty", "other files", "a file"])
def test_where_no_table_is_check_fails_naming_the_location_and_creates_nothing(
    tmp_path: Path, where: str
) -> None:
    """A mistyped ``--path`` never passes for a healthy table: as upkeep does, a missing or
    empty folder is ``TableNotFoundError`` (exit 3), a file or a folder of other files an
    ``InvalidLocationError`` (exit 2)."""
    path = tmp_path / "t"
    if where == "empty":
        path.mkdir()
    elif where == "other files":
        path.mkdir()
        (path / "notes.txt").write_text("x")
    elif where == "a file":
        path.write_text("x")
    before = sorted(tmp_path.rglob("*"))
    store = DeltaContractStore(path=path)
    error = TableNotFoundError if where in ("missing", "empty") else InvalidLocationError
    with pytest.raises(error, match=str(path)):
        store.check()
    for args in (["check"], ["check", "--json"]):
        result = run("--path", str(path), *args)
        assert result.exit_code == (3 if error is TableNotFoundError else 2), result.output
        assert str(path) in result.stderr and result.stdout == ""
    assert sorted(tmp_path.rglob("*")) == before


def test_commits_without_checkpoint_are_reported_until_optimize(tmp_path: Path) -> None:
    path = tmp_path / "t"
    rows = dc43_rows([dc43_document("a", f"1.{i}.0") for i in range(7)])
    write_deltalake(path, rows.slice(0, 1), configuration={"delta.checkpointInterval": "5"})
    for i in range(1, 7):
        write_deltalake(
            path, rows.slice(i, 1), mode="append", post_commithook_properties=NO_CHECKPOINT
        )
    store = DeltaContractStore(path=path, validation="off")
    (finding,) = [f for f in store.check().findings if f.check == "checkpoint"]
    assert finding.details == {"last_checkpoint": None, "commits_since": 7}
    assert finding.fix == "dc43-delta-store optimize"
    store.optimize()
    assert "checkpoint" not in checks(store)
    assert store.check().facts.last_checkpoint == DeltaTable(path).version()


def test_small_files_are_reported_until_optimize(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off", auto_compact=None)
    store.put_many([minimal(f"c{i}") for i in range(3)])
    for i in range(100):
        write_deltalake(store.location.uri, _row_like(store, f"x{i}"), mode="append")
    (finding,) = [f for f in store.check().findings if f.check == "small_files"]
    assert finding.details["mergeable"] == 101 and finding.severity == "warning"
    store.optimize()
    assert "small_files" not in checks(store)


def test_one_small_file_per_partition_is_not_reported(tmp_path: Path) -> None:
    # dc43's tables are partitioned by contract_id: one file per contract, which compaction
    # cannot merge, so neither check nor auto-compaction counts them
    path = tmp_path / "t"
    documents = [dc43_document(f"c{i:03}", "1.0.0") for i in range(120)]
    write_deltalake(path, dc43_rows(documents), partition_by=["contract_id"])
    store = DeltaContractStore(path=path, validation="off", auto_compact=2)
    assert store.check().facts.mergeable_files == 0
    assert "small_files" not in checks(store)
    store.put(dc43_document("c999", "1.0.0"))
    assert len(DeltaTable(path).file_uris()) == 121


def _row_like(store: DeltaContractStore, contract_id: str) -> pa.Table:
    from datetime import UTC, datetime

    from dc43_delta_store.core.records import build_row
    from dc43_delta_store.core.table_schema import rows_to_table

    schema = pa.schema(DeltaTable(store.location.uri).schema().to_arrow())
    return rows_to_table([build_row(minimal(contract_id))], datetime.now(UTC), schema)


def test_a_writer_feature_the_store_cannot_honour(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_deltalake(
        path,
        dc43_rows([dc43_document("a", "1.0.0")]),
        configuration={"delta.enableDeletionVectors": "true"},
    )
    store = DeltaContractStore(path=path, validation="off")
    assert store.get("a", "1.0.0")["version"] == "1.0.0"  # Polars reads deletion vectors
    (finding,) = [f for f in store.check().findings if f.check == "unwritable_features"]
    assert "deletionVectors" in finding.details["features"] and finding.severity == "error"
    result = run(
        "--path",
        str(path),
        "put",
        "--validation",
        "off",
        _file(tmp_path, dc43_document("a", "2.0.0")),
    )
    assert result.exit_code == EXIT_CODES["table"] == 8, result.output
    assert "deletionVectors" in result.stderr


def _file(folder: Path, document: dict[str, Any]) -> str:
    file = folder / f"{document['id']}-{document['version']}.json"
    file.write_text(json.dumps(document))
    return str(file)


def test_files_other_engines_refuse_are_reported_until_optimize(store: DeltaContractStore) -> None:
    store.put(minimal("a"))
    dt = DeltaTable(store.location.uri)
    # delta-rs' own MERGE writes string_view and nullable columns into the file's footer
    dt.merge(
        _row_like(store, "b"), "t.contract_id = s.contract_id", source_alias="s", target_alias="t"
    ).when_not_matched_insert_all().execute()
    (finding,) = [f for f in store.check().findings if f.check == "file_schemas"]
    (problems,) = finding.details["files"].values()
    assert "json: string_view (a view type), table declares string" in problems
    store.optimize()
    assert store.check().healthy


# -- column mapping ----------------------------------------------------------------------

DOCUMENTS = [
    dc43_document("sales.orders", "1.0.0", status="active", domain="sales"),
    dc43_document("sales.orders", "1.1.0", status="draft", domain="sales"),
    dc43_document("finance.ledger", "0.10.0.0", status="active"),
]


@pytest.fixture
def mapped(tmp_path: Path) -> Path:
    """A dc43 table with column mapping by name, as Databricks makes them (protocol 2/5)."""
    path = tmp_path / "mapped"
    write_deltalake(
        path,
        dc43_rows(DOCUMENTS),
        partition_by=["contract_id"],
        configuration={"delta.columnMapping.mode": "name"},
    )
    return path


def test_the_mapped_table_is_one_polars_refuses(mapped: Path) -> None:
    dt = DeltaTable(mapped)
    assert (dt.protocol().min_reader_version, dt.protocol().min_writer_version) == (2, 5)
    physical = [f.metadata["delta.columnMapping.physicalName"] for f in dt.schema().fields]
    assert all(name.startswith("col-") for name in physical)
    with pytest.raises(Exception, match="column mapping"):
        pl.scan_delta(mapped).collect()


def test_a_column_mapped_table_is_read(mapped: Path) -> None:
    store = DeltaContractStore(path=mapped, validation="off")
    assert store.list_contracts() == ["finance.ledger", "sales.orders"]
    assert store.list_versions("sales.orders") == ["1.0.0", "1.1.0"]
    assert store.get("sales.orders", "1.1.0") == DOCUMENTS[1]
    assert store.latest("sales.orders", status="active") == DOCUMENTS[0]
    assert store.latest("finance.ledger") == DOCUMENTS[2]
    rows = store.sql("SELECT contract_id, version, status FROM contracts_latest ORDER BY 1").rows()
    assert rows == [("finance.ledger", "0.10.0.0", "active"), ("sales.orders", "1.1.0", "draft")]
    latest = run("--path", str(mapped), "latest", "sales.orders", "--status", "active", "--json")
    assert json.loads(latest.output) == DOCUMENTS[0]


def test_an_independent_reader_agrees_on_the_mapped_table(mapped: Path) -> None:
    duckdb = need("duckdb")
    extension = need("duckdb_extension_delta")
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{next(Path(extension.__file__).parent.rglob('delta.duckdb_extension'))}'")
    found = con.execute(f"SELECT contract_id, version, json FROM delta_scan('{mapped}')").fetchall()
    store = DeltaContractStore(path=mapped, validation="off")
    assert len(found) == len(DOCUMENTS)
    assert {(c, v): json.loads(j) for c, v, j in found} == {
        (c, v): store.get(c, v) for c, v, _ in found
    }


def test_writes_to_a_mapped_table_are_refused_naming_the_feature(
    mapped: Path, tmp_path: Path
) -> None:
    store = DeltaContractStore(path=mapped, validation="off")
    before = DeltaTable(mapped).version()
    for write in (
        lambda: store.put(dc43_document("sales.orders", "2.0.0")),
        lambda: store.adopt(dry_run=False),
        lambda: store.add_metadata_columns({"owner": "string"}),
    ):
        with pytest.raises(IncompatibleTableError, match="columnMapping"):
            write()
    assert DeltaTable(mapped).version() == before
    result = run("--path", str(mapped), "put", _file(tmp_path, dc43_document("x", "1.0.0")))
    assert result.exit_code == 8 and "columnMapping" in result.stderr
    (finding,) = [f for f in store.check().findings if f.check == "column_mapping"]
    assert finding.details == {"mode": "name"} and finding.severity == "error"


# -- the judgement ---------------------------------------------------------------------------


def facts(**changes: Any) -> TableFacts:
    base = TableFacts("t", 10, 1, 2, (), (), None, (), (), 5, 1, 1, 100, 0, 10, 100)
    return TableFacts(**{**base.__dict__, **changes})


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, set()),
        (
            {"reader_version": 3, "writer_version": 7, "reader_features": ("catalogManaged",)},
            {"unreadable_features"},
        ),
        (
            {
                "reader_version": 3,
                "writer_version": 7,
                "reader_features": ("deletionVectors",),
                "writer_features": ("deletionVectors",),
            },
            {"unwritable_features"},
        ),
        ({"writer_version": 6}, {"unwritable_features"}),
        ({"reader_version": 2, "writer_version": 5}, {"column_mapping"}),
        ({"reader_version": 2, "writer_version": 5, "column_mapping": "name"}, {"column_mapping"}),
        ({"last_checkpoint": None, "version": 99}, {"checkpoint"}),
        ({"last_checkpoint": 0, "version": 99}, set()),
        ({"mergeable_files": 100}, {"small_files"}),
        ({"odd_files": (("f.parquet", ("json: string_view",)),)}, {"file_schemas"}),
        ({"missing_columns": ("status",)}, {"missing_derived_columns"}),
        (
            {"rows_without_derived": 1, "stale_sort_keys": 2, "rows_without_identity": 1},
            {"rows_without_derived_columns", "stale_version_keys", "rows_without_identity"},
        ),
        ({"invalid_payloads": 3, "invalid_payload_keys": (("a", "1"),)}, {"invalid_payloads"}),
        ({"nullable_required": ("version",)}, {"nullable_required_columns"}),
        ({"foreign_types": (("status", "int64", "string"),)}, {"foreign_column_types"}),
    ],
)
def test_judge(changes: dict[str, Any], expected: set[str]) -> None:
    found = judge(facts(**changes), writable_features=WRITABLE_FEATURES)
    assert {finding.check for finding in found} == expected
    assert all(finding.message for finding in found)


def test_fixes_that_need_adopt_wait_for_the_column_types_adopt_would_refuse() -> None:
    """``adopt --apply`` refuses a table holding a column of another type: while one is
    there, the findings adopt fixes say to fix the types first."""
    broken = facts(missing_columns=("domain",), foreign_types=(("status", "int64", "string"),))
    fixes = {f.check: f.fix for f in judge(broken, writable_features=WRITABLE_FEATURES)}
    assert fixes["missing_derived_columns"] == (
        "dc43-delta-store adopt --apply, once foreign_column_types is fixed"
    )
    fixed = facts(missing_columns=("domain",))
    fixes = {f.check: f.fix for f in judge(fixed, writable_features=WRITABLE_FEATURES)}
    assert fixes["missing_derived_columns"] == "dc43-delta-store adopt --apply"
    held = facts(nullable_required=("version", "json"), required_with_nulls=("json",))
    (finding,) = judge(held, writable_features=WRITABLE_FEATURES)
    assert finding.fix is not None and finding.fix.startswith(
        "set or delete the rows holding nulls in json"
    )


def test_table_problems_have_their_own_exit_code() -> None:
    assert exit_code(IncompatibleTableError("x")) == 8
    assert exit_code(DuplicateVersionError("a", "1", ["f1", "f2"], 2)) == 8
    assert EXIT_CODES["unavailable"] == 6 and 8 not in {
        code for kind, code in EXIT_CODES.items() if kind != "table"
    }


def test_schema_of_seven_columns_is_dc43s() -> None:
    assert DC43_SCHEMA.names == [
        "contract_id",
        "version",
        "name",
        "description",
        "json",
        "fingerprint",
        "created_at",
    ]


def test_a_row_lacking_prerelease_is_reported_once_as_lacking_it(tmp_path: Path) -> None:
    """A row another tool appended with ``version_sort_key`` but no ``prerelease`` lacks a
    derived value; its key is right, so it is not also a stale one."""
    store = DeltaContractStore(path=tmp_path / "t", validation="off", auto_compact=None)
    store.put(minimal("sales.orders", "1.0.0"))
    row = _row_like(store, "sales.customers")
    row = row.set_column(
        row.schema.get_field_index("prerelease"),
        "prerelease",
        pa.nulls(1, pa.bool_()),
    )
    write_deltalake(store.location.uri, row, mode="append")
    report = store.check()
    assert report.facts.rows_without_derived == 1 and report.facts.stale_sort_keys == 0
    assert [f.check for f in report.findings] == ["rows_without_derived_columns"]


def test_check_exits_8_on_warnings_too_and_0_once_fixed(tmp_path: Path) -> None:
    """The README: ``check`` exits 8 when it found problems, warnings included (a CI job
    gating on it must see a table that needs ``optimize``)."""
    path = tmp_path / "t"
    rows = dc43_rows([dc43_document("a", f"1.{i}.0") for i in range(3)])
    write_deltalake(path, rows.slice(0, 1), configuration={"delta.checkpointInterval": "2"})
    for i in (1, 2):
        write_deltalake(
            path, rows.slice(i, 1), mode="append", post_commithook_properties=NO_CHECKPOINT
        )
    result = run("--path", str(path), "check")
    findings = [line for line in result.stdout.splitlines() if line.startswith(("error", "warn"))]
    assert findings and all(line.startswith("warning: ") for line in findings), result.stdout
    assert result.exit_code == EXIT_CODES["table"] == 8
    as_json = run("--path", str(path), "check", "--json")
    assert as_json.exit_code == 8 and json.loads(as_json.stdout)["healthy"] is False
    DeltaContractStore(path=path).optimize()
    DeltaContractStore(path=path, validation="off").adopt(dry_run=False)
    healed = run("--path", str(path), "check")
    assert healed.exit_code == 0 and "healthy: no problems found" in healed.stdout


def test_without_a_configured_interval_a_checkpoint_is_due_after_100_commits(
    tmp_path: Path,
) -> None:
    """Delta's default checkpoint interval: 99 commits without a checkpoint are fine, the
    100th is reported."""
    path = tmp_path / "t"
    rows = dc43_rows([dc43_document("a", f"1.{i}.0") for i in range(100)])
    write_deltalake(path, rows.slice(0, 1), post_commithook_properties=NO_CHECKPOINT)
    for i in range(1, 99):
        write_deltalake(
            path, rows.slice(i, 1), mode="append", post_commithook_properties=NO_CHECKPOINT
        )
    store = DeltaContractStore(path=path, validation="off", auto_compact=None)
    report = store.check()
    assert report.facts.checkpoint_interval == 100 and report.facts.version == 98
    assert "checkpoint" not in {finding.check for finding in report.findings}
    write_deltalake(
        path, rows.slice(99, 1), mode="append", post_commithook_properties=NO_CHECKPOINT
    )
    assert "checkpoint" in checks(store)
