"""Governance: metadata columns, status sync, filters, SQL, history, time travel, upkeep."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from dc43_delta_store import (
    ContractNotFoundError,
    DeltaContractStore,
    IncompatibleTableError,
    InvalidRequestError,
    TableBusyError,
    UpdateConflictError,
)

from .conftest import EXAMPLES, minimal


def rows(store: DeltaContractStore) -> list[dict[str, Any]]:
    return pa.table(DeltaTable(store.location.uri).to_pyarrow_table()).to_pylist()


@pytest.fixture
def governed(tmp_path: Path) -> DeltaContractStore:
    store = DeltaContractStore(
        path=tmp_path / "t", validation="off", metadata_columns={"owner": "string"}
    )
    store.put_many(sorted(EXAMPLES.rglob("*.odcs.*")))
    return store


# -- metadata columns -------------------------------------------------------------------------


def test_declared_columns_exist_from_the_first_write(governed: DeltaContractStore) -> None:
    schema = pa.schema(DeltaTable(governed.location.uri).schema().to_arrow())
    assert schema.field("owner").type == pa.string()
    governed.put(minimal("x"), metadata={"owner": "team-x"})
    assert governed.latest("x", owner="team-x")["id"] == "x"
    assert governed.latest("sales.orders", owner=None)["version"] == "2.0.0"


def test_columns_added_later_evolve_the_table_without_rewriting_it(
    governed: DeltaContractStore,
) -> None:
    dt_before = DeltaTable(governed.location.uri)
    files, version = set(dt_before.file_uris()), dt_before.version()
    governed.add_metadata_columns(
        {"review_ticket": "string", "reviewed_on": "date", "score": "double"},
        who="steward",
        why="review process",
    )
    after = DeltaTable(governed.location.uri)
    assert after.version() == version + 1 and set(after.file_uris()) == files
    assert after.protocol().min_writer_version == 2  # still readable by any Spark
    assert all(
        row["review_ticket"] is None and row["reviewed_on"] is None for row in rows(governed)
    )
    # a second store object that does not know the columns still writes to the table
    plain = DeltaContractStore(path=governed.location.uri, validation="off")
    assert plain.put(minimal("late")).inserted
    governed.update_metadata("late", "1.0.0", {"reviewed_on": dt.date(2026, 11, 1), "score": 4})
    row = next(r for r in rows(governed) if r["contract_id"] == "late")
    assert (row["reviewed_on"], row["score"]) == (dt.date(2026, 11, 1), 4.0)


def test_a_declared_column_with_another_type_is_refused(governed: DeltaContractStore) -> None:
    other = DeltaContractStore(
        path=governed.location.uri, validation="off", metadata_columns={"owner": "long"}
    )
    with pytest.raises(IncompatibleTableError, match="'owner' is declared long"):
        other.put(minimal("y"))


@pytest.mark.parametrize("first", ["put", "update_metadata", "add_metadata_columns"])
def test_a_declared_column_differing_from_the_tables_only_in_case_is_refused_once(
    governed: DeltaContractStore, first: str
) -> None:
    """``Owner`` declared on a table with ``owner``: a typed error naming both on the first
    write; the store then works on without it (Delta names are case-insensitive)."""
    other = DeltaContractStore(
        path=governed.location.uri, validation="off", metadata_columns={"Owner": "string"}
    )
    before = DeltaTable(governed.location.uri).version()
    writes = {
        "put": lambda: other.put(minimal("y")),
        "update_metadata": lambda: other.update_metadata("sales.orders", "1.0.0", {"owner": "a"}),
        "add_metadata_columns": lambda: other.add_metadata_columns({"team": "string"}),
    }
    with pytest.raises(InvalidRequestError) as caught:
        writes[first]()
    assert "metadata column 'Owner' differs from the table's column 'owner' only in case" in str(
        caught.value
    )
    assert DeltaTable(governed.location.uri).version() == before
    assert other.put(minimal("y"), metadata={"owner": "team-y"}).inserted
    assert other.update_metadata("sales.orders", "1.0.0", {"owner": "team-s"}) > before
    other.add_metadata_columns({"team": "string"})
    assert other.latest("y", owner="team-y")["id"] == "y"  # type: ignore[index]
    names = [f.name for f in DeltaTable(governed.location.uri).schema().fields]
    assert [n for n in names if n.lower() == "owner"] == ["owner"] and "team" in names


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"json": "string"}, "'json' is reserved"),
        ({"status": "string"}, "'status' is reserved"),
        ({"9lives": "string"}, "ASCII letters, digits and '_'"),
        ({"owner": "varchar"}, "type 'varchar' is not one of string, boolean"),
    ],
)
def test_bad_column_declarations(tmp_path: Path, columns: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        DeltaContractStore(path=tmp_path / "t", metadata_columns=columns)


# -- updating metadata --------------------------------------------------------------------------


def test_status_sync_leaves_payload_and_fingerprint_and_records_who_and_why(
    governed: DeltaContractStore,
) -> None:
    before = {(r["contract_id"], r["version"]): r for r in rows(governed)}
    assert governed.latest("sales.orders", status="Validated") is None
    version = governed.update_metadata(
        "sales.orders",
        "1.1.0",
        {"status": "Validated", "owner": "sales-eng"},
        who="collibra-sync",
        why="asset approved in Collibra",
    )
    after = {(r["contract_id"], r["version"]): r for r in rows(governed)}
    changed = after[("sales.orders", "1.1.0")]
    assert (changed["status"], changed["owner"]) == ("Validated", "sales-eng")
    for key, row in before.items():
        for column in ("json", "fingerprint", "created_at", "name"):
            assert after[key][column] == row[column]
    assert governed.get("sales.orders", "1.1.0")["status"] == "active"  # the document is as put
    assert governed.latest("sales.orders", status="Validated")["version"] == "1.1.0"
    commit = governed.history(limit=1)[0]
    assert (commit.version, commit.user, commit.reason) == (
        version,
        "collibra-sync",
        "asset approved in Collibra",
    )
    assert commit.contracts == "sales.orders@1.1.0"


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ({"json": "{}"}, InvalidRequestError, "'json' comes from the contract document"),
        ({"fingerprint": "x"}, InvalidRequestError, "'fingerprint' comes from the contract"),
        (
            {"reviewer": "x"},
            InvalidRequestError,
            "unknown metadata column 'reviewer'; the table has owner, status",
        ),
        ({"owner": 5}, InvalidRequestError, "'owner' is a string column: got int 5"),
    ],
)
def test_bad_updates_change_nothing(
    governed: DeltaContractStore, values: dict[str, Any], error: type[Exception], message: str
) -> None:
    version = governed.table_version
    with pytest.raises(error, match=message):
        governed.update_metadata("sales.orders", "1.0.0", values)
    assert governed.table_version == version


def test_updating_an_absent_version_is_not_found(governed: DeltaContractStore) -> None:
    with pytest.raises(ContractNotFoundError, match=r"'sales\.orders' version '9\.9\.9'"):
        governed.update_metadata("sales.orders", "9.9.9", {"owner": "x"})


def test_if_match_refuses_a_stale_update(governed: DeltaContractStore) -> None:
    governed.update_metadata("sales.orders", "1.0.0", {"status": "Deprecated"})
    version = governed.table_version
    with pytest.raises(UpdateConflictError, match=r"holds \{'status': 'Deprecated'\}"):
        governed.update_metadata(
            "sales.orders", "1.0.0", {"status": "Validated"}, if_match={"status": "active"}
        )
    assert governed.table_version == version
    governed.update_metadata(
        "sales.orders", "1.0.0", {"status": "Retired"}, if_match={"status": "Deprecated"}
    )
    assert governed.latest("sales.orders", status="Retired")["version"] == "1.0.0"


def test_if_match_none_means_the_column_is_unset(governed: DeltaContractStore) -> None:
    governed.update_metadata("sales.orders", "1.0.0", {"owner": "sales"})
    version = governed.table_version
    with pytest.raises(UpdateConflictError, match=r"holds \{'owner': 'sales'\}"):
        governed.update_metadata(
            "sales.orders", "1.0.0", {"status": "Validated"}, if_match={"owner": None}
        )
    assert governed.table_version == version
    assert governed.latest("sales.orders", status="Validated") is None
    governed.update_metadata("sales.orders", "1.1.0", {"owner": "x"}, if_match={"owner": None})
    assert governed.latest("sales.orders", owner="x")["version"] == "1.1.0"


def _update_worker(path: str, column: str, rounds: int, start: Any) -> None:
    store = DeltaContractStore(path=path, validation="off")
    start.wait(timeout=60)
    for n in range(rounds):
        store.update_metadata("sales.orders", "1.0.0", {column: f"{column}-{n}"}, who=column)


@pytest.mark.slow
def test_concurrent_updates_of_one_row_keep_both(tmp_path: Path) -> None:
    store = DeltaContractStore(
        path=tmp_path / "t",
        validation="off",
        metadata_columns={"owner": "string", "steward": "string"},
    )
    store.put(minimal())
    rounds = 15
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(2)
    workers = [
        ctx.Process(target=_update_worker, args=(str(tmp_path / "t"), c, rounds, start))
        for c in ("owner", "steward")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    row = rows(store)[0]
    assert (row["owner"], row["steward"]) == (f"owner-{rounds - 1}", f"steward-{rounds - 1}")
    updates = [
        c for c in store.history() if c.operation == "WRITE" and c.user in ("owner", "steward")
    ]
    assert len(updates) == 2 * rounds  # every update is its own commit; none was lost
    assert len(rows(store)) == 1


# -- filters, SQL ------------------------------------------------------------------------------


def test_filters_are_equality_in_and_null(governed: DeltaContractStore) -> None:
    assert governed.latest("sales.orders", status="draft")["version"] == "2.0.0"
    assert governed.latest("sales.orders", status=["active", "retired"])["version"] == "1.1.0"
    assert governed.latest("sales.orders", status="active", owner=None)["version"] == "1.1.0"
    with pytest.raises(InvalidRequestError, match="unknown filter column 'team'"):
        governed.latest("sales.orders", team="x")


def test_sql_discovery_over_the_views(governed: DeltaContractStore) -> None:
    validated = governed.sql(
        "SELECT contract_id, version FROM contracts WHERE status = 'active' ORDER BY contract_id, version_sort_key"
    ).rows()
    assert validated == [
        ("finance.invoices", "1.0.0"),
        ("sales.customers", "1.0.0"),
        ("sales.orders", "1.0.0"),
        ("sales.orders", "1.1.0"),
        ("sales.orders", "1.2.0-rc.1"),
    ]
    latest = governed.sql(
        "SELECT contract_id, version, domain, status FROM contracts_latest ORDER BY contract_id"
    ).rows()
    assert latest == [
        ("finance.invoices", "1.0.0", "finance", "active"),
        ("sales.customers", "1.0.0", "sales", "active"),
        ("sales.orders", "2.0.0", "sales", "draft"),
    ]
    # the view agrees with latest() for every contract
    for contract_id, version, *_ in latest:
        assert governed.latest(contract_id)["version"] == version


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM contracts",
        "DROP TABLE contracts",
        "CREATE TABLE x AS SELECT * FROM contracts",
        "INSERT INTO contracts SELECT * FROM contracts",
        "SELECT 1; DROP TABLE contracts",
        "UPDATE contracts SET status = 'x'",
        "-- a comment\n  TRUNCATE contracts",
    ],
)
def test_sql_refuses_anything_but_select(governed: DeltaContractStore, statement: str) -> None:
    version = governed.table_version
    with pytest.raises(InvalidRequestError, match=r"read-only|one statement"):
        governed.sql(statement)
    assert governed.table_version == version


def test_sql_keywords_functions_and_view_names_in_any_case(
    governed: DeltaContractStore,
) -> None:
    template = (
        "{select} contract_id, {octet}(version) AS n, {strftime}(created_at, '%Y') AS y, "
        "{regexp}(version, '^1') AS r, {coalesce}(status, 'none') AS s {from} {view} "
        "{where} contract_id {in} ('sales.orders', 'finance.invoices') "
        "{order} contract_id, version_sort_key"
    )
    words = ["select", "octet_length", "strftime", "regexp_like", "coalesce", "from", "contracts"]
    words += ["where", "in", "order by"]
    keys = ["select", "octet", "strftime", "regexp", "coalesce", "from", "view", "where", "in"]
    keys += ["order"]
    answers = [
        governed.sql(template.format(**dict(zip(keys, map(spell, words), strict=True)))).rows()
        for spell in (str.lower, str.upper, str.title)
    ]
    assert answers[0] == answers[1] == answers[2]
    assert [row[:2] for row in answers[0]] == [
        ("finance.invoices", 5),
        ("sales.orders", 5),
        ("sales.orders", 5),
        ("sales.orders", 10),
        ("sales.orders", 5),
    ]
    assert governed.sql("select count(*) as n from Contracts_Latest").item() == 3


def test_sql_errors_are_clear(governed: DeltaContractStore) -> None:
    with pytest.raises(InvalidRequestError, match="cannot run the query"):
        governed.sql("SELECT nope FROM contracts")
    # ";" and "--" inside string literals are text, not a second statement or a comment
    governed.put(minimal("semi", description={"usage": "a; b -- c"}))
    query = "SELECT contract_id FROM contracts WHERE json LIKE '%a; b --%' -- the comment"
    assert governed.sql(query).rows() == [("semi",)]
    counted = "SELECT count(*) AS n FROM contracts WHERE json LIKE '%;%'"
    assert governed.sql(counted).item() == sum(";" in row["json"] for row in rows(governed))


# -- history and time travel -----------------------------------------------------------------


def test_time_travel_by_version_and_by_time(governed: DeltaContractStore) -> None:
    initial = governed.table_version
    assert initial is not None
    time.sleep(0.05)
    moment = dt.datetime.now(dt.UTC)
    time.sleep(0.05)
    governed.update_metadata("sales.orders", "1.1.0", {"status": "Deprecated"}, why="replaced")
    governed.put(minimal("sales.orders", "3.0.0"))
    assert governed.latest("sales.orders")["version"] == "3.0.0"
    for as_of in (initial, moment, moment.isoformat()):
        assert governed.latest("sales.orders", as_of=as_of)["version"] == "2.0.0"
        assert governed.latest("sales.orders", status="active", as_of=as_of)["version"] == "1.1.0"
        assert governed.list_versions("sales.orders", as_of=as_of)[-1] == "2.0.0"
        assert "3.0.0" not in governed.list_versions("sales.orders", as_of=as_of)
        with pytest.raises(ContractNotFoundError, match="as of"):
            governed.get("sales.orders", "3.0.0", as_of=as_of)
    assert governed.sql("SELECT count(*) FROM contracts", as_of=initial).item() == 6
    newest = governed.table_version
    assert newest is not None  # the newest version is a point in time like any other
    assert governed.latest("sales.orders", as_of=newest)["version"] == "3.0.0"
    with pytest.raises(InvalidRequestError, match=f"as_of={newest + 1} is past the newest"):
        governed.latest("sales.orders", as_of=newest + 1)
    with pytest.raises(InvalidRequestError, match="as_of=999 is past the newest version"):
        governed.latest("sales.orders", as_of=999)


def test_history_lists_commits_newest_first(governed: DeltaContractStore) -> None:
    governed.put(minimal("h"), who="ci-bot", why="release 1", commit_info={"git_commit": "abc123"})
    commits = governed.history()
    assert [c.version for c in commits] == sorted((c.version for c in commits), reverse=True)
    newest = commits[0]
    assert (newest.operation, newest.user, newest.reason) == ("WRITE", "ci-bot", "release 1")
    assert newest.info["git_commit"] == "abc123" and newest.contracts == "h@1.0.0"
    assert commits[-1].operation == "CREATE TABLE"
    assert newest.timestamp.tzinfo is not None
    assert governed.history(limit=2) == commits[:2]


# -- upkeep ------------------------------------------------------------------------------------


def test_optimize_clusters_so_a_lookup_matches_one_file(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    for n in range(40):
        store.put(minimal(f"c{n % 10:02d}", f"1.{n // 10}.0"))
    dt_before = DeltaTable(store.location.uri)
    assert len(dt_before.file_uris()) == 40
    before_answers = {f"c{n:02d}": store.latest(f"c{n:02d}") for n in range(10)}
    result = store.optimize(target_file_size=1024)  # tiny target: several files
    dt_after = DeltaTable(store.location.uri)
    assert result.files_before == 40 and result.files_after == len(dt_after.file_uris()) < 40
    assert (Path(store.location.uri) / "_delta_log" / "_last_checkpoint").exists()
    for contract_id, answer in before_answers.items():
        matching = dt_after.file_uris(file_pruning_predicate=f"contract_id = '{contract_id}'")
        assert len(matching) == 1
        assert store.latest(contract_id) == answer
    assert store.vacuum().files == ()  # nothing is past the 7-day retention yet
    with pytest.raises(InvalidRequestError, match="vacuum refused"):
        store.vacuum(retention_hours=0, dry_run=False)
    # with a short retention the compacted files are past it: vacuum lists them, and only
    # deletes them when told to
    dt_after.alter.set_table_properties({"delta.deletedFileRetentionDuration": "interval 1 second"})
    time.sleep(1.1)
    listed = store.vacuum()
    assert listed.dry_run and len(listed.files) == 40
    assert all(Path(store.location.uri, name).exists() for name in listed.files)
    deleted = store.vacuum(dry_run=False)
    assert not deleted.dry_run and deleted.files == listed.files
    assert not any(Path(store.location.uri, name).exists() for name in listed.files)


# -- long-lived readers ------------------------------------------------------------------------


def test_a_reused_store_answers_from_memory_but_never_stale(governed: DeltaContractStore) -> None:
    reader = DeltaContractStore(path=governed.location.uri)
    assert reader.latest("sales.orders")["version"] == "2.0.0"
    started = time.perf_counter()
    for _ in range(200):
        reader.latest("sales.orders")
    assert (time.perf_counter() - started) / 200 < 0.002  # answered from memory
    answer = reader.latest("sales.orders")
    answer["version"] = "mutated by the caller"
    assert reader.latest("sales.orders")["version"] == "2.0.0"
    governed.put(minimal("sales.orders", "2.1.0"))  # another writer commits
    assert reader.latest("sales.orders")["version"] == "2.1.0"
    assert reader.list_versions("sales.orders")[-1] == "2.1.0"


def test_scan_returns_a_lazy_frame_even_before_the_first_write(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "none")
    frame = store.scan()
    assert isinstance(frame, pl.LazyFrame)
    assert frame.collect().height == 0 and "contract_id" in frame.collect_schema()


def _optimize_worker(path: str, start: Any, results: Any) -> None:
    store = DeltaContractStore(path=path, validation="off")
    start.wait(timeout=60)
    try:
        store.optimize()
        results.put("optimized")
    except TableBusyError:
        results.put("busy")


@pytest.mark.slow
def test_concurrent_optimize_runs_never_duplicate_rows(tmp_path: Path) -> None:
    # deltalake lets two concurrent compactions both commit (delta-rs #3982): the store's
    # maintenance lock must keep them apart, or every row would appear twice
    path = tmp_path / "t"
    store = DeltaContractStore(path=path, validation="off", auto_compact=None)
    for n in range(5):
        store.put_many([minimal(f"c{n}.{k}") for k in range(10)])
        store.put(minimal(f"single{n}"))
    expected = len(rows(store))
    ctx = mp.get_context("spawn")
    for _ in range(3):
        start, results = ctx.Barrier(2), ctx.Queue()
        workers = [
            ctx.Process(target=_optimize_worker, args=(str(path), start, results)) for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        outcomes = sorted(results.get(timeout=10) for _ in workers)
        assert "optimized" in outcomes
        assert len(rows(store)) == expected
        store.put(minimal(f"between{_}"))
        expected += 1


def test_puts_compact_small_files_automatically(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off", auto_compact=20)
    for n in range(45):
        store.put(minimal(f"c{n:02d}"))
    files = DeltaTable(store.location.uri).file_uris()
    assert len(files) < 20
    assert len(rows(store)) == 45
    assert {c.operation for c in store.history()} >= {"OPTIMIZE", "WRITE"}
    assert store.list_contracts() == [f"c{n:02d}" for n in range(45)]


def test_a_writer_whose_snapshot_missed_a_compaction_does_not_compact_again(
    tmp_path: Path,
) -> None:
    """Two writers notice the same small files; the second takes the lock after the first
    compacted them. delta-rs would let its stale compaction commit too: every row twice."""
    path = tmp_path / "t"
    writer = DeltaContractStore(path=path, validation="off", auto_compact=None)
    for n in range(12):
        writer.put(minimal(f"c{n:02d}"))
    late = DeltaContractStore(path=path, validation="off", auto_compact=10)
    stale = late._table.current()  # the snapshot its last put committed on
    assert stale is not None
    DeltaContractStore(path=path, validation="off", auto_compact=10).put(minimal("c12"))
    assert len(DeltaTable(str(path)).file_uris()) < 10  # that put compacted them
    late._table.compact_small_files(stale, 10, 2 * 1024 * 1024, {})
    assert len(rows(DeltaContractStore(path=path))) == 13
    assert late.list_contracts() == [f"c{n:02d}" for n in range(13)]


def test_a_status_governance_cleared_stays_cleared(tmp_path: Path) -> None:
    """Only rows other tools wrote (no contract_key) read an unset status from their
    document; this store's row whose status was set to None reads None everywhere."""
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal(status="active"))
    store.update_metadata("sales.orders", "1.0.0", {"status": None}, why="withdrawn")
    assert store.latest("sales.orders", status="active") is None
    assert store.latest("sales.orders", status=None)["version"] == "1.0.0"
    assert store.sql("SELECT version, status FROM contracts").rows() == [("1.0.0", None)]
    assert store.sql("SELECT count(*) AS n FROM contracts WHERE status IS NULL").item() == 1


def test_optimize_writes_row_groups_a_lookup_can_read_alone(tmp_path: Path) -> None:
    """Large contracts: optimize writes row groups of about 2 MB (uncompressed), not one
    group per file, so a point lookup reads one group's json instead of the whole file's."""
    store = DeltaContractStore(path=tmp_path / "t", validation="off", auto_compact=None)
    padding = "".join(f"{n:05d}" for n in range(4_000))  # 20 KB per document
    store.put_many(minimal(f"c{n:03d}", description={"usage": padding}) for n in range(300))
    store.optimize()
    (file,) = DeltaTable(store.location.uri).file_uris()
    metadata = pq.ParquetFile(file).metadata
    sizes = [metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups)]
    assert len(sizes) >= 3 and max(sizes) <= 3 * 1024 * 1024
    assert store.get("c150", "1.0.0")["description"]["usage"] == padding


def test_an_update_with_no_values_only_checks_if_match(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal(status="active"))
    before = store.table_version
    assert store.update_metadata("sales.orders", "1.0.0", {}, if_match={"status": "active"}) == (
        before
    )
    assert store.table_version == before and store.changes(since=before).events == ()
    with pytest.raises(UpdateConflictError):
        store.update_metadata("sales.orders", "1.0.0", {}, if_match={"status": "draft"})
    assert store.table_version == before
