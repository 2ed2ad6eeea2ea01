"""`make bench`: how fast, side by side, and how cost grows with the table.

    python benchmarks/suite.py [--sizes 1000,10000,100000,1000000] [--out benchmarks/results]

For each size (contracts x 10 versions) it builds the table with the rows ``put`` writes,
then measures ``latest()``/``get()`` before and after ``optimize()``, ``put()``, and the same
calls on dc43's own ``SQLContractStore`` (SQLite) and ``FSContractStore`` loaded with the
same contracts, plus a naive full-table read of the Delta table. On the largest table: cold
start, freshness after another process's commit, peak RSS, ``list_contracts()`` and a SQL
query. Writes ``bench.json``, ``bench.md`` and PNG plots into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import DeltaTable

sys.path.insert(0, str(Path(__file__).parent))
from common import build_table, contract, dc43_sqlite, files_matching, goal_table, summary, timed

import dc43_delta_store
from dc43_delta_store import DeltaContractStore

VERSIONS = 10
GOALS = {
    "cold_process_ms": 500.0,
    "put_100k_ms": 25.0,
    "bulk_contracts_per_s": 1000.0,
    "warm_latest_unchanged_ms": 1.0,
    "latest_after_commit_ms": 30.0,
    "latest_1m_over_10k": 1.5,
    "peak_rss_mb": 300.0,
}


def ids_for(contracts: int) -> list[str]:
    return [f"domain{i % 17}.dataset_{i:07d}" for i in range(contracts)]


def versions() -> list[str]:
    return [f"1.{v}.0" for v in range(VERSIONS)]


# -- dc43's own stores, loaded with the same rows ----------------------------------------------


def dc43_files(path: Path, contracts: int) -> Any:
    from dc43_service_backends.contracts.backend.stores.filesystem import FSContractStore

    for contract_id in ids_for(contracts):
        folder = path / contract_id
        folder.mkdir(parents=True)
        for version in versions():
            (folder / f"{version}.json").write_text(
                json.dumps(contract(contract_id, version)), encoding="utf-8"
            )
    return FSContractStore(str(path))


def dc43_model(contract_id: str, version: str) -> Any:
    from open_data_contract_standard.model import OpenDataContractStandard

    return OpenDataContractStandard.model_validate(contract(contract_id, version))


# -- one size ----------------------------------------------------------------------------------


def measure_size(tmp: Path, contracts: int, largest: bool, rng: random.Random) -> dict[str, Any]:
    rows = contracts * VERSIONS
    print(f"  {rows} rows: building", flush=True)
    path = tmp / f"delta_{rows}"
    started = time.perf_counter()
    store = build_table(path, contracts, VERSIONS, rows_per_commit=max(rows // 20, 1_000))
    result: dict[str, Any] = {"rows": rows, "build_s": round(time.perf_counter() - started, 1)}
    ids = ids_for(contracts)
    picks = iter(rng.choices(ids, k=100_000))
    calls = 100

    def our_reads(label: str) -> None:
        # contracts this reader has not answered yet: no remembered answer
        reader = DeltaContractStore(path=path)
        count = min(calls, len(ids))
        first_ask = iter(rng.sample(ids, count))
        result[f"latest_{label}"] = summary(timed(lambda: reader.latest(next(first_ask)), count))
        first_ask = iter(rng.sample(ids, count))
        result[f"get_{label}"] = summary(timed(lambda: reader.get(next(first_ask), "1.3.0"), count))
        result[f"files_per_lookup_{label}"] = max(
            files_matching(path, i) for i in ids[:: max(1, contracts // 20)]
        )
        result[f"data_files_{label}"] = len(DeltaTable(str(path)).file_uris())

    our_reads("before_upkeep")
    started = time.perf_counter()
    store.optimize()
    result["optimize_s"] = round(time.perf_counter() - started, 2)
    our_reads("after_upkeep")
    service = DeltaContractStore(path=path)
    service.latest(ids[0])
    result["latest_repeated"] = summary(timed(lambda: service.latest(ids[0]), 1000))
    counter = iter(range(10**9))
    writer = DeltaContractStore(path=path, validation="off")
    result["put"] = summary(
        timed(lambda: writer.put(contract("bench.new", f"2.{next(counter)}.0")), 30)
    )
    runs = 3 if rows >= 1_000_000 else 10
    result["naive_full_read_latest"] = summary(
        timed(lambda: pl.read_delta(str(path)).filter(pl.col("contract_id") == next(picks)), runs)
    )

    print(f"  {rows} rows: dc43 SQLite", flush=True)
    sql = dc43_sqlite(tmp / f"dc43_{rows}.sqlite", ids_for(contracts), versions())
    assert sql.latest(ids[1]).version == versions()[-1]
    result["dc43_sqlite_latest"] = summary(timed(lambda: sql.latest(next(picks)), calls))
    result["dc43_sqlite_get"] = summary(timed(lambda: sql.get(next(picks), "1.3.0"), calls))
    result["dc43_sqlite_put"] = summary(
        timed(lambda: sql.put(dc43_model("bench.new", f"2.{next(counter)}.0")), 30)
    )
    if rows <= 100_000:
        print(f"  {rows} rows: dc43 files", flush=True)
        files = dc43_files(tmp / f"dc43_fs_{rows}", contracts)
        assert files.latest(ids[1]).version == versions()[-1]
        result["dc43_fs_latest"] = summary(timed(lambda: files.latest(next(picks)), calls))
        result["dc43_fs_get"] = summary(timed(lambda: files.get(next(picks), "1.3.0"), calls))
        result["dc43_fs_put"] = summary(
            timed(lambda: files.put(dc43_model("bench.new", f"2.{next(counter)}.0")), 30)
        )
    if largest:
        result.update(largest_table(path, ids, rng))
    return result


def largest_table(path: Path, ids: list[str], rng: random.Random) -> dict[str, Any]:
    """Cold start, freshness after another process's commit, RSS, listing and SQL."""
    print("  largest table: service figures", flush=True)
    out: dict[str, Any] = {}
    service = DeltaContractStore(path=path)
    hot = ids[len(ids) // 3]
    service.latest(hot)
    out["warm_latest_unchanged"] = summary(timed(lambda: service.latest(hot), 1000))
    after: list[float] = []
    for n in range(10):
        target = rng.choice(ids)
        service.latest(target)
        code = (
            f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r});"
            "from common import contract; from dc43_delta_store import DeltaContractStore;"
            f"DeltaContractStore(path={str(path)!r}, validation='off')"
            f".put(contract({target!r}, '9.{n}.0'))"
        )
        subprocess.run([sys.executable, "-c", code], check=True)
        begun = time.perf_counter()
        answer = service.latest(target)
        after.append((time.perf_counter() - begun) * 1000)
        assert answer is not None and answer["version"] == f"9.{n}.0"
    out["latest_after_commit"] = summary(after)
    cold = (
        "from dc43_delta_store import DeltaContractStore;"
        f"assert DeltaContractStore(path={str(path)!r}).latest({ids[7]!r})"
    )
    out["cold_process"] = summary(
        timed(lambda: subprocess.run([sys.executable, "-c", cold], check=True), 7)
    )
    out["cold_import_floor"] = summary(
        timed(
            lambda: subprocess.run([sys.executable, "-c", "import deltalake, polars"], check=True),
            7,
        )
    )
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec
    rss = (
        "from dc43_delta_store import DeltaContractStore;"
        f"s = DeltaContractStore(path={str(path)!r});"
        f"[s.latest(i) for i in {rng.sample(ids, 50)!r}];"
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
    )
    kilobytes = int(
        subprocess.run(
            [sys.executable, "-c", rss], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    out["peak_rss_mb"] = round(kilobytes / 1024, 1)
    out["list_contracts"] = summary(
        timed(lambda: DeltaContractStore(path=path).list_contracts(), 5)
    )
    query = "SELECT contract_id, version FROM contracts_latest WHERE status = 'active' AND domain = 'sales'"
    # a new store per call starts a SQL worker process each time, as one CLI call does
    out["sql_discovery"] = summary(timed(lambda: DeltaContractStore(path=path).sql(query), 5))
    warm = DeltaContractStore(path=path)
    warm.sql(query)  # a service: its worker is up
    out["sql_discovery_warm"] = summary(timed(lambda: warm.sql(query), 5))
    batch = [contract(f"bulk.dataset_{n:05d}", "1.0.0") for n in range(1_000)]
    started = time.perf_counter()
    DeltaContractStore(path=path, validation="off").put_many(batch)
    out["bulk_1000_s"] = round(time.perf_counter() - started, 3)
    validated = [contract(f"bulk2.dataset_{n:05d}", "1.0.0") for n in range(1_000)]
    started = time.perf_counter()
    DeltaContractStore(path=path, validation="warn").put_many(validated)
    out["bulk_1000_validated_s"] = round(time.perf_counter() - started, 3)
    out["floor_table_load"] = summary(timed(lambda: DeltaTable(str(path)), 10))
    one_file = DeltaTable(str(path)).file_uris(file_pruning_predicate=f"contract_id = '{ids[11]}'")[
        0
    ]
    import pyarrow.parquet as pq

    out["floor_read_one_file"] = summary(
        timed(
            lambda: pq.read_table(
                one_file, columns=["version", "json"], filters=[("contract_id", "==", ids[11])]
            ),
            20,
        )
    )
    return out


# -- report ------------------------------------------------------------------------------------


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    sizes = results["sizes"]
    largest = sizes[-1]
    by_rows = {size["rows"]: size for size in sizes}
    put_100k = by_rows.get(100_000, {}).get("put", {}).get("median_ms")
    ten_k = by_rows.get(10_000, {}).get("latest_after_upkeep", {}).get("median_ms")
    ratio = largest["latest_after_upkeep"]["median_ms"] / ten_k if ten_k else None
    rows = [
        (
            "cold process: import, open, latest() (ms)",
            largest["cold_process"]["median_ms"],
            GOALS["cold_process_ms"],
            "<=",
        ),
        ("put() at 100k rows (ms)", put_100k, GOALS["put_100k_ms"], "<="),
        (
            "bulk ingestion (contracts/s)",
            round(1000 / largest["bulk_1000_s"]),
            GOALS["bulk_contracts_per_s"],
            ">=",
        ),
        (
            "warm latest(), unchanged table, largest (ms)",
            largest["warm_latest_unchanged"]["median_ms"],
            GOALS["warm_latest_unchanged_ms"],
            "<=",
        ),
        (
            "latest() right after another process committed, largest (ms)",
            largest["latest_after_commit"]["median_ms"],
            GOALS["latest_after_commit_ms"],
            "<=",
        ),
        (
            "latest() at largest / at 10k, after upkeep",
            round(ratio, 2) if ratio else None,
            GOALS["latest_1m_over_10k"],
            "<=",
        ),
        (
            "peak RSS of latest() on the largest table (MB)",
            largest["peak_rss_mb"],
            GOALS["peak_rss_mb"],
            "<=",
        ),
    ]
    return goal_table(rows)


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Measured {results['date']} on {results['machine']} with `{results['command']}` "
        f"(dc43_delta_store {results['version']}, deltalake {results['deltalake']}, "
        f"polars {results['polars']}). Medians, with p10–p90 in brackets.",
        "",
        "| rows | latest() after upkeep | before upkeep | get() | put() | files/lookup before → after "
        "| naive full read | dc43 SQLite latest() | dc43 files latest() | dc43 SQLite put() |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def cell(size: dict[str, Any], key: str) -> str:
        value = size.get(key)
        if not value:
            return "–"
        return f"{value['median_ms']:.2f} ms ({value['p10_ms']:.1f}–{value['p90_ms']:.1f})"

    for size in results["sizes"]:
        lines.append(
            f"| {size['rows']:,} | {cell(size, 'latest_after_upkeep')} | {cell(size, 'latest_before_upkeep')} "
            f"| {cell(size, 'get_after_upkeep')} | {cell(size, 'put')} "
            f"| {size['files_per_lookup_before_upkeep']} → {size['files_per_lookup_after_upkeep']} "
            f"| {cell(size, 'naive_full_read_latest')} | {cell(size, 'dc43_sqlite_latest')} "
            f"| {cell(size, 'dc43_fs_latest')} | {cell(size, 'dc43_sqlite_put')} |"
        )
    largest = results["sizes"][-1]
    ours = largest["latest_after_upkeep"]["median_ms"]
    warm = largest["warm_latest_unchanged"]["median_ms"]
    sqlite = largest["dc43_sqlite_latest"]["median_ms"]
    lines += [
        "",
        f"On {largest['rows']:,} rows, `latest()` of a contract the store has not answered yet "
        f"takes {ours:.2f} ms after upkeep: {_than(largest['naive_full_read_latest']['median_ms'], ours)} "
        f"a naive full-table read and {_than(sqlite, ours)} dc43's SQLite store ({sqlite:.2f} ms). "
        f"Asked again while the table is unchanged, as a service does, it takes {warm:.3f} ms: "
        f"{_than(sqlite, warm)} dc43's SQLite store.",
        "",
        "| goal | measured | target | |",
        "|---|---|---|---|",
    ]
    for goal in results["goals"]:
        lines.append(
            f"| {goal['goal']} | {goal['measured']} | {goal['target']} | "
            f"{'met' if goal['met'] else '**not met**'} |"
        )
    lines += [
        "",
        f"Largest table: `list_contracts()` {cell(largest, 'list_contracts')}, SQL discovery "
        f"{cell(largest, 'sql_discovery')} with a new store ("
        f"{cell(largest, 'sql_discovery_warm') if 'sql_discovery_warm' in largest else '–'} "
        "on a store whose SQL worker is up), bulk ingestion of 1,000 contracts "
        f"{largest['bulk_1000_s']} s ({largest['bulk_1000_validated_s']} s with schema validation), "
        f"cold import of deltalake + polars alone {cell(largest, 'cold_import_floor')}, "
        f"table load {cell(largest, 'floor_table_load')}, reading one data file "
        f"{cell(largest, 'floor_read_one_file')}.",
    ]
    return "\n".join(lines) + "\n"


def _than(theirs: float, ours: float) -> str:
    """``"57x faster than"`` or ``"13x slower than"``: ours against theirs."""
    if ours <= theirs:
        return f"{theirs / ours:.1f}× faster than"
    return f"{ours / theirs:.1f}× slower than"


def plots(results: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = results["sizes"]
    rows = [size["rows"] for size in sizes]
    for name, series, title in [
        (
            "latest_scaling.png",
            [
                ("latest() after upkeep, first ask", "latest_after_upkeep"),
                ("latest() asked again, table unchanged", "latest_repeated"),
                ("latest() before upkeep", "latest_before_upkeep"),
                ("naive full-table read", "naive_full_read_latest"),
                ("dc43 SQLite latest()", "dc43_sqlite_latest"),
                ("dc43 files latest()", "dc43_fs_latest"),
            ],
            "latest(): median time by table size",
        ),
        (
            "put_scaling.png",
            [
                ("put()", "put"),
                ("dc43 SQLite put()", "dc43_sqlite_put"),
                ("dc43 files put()", "dc43_fs_put"),
            ],
            "put() of one contract: median time by table size",
        ),
    ]:
        figure, axes = plt.subplots(figsize=(7, 4.2))
        for label, key in series:
            points = [(size["rows"], size[key]) for size in sizes if size.get(key)]
            if points:
                xs = [p[0] for p in points]
                axes.errorbar(
                    xs,
                    [p[1]["median_ms"] for p in points],
                    yerr=[
                        [p[1]["median_ms"] - p[1]["p10_ms"] for p in points],
                        [p[1]["p90_ms"] - p[1]["median_ms"] for p in points],
                    ],
                    marker="o",
                    capsize=3,
                    label=label,
                )
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xticks(rows, [f"{r:,}" for r in rows])
        axes.set_xlabel("rows (contract versions)")
        axes.set_ylabel("ms (median, p10–p90)")
        axes.set_title(title)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
        figure.tight_layout()
        figure.savefig(out / name, dpi=110)
        plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(2026)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}",
        "command": "make bench",
        "version": dc43_delta_store.__version__,
        "deltalake": _version("deltalake"),
        "polars": pl.__version__,
        "sizes": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            results["sizes"].append(
                measure_size(Path(tmp), rows // VERSIONS, rows == sizes[-1], rng)
            )
    results["goals"] = goals(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / "bench.md").write_text(markdown(results), encoding="utf-8")
    plots(results, args.out)
    print(markdown(results))
    print(
        f"peak RSS of this benchmark process: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
