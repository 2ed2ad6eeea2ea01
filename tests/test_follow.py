"""A long-lived store keeps its answers about contracts that later commits did not touch,
and a contract's rows come from the row groups that hold them: always the right answer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.core.records import build_row
from dc43_delta_store.core.table_schema import SEED_COLUMNS, rows_to_table
from dc43_delta_store.table.queries import lookup

from .conftest import Backend, minimal

IDS = ["sales.orders", "sales.customers", "finance.invoices"]


def seeded(path: Path) -> DeltaContractStore:
    store = DeltaContractStore(path=path, validation="off")
    store.put_many(minimal(cid, v) for cid in IDS for v in ("1.0.0", "1.1.0"))
    return store


class Service:
    """A store object that lives across other writers' commits, as a service's does."""

    def __init__(self, path: Path) -> None:
        self.store = DeltaContractStore(path=path)

    def latest(self, contract_id: str, **filters: Any) -> str | None:
        found = self.store.latest(contract_id, **filters)
        return None if found is None else found["version"]

    def computed(self) -> int:
        return self.store._reads.cache.misses


def foreign_append(path: Path, contract_id: str, version: str, *, keyed: bool = True) -> None:
    """Another tool appends a row: no commit info of this store, file statistics only."""
    table = rows_to_table([build_row(minimal(contract_id, version))], datetime.now(UTC))
    if not keyed:
        table = table.set_column(
            table.schema.get_field_index("contract_key"),
            "contract_key",
            pl.Series([None], dtype=pl.String).to_arrow(),
        )
    write_deltalake(str(path), table, mode="append")


def test_a_put_keeps_the_answers_about_other_contracts(tmp_path: Path) -> None:
    path = tmp_path / "t"
    writer = seeded(path)
    service = Service(path)
    assert [service.latest(cid) for cid in IDS] == ["1.1.0"] * 3
    service.store.list_versions("finance.invoices")
    assert service.store.list_contracts() == sorted(IDS)
    computed = service.computed()
    writer.put(minimal("sales.orders", "2.0.0"))
    assert service.latest("sales.orders") == "2.0.0"
    assert service.computed() == computed + 1
    assert service.latest("sales.customers") == service.latest("finance.invoices") == "1.1.0"
    assert service.store.list_versions("finance.invoices") == ["1.0.0", "1.1.0"]
    assert service.computed() == computed + 1
    writer.put(minimal("new.one"))
    assert service.store.list_contracts() == sorted([*IDS, "new.one"])  # whole table: again


def test_a_metadata_update_touches_its_contract_only(tmp_path: Path) -> None:
    path = tmp_path / "t"
    writer = seeded(path)
    service = Service(path)
    assert service.latest("sales.orders", status="active") == "1.1.0"
    assert service.latest("sales.customers", status="active") == "1.1.0"
    computed = service.computed()
    writer.update_metadata("sales.orders", "1.1.0", {"status": "retired"})
    assert service.latest("sales.orders", status="active") == "1.0.0"
    assert service.latest("sales.customers", status="active") == "1.1.0"
    assert service.computed() == computed + 1


def test_upkeep_touches_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t"
    writer = seeded(path)
    writer.put(minimal("sales.orders", "2.0.0"))
    service = Service(path)
    assert [service.latest(cid) for cid in IDS] == ["2.0.0", "1.1.0", "1.1.0"]
    computed = service.computed()
    writer.optimize()
    assert [service.latest(cid) for cid in IDS] == ["2.0.0", "1.1.0", "1.1.0"]
    assert service.computed() == computed


def test_other_writers_are_placed_by_file_statistics(tmp_path: Path) -> None:
    path = tmp_path / "t"
    seeded(path)
    service = Service(path)
    assert [service.latest(cid) for cid in IDS] == ["1.1.0"] * 3
    computed = service.computed()
    foreign_append(path, "sales.orders", "3.0.0")
    assert service.latest("sales.orders") == "3.0.0"
    assert service.latest("finance.invoices") == "1.1.0"
    assert service.computed() == computed + 1
    # delta-rs writes no statistics into remove actions: the snapshot before places the file
    DeltaTable(str(path)).delete("contract_id = 'sales.orders' AND version = '3.0.0'")
    assert service.latest("sales.orders") == "1.1.0"
    assert service.latest("finance.invoices") == "1.1.0"
    assert service.computed() == computed + 2
    # rows without contract_key are placed by contract_id
    foreign_append(path, "sales.customers", "4.0.0", keyed=False)
    assert service.latest("sales.customers") == "4.0.0"
    assert service.latest("finance.invoices") == "1.1.0"
    assert service.computed() == computed + 3


def test_what_cannot_be_attributed_is_computed_again(tmp_path: Path) -> None:
    path = tmp_path / "t"
    writer = seeded(path)
    service = Service(path)
    assert [service.latest(cid) for cid in IDS] == ["1.1.0"] * 3
    computed = service.computed()
    writer.add_metadata_columns({"owner": "string"})  # a schema change
    assert [service.latest(cid) for cid in IDS] == ["1.1.0"] * 3
    assert service.computed() == computed + 3
    assert service.latest("sales.orders", owner=None) == "1.1.0"


def test_answers_as_of_a_version_stay_that_versions(tmp_path: Path) -> None:
    path = tmp_path / "t"
    writer = seeded(path)
    service = Service(path)
    before = service.store.table_version
    assert service.store.latest("sales.orders", as_of=before)["version"] == "1.1.0"
    writer.put(minimal("sales.orders", "2.0.0"))
    assert service.store.latest("sales.orders", as_of=before)["version"] == "1.1.0"
    assert service.latest("sales.orders") == "2.0.0"


# -- point reads -------------------------------------------------------------------------


def scanned(
    dt: DeltaTable, contract_id: str, columns: list[str], schema: dict[str, Any]
) -> pl.DataFrame:
    frame = pl.scan_delta(dt).filter(lookup(contract_id, schema)).select(columns)
    return frame.collect().sort(columns)


def point_read(store: DeltaContractStore, contract_id: str, columns: list[str]) -> pl.DataFrame:
    dt = store._table.current()
    assert dt is not None
    frame = store._reads.snapshot(dt).frame(contract_id, columns).select(columns)
    return frame.collect().sort(columns)


def test_point_reads_equal_a_scan(tmp_path: Path) -> None:
    """On an optimized table (small row groups, many contracts per file), after later
    single puts, with a column added after some files were written."""
    path = tmp_path / "t"
    store = DeltaContractStore(path=path, validation="off")
    ids = [f"domain{n % 5}.dataset_{n:04d}" for n in range(400)]
    usage = {"usage": "words " * 400}  # ~2.4 KB rows: about 870 to a row group
    store.put_many(minimal(cid, f"1.{v}.0", description=usage) for cid in ids for v in range(3))
    store.optimize()
    store.add_metadata_columns({"owner": "string"})
    store.put(minimal(ids[7], "2.0.0"), metadata={"owner": "ann"})
    dt = store._table.current()
    assert dt is not None
    footers = [pq.ParquetFile(uri).metadata for uri in dt.file_uris()]
    assert max(footer.num_row_groups for footer in footers) > 1  # several per file
    assert "UNCOMPRESSED" not in {footer.row_group(0).column(4).compression for footer in footers}
    columns = ["version", "json", "status", "owner", "created_at", "prerelease"]
    schema = store._reads.columns(dt)
    served = store._reads._points.served
    for cid in [*ids[:40], ids[7], "absent.contract"]:
        assert point_read(store, cid, columns).equals(scanned(dt, cid, columns, schema)), cid
    assert store._reads._points.served == served + 42
    assert point_read(store, ids[7], ["version", "owner"]).rows()[-1] == ("2.0.0", "ann")


@pytest.mark.parametrize("kind", ["unkeyed rows", "partitioned", "no contract_key"])
def test_tables_point_reads_do_not_fit_are_scanned(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "t"
    documents = [minimal(cid, v) for cid in IDS for v in ("1.0.0", "1.1.0")]
    table = rows_to_table([build_row(d) for d in documents], datetime.now(UTC))
    if kind == "unkeyed rows":
        seeded(path)
        foreign_append(path, "sales.orders", "2.0.0", keyed=False)
    elif kind == "partitioned":
        write_deltalake(str(path), table, partition_by=["domain"])
    else:
        write_deltalake(str(path), table.select(list(SEED_COLUMNS)))
    store = DeltaContractStore(path=path)
    expected = "2.0.0" if kind == "unkeyed rows" else "1.1.0"
    assert store.latest("sales.orders")["version"] == expected
    assert store.list_versions("sales.customers") == ["1.0.0", "1.1.0"]
    assert store._reads._points.served == 0


def test_point_reads_on_object_stores(backend: Backend) -> None:
    store = backend.store()
    store.put_many(minimal(cid, v) for cid in IDS for v in ("1.0.0", "1.1.0"))
    store.optimize()
    store.put(minimal("sales.orders", "2.0.0"))
    reader = backend.store()
    assert reader.latest("sales.orders")["version"] == "2.0.0"
    assert reader.get("finance.invoices", "1.0.0") == minimal("finance.invoices", "1.0.0")
    assert reader._reads._points.served == 2


def test_memory_is_bounded_in_bytes(tmp_path: Path) -> None:
    path = tmp_path / "t"
    store = DeltaContractStore(path=path, validation="off", cache_bytes=400_000)
    padding = "x" * 100_000  # ~100 KB contracts
    store.put_many(minimal(f"big.c{n}", description={"usage": padding}) for n in range(10))
    for n in range(10):
        assert store.latest(f"big.c{n}")["description"]["usage"] == padding
        assert store._reads.cache.bytes <= 400_000
    assert len([key for key in store._reads.cache._entries if key[0] == "live"]) <= 3


def test_the_files_of_a_new_version_follow_from_the_commits(tmp_path: Path) -> None:
    """Point reads know which files hold a key from the commits a service followed (adds
    and removes), as the snapshot's add actions would say."""
    from dc43_delta_store.table.row_groups import _files_of

    path = tmp_path / "t"
    writer = seeded(path)
    service = Service(path)
    steps = [
        lambda: writer.put(minimal("sales.orders", "2.0.0")),
        lambda: writer.update_metadata("sales.orders", "1.0.0", {"status": "retired"}),
        lambda: foreign_append(path, "finance.invoices", "3.0.0"),
        lambda: writer.optimize(),
        lambda: writer.put_many([minimal("a.b"), minimal("c.d")]),
    ]
    assert service.latest("sales.customers") == "1.1.0"
    for step in steps:
        service.latest("sales.orders")
        step()
        service.latest("sales.customers")  # remembered: only follows the commit
        dt = service.store._table.current()
        assert dt is not None
        derived = service.store._reads._points._plans[dt.version()]
        expected = _files_of(dt, service.store._reads.schema(dt))
        assert derived is not None and expected is not None
        assert derived.ranges == expected.ranges


def test_a_local_service_answers_after_a_commit_without_reloading_its_snapshot(
    tmp_path: Path,
) -> None:
    """The new version's files follow from the commit; the Delta snapshot stays as it was
    until a read needs it (here list_contracts, a scan)."""
    path = tmp_path / "t"
    writer = seeded(path)
    writer.optimize()
    service = Service(path)
    assert [service.latest(cid) for cid in IDS] == ["1.1.0"] * 3
    loaded = service.store._table._dt
    assert loaded is not None
    before = loaded.version()
    writer.put(minimal("sales.orders", "2.0.0"))
    writer.update_metadata("sales.customers", "1.1.0", {"status": "retired"})
    assert service.latest("sales.orders") == "2.0.0"
    assert service.latest("sales.customers", status="active") == "1.0.0"
    assert service.store.get("sales.orders", "2.0.0")["version"] == "2.0.0"
    assert service.store.table_version == before + 2
    assert loaded.version() == before  # not reloaded
    assert "new.one" not in service.store.list_contracts()
    writer.put(minimal("new.one"))
    assert "new.one" in service.store.list_contracts()
