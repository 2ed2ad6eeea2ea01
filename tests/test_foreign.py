"""Tables dc43 wrote with Spark are first-class: seven nullable columns, partitioned by
contract_id. Filters read the document where a column is missing, optimize compacts within
partitions, and adopt upgrades the table in one commit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, Field, write_deltalake

from dc43_delta_store import (
    BatchError,
    ContractNotFoundError,
    DeltaContractStore,
    InvalidRequestError,
    VersionConflictError,
)
from dc43_delta_store.cli.commands import cli
from dc43_delta_store.core.records import build_row
from dc43_delta_store.core.table_schema import TABLE_SCHEMA, rows_to_table
from dc43_delta_store.core.versions import version_sort_key
from dc43_delta_store.table.adopt import DERIVED_COLUMNS, backfilled

from .dc43_tables import (
    DC43_SCHEMA,
    append,
    dc43_document,
    dc43_row,
    dc43_rows,
    dc43_table,
    widened,
)

WHEN = datetime(2024, 1, 1, tzinfo=UTC)
DOCUMENTS = [
    dc43_document("sales.orders", "0.9.0.0", status="active", domain="sales"),
    dc43_document("sales.orders", "0.10.0.0", status="active", domain="sales"),
    dc43_document("sales.orders", "1.0.0", status="draft", domain="sales", dataProduct="orders"),
    dc43_document("sales.orders", "1.1.0rc1", status="active", domain="sales"),
    dc43_document("finance.ledger", "2.0.0", status="active", domain="finance"),
    dc43_document("finance.ledger", "2.1.0", domain="finance"),  # dc43 often writes no status
]


@pytest.fixture
def dc43_path(tmp_path: Path) -> Path:
    return dc43_table(tmp_path / "dc43", DOCUMENTS)


@pytest.fixture
def dc43_store(dc43_path: Path) -> DeltaContractStore:
    return DeltaContractStore(path=dc43_path, validation="off")


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_the_built_table_is_what_dc43_creates(dc43_path: Path) -> None:
    dt = DeltaTable(dc43_path)
    assert pa.schema(dt.schema().to_arrow()) == DC43_SCHEMA
    assert all(field.nullable for field in DC43_SCHEMA)
    assert dt.metadata().partition_columns == ["contract_id"]
    assert (dt.protocol().min_reader_version, dt.protocol().min_writer_version) == (1, 2)
    row = pl.scan_delta(dc43_path).filter(pl.col("version") == "1.0.0").collect().row(0, named=True)
    # dc43's payload: its own JSON of the pydantic model, and the fingerprint ours equals
    assert json.loads(row["json"])["dataProduct"] == "orders"
    assert row["fingerprint"] == build_row(DOCUMENTS[2]).fingerprint


def test_status_filters_read_the_document(dc43_store: DeltaContractStore) -> None:
    assert dc43_store.latest("sales.orders", status="active")["version"] == "0.10.0.0"
    assert dc43_store.latest("sales.orders", status="draft")["version"] == "1.0.0"
    assert dc43_store.latest("sales.orders", status=["active", "draft"])["version"] == "1.0.0"
    assert dc43_store.latest("finance.ledger", status=None)["version"] == "2.1.0"
    assert dc43_store.latest("finance.ledger", status="active")["version"] == "2.0.0"
    assert dc43_store.latest("sales.orders", status="retired") is None
    assert dc43_store.latest("sales.orders", domain="sales")["version"] == "1.0.0"
    active = dc43_store.latest("sales.orders", status="active", include_prereleases=True)
    assert active["version"] == "1.1.0rc1"


def test_resolve_explains_with_the_documents_status(dc43_store: DeltaContractStore) -> None:
    resolution = dc43_store.resolve("sales.orders", "<1", status="active", explain=True)
    assert resolution.chosen == "0.10.0.0"
    statuses = {c.version: c.metadata.get("status") for c in resolution.candidates}
    assert statuses["1.0.0"] == "draft" and statuses["0.9.0.0"] == "active"


def test_the_contracts_views_carry_status_domain_and_data_product(
    dc43_store: DeltaContractStore,
) -> None:
    rows = dc43_store.sql(
        "SELECT version, status, domain, data_product, api_version FROM contracts "
        "WHERE contract_id = 'sales.orders' AND status = 'draft'"
    ).rows()
    assert rows == [("1.0.0", "draft", "sales", "orders", "3.0.2")]
    latest = dc43_store.sql(
        "SELECT contract_id, version, status FROM contracts_latest ORDER BY contract_id"
    ).rows()
    assert latest == [("finance.ledger", "2.1.0", None), ("sales.orders", "1.0.0", "draft")]


def test_the_cli_lists_status_and_filters_on_it(dc43_path: Path) -> None:
    listed = run("--path", str(dc43_path), "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert {r["contract_id"]: r["status"] for r in json.loads(listed.output)} == {
        "finance.ledger": None,
        "sales.orders": "draft",
    }
    latest = run("--path", str(dc43_path), "latest", "sales.orders", "--status", "active", "--json")
    assert latest.exit_code == 0, latest.output
    assert json.loads(latest.output)["version"] == "0.10.0.0"
    versions = run("--path", str(dc43_path), "versions", "sales.orders", "--json")
    assert [(r["version"], r["status"]) for r in json.loads(versions.output)] == [
        ("0.9.0.0", "active"),
        ("0.10.0.0", "active"),
        ("1.0.0", "draft"),
        ("1.1.0rc1", "active"),
    ]


def test_put_get_and_an_unchanged_re_put_on_a_dc43_table(dc43_store: DeltaContractStore) -> None:
    assert dc43_store.put(DOCUMENTS[2]).outcome == "unchanged"  # dc43's fingerprint is ours
    new = dc43_document("sales.orders", "1.2.0", status="active", domain="sales")
    assert dc43_store.put(new).outcome == "inserted"
    assert dc43_store.get("sales.orders", "1.2.0") == new
    assert dc43_store.latest("sales.orders", status="active")["version"] == "1.2.0"
    dt = DeltaTable(dc43_store.location.uri)
    assert pa.schema(dt.schema().to_arrow()).names == DC43_SCHEMA.names  # no columns added
    assert dt.metadata().partition_columns == ["contract_id"]


def test_setting_status_on_a_seven_column_table_points_to_adopt(
    dc43_store: DeltaContractStore,
) -> None:
    with pytest.raises(InvalidRequestError, match=r"no status column .* adopt --apply"):
        dc43_store.update_metadata("sales.orders", "1.0.0", {"status": "Validated"})
    dc43_store.adopt(dry_run=False)
    dc43_store.update_metadata("sales.orders", "1.0.0", {"status": "Validated"})
    assert dc43_store.latest("sales.orders", status="Validated")["version"] == "1.0.0"


def test_optimize_compacts_within_the_partitions(dc43_store: DeltaContractStore) -> None:
    for version in ("3.0.0", "3.1.0", "3.2.0"):
        dc43_store.put(dc43_document("finance.ledger", version, status="active"))
    before = {
        v: dc43_store.get("finance.ledger", v) for v in dc43_store.list_versions("finance.ledger")
    }
    result = dc43_store.optimize()
    assert (result.files_before, result.files_after) == (9, 2)  # one file per contract
    assert result.clustered_by == () and result.partitioned_by == ("contract_id",)
    dt = DeltaTable(dc43_store.location.uri)
    actions = pa.table(dt.get_add_actions(flatten=True)).to_pylist()
    assert sorted(a["partition.contract_id"] for a in actions) == ["finance.ledger", "sales.orders"]
    assert {v: dc43_store.get("finance.ledger", v) for v in before} == before
    assert dc43_store.check().healthy is False  # still lacks the derived columns (adopt)


def test_optimize_clusters_a_table_partitioned_by_another_column(tmp_path: Path) -> None:
    rows = [build_row(dc43_document(f"c{i}", "1.0.0", domain=f"d{i % 2}")) for i in range(6)]
    schema = pa.schema([*TABLE_SCHEMA])
    path = tmp_path / "by_domain"
    for row in rows:
        table = rows_to_table([row], WHEN, schema)
        write_deltalake(path, table, mode="append", partition_by=["domain"])
    store = DeltaContractStore(path=path, validation="off")
    result = store.optimize()
    assert result.clustered_by == ("contract_key",)
    assert (result.files_before, result.files_after) == (6, 2)
    assert store.list_contracts() == [f"c{i}" for i in range(6)]


def test_auto_compaction_skips_partitions_it_cannot_merge(tmp_path: Path) -> None:
    path = dc43_table(tmp_path / "t", [dc43_document(f"c{i}", "1.0.0") for i in range(4)])
    store = DeltaContractStore(path=path, validation="off", auto_compact=3)
    store.put(dc43_document("c9", "1.0.0"))  # 5 small files, one per partition
    assert store.history(limit=1)[0].operation != "OPTIMIZE"
    for version in ("1.1.0", "1.2.0"):
        store.put(dc43_document("c9", version))  # now 3 small files in partition c9
    assert "OPTIMIZE" in [c.operation for c in store.history(limit=2)]
    assert len(DeltaTable(path).file_uris()) == 5


# -- adopt ---------------------------------------------------------------------------------


def test_adopt_dry_run_plans_and_writes_nothing(dc43_path: Path) -> None:
    before = DeltaTable(dc43_path).version()
    result = run("--path", str(dc43_path), "adopt")
    assert result.exit_code == 0, result.output
    assert "add columns status, api_version, domain, data_product" in result.output
    assert "set version_sort_key on 6 of 6 rows" in result.output
    assert "dry run: nothing written" in result.stderr
    assert DeltaTable(dc43_path).version() == before


def test_adopt_adds_and_fills_the_derived_columns_in_one_commit(dc43_path: Path) -> None:
    store = DeltaContractStore(path=dc43_path, validation="off")
    documents_before = {
        (d["id"], d["version"]): store.get(d["id"], d["version"]) for d in DOCUMENTS
    }
    seeds_before = (
        pl.scan_delta(dc43_path).select(DC43_SCHEMA.names).sort("contract_id", "version").collect()
    )
    before = DeltaTable(dc43_path).version()
    result = run("--path", str(dc43_path), "adopt", "--apply", "--who", "ops", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["applied"] is True
    dt = DeltaTable(dc43_path)
    assert dt.version() == before + 1
    assert dt.history(1)[0]["userName"] == "ops"
    schema = pa.schema(dt.schema().to_arrow())
    assert schema.names == [*DC43_SCHEMA.names, *DERIVED_COLUMNS]
    required = ("contract_id", "version", "json", "fingerprint", "created_at")  # NOT NULL now
    assert [field.name for field in schema if not field.nullable] == list(required)
    assert dt.metadata().partition_columns == ["contract_id"]
    assert dt.metadata().configuration == {"delta.autoOptimize.autoCompact": "true"}
    assert (dt.protocol().min_reader_version, dt.protocol().min_writer_version) == (1, 2)
    table = pl.scan_delta(dc43_path).sort("contract_id", "version").collect()
    assert table.select(DC43_SCHEMA.names).equals(seeds_before)  # nothing else changed
    for row in table.iter_rows(named=True):
        expected = build_row(json.loads(row["json"]))
        for column in DERIVED_COLUMNS:
            assert row[column] == getattr(expected, column), (row["version"], column)
    assert {k: store.get(*k) for k in documents_before} == documents_before
    assert store.check().healthy
    assert store.adopt().plan.needed is False
    assert run("--path", str(dc43_path), "check").exit_code == 0


def test_adopt_refreshes_stale_version_keys_and_fills_rows_other_tools_appended(
    tmp_path: Path,
) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(dc43_document("a", "0.9.0.0", status="active"))
    store.put(dc43_document("a", "1.0.0", status="active"))
    # a row an older release wrote: 0.10.0.0 was unordered then
    old = build_row(dc43_document("a", "0.10.0.0", status="active"))
    stale = rows_to_table([old], WHEN, TABLE_SCHEMA)
    stale = stale.set_column(
        TABLE_SCHEMA.get_field_index("version_sort_key"),
        "version_sort_key",
        pa.array(["0 0.10.0.0"]),
    )
    append(tmp_path / "t", stale)
    # rows dc43 (or anyone) appended with the seven columns only
    seven = dc43_rows([dc43_document("a", "2.0.0", status="draft", domain="x")])
    append(tmp_path / "t", widened(seven, TABLE_SCHEMA))
    store.update_metadata("a", "2.0.0", {"status": "Validated"})  # governance set it since
    report = store.check()
    assert {f.check for f in report.findings} == {
        "stale_version_keys",
        "rows_without_derived_columns",
    }
    assert report.facts.stale_sort_keys == 1 and report.facts.rows_without_derived == 1
    assert store.latest("a", status="Validated")["version"] == "2.0.0"
    assert store.latest("a", domain="x")["version"] == "2.0.0"

    plan = store.adopt().plan
    assert plan.add_columns == ()
    assert {k: v for k, v in plan.changes.items() if v} == {
        "api_version": 1,
        "domain": 1,
        "contract_key": 1,
        "version_sort_key": 2,
        "prerelease": 1,
    }
    assert store.adopt(dry_run=False).applied
    rows = {r["version"]: r for r in store.scan().collect().iter_rows(named=True)}
    assert rows["0.10.0.0"]["version_sort_key"] == version_sort_key("0.10.0.0")
    assert rows["2.0.0"]["status"] == "Validated"  # kept, not replaced by the document's
    assert rows["2.0.0"]["domain"] == "x"
    assert store.check().healthy


def test_backfilled_fills_only_what_is_missing() -> None:
    ours = build_row(dc43_document("a", "1.0.0", status="active", domain="d"))
    frame = pl.from_arrow(rows_to_table([ours], WHEN, TABLE_SCHEMA))
    assert isinstance(frame, pl.DataFrame)
    filled, changes = backfilled(frame)
    assert filled.equals(frame.select(filled.columns)) and not any(changes.values())
    governed = frame.with_columns(
        pl.lit("Validated").alias("status"), pl.lit(None, pl.String).alias("domain")
    )
    filled, changes = backfilled(governed)
    assert filled["status"].item() == "Validated"  # our own row: status is governance's
    assert filled["domain"].item() is None and not any(changes.values())


def test_a_table_lacking_json_columns_values_still_answers(tmp_path: Path) -> None:
    path = dc43_table(tmp_path / "t", DOCUMENTS[:1])
    row = dc43_row(dc43_document("a", "1.0.0"))
    append(path, pa.Table.from_pylist([{**row, "contract_id": None}], DC43_SCHEMA))
    store = DeltaContractStore(path=path, validation="off")
    assert store.list_contracts() == ["sales.orders"]
    report = store.check()
    assert "rows_without_identity" in {f.check for f in report.findings}


def test_a_payload_another_tool_broke_is_skipped_and_named_when_asked_for(
    tmp_path: Path,
) -> None:
    path = dc43_table(tmp_path / "t", DOCUMENTS[:1])
    row = dc43_row(dc43_document("sales.orders", "2.0.0"))
    append(path, pa.Table.from_pylist([{**row, "json": "{not json"}], DC43_SCHEMA))
    append(path, pa.Table.from_pylist([{**row, "version": "3.0.0", "json": "[1]"}], DC43_SCHEMA))
    store = DeltaContractStore(path=path, validation="off")
    for version in ("2.0.0", "3.0.0"):
        with pytest.raises(ContractNotFoundError) as caught:
            store.get("sales.orders", version)
        assert str(caught.value) == (
            f"contract 'sales.orders' version '{version}' not found: its row's json holds no "
            "JSON object, so reads skip it (`dc43-delta-store check` lists such rows)"
        )
    assert store.get("sales.orders", "0.9.0.0")["version"] == "0.9.0.0"  # others still read
    assert store.latest("sales.orders")["version"] == "0.9.0.0"  # type: ignore[index]
    assert store.list_versions("sales.orders") == ["0.9.0.0"]


def test_a_filter_on_a_column_of_no_filterable_type_is_refused(tmp_path: Path) -> None:
    path = dc43_table(tmp_path / "t", DOCUMENTS[:1])
    schema = DC43_SCHEMA.append(pa.field("blob", pa.binary()))
    row = dc43_row(dc43_document("sales.orders", "2.0.0"))
    write_deltalake(
        path,
        pa.Table.from_pylist([{**row, "blob": b"x"}], schema),
        mode="append",
        schema_mode="merge",
    )
    store = DeltaContractStore(path=path, validation="off")
    with pytest.raises(InvalidRequestError) as caught:
        store.latest("sales.orders", blob="x")
    assert str(caught.value) == "filter on 'blob': its type binary cannot be filtered on"


@pytest.mark.parametrize("partitioned", [False, True])
def test_rows_appended_without_a_key_stay_with_their_own_contract(
    tmp_path: Path, partitioned: bool
) -> None:
    path = tmp_path / "t"
    if partitioned:  # dc43's table, adopted: partitioned by contract_id, with contract_key
        dc43_table(path, [DOCUMENTS[0]])
        DeltaContractStore(path=path, validation="off").adopt(dry_run=False)
    store = DeltaContractStore(path=path, validation="off")
    store.put(dc43_document("sales.orders", "1.0.0", status="active"))
    schema = pa.schema(DeltaTable(path).schema().to_arrow())
    foreign = [dc43_document("hr.people", v, status="draft") for v in ("1.0.0", "9.0.0")]
    append(path, widened(dc43_rows(foreign), schema))  # no contract_key
    assert "9.0.0" not in store.list_versions("sales.orders")
    assert store.get("sales.orders", "1.0.0")["id"] == "sales.orders"
    assert store.latest("sales.orders")["version"] == "1.0.0"
    assert store.list_versions("hr.people") == ["1.0.0", "9.0.0"]
    store.update_metadata(
        "sales.orders", "1.0.0", {"status": "retired"}, if_match={"status": "active"}
    )
    assert store.latest("hr.people", status="draft")["version"] == "9.0.0"


def test_a_batch_over_versions_another_tool_appended_without_a_key(tmp_path: Path) -> None:
    """put_many compares with rows other tools wrote (no contract_key) too: an identical
    copy is unchanged, other content a conflict, and nothing is reported that was not
    written."""
    path = tmp_path / "t"
    store = DeltaContractStore(path=path, validation="off")
    store.put(dc43_document("sales.orders", "1.0.0", status="active"))
    schema = pa.schema(DeltaTable(path).schema().to_arrow())
    foreign = [dc43_document("hr.people", v, status="draft") for v in ("1.0.0", "2.0.0")]
    append(path, widened(dc43_rows(foreign), schema))  # no contract_key
    before = store.table_version

    same = store.put_many([foreign[0], dc43_document("hr.people", "2.1.0")])
    assert [(r.version, r.outcome) for r in same.results] == [
        ("1.0.0", "unchanged"),
        ("2.1.0", "inserted"),
    ]
    changed = dc43_document("hr.people", "2.0.0", status="draft", domain="hr")
    with pytest.raises(BatchError) as caught:
        store.put_many([changed, dc43_document("hr.people", "3.0.0")])
    assert isinstance(caught.value.problems[0].error, VersionConflictError)
    assert store.table_version == before + 1
    assert "domain" not in store.get("hr.people", "2.0.0")
    assert store.list_versions("hr.people") == ["1.0.0", "2.0.0", "2.1.0"]


def test_keyless_rows_compacted_with_keyed_ones_are_still_found(tmp_path: Path) -> None:
    """After optimize, one file holds this store's rows and rows another tool appended
    without contract_key: its key statistics do not place those, and lookups find them."""
    path = tmp_path / "t"
    store = DeltaContractStore(path=path, validation="off")
    for contract_id in ("sales.orders", "a.b", "z.y"):
        store.put(dc43_document(contract_id, "1.0.0", status="active"))
    schema = pa.schema(DeltaTable(path).schema().to_arrow())
    ids = ("hr.people", "fin.ledger", "ops.x")
    append(
        path, widened(dc43_rows([dc43_document(i, "1.0.0", status="draft") for i in ids]), schema)
    )
    store.optimize()
    assert len(DeltaTable(path).file_uris()) == 1
    reader = DeltaContractStore(path=path, validation="off")
    for contract_id in ids:
        assert reader.list_versions(contract_id) == ["1.0.0"]
        assert reader.get(contract_id, "1.0.0")["status"] == "draft"
        assert reader.latest(contract_id, status="draft")["id"] == contract_id
    assert reader.latest("sales.orders")["status"] == "active"


def test_a_tenant_column_another_tool_filled_wins_over_the_document_in_sql(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t"
    store = DeltaContractStore(path=path, validation="off")
    store.put(dc43_document("sales.orders", "1.0.0", tenant="from-document"))
    store.put(dc43_document("a.b", "1.0.0", tenant="doc-b"))
    DeltaTable(path).alter.add_columns([Field("tenant", "string")])
    DeltaTable(path).update(updates={"tenant": "'acme'"}, predicate="contract_id = 'sales.orders'")
    expected = [("a.b", "doc-b"), ("sales.orders", "acme")]  # the column, else the payload
    for view in ("contracts", "contracts_latest"):
        query = f"SELECT contract_id, tenant FROM {view} ORDER BY contract_id"
        assert store.sql(query).rows() == expected
