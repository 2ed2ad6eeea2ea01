"""The commits behind put and update_metadata: replace-where writes on the snapshot the store
read, whose key predicate is also the conflict predicate.

Writers of the same key conflict, writers of other keys both commit, nothing but the keys
written is ever touched, and every file written is plain Parquet (no view types, NOT NULL as
declared). The multi-process races are in test_race.py and test_stress.py; here a snapshot
left behind by another commit plays the concurrent writer, deterministically.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError
from hypothesis import given, settings
from hypothesis import strategies as st

from dc43_delta_store import DeltaContractStore, IncompatibleTableError, VersionConflictError
from dc43_delta_store.core.key_filter import key_predicate
from dc43_delta_store.core.records import build_row
from dc43_delta_store.core.table_schema import TABLE_SCHEMA, rows_to_table
from dc43_delta_store.table.data_files import data_file_problems
from dc43_delta_store.table.delta_table import ContractTable
from dc43_delta_store.table.location import TableLocation

from .conftest import minimal


def rows_of(path: Path) -> list[dict[str, object]]:
    return pa.table(DeltaTable(str(path)).scan()).to_pylist()


def keys_of(path: Path) -> list[tuple[str, str]]:
    return sorted((str(r["contract_id"]), str(r["version"])) for r in rows_of(path))


def snapshot(path: Path) -> DeltaTable:
    return DeltaTable(str(path))


def insert(path: Path, dt: DeltaTable, *keys: tuple[str, str]) -> int:
    rows = [build_row(minimal(contract_id, version)) for contract_id, version in keys]
    return ContractTable(TableLocation(str(path))).insert_new(dt, rows, {}, {})


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "contracts"
    DeltaContractStore(path=path, validation="off").put(minimal("seed"))
    return path


def test_a_writer_behind_another_on_the_same_key_conflicts(table: Path) -> None:
    behind = snapshot(table)
    assert insert(table, snapshot(table), ("sales.orders", "1.0.0")) == 1
    with pytest.raises(CommitFailedError):
        insert(table, behind, ("sales.orders", "1.0.0"))
    assert keys_of(table) == [("sales.orders", "1.0.0"), ("seed", "1.0.0")]


def test_writers_of_different_keys_both_commit(table: Path) -> None:
    behind = snapshot(table)
    assert insert(table, snapshot(table), ("sales.orders", "1.0.0")) == 1
    assert insert(table, behind, ("sales.orders", "1.1.0")) == 1
    assert insert(table, behind, ("hr.people", "1.0.0")) == 1
    assert len(keys_of(table)) == 4


def test_a_batch_behind_conflicts_on_any_of_its_keys(table: Path) -> None:
    behind = snapshot(table)
    insert(table, snapshot(table), ("b", "2"))
    with pytest.raises(CommitFailedError):
        insert(table, behind, ("a", "1"), ("b", "2"), ("c", "3"))
    assert keys_of(table) == [("b", "2"), ("seed", "1.0.0")]


def test_an_insert_writes_only_the_keys_the_snapshot_lacks(table: Path) -> None:
    # (a, 2) lies in the cross product of the batch's ids and versions: it stays as it was
    insert(table, snapshot(table), ("a", "2"), ("b", "1"))
    before = {(r["contract_id"], r["version"]): r for r in rows_of(table)}
    assert insert(table, snapshot(table), ("a", "1"), ("b", "2"), ("b", "1")) == 2
    after = {(r["contract_id"], r["version"]): r for r in rows_of(table)}
    assert sorted(after) == [("a", "1"), ("a", "2"), ("b", "1"), ("b", "2"), ("seed", "1.0.0")]
    for key in [("a", "2"), ("b", "1"), ("seed", "1.0.0")]:
        assert after[key] == before[key]  # not rewritten: same created_at, same everything


def test_metadata_updates_behind_each_other_conflict_and_the_store_applies_both(
    tmp_path: Path,
) -> None:
    path = tmp_path / "contracts"
    store = DeltaContractStore(path=path, validation="off")
    store.put(minimal("sales.orders"))
    store.add_metadata_columns({"owner": "string", "steward": "string"})
    table, behind = ContractTable(TableLocation(str(path))), snapshot(path)
    table.update_row(snapshot(path), ("sales.orders", "1.0.0"), {"owner": "ann"}, {})
    with pytest.raises(CommitFailedError):
        table.update_row(behind, ("sales.orders", "1.0.0"), {"steward": "bob"}, {})
    store.update_metadata("sales.orders", "1.0.0", {"steward": "bob"})  # re-reads, applies
    [row] = rows_of(path)
    assert (row["owner"], row["steward"], row["status"]) == ("ann", "bob", "active")


def test_an_update_keeps_every_other_row_of_its_file(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put_many([minimal(f"c{n}") for n in range(5)])  # one file of five rows
    before = {r["contract_id"]: r for r in rows_of(tmp_path / "t")}
    store.update_metadata("c2", "1.0.0", {"status": "retired"})
    after = {r["contract_id"]: r for r in rows_of(tmp_path / "t")}
    assert after["c2"] == {**before["c2"], "status": "retired"}
    assert all(after[c] == before[c] for c in before if c != "c2")


QUOTED = ["o'brien", "a''b", "back\\slash", "100%_like", "Ünïcødé 名前", "semi;colon --", "x" * 300]


@pytest.mark.parametrize("contract_id", QUOTED)
def test_ids_that_need_quoting_insert_update_and_read_back(
    tmp_path: Path, contract_id: str
) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal("o"))
    assert store.put(minimal(contract_id, "1.0.0")).outcome == "inserted"
    assert store.put(minimal(contract_id, "1.0.0")).outcome == "unchanged"
    store.update_metadata(contract_id, "1.0.0", {"status": "retired"})
    assert store.latest(contract_id, status="retired")["id"] == contract_id
    assert store.list_contracts() == sorted(["o", contract_id])
    assert all(problems == [] for problems in data_file_problems(snapshot(tmp_path / "t")).values())


@pytest.fixture(scope="module")
def tricky(tmp_path_factory: pytest.TempPathFactory) -> DeltaTable:
    """Rows under every pair of a few awkward ids and versions, as another tool wrote them:
    without contract_key, some with control characters the store itself refuses."""
    path = str(tmp_path_factory.mktemp("tricky") / "t")
    now = datetime.now(UTC)
    write_deltalake(path, rows_to_table([build_row(minimal("seed"))], now), mode="append")
    ids = [*QUOTED[:5], "a", "b", "a\x1fb"]
    versions = ["1", "2", "1\x1f2", "1.0.0-rc.1"]
    foreign = [
        {"contract_id": c, "version": v, "json": "{}", "fingerprint": "f", "created_at": now}
        for c in ids
        for v in versions
    ]
    write_deltalake(path, pa.Table.from_pylist(foreign, schema=TABLE_SCHEMA), mode="append")
    return DeltaTable(path)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_the_key_predicate_selects_exactly_its_keys(
    tricky: DeltaTable, data: st.DataObject
) -> None:
    everything = pa.table(tricky.scan(columns=["contract_id", "version"])).to_pylist()
    stored = [(str(r["contract_id"]), str(r["version"])) for r in everything]
    absent = [("a", "3"), ("zz", "1"), ("b", "1\x1f")]
    one_id = data.draw(st.sampled_from([None, "a", "o'brien"]))  # a batch of one contract
    pool = [key for key in stored + absent if one_id in (None, key[0])]
    keys = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=12))
    predicate = key_predicate(keys, hashed=data.draw(st.booleans()))
    found = pa.table(
        tricky.scan(columns=["contract_id", "version"], predicate=predicate)
    ).to_pylist()
    assert sorted((r["contract_id"], r["version"]) for r in found) == sorted(
        key for key in stored if key in set(keys)
    )


def append_without_key(table: Path, document: dict[str, Any]) -> None:
    """A row as Spark or dc43's MERGE appends it: no ``contract_key``."""
    row = rows_to_table([build_row(document)], datetime.now(UTC))
    row = row.set_column(
        row.schema.get_field_index("contract_key"), "contract_key", pa.nulls(1, pa.string())
    )
    write_deltalake(str(table), row, mode="append")


def test_a_version_another_tool_wrote_without_a_key_is_not_written_again(table: Path) -> None:
    # Spark (or dc43's MERGE) adds rows without contract_key: a re-put finds them
    append_without_key(table, minimal("spark.written", "1.0.0"))
    store = DeltaContractStore(path=table, validation="off")
    assert store.put(minimal("spark.written", "1.0.0")).outcome == "unchanged"
    with pytest.raises(VersionConflictError):
        store.put(minimal("spark.written", "1.0.0", status="retired"))
    batch = store.put_many([minimal("spark.written", "1.0.0"), minimal("new.one")])
    assert [r.outcome for r in batch.results] == ["unchanged", "inserted"]
    assert keys_of(table).count(("spark.written", "1.0.0")) == 1


def test_append_only_tables_keep_the_same_guarantees(table: Path) -> None:
    # inserts there are insert-only MERGEs: the key is still the conflict predicate
    snapshot(table).alter.set_table_properties({"delta.appendOnly": "true"})
    behind = snapshot(table)
    assert insert(table, snapshot(table), ("a", "1")) == 1
    assert insert(table, behind, ("b", "1")) == 1  # another key: both commit
    behind = snapshot(table)
    assert insert(table, snapshot(table), ("c", "1")) == 1
    with pytest.raises(CommitFailedError):
        insert(table, behind, ("c", "1"))  # the same key: the second conflicts
    assert keys_of(table) == [("a", "1"), ("b", "1"), ("c", "1"), ("seed", "1.0.0")]


def test_a_write_of_no_keys_is_a_programming_error_not_a_table_wide_predicate() -> None:
    # an empty predicate would replace every row of the table
    with pytest.raises(ValueError, match=r"^key_predicate needs at least one key$"):
        key_predicate([], hashed=True)


def test_append_only_tables_take_puts_and_refuse_metadata_updates(tmp_path: Path) -> None:
    path = tmp_path / "t"
    store = DeltaContractStore(path=path, validation="off")
    store.put(minimal("a"))
    snapshot(path).alter.set_table_properties({"delta.appendOnly": "true"})
    assert store.put(minimal("b")).outcome == "inserted"  # an insert-only MERGE here
    assert store.put(minimal("b")).outcome == "unchanged"
    version = snapshot(path).version()
    with pytest.raises(IncompatibleTableError, match=r"append-only \(delta.appendOnly=true\)"):
        store.update_metadata("a", "1.0.0", {"status": "retired"})
    assert snapshot(path).version() == version


def test_writers_of_long_ids_sharing_a_prefix_both_commit(table: Path) -> None:
    # Delta truncates string statistics (to 64 characters): only contract_key tells these
    # two ids' files apart, so without it the second writer would conflict
    prefix = "enterprise.finance.reporting." + "x" * 60
    behind = snapshot(table)
    assert insert(table, snapshot(table), (prefix + ".orders", "1.0.0")) == 1
    assert insert(table, behind, (prefix + ".invoices", "1.0.0")) == 1
    assert len(keys_of(table)) == 3


def test_on_an_append_only_table_a_keyless_version_is_not_written_again(table: Path) -> None:
    # there the insert is a MERGE: its match condition must also take rows without a key
    snapshot(table).alter.set_table_properties({"delta.appendOnly": "true"})
    append_without_key(table, minimal("spark.written", "1.0.0"))
    store = DeltaContractStore(path=table, validation="off")
    assert store.put(minimal("spark.written", "1.0.0")).outcome == "unchanged"
    assert insert(table, snapshot(table), ("spark.written", "1.0.0"), ("new.one", "1")) == 1
    assert keys_of(table).count(("spark.written", "1.0.0")) == 1
    assert store.get("spark.written", "1.0.0")["id"] == "spark.written"
