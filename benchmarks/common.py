"""Shared pieces of the benchmarks: synthetic contracts, table building, timing."""

from __future__ import annotations

import json
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deltalake import DeltaTable, write_deltalake

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.core.records import build_row, contract_key
from dc43_delta_store.core.table_schema import rows_to_table

TEMPLATE = json.loads(
    (
        Path(__file__).parents[1] / "examples" / "contracts" / "sales" / "customers-1.0.0.odcs.json"
    ).read_text(encoding="utf-8")
)


def contract(contract_id: str, version: str, status: str = "active") -> dict[str, Any]:
    """A realistic ~1.3 KB ODCS document."""
    return dict(TEMPLATE, id=contract_id, version=version, status=status, name=contract_id)


def contract_ids(count: int) -> list[str]:
    """Ids whose order in bulk commits interleaves 17 domains: every bulk file spans nearly
    the whole id range, as in a table written over time in arbitrary order."""
    return [f"domain{i % 17}.dataset_{i:07d}" for i in range(count)]


def build_table(
    path: Path, contracts: int, versions: int, *, rows_per_commit: int = 10_000
) -> DeltaContractStore:
    """A store whose table holds ``contracts x versions`` rows, written in bulk commits.

    Rows are the ones ``put`` writes (same schema, payload and fingerprint); each commit holds
    whole contracts, as a Git-folder ingest would.
    """
    store = DeltaContractStore(path=path, validation="off")
    store.put(contract("bench.seed", "1.0.0"))  # creates the table with the store's settings
    now = datetime.now(UTC)
    batch: list[Any] = []
    for contract_id in contract_ids(contracts):
        for v in range(versions):
            batch.append(build_row(contract(contract_id, f"1.{v}.0")))
        if len(batch) >= rows_per_commit:
            write_deltalake(str(path), rows_to_table(batch, now), mode="append")
            batch = []
    if batch:
        write_deltalake(str(path), rows_to_table(batch, now), mode="append")
    DeltaTable(str(path)).create_checkpoint()
    return store


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Milliseconds of ``repeat`` calls."""
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p10_ms": round(ordered[len(ordered) // 10], 3),
        "p90_ms": round(ordered[(len(ordered) * 9) // 10], 3),
        "n": len(ordered),
    }


def fresh_process_ms(code: str, repeat: int) -> list[float]:
    """Wall time of ``python -c code`` in new processes."""
    return timed(lambda: subprocess.run([sys.executable, "-c", code], check=True), repeat)


def machine() -> str:
    return f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"


def files_matching(path: Path, contract_id: str) -> int:
    """Data files whose statistics admit ``contract_id``: what a pushed-down lookup reads
    (the store's lookup predicate: contract_key, or null for rows other tools wrote)."""
    key = contract_key(contract_id)
    predicate = (
        f"(contract_key = '{key}' OR contract_key IS NULL) AND contract_id = '{contract_id}'"
    )
    return len(DeltaTable(str(path)).file_uris(file_pruning_predicate=predicate))


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def dc43_sqlite(path: Path, ids: list[str], versions: list[str]) -> Any:
    """dc43's ``SQLContractStore`` on SQLite, loaded with the rows ``put`` writes for every
    id at every version."""
    from dc43_service_backends.contracts.backend.stores.sql import SQLContractStore, create_engine

    store = SQLContractStore(create_engine(f"sqlite:///{path}"))
    connection = sqlite3.connect(path)
    now = datetime.now(UTC).isoformat(sep=" ")
    batch = []
    for contract_id in ids:
        for version in versions:
            row = build_row(contract(contract_id, version))
            batch.append(
                (row.contract_id, row.version, row.name, row.description, row.json,
                 row.fingerprint, now)
            )  # fmt: skip
        if len(batch) >= 50_000:
            connection.executemany("INSERT INTO contracts VALUES (?,?,?,?,?,?,?)", batch)
            batch = []
    connection.executemany("INSERT INTO contracts VALUES (?,?,?,?,?,?,?)", batch)
    connection.commit()
    connection.close()
    return store


def goal_table(rows: list[tuple[str, float | None, float, str]]) -> list[dict[str, Any]]:
    """``(goal, measured, target, "<=" or ">=")`` rows, each with whether it is met (a
    missing measurement is not)."""
    return [
        {
            "goal": name,
            "measured": value,
            "target": f"{op} {goal:g}",
            "met": value is not None and (value <= goal if op == "<=" else value >= goal),
        }
        for name, value, goal, op in rows
    ]
