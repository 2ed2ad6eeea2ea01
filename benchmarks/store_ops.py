"""put() and latest() on a 10k-row table, and a cold process answering latest().

    python benchmarks/store_ops.py [--rows 10000]

Baselines, run in the same process on the same table: a naive full-table read filtered
afterwards (no pushdown) for latest(); a plain, unsafe append for put().
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from deltalake import DeltaTable, write_deltalake

sys.path.insert(0, str(Path(__file__).parent))
from common import (
    build_table,
    contract,
    contract_ids,
    fresh_process_ms,
    machine,
    summary,
    timed,
)

from dc43_delta_store.core.records import build_row
from dc43_delta_store.core.table_schema import rows_to_table

VERSIONS = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    default_out = Path(__file__).parent / "results" / "store_ops.json"
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args()
    contracts = args.rows // VERSIONS
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contracts"
        store = build_table(path, contracts, VERSIONS, rows_per_commit=1_000)
        ids = contract_ids(contracts)
        picks = iter(rng.choices(ids, k=10_000))

        latest = timed(lambda: store.latest(next(picks)), 200)
        get = timed(lambda: store.get(next(picks), "1.2.0"), 200)

        def naive_latest() -> None:
            wanted = next(picks)
            frame = pl.read_delta(str(path)).filter(pl.col("contract_id") == wanted)
            assert frame.height

        naive = timed(naive_latest, 20)
        counter = iter(range(10**6))
        put = timed(lambda: store.put(contract("bench.new", f"2.{next(counter)}.0")), 50)

        table = DeltaTable(str(path))

        def plain_append() -> None:
            row = build_row(contract("bench.append", f"2.{next(counter)}.0"))
            write_deltalake(table, rows_to_table([row], datetime.now(UTC)), mode="append")

        append = timed(plain_append, 50)
        code = (
            "from dc43_delta_store import DeltaContractStore;"
            f"s = DeltaContractStore(path={str(path)!r});"
            f"assert s.latest({ids[len(ids) // 2]!r})"
        )
        cold = fresh_process_ms(code, 7)
        floor = fresh_process_ms("import deltalake, polars", 7)

    results = {
        "machine": machine(),
        "rows": contracts * VERSIONS,
        "layout": f"{contracts} contracts x {VERSIONS} versions, commits of 1000 rows + checkpoint",
        "latest": summary(latest),
        "get": summary(get),
        "naive_full_read_latest": summary(naive),
        "put": summary(put),
        "plain_append": summary(append),
        "cold_process_latest": summary(cold),
        "cold_process_import_only": summary(floor),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    ratio = results["naive_full_read_latest"]["median_ms"] / results["latest"]["median_ms"]
    print(f"{results['rows']} rows ({results['layout']}); {results['machine']}")
    for name, target in [("latest", 50), ("get", 50), ("put", 50), ("cold_process_latest", 1000)]:
        median = results[name]["median_ms"]
        verdict = "met" if median <= target else "NOT met"
        print(f"  {name:<22} median {median:8.2f} ms  (target <= {target} ms: {verdict})")
    naive = results["naive_full_read_latest"]["median_ms"]
    append = results["plain_append"]["median_ms"]
    floor = results["cold_process_import_only"]["median_ms"]
    print(f"  naive full read         median {naive:8.2f} ms  -> latest() is {ratio:.0f}x faster")
    print(
        f"  plain append (unsafe)   median {append:8.2f} ms"
        f"  -> put() costs {results['put']['median_ms'] / append:.1f}x"
    )
    print(f"  import deltalake+polars median {floor:8.2f} ms (floor of a cold process)")


if __name__ == "__main__":
    main()
