"""changes(): the change feed from the commit log, on local and object-store tables — what each
write produces, upkeep producing nothing, other writers, the cursor, and an expired cursor."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable, write_deltalake

from dc43_delta_store import (
    CursorExpiredError,
    DeltaContractStore,
    InvalidRequestError,
)
from dc43_delta_store.core.records import build_row
from dc43_delta_store.core.table_schema import rows_to_table
from dc43_delta_store.feed.events import events_of

from .conftest import Backend, minimal


def kinds(store: DeltaContractStore, since: int) -> list[tuple[Any, ...]]:
    return [(e.kind, e.contract_id, e.version) for e in store.changes(since=since).events]


def test_each_write_is_an_event_with_who_why_and_the_cursor(backend: Backend) -> None:
    store = backend.store(auto_compact=None)
    assert store.changes().events == () and store.changes().cursor == -1
    first = store.put(
        minimal("sales.orders", "1.0.0"),
        who="ci",
        why="merge to main",
        commit_info={"git_commit": "abc123"},
    )
    store.put_many([minimal("sales.orders", "1.1.0"), minimal("billing", "2.0.0")])
    store.put(minimal("sales.orders", "1.0.0"))  # unchanged: no commit, no event
    store.update_metadata("sales.orders", "1.1.0", {"status": "Validated"}, who="gov", why="ok")
    store.add_metadata_columns({"owner": "string"}, who="gov")
    store.optimize()  # upkeep: no event

    feed = store.changes()
    assert [(e.kind, e.contract_id, e.version) for e in feed.events] == [
        ("published", "sales.orders", "1.0.0"),
        ("published", "sales.orders", "1.1.0"),
        ("published", "billing", "2.0.0"),
        ("metadata", "sales.orders", "1.1.0"),
        ("columns-added", None, None),
    ]
    published, _, _, metadata, columns = feed.events
    assert (published.fingerprint, published.who, published.why) == (
        first.fingerprint,
        "ci",
        "merge to main",
    )
    assert published.provenance == {"git_commit": "abc123"}
    assert published.table_version == first.table_version
    assert isinstance(published.timestamp, datetime)
    assert (metadata.values, metadata.who, metadata.why) == ({"status": "Validated"}, "gov", "ok")
    assert columns.columns == {"owner": "string"}
    assert [e.table_version for e in feed.events] == sorted(e.table_version for e in feed.events)
    assert feed.cursor == store.table_version
    assert store.changes(since=feed.cursor).events == ()
    assert kinds(store, metadata.table_version) == [("columns-added", None, None)]


def test_metadata_values_of_every_column_type_are_reported(store: DeltaContractStore) -> None:
    store.put(minimal("sales.orders", "1.0.0"))
    store.add_metadata_columns({"review_date": "date", "approved": "boolean", "score": "double"})
    (added,) = store.changes(since=store.table_version - 1).events
    assert added.columns == {"review_date": "date", "approved": "boolean", "score": "double"}
    cursor = store.table_version
    assert cursor is not None
    values = {"review_date": date(2026, 1, 31), "approved": True, "score": 0.5, "status": None}
    store.update_metadata("sales.orders", "1.0.0", values)
    (event,) = store.changes(since=cursor).events
    assert event.values == {
        "review_date": "2026-01-31",
        "approved": True,
        "score": 0.5,
        "status": None,
    }


def test_other_writers_data_changes_are_described_not_dropped(store: DeltaContractStore) -> None:
    store.put(minimal("sales.orders", "1.0.0"))
    cursor = store.table_version
    assert cursor is not None
    path = store.location.uri
    row = build_row(minimal("spark.written", "3.0.0"))
    write_deltalake(path, rows_to_table([row], datetime.now(UTC)), mode="append")
    DeltaTable(path).alter.set_table_properties({"delta.appendOnly": "false"})
    (event,) = store.changes(since=cursor).events
    assert (event.kind, event.operation) == ("unknown", "WRITE")
    assert event.description is not None
    assert "1 file(s) added (1 rows), 0 removed; contract ids spark.written" in event.description


def test_a_cursor_older_than_the_retained_log_says_what_can_be_recovered(
    tmp_path: Path,
) -> None:
    path = tmp_path / "contracts"
    store = DeltaContractStore(path=path, validation="off", auto_compact=None)
    store.put(minimal("sales.orders", "1.0.0"))
    store.put(minimal("sales.orders", "1.1.0"))
    DeltaTable(str(path)).alter.set_table_properties(
        {"delta.logRetentionDuration": "interval 1 second"}
    )
    time.sleep(1.2)
    store.optimize()
    store.put(minimal("sales.orders", "1.2.0"))
    with pytest.raises(CursorExpiredError) as caught:
        store.changes(since=0)
    error = caught.value
    assert (error.since, error.earliest) == (0, 4)
    assert "created_at" in str(error) and "since=3" in str(error)
    assert isinstance(error, InvalidRequestError)
    # what the log still holds: the optimize (no event), then the put
    assert kinds(store, 3) == [("published", "sales.orders", "1.2.0")]


def test_bad_cursors_are_refused(store: DeltaContractStore) -> None:
    store.put(minimal("sales.orders", "1.0.0"))
    with pytest.raises(InvalidRequestError, match="cursor 7 is ahead of table"):
        store.changes(since=7)
    with pytest.raises(InvalidRequestError, match="since must be a table version"):
        store.changes(since=-2)
    with pytest.raises(InvalidRequestError, match="since must be a table version"):
        store.changes(since="1")  # type: ignore[arg-type]


# -- the pure part: commit actions -> events ---------------------------------------------------


def info(**fields: Any) -> dict[str, Any]:
    return {"commitInfo": {"operation": "MERGE", "timestamp": 1_796_000_000_000, **fields}}


def test_commits_of_dc43_delta_store_0_1_0_still_give_events() -> None:
    legacy = {"dc43_delta_store": "0.1.0", "contract_count": 2, "contracts": "a@1.0.0, b@2.0.0"}
    inserted = info(**legacy, operationMetrics={"num_target_rows_inserted": 2})
    assert [
        (e.kind, e.contract_id, e.version, e.fingerprint) for e in events_of(5, [inserted])
    ] == [
        ("published", "a", "1.0.0", None),
        ("published", "b", "2.0.0", None),
    ]
    update = info(
        dc43_delta_store="0.1.0",
        contracts="a@1.0.0",
        operationMetrics={"num_target_rows_inserted": 0, "num_target_rows_updated": 1},
    )
    (event,) = events_of(6, [update])
    assert (event.kind, event.values) == ("metadata", None)


def test_ingest_provenance_names_each_contract_file() -> None:
    commit = info(
        published=[["a", "1.0.0", "f" * 64], ["b", "1.0.0", "e" * 64]],
        sources={"a@1.0.0": "sales/a.yaml"},
        ingested_from="/repo/contracts",
        git_commit="abc",
        operationMetrics={"num_target_rows_inserted": 2},
    )
    first, second = events_of(3, [commit])
    assert first.provenance == {
        "ingested_from": "/repo/contracts",
        "git_commit": "abc",
        "source": "sales/a.yaml",
    }
    assert "source" not in second.provenance


@pytest.mark.parametrize(
    "actions",
    [
        [],
        [{"commitInfo": "not an object"}],
        [{"commitInfo": {"timestamp": "yesterday", "published": [["only-id"], "x", 3]}}],
        [{"commitInfo": {"operation": "ADD COLUMN", "operationParameters": {"fields": "{bad"}}}],
        [{"commitInfo": {}}, {"add": {"path": "p", "stats": "{not json"}}, {"remove": {}}],
        [{"commitInfo": {"metadata_update": {"values": ["not", "a", "map"]}}}],
        [{"commitInfo": {"operation": "OPTIMIZE"}}, {"add": {"dataChange": False}}],
    ],
)
def test_odd_commits_never_break_the_feed(actions: list[dict[str, Any]]) -> None:
    events = events_of(1, actions)
    assert all(json.dumps(event.to_dict(), default=str) for event in events)


def test_an_unknown_write_names_only_the_ids_its_files_hold_alone() -> None:
    """A file whose statistics span ``a..z`` may hold any id in between: the description
    names the ids of single-id files only, never a range's bounds."""

    def add(low: str, high: str, rows: int) -> dict[str, Any]:
        stats = {"numRecords": rows, "minValues": {"contract_id": low}}
        stats["maxValues"] = {"contract_id": high}
        return {"add": {"path": f"{low}.parquet", "dataChange": True, "stats": json.dumps(stats)}}

    info = {"commitInfo": {"operation": "WRITE", "timestamp": 0, "userName": "spark"}}
    (event,) = events_of(3, [info, add("a.first", "z.last", 5), add("m.only", "m.only", 1)])
    assert event.kind == "unknown"
    assert event.description == (
        "WRITE by spark: 2 file(s) added (6 rows), 0 removed; contract ids m.only"
    )


def test_a_publish_that_inserted_nothing_is_no_event() -> None:
    """Two writers racing to put the same version: the loser's MERGE inserts no row (its
    commit still lists what it meant to publish); the feed shows the publish once."""
    published = [["sales.orders", "1.0.0", "6d55fa"]]
    info = {"operation": "MERGE", "timestamp": 0, "userName": "ci", "published": published}
    lost = {**info, "operationMetrics": {"num_target_rows_inserted": 0}}
    won = {**info, "operationMetrics": {"num_target_rows_inserted": 1}}
    assert events_of(5, [{"commitInfo": lost}]) == []
    (event,) = events_of(4, [{"commitInfo": won}])
    assert (event.kind, event.contract_id, event.version) == ("published", "sales.orders", "1.0.0")
