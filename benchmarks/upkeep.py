"""Upkeep: a table built by 3,000 single puts, and a 100k-row table, before and after.

    python benchmarks/upkeep.py [--single-puts 3000] [--rows 100000]

Part A puts 3,000 versions one by one (1,000 contracts x 3 versions, each put its own
commit and file). Part B bulk-appends rows in arbitrary order up to ``--rows`` (every bulk
file spans the whole id range). Each part is measured before and after ``optimize()``: data
files, the files a lookup's statistics admit, the table load time, ``latest()`` from a fresh
store object (load included) and from a reused store on contracts it has not answered yet.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from deltalake import DeltaTable

sys.path.insert(0, str(Path(__file__).parent))
from common import (
    build_table,
    contract,
    contract_ids,
    files_matching,
    machine,
    summary,
    timed,
    write_json,
)

from dc43_delta_store import DeltaContractStore

VERSIONS = 4


def measure(path: Path, sample: list[str]) -> dict[str, Any]:
    dt = DeltaTable(str(path))
    picks = iter(sample * 10)
    reused = DeltaContractStore(path=path)
    return {
        "version": dt.version(),
        "data_files": len(dt.file_uris()),
        "files_per_lookup": max(files_matching(path, cid) for cid in sample[:20]),
        "table_load": summary(timed(lambda: DeltaTable(str(path)), 20)),
        "latest_fresh_store": summary(
            timed(lambda: DeltaContractStore(path=path).latest(next(picks)), 20)
        ),
        "latest_reused_store_new_ids": summary(timed(lambda: reused.latest(next(picks)), 50)),
    }


def before_and_after(store: DeltaContractStore, sample: list[str]) -> dict[str, Any]:
    path = Path(store.location.uri)
    before = measure(path, sample)
    started = time.perf_counter()
    store.optimize()
    seconds = time.perf_counter() - started
    return {"before": before, "optimize_seconds": round(seconds, 2), "after": measure(path, sample)}


def report(title: str, part: dict[str, Any]) -> None:
    before, after = part["before"], part["after"]
    print(f"{title} (optimize took {part['optimize_seconds']:.1f} s)")
    print(f"  {'':34} {'before':>9} {'after':>9}")
    for name, key in [("data files", "data_files"), ("files a lookup reads", "files_per_lookup")]:
        print(f"  {name:34} {before[key]:>9} {after[key]:>9}")
    for name, key in [
        ("table load, median ms", "table_load"),
        ("latest(), fresh store, median ms", "latest_fresh_store"),
        ("latest(), reused store, median ms", "latest_reused_store_new_ids"),
    ]:
        print(f"  {name:34} {before[key]['median_ms']:>9.1f} {after[key]['median_ms']:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--single-puts", type=int, default=3_000)
    parser.add_argument("--rows", type=int, default=100_000)
    default_out = Path(__file__).parent / "results" / "upkeep.json"
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        store = DeltaContractStore(path=Path(tmp) / "singles", validation="off")
        singles = [f"single.dataset_{n:05d}" for n in range(args.single_puts // 3)]
        started = time.perf_counter()
        put_times: list[float] = []
        for n in range(args.single_puts):
            begun = time.perf_counter()
            store.put(contract(singles[n % len(singles)], f"1.{n // len(singles)}.0"))
            put_times.append((time.perf_counter() - begun) * 1000)
        put_seconds = time.perf_counter() - started
        part_a = before_and_after(store, rng.sample(singles, 40))
        part_a["single_put"] = summary(put_times)
        part_a["single_put_seconds"] = round(put_seconds, 1)

        contracts = args.rows // VERSIONS
        bulk = build_table(Path(tmp) / "bulk", contracts, VERSIONS, rows_per_commit=1_000)
        part_b = before_and_after(bulk, rng.sample(contract_ids(contracts), 60))
    results = {"machine": machine(), "single_puts": part_a, "rows": args.rows, "bulk": part_b}
    write_json(args.out, results)
    print(machine())
    report(
        f"A. {args.single_puts} single puts ({put_seconds:.0f} s, put median "
        f"{part_a['single_put']['median_ms']:.1f} ms)",
        part_a,
    )
    report(f"B. {args.rows} rows in bulk commits of 1000, arbitrary id order", part_b)
    one_file = part_a["after"]["files_per_lookup"] == part_b["after"]["files_per_lookup"] == 1
    fresh = part_b["after"]["latest_fresh_store"]["median_ms"]
    print(f"goal, one file read after upkeep: {'met' if one_file else 'NOT met'}")
    print(
        f"goal, latest() from a fresh store at {args.rows} rows <= 40 ms: "
        f"{'met' if fresh <= 40 else 'NOT met'} ({fresh:.1f} ms)"
    )


if __name__ == "__main__":
    main()
