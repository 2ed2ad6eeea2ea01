"""What a put costs: the store's replace-where insert against delta-rs' insert-only MERGE.

    python benchmarks/write_paths.py [--rows 10000] [--puts 200] [--batch 300]

Three copies of the same 10k-row table, written to in turn, put by put:

- ``merge``: the insert the store made before — ``dt.merge(…, streamed_exec=False)
  .when_not_matched_insert_all()`` — whose files embed ``string_view``;
- ``replace_where``: the store's insert now (``ContractTable.insert_new``) — read the key on
  the snapshot, then ``write_deltalake(mode="overwrite", predicate=<key>)`` on it;
- ``plain_append``: ``write_deltalake(mode="append")``, unsafe (duplicates), the floor.

Each on its own ``DeltaTable``, refreshed incrementally before each put as the store's is,
and compacted every 100 puts as auto-compaction would (not timed). Then the same key again
(``unchanged``: the MERGE inserts nothing; the new insert writes nothing after its read), one
bulk insert of ``--batch`` new rows (a Git-folder ingest), and ``DeltaContractStore.put`` end
to end on a fourth copy with its default auto-compaction.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deltalake import DeltaTable, write_deltalake

sys.path.insert(0, str(Path(__file__).parent))
from common import build_table, contract, machine, summary, timed, write_json

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.core.records import ContractRow, build_row
from dc43_delta_store.core.table_schema import rows_to_table
from dc43_delta_store.table.commits import POST_COMMIT, commit_properties, key_match
from dc43_delta_store.table.data_files import embedded_schema, schema_problems
from dc43_delta_store.table.delta_table import ContractTable, table_schema
from dc43_delta_store.table.location import TableLocation


def merge_insert(dt: DeltaTable, rows: list[ContractRow]) -> int:
    """The insert the store made before: an insert-only MERGE with a conflict predicate."""
    schema = table_schema(dt)
    source = rows_to_table(rows, datetime.now(UTC), schema)
    merger = dt.merge(
        source,
        predicate=key_match(schema),
        source_alias="s",
        target_alias="t",
        streamed_exec=False,
        commit_properties=commit_properties({}),
        post_commithook_properties=POST_COMMIT,
    ).when_not_matched_insert_all()
    return int(merger.execute()["num_target_rows_inserted"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--puts", type=int, default=200)
    parser.add_argument("--batch", type=int, default=300)
    default_out = Path(__file__).parent / "results" / "write_paths.json"
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / "built"
        build_table(built, args.rows // 4, 4, rows_per_commit=1_000)
        paths = {name: Path(tmp) / name for name in ("merge", "replace_where", "append", "store")}
        for path in paths.values():
            shutil.copytree(built, path)
        tables = {name: DeltaTable(str(path)) for name, path in paths.items()}
        files_before = len(tables["merge"].file_uris())
        contract_table = ContractTable(TableLocation(str(paths["replace_where"])))
        store = DeltaContractStore(path=paths["store"], validation="off")
        samples: dict[str, list[float]] = {}

        def fresh(name: str) -> DeltaTable:
            tables[name].update_incremental()
            return tables[name]

        def clock(name: str, fn: Any, *args: Any) -> None:
            started = time.perf_counter()
            fn(*args)
            samples.setdefault(name, []).append((time.perf_counter() - started) * 1000)

        def merge(row: ContractRow) -> None:
            merge_insert(fresh("merge"), [row])

        def replace_where(row: ContractRow) -> None:
            contract_table.insert_new(fresh("replace_where"), [row], {}, {})

        def append(row: ContractRow) -> None:
            table = rows_to_table([row], datetime.now(UTC))
            write_deltalake(fresh("append"), table, mode="append")

        for n in range(args.puts):
            row = build_row(contract("bench.put", f"3.{n}.0"))
            clock("merge", merge, row)
            clock("replace_where", replace_where, row)
            clock("plain_append", append, row)
            clock("store_put", store.put, contract("bench.put", f"3.{n}.0"))
            clock("merge_unchanged", merge, row)
            clock("replace_where_unchanged", replace_where, row)
            clock("store_put_unchanged", store.put, contract("bench.put", f"3.{n}.0"))
            if n % 100 == 99:
                for name in ("merge", "replace_where", "append"):
                    fresh(name).optimize.compact()

        batch = [build_row(contract(f"bulk.{i:05d}", "1.0.0")) for i in range(args.batch)]
        bulk_merge = timed(lambda: merge_insert(fresh("merge"), batch), 1)
        bulk_replace = timed(
            lambda: contract_table.insert_new(fresh("replace_where"), batch, {}, {}), 1
        )
        declared = table_schema(fresh("merge"))
        view_files = {  # every file written, also those compaction has replaced since
            name: sum(
                1
                for file in paths[name].glob("*.parquet")
                if schema_problems(embedded_schema(file), declared)
            )
            for name in ("merge", "replace_where")
        }

    results: dict[str, Any] = {
        "machine": machine(),
        "table": f"{args.rows} rows in {files_before} files, then {args.puts} puts of each kind",
        **{name: summary(values) for name, values in samples.items()},
        f"bulk_{args.batch}_merge_ms": round(bulk_merge[0], 1),
        f"bulk_{args.batch}_replace_where_ms": round(bulk_replace[0], 1),
        "data_files_with_view_types_or_other_nullability": view_files,
    }
    write_json(args.out, results)
    print(f"{results['table']}; {results['machine']}")
    base = results["merge"]["median_ms"]
    for name in samples:
        median = results[name]["median_ms"]
        print(f"  {name:<24} median {median:7.2f} ms  ({median / base:.2f}x the MERGE)")
    print(
        f"  bulk insert of {args.batch}: MERGE {bulk_merge[0]:.0f} ms, "
        f"replace-where {bulk_replace[0]:.0f} ms"
    )
    print(f"  data files with view types or other nullability than declared: {view_files}")


if __name__ == "__main__":
    main()
