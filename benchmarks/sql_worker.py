"""What running ``store.sql`` in a worker process costs, against running it in the caller.

On tables of 10k, 100k (and with ``--large``, 1M) versions, the SQL discovery query of
``suite.py`` and a one-row query, interleaved in the same run:

- in the caller: the guard and Polars on the store's own snapshot (the path before workers);
- worker, warm: a long-lived store, its worker already started (a service);
- worker, fresh store: a new store per call, as ``suite.py``'s ``sql_discovery`` measures
  (each call starts a worker: what one CLI ``sql`` pays);
- shipping the data instead: collecting the whole table in the caller and writing it as Arrow
  IPC, the least a worker fed with data rather than a table location would cost.

``python benchmarks/sql_worker.py [--large] [--path TABLE]...`` → ``results/sql_worker.json``
and a table (``--path``: only tables built before, e.g. by ``common.build_table``).
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import build_table, summary, timed, write_json

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.table.sql import run_sql, sql_views

DISCOVERY = (
    "SELECT contract_id, version FROM contracts_latest WHERE status = 'active' AND domain = 'sales'"
)
POINT = "SELECT version FROM contracts_latest WHERE contract_id = 'bench.seed'"


def in_caller(store: DeltaContractStore, query: str) -> Any:
    scan = store.scan()
    return run_sql(query, sql_views(scan, scan.collect_schema()))


def shipped(store: DeltaContractStore) -> int:
    buffer = io.BytesIO()
    store.scan().collect().write_ipc(buffer)
    return buffer.tell()


def measure(path: Path, repeat: int) -> dict[str, Any]:
    warm = DeltaContractStore(path=path)
    begun = time.perf_counter()
    warm.sql("SELECT 1")
    result: dict[str, Any] = {"worker_start_ms": round((time.perf_counter() - begun) * 1000, 1)}
    for name, query in (("discovery", DISCOVERY), ("point", POINT)):
        assert in_caller(warm, query).equals(warm.sql(query))
        samples: dict[str, list[float]] = {"in_caller": [], "worker_warm": [], "fresh_store": []}
        for _ in range(repeat):  # interleaved: a busy moment touches every path alike
            samples["in_caller"] += timed(lambda q=query: in_caller(warm, q), 1)
            samples["worker_warm"] += timed(lambda q=query: warm.sql(q), 1)
            samples["fresh_store"] += timed(lambda q=query: DeltaContractStore(path=path).sql(q), 1)
        base = statistics.median(samples["in_caller"])
        result[name] = {
            path_name: {**summary(values), "ratio": round(statistics.median(values) / base, 2)}
            for path_name, values in samples.items()
        }
    sizes: list[int] = []
    result["ship_arrow"] = summary(timed(lambda: sizes.append(shipped(warm)), 3))
    result["ship_arrow_mb"] = round(sizes[-1] / 1e6, 1)
    return result


def main(large: bool, paths: list[str]) -> None:
    results: dict[str, Any] = {}
    for given in paths:  # tables built before: --path P
        store = DeltaContractStore(path=given)
        rows = store.sql("SELECT count(*) FROM contracts").item()
        results[str(rows)] = measure(Path(given), repeat=5)
        print(results[str(rows)], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for contracts in (1_000, 10_000, *((100_000,) if large else ())) if not paths else ():
            rows = contracts * 10
            path = Path(tmp) / f"t{rows}"
            print(f"building {rows:,} versions", flush=True)
            build_table(path, contracts, 10)
            DeltaContractStore(path=path).optimize()
            results[str(rows)] = measure(path, repeat=9 if rows < 1_000_000 else 5)
            print(results[str(rows)], flush=True)
    out = Path(__file__).parent / "results" / "sql_worker.json"
    if paths and out.exists():  # other sizes measured before stay
        results = {**json.loads(out.read_text(encoding="utf-8")), **results}
    write_json(out, results)
    print("| versions | query | in the caller | worker, warm | ratio | fresh store | ratio |")
    print("|---|---|---|---|---|---|---|")
    for rows, result in results.items():
        for name in ("discovery", "point"):
            paths = result[name]
            print(
                f"| {int(rows):,} | {name} | {paths['in_caller']['median_ms']:.1f} ms | "
                f"{paths['worker_warm']['median_ms']:.1f} ms | {paths['worker_warm']['ratio']}x | "
                f"{paths['fresh_store']['median_ms']:.1f} ms | {paths['fresh_store']['ratio']}x |"
            )
        print(
            f"| {int(rows):,} | (start a worker: {result['worker_start_ms']} ms; ship the table "
            f"as Arrow instead: {result['ship_arrow']['median_ms']:.0f} ms, "
            f"{result['ship_arrow_mb']} MB) |"
        )


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main(
        "--large" in arguments, [arguments[i + 1] for i, a in enumerate(arguments) if a == "--path"]
    )
