"""Commit conflicts are retried a bounded number of times, then the table is reported busy."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from deltalake import write_deltalake

from dc43_delta_store import DeltaContractStore, TableBusyError
from dc43_delta_store.core.records import build_row
from dc43_delta_store.core.table_schema import rows_to_table

from .conftest import minimal


def with_rival_commits(store: DeltaContractStore, rivals: int, writer: str) -> list[int]:
    """Before each of the store's next ``rivals`` commits, another writer really commits rows
    of the same contract whose version range spans the store's key: a genuine conflict.

    ``writer``: "own" hooks the store's own insert commit (a plain table, see
    table/appender.py); "deltalake" a replace-where insert by deltalake (which a table under
    a compatibility policy gets: the gate's application transactions)."""
    if writer == "deltalake":
        store.set_compatibility("backward")
    name = "append" if writer == "own" else "insert_new"
    commit = getattr(store._table, name)
    attempts: list[int] = []

    def racing(*args: Any) -> Any:
        attempts.append(1)
        if len(attempts) <= rivals:
            rows = [build_row(minimal(version=v)) for v in ("0.0.1", "9.9.9")]
            write_deltalake(
                store.location.uri, rows_to_table(rows, datetime.now(UTC)), mode="append"
            )
        return commit(*args)

    setattr(store._table, name, racing)
    return attempts


@pytest.mark.parametrize("writer", ["own", "deltalake"])
def test_a_lost_race_is_retried_and_then_succeeds(tmp_path: Path, writer: str) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off", max_commit_attempts=5)
    store.put(minimal("seed"))
    attempts = with_rival_commits(store, 2, writer)
    assert store.put(minimal(version="1.0.0")).inserted
    assert len(attempts) == 3
    # both rival commits landed (identical copies: versions list them once)
    assert store.scan().filter(pl.col("version") == "0.0.1").collect().height == 2
    assert store.list_versions("sales.orders") == ["0.0.1", "1.0.0", "9.9.9"]


@pytest.mark.parametrize("writer", ["own", "deltalake"])
def test_retries_are_bounded_and_the_failure_says_busy_and_nothing_written(
    tmp_path: Path, writer: str
) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off", max_commit_attempts=4)
    store.put(minimal("seed"))
    attempts = with_rival_commits(store, 100, writer)
    started = time.perf_counter()
    with pytest.raises(TableBusyError) as caught:
        store.put(minimal(version="1.0.0"))
    elapsed = time.perf_counter() - started
    assert len(attempts) == 4
    assert "is busy: 4 commit attempts lost to concurrent writers" in str(caught.value)
    assert "nothing was written while writing sales.orders@1.0.0" in str(caught.value)
    assert not store.exists("sales.orders", "1.0.0")
    assert elapsed >= 0.005 + 0.01 + 0.02  # backoff doubles between attempts
