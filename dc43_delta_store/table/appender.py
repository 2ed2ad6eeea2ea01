"""Inserts committed by the store itself: one PUT of a Parquet file, one create-if-absent of
the commit file — three or four requests for a put on an object store, where deltalake's
insert reads the log and the contract's file several times over.

An insert is planned on a :class:`~..core.log_state.LogState` (the keys it writes are not in
it). Its commit creates ``_delta_log/<version + 1>.json`` only if absent; a writer that lost
the race reads the commits that won (:mod:`.log_reader`), and commits at the next version
when none of them could hold its keys (see :mod:`..core.commit_file`), else raises
``CommitFailedError`` — the writer then plans again on the new state, as with deltalake.
A checkpoint is written by deltalake every ``delta.checkpointInterval`` (100) versions.

Only plain tables take this path (:func:`appendable`): no partitions, column mapping,
constraints, generated columns, change data feed or other writer features; the others are
written by deltalake.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError

from ..core.commit_file import add_action, commit_bytes, conflict
from ..core.file_stats import file_stats, stats_columns
from ..core.log_state import LogState
from ..core.records import contract_key
from .location import describe
from .log_reader import LOG, LogReader
from .objects import TableFiles

__all__ = ["Appender", "appendable"]

logger = logging.getLogger("dc43_delta_store")
_RACES = 20  # commits that won without conflict, before giving the race up as busy


def appendable(state: LogState) -> bool:
    """Whether the store commits inserts into ``state``'s table itself."""
    readers, writers = state.features()
    protocol = state.protocol
    configuration = state.configuration
    return (
        int(protocol.get("minReaderVersion") or 1) == 1
        and int(protocol.get("minWriterVersion") or 2) <= 2
        and not readers
        and not writers
        and not state.partition_columns
        and configuration.get("delta.columnMapping.mode", "none") == "none"
        and str(configuration.get("delta.enableChangeDataFeed", "false")).lower() != "true"
        and "delta.invariants" not in (state.schema_string or "")
    )


class Appender:
    """Commits inserts into the table ``files`` holds (safe to share between threads)."""

    def __init__(self, files: TableFiles, reader: LogReader) -> None:
        self._files = files
        self._reader = reader

    def append(
        self,
        state: LogState,
        rows: pa.Table,
        commit_info: Mapping[str, Any],
        transactions: Sequence[tuple[str, int]] = (),
    ) -> LogState:
        """Commit ``rows`` (new keys, in the table's schema) as one data file on top of
        ``state``; the state after the commit. ``CommitFailedError`` when a concurrent
        commit could hold one of the keys."""
        keys = list(
            zip(
                rows.column("contract_id").to_pylist(),
                rows.column("version").to_pylist(),
                strict=True,
            )
        )
        data = _parquet(rows)
        path = f"part-00000-{uuid.uuid4()}-c000.snappy.parquet"
        self._files.put(path, data)
        now = int(time.time() * 1000)
        stats = _stats(rows, state)
        actions = [add_action(path, len(data), now, stats)]
        apps = [app for app, _ in transactions]
        for _ in range(_RACES):
            version = state.version + 1
            body = commit_bytes(commit_info, int(time.time() * 1000), actions, transactions)
            if self._files.create(f"{LOG}/{version:020d}.json", body):
                committed = state.advance(version, _with_info(body))
                self._checkpoint(committed)
                return committed
            followed = self._reader.follow(state)
            if followed.state is None or followed.replaced:
                self._abandon(path)
                raise CommitFailedError("the table was replaced while writing")
            for number, winner in followed.commits:
                why = conflict(keys, apps, winner, key_of=contract_key)
                if why is not None:
                    self._abandon(path)
                    raise CommitFailedError(f"a concurrent commit, version {number}: {why}")
            state = followed.state
        self._abandon(path)
        raise CommitFailedError(f"{_RACES} concurrent commits won the race")

    def _abandon(self, path: str) -> None:
        """Delete a data file no commit will refer to (vacuum would, later)."""
        with contextlib.suppress(Exception):
            self._files.delete(path)

    def _checkpoint(self, state: LogState) -> None:
        """Write a checkpoint every ``delta.checkpointInterval`` versions, as deltalake's
        own commits do; a failure leaves the table as it is (the next one will do)."""
        try:
            interval = int(state.configuration.get("delta.checkpointInterval", 100))
        except ValueError:
            interval = 100
        if interval <= 0 or state.version % interval:
            return
        location = self._files.location
        try:
            dt = DeltaTable(
                location.uri, version=state.version, storage_options=location.options() or None
            )
            dt.create_checkpoint()
        except (DeltaError, OSError) as exc:
            logger.info("checkpoint of %s skipped: %s", location, describe(exc, location))


def _parquet(rows: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(rows, sink, compression="snappy")
    return sink.getvalue()


def _stats(rows: pa.Table, state: LogState) -> str:
    return file_stats(rows, stats_columns(state.configuration, rows.schema))


def _with_info(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode("utf-8").splitlines() if line]
