"""One maintenance job per table at a time.

deltalake 1.6 lets two concurrent compactions (or Z-orders) of the same files both commit,
because it no longer treats concurrent removes with ``dataChange=false`` as a conflict
(delta-rs PR #3982): every row they moved then appears twice. Writes, metadata updates and
upkeep conflict properly with each other; only upkeep against upkeep needs this lock.

- Local tables: an advisory ``flock`` on ``<table>/_dc43_maintenance.lock``; the operating
  system releases it when the holder dies.
- Object stores: a lease row in a tiny Delta table, ``<table>/_dc43_maintenance``, taken with
  the same kind of commit that makes puts unique — a replace-where write of the lease row on
  the snapshot that found it free or expired, whose predicate makes two takers conflict — and
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
from deltalake import DeltaTable, write_deltalake
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
    try:
        return _take_free(uri, options, owner)
    except CommitFailedError:
        return False  # another process created the lease table or took the lease first


def _take_free(uri: str, options: dict[str, str] | None, owner: str) -> bool:
    try:
        DeltaTable.create(uri, _LEASE_SCHEMA, mode="ignore", storage_options=options)
    except DeltaError:  # two first upkeeps at once: one creates it, the other fails here
        if not DeltaTable.is_deltatable(uri, options):
            raise
    dt = DeltaTable(uri, storage_options=options)
    now = datetime.now(UTC)
    held = pa.table(dt.scan(columns=["expires_at"])).column("expires_at").to_pylist()
    if any(expires_at > now for expires_at in held):
        return False
    row = pa.table(
        {
            "lock": ["maintenance"],
            "owner": [owner],
            "expires_at": [now + timedelta(seconds=LEASE_SECONDS)],
        },
        schema=_LEASE_SCHEMA,
    )
    # replaces an expired lease (its holder died) in the same commit; CommitFailedError:
    # another process took it, or is taking over the expired one
    write_deltalake(dt, row, mode="overwrite", predicate="lock = 'maintenance'")
    return True
