"""One maintenance job per table at a time.

deltalake 1.6 lets two concurrent compactions (or Z-orders) of the same files both commit,
because it no longer treats concurrent removes with ``dataChange=false`` as a conflict
(delta-rs PR #3982): every row they moved then appears twice. Writes, metadata updates and
upkeep conflict properly with each other; only upkeep against upkeep needs this lock.

- Local tables: an advisory ``flock`` on ``<table>/_dc43_maintenance.lock``; the operating
  system releases it when the holder dies.
- Object stores: a lease row in a tiny Delta table, ``<table>/_dc43_maintenance``, taken with
  the same insert-only MERGE that makes puts unique (two takers cannot both commit) and
  released by deleting it; a holder that died loses it after ``LEASE_SECONDS``.

Names starting with ``_`` are ignored by Delta readers of the contract table and by vacuum.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError

__all__ = ["LEASE_SECONDS", "LOCK_NAME", "lease", "maintenance_lock"]

LOCK_NAME = "_dc43_maintenance.lock"
LEASE_TABLE = "_dc43_maintenance"
LEASE_SECONDS = 900
_LEASE_SCHEMA = pa.schema(
    [("lock", pa.string()), ("owner", pa.string()), ("expires_at", pa.timestamp("us", tz="UTC"))]
)


@contextlib.contextmanager
def maintenance_lock(table: Path) -> Iterator[bool]:
    """Hold the table's maintenance lock; yields False (without waiting) if another has it."""
    handle = os.open(table / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)


@contextlib.contextmanager
def lease(table_uri: str, storage_options: Mapping[str, str]) -> Iterator[bool]:
    """Hold the table's maintenance lease on an object store; yields False if another has it."""
    uri = table_uri.rstrip("/") + "/" + LEASE_TABLE
    options = dict(storage_options) or None
    owner = uuid.uuid4().hex
    held = _take(uri, options, owner)
    try:
        yield held
    finally:
        if held:
            with contextlib.suppress(DeltaError, OSError):
                DeltaTable(uri, storage_options=options).delete(predicate=f"owner = '{owner}'")


def _take(uri: str, options: dict[str, str] | None, owner: str) -> bool:
    DeltaTable.create(uri, _LEASE_SCHEMA, mode="ignore", storage_options=options)
    dt = DeltaTable(uri, storage_options=options)
    now = datetime.now(UTC)
    try:
        for row in pa.table(dt.to_pyarrow_table()).to_pylist():
            if row["expires_at"] > now:
                return False
            dt.delete(predicate=f"owner = '{row['owner']}'")  # the holder died: take over
        row = pa.table(
            {
                "lock": ["maintenance"],
                "owner": [owner],
                "expires_at": [now + timedelta(seconds=LEASE_SECONDS)],
            },
            schema=_LEASE_SCHEMA,
        )
        metrics = (
            dt.merge(
                row, "t.lock = s.lock", source_alias="s", target_alias="t", streamed_exec=False
            )
            .when_not_matched_insert_all()
            .execute()
        )
    except CommitFailedError:
        return False  # another process took it, or is taking over the expired one
    return int(metrics["num_target_rows_inserted"]) == 1
