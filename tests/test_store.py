"""The store on a real local Delta table: rows, immutability, reads, bad input, foreign tables."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, write_deltalake

from dc43_delta_store import (
    ContractNotFoundError,
    DeltaContractStore,
    IncompatibleTableError,
    InvalidContractError,
    InvalidLocationError,
    InvalidRequestError,
    StoreUnavailableError,
    VersionConflictError,
)
from dc43_delta_store.cli import cli
from dc43_delta_store.core.table_schema import SEED_COLUMNS

from .conftest import minimal


def table_of(store: DeltaContractStore) -> DeltaTable:
    return DeltaTable(store.location.uri)


def test_first_put_creates_a_minimal_protocol_table_with_the_seed_columns(
    store: DeltaContractStore,
) -> None:
    assert not Path(store.location.uri).exists()
    result = store.put(minimal(description={"usage": "orders for reporting"}, name="Orders"))
    assert result.outcome == "inserted"
    dt = table_of(store)
    protocol = dt.protocol()
    assert (protocol.min_reader_version, protocol.min_writer_version) == (1, 2)
    assert not protocol.reader_features and not protocol.writer_features
    row = pa.table(dt.to_pyarrow_table()).to_pylist()[0]
    schema = pa.schema(dt.schema().to_arrow())
    assert set(SEED_COLUMNS) | {"status", "api_version"} <= set(schema.names)
    assert schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert row["created_at"].tzinfo is not None
    assert row["created_at"].utcoffset() == UTC.utcoffset(None)
    assert (row["contract_id"], row["version"], row["name"]) == ("sales.orders", "1.0.0", "Orders")
    assert (row["description"], row["status"], row["api_version"]) == (
        "orders for reporting",
        "active",
        "v3.1.0",
    )
    assert row["fingerprint"] == result.fingerprint and len(result.fingerprint) == 64
    assert json.loads(row["json"]) == store.get("sales.orders", "1.0.0")


def test_name_falls_back_to_the_id(store: DeltaContractStore) -> None:
    store.put(minimal())
    assert pa.table(table_of(store).to_pyarrow_table())["name"].to_pylist() == ["sales.orders"]


def test_get_returns_the_document_that_was_put(store: DeltaContractStore) -> None:
    document = minimal(customProperties=[{"property": "x-unknown", "value": {"deep": [1, 2.5]}}])
    store.put(document)
    assert store.get("sales.orders", "1.0.0") == document


def test_get_of_an_absent_version_is_a_key_error_naming_it(store: DeltaContractStore) -> None:
    store.put(minimal())
    with pytest.raises(
        ContractNotFoundError, match=r"contract 'sales\.orders' version '2\.0\.0' not found"
    ):
        store.get("sales.orders", "2.0.0")
    with pytest.raises(KeyError):
        store.get("nope", "1.0.0")


def test_identical_re_put_writes_nothing_and_says_so(store: DeltaContractStore) -> None:
    first = store.put(minimal())
    again = store.put(json.dumps(minimal()))  # same content, another form
    assert again.outcome == "unchanged" and not again.inserted
    assert again.table_version == first.table_version == table_of(store).version()
    assert len(table_of(store).to_pyarrow_table()) == 1


def test_other_content_under_a_stored_version_is_a_conflict_and_changes_nothing(
    store: DeltaContractStore,
) -> None:
    first = store.put(minimal())
    before = table_of(store).version()
    changed = minimal(status="retired")
    with pytest.raises(VersionConflictError) as caught:
        store.put(changed)
    error = caught.value
    assert (error.contract_id, error.version) == ("sales.orders", "1.0.0")
    assert error.stored_fingerprint == first.fingerprint
    assert error.new_fingerprint != first.fingerprint
    for text in ("sales.orders", "1.0.0", error.stored_fingerprint, error.new_fingerprint):
        assert text in str(error)
    assert table_of(store).version() == before
    assert store.get("sales.orders", "1.0.0")["status"] == "active"


def test_list_and_latest_follow_version_precedence(store: DeltaContractStore) -> None:
    for version, status in [
        ("1.9.0", "active"),
        ("1.10.0", "active"),
        ("1.2.0", "active"),
        ("2.0.0-rc.1", "active"),
        ("1.11.0", "draft"),
    ]:
        store.put(minimal(version=version, status=status))
    store.put(minimal("finance.invoices"))
    store.put(minimal("a.first"))
    assert store.list_contracts() == ["a.first", "finance.invoices", "sales.orders"]
    assert store.list_versions("sales.orders") == [
        "1.2.0",
        "1.9.0",
        "1.10.0",
        "1.11.0",
        "2.0.0-rc.1",
    ]
    assert store.latest("sales.orders")["version"] == "1.11.0"
    assert store.latest("sales.orders", include_prereleases=True)["version"] == "2.0.0-rc.1"
    assert store.latest("sales.orders", status="active")["version"] == "1.10.0"
    assert store.latest("sales.orders", status=["draft", "retired"])["version"] == "1.11.0"
    assert store.latest("sales.orders", status="retired") is None
    assert store.latest("unknown.contract") is None
    assert store.list_versions("unknown.contract") == []


def test_versions_with_a_dash_or_build_are_releases_everywhere(store: DeltaContractStore) -> None:
    # a date and SemVer build metadata hold "-" but are no prereleases: latest(), the SQL view,
    # the prerelease column other engines read, and the command line agree
    for contract_id, version in [
        ("dated", "2023-12-31"),
        ("dated", "2024-01-01"),
        ("built", "1.0.0"),
        ("built", "1.0.0+b-1"),
        ("built", "1.1.0-rc.1"),
    ]:
        store.put(minimal(contract_id, version))
    assert store.latest("dated")["version"] == "2024-01-01"
    assert store.latest("built")["version"] == "1.0.0+b-1"
    latest = store.sql("SELECT contract_id, version FROM contracts_latest ORDER BY contract_id")
    assert latest.rows() == [("built", "1.0.0+b-1"), ("dated", "2024-01-01")]
    flags = dict(store.sql("SELECT version, prerelease FROM contracts").rows())
    assert flags == {
        "2023-12-31": False,
        "2024-01-01": False,
        "1.0.0": False,
        "1.0.0+b-1": False,
        "1.1.0-rc.1": True,
    }
    listed = CliRunner().invoke(cli, ["--path", store.location.uri, "list", "--json"])
    assert {row["contract_id"]: row["latest"] for row in json.loads(listed.stdout)} == {
        "built": "1.0.0+b-1",
        "dated": "2024-01-01",
    }


def test_unknown_filter_column_is_a_clear_error(store: DeltaContractStore) -> None:
    store.put(minimal())
    columns = "api_version, contract_id, contract_key, created_at, data_product, description, "
    columns += "domain, fingerprint, json, name, prerelease, status, version, version_sort_key"
    with pytest.raises(InvalidRequestError) as caught:
        store.latest("sales.orders", owner="me")
    assert str(caught.value) == f"unknown filter column 'owner'; the table has {columns}"
    before = store.table_version
    assert before is not None
    store.add_metadata_columns({"owner": "string"})
    store.put(minimal(version="2.0.0"))
    assert store.latest("sales.orders", owner=None)["version"] == "2.0.0"
    for call in (  # as the table stood before the column was added
        lambda: store.latest("sales.orders", owner=None, as_of=before),
        lambda: store.resolve("sales.orders", "^1", owner="me", as_of=before),
    ):
        with pytest.raises(InvalidRequestError) as caught:
            call()
        assert str(caught.value) == f"unknown filter column 'owner'; the table has {columns}"


def test_exists(store: DeltaContractStore) -> None:
    assert not store.exists("sales.orders")
    store.put(minimal())
    assert store.exists("sales.orders")
    assert store.exists("sales.orders", "1.0.0")
    assert not store.exists("sales.orders", "1.0.1")


def test_reads_of_a_missing_table_are_empty_and_create_nothing(store: DeltaContractStore) -> None:
    assert store.list_contracts() == []
    assert store.latest("sales.orders") is None
    with pytest.raises(ContractNotFoundError):
        store.get("sales.orders", "1.0.0")
    assert not Path(store.location.uri).exists()


def test_latest_reads_only_the_files_that_can_hold_the_contract(
    store: DeltaContractStore,
) -> None:
    store.put(minimal("a.orders"))
    store.put(minimal("b.orders"))
    dt = table_of(store)
    actions = pa.table(dt.get_add_actions(flatten=True)).to_pylist()
    b_file = next(a["path"] for a in actions if a["min.contract_id"] == "b.orders")
    (Path(store.location.uri) / b_file).unlink()  # b's rows are gone; a's file is intact
    assert store.latest("a.orders")["id"] == "a.orders"
    assert store.get("a.orders", "1.0.0")["id"] == "a.orders"
    with pytest.raises(StoreUnavailableError, match="cannot read table"):
        store.latest("b.orders")


@pytest.mark.parametrize(
    ("contract", "message"),
    [
        ({"version": "1.0.0"}, "contract has no id"),
        ({"id": "a"}, "contract 'a': version is missing"),
        ({"id": "", "version": "1.0.0"}, "id is empty"),
        ({"id": "a", "version": 1}, "contract 'a': version must be a string, got int 1"),
        ({"id": ["a"], "version": "1"}, "id must be a string, got list"),
        (
            {"id": "a", "version": "1", "status": 3},
            "contract 'a' version '1': status must be a string",
        ),
        ({"id": "a", "version": "1", "name": {"x": 1}}, "name must be a string, got dict"),
        ("id: a\nversion: 1.10\n", 'quote it: version: "1.10"'),
        pytest.param("id: [a", "invalid YAML", id="unclosed-flow-list"),
        (Path("/nonexistent/contract.yaml"), "/nonexistent/contract.yaml: file does not exist"),
        ([{"id": "a"}], "cannot read a contract from list"),
    ],
)
def test_bad_input_raises_and_writes_nothing(
    store: DeltaContractStore, contract: object, message: str
) -> None:
    store.put(minimal())
    before = table_of(store).version()
    with pytest.raises(InvalidContractError) as caught:
        store.put(contract)
    assert message in str(caught.value)
    assert table_of(store).version() == before


def test_bad_first_input_does_not_create_the_table(store: DeltaContractStore) -> None:
    with pytest.raises(InvalidContractError):
        store.put({"id": "a"})
    assert not Path(store.location.uri).exists()


def test_v2_documents_are_identified_by_uuid(store: DeltaContractStore) -> None:
    document = {"apiVersion": "v2.2.2", "kind": "DataContract", "uuid": "u-1", "version": "1.0.0"}
    assert store.put(document).contract_id == "u-1"
    assert store.get("u-1", "1.0.0") == document


def test_an_existing_dc43_table_is_used_as_it_is(tmp_path: Path) -> None:
    # the seed columns only, as dc43's Spark DeltaContractStore creates them
    path = tmp_path / "dc43"
    seed = pa.schema(
        [(name, pa.string()) for name in SEED_COLUMNS[:-1]]
        + [("created_at", pa.timestamp("us", tz="UTC"))]
    )
    write_deltalake(path, seed.empty_table())
    store = DeltaContractStore(path=path, validation="off")
    store.put(minimal())
    dt = DeltaTable(path)
    assert pa.schema(dt.schema().to_arrow()).names == seed.names
    assert store.latest("sales.orders")["version"] == "1.0.0"


def test_a_foreign_table_is_refused_naming_the_missing_columns(tmp_path: Path) -> None:
    write_deltalake(tmp_path / "other", pa.table({"contract_id": ["a"], "payload": ["{}"]}))
    store = DeltaContractStore(path=tmp_path / "other")
    with pytest.raises(
        IncompatibleTableError, match="lacks string columns version, json, fingerprint"
    ):
        store.put(minimal())
    with pytest.raises(IncompatibleTableError):
        store.latest("a")


def test_a_file_where_the_table_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidLocationError, match="is a file"):
        DeltaContractStore(path=tmp_path / "file").put(minimal())


def test_a_folder_of_other_files_is_not_turned_into_a_table(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("x")
    with pytest.raises(InvalidLocationError, match="no _delta_log"):
        DeltaContractStore(path=tmp_path / "docs").put(minimal())
    assert not (tmp_path / "docs" / "_delta_log").exists()


def test_exists_as_of_an_earlier_version(store: DeltaContractStore) -> None:
    store.put(minimal(version="1.0.0"))
    then = store.table_version
    assert then is not None
    store.put(minimal(version="2.0.0"))
    store.put(minimal("sales.returns"))
    assert store.exists("sales.orders", "2.0.0") and store.exists("sales.returns")
    assert store.exists("sales.orders", "1.0.0", as_of=then)
    assert not store.exists("sales.orders", "2.0.0", as_of=then)
    assert not store.exists("sales.returns", as_of=then)


def test_answers_as_of_two_points_in_time_differ(store: DeltaContractStore) -> None:
    store.put(minimal(version="1.0.0"))
    time.sleep(0.05)
    first = datetime.now(UTC)
    time.sleep(0.05)
    store.put(minimal(version="2.0.0"))
    time.sleep(0.05)
    second = datetime.now(UTC)
    assert store.list_versions("sales.orders", as_of=first) == ["1.0.0"]
    assert store.list_versions("sales.orders", as_of=second) == ["1.0.0", "2.0.0"]
    assert store.latest("sales.orders", as_of=first.isoformat())["version"] == "1.0.0"
    assert store.latest("sales.orders", as_of=second.isoformat())["version"] == "2.0.0"


def test_a_metadata_update_replaces_the_row_reads_see(store: DeltaContractStore) -> None:
    """The rewritten row's old file is gone from what lookups read: a filter on the old
    value finds nothing, including on a store that followed the commit (not reloaded)."""
    store.put(minimal(status="draft"))
    store.put(minimal("a.b"))
    assert store.latest("sales.orders", status="draft")["version"] == "1.0.0"
    store.update_metadata("sales.orders", "1.0.0", {"status": "active"})
    assert store.latest("sales.orders", status="draft") is None
    assert store.latest("sales.orders", status="active")["version"] == "1.0.0"
    assert store.list_versions("sales.orders") == ["1.0.0"]
    store.put(minimal(version="1.1.0", status="draft"))
    assert store.resolve("sales.orders", "^1", status="draft")["version"] == "1.1.0"
    assert store.resolve("sales.orders", "<1.1", status="draft") is None
