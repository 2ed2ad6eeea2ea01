"""One store object shared by many threads: puts, metadata updates, upkeep and reads at once.

    python -m tests.thread_stress [--threads 16] [--puts 24] [--updaters 4] [--updates 12]
                                  [--seed 0] [--path DIR_OR_URI]

A web service shares one store object across its thread pool; this checks that it then
behaves as separate processes would (see :mod:`tests.stress`, whose plan and checks it
reuses): writers put shared keys (identical or differing content) and their own; updaters
each own one governance column and set it on the same rows again and again; one thread
runs ``optimize`` (busy is fine); readers check that ``latest`` never goes back and listed
versions never disappear. Afterwards every acknowledged put is in the table as written,
each key once, and every row holds each updater's last acknowledged value.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable

from dc43_delta_store import (
    DeltaContractStore,
    TableBusyError,
    VersionConflictError,
    version_sort_key,
)
from tests.conftest import minimal
from tests.stress import SHARED, Config, Report, check, plan

ROWS = ("threads.meta", ("1.0.0", "2.0.0"))  # the rows every updater sets its column on


@dataclass(frozen=True)
class ThreadConfig:
    threads: int = 16
    puts: int = 24
    updaters: int = 4
    updates: int = 12
    seed: int = 0


@dataclass
class ThreadReport(Report):
    updates: int = 0
    upkeep: int = 0


def run(
    uri: str, config: ThreadConfig, storage_options: dict[str, str] | None = None
) -> ThreadReport:
    """Run the threads on one store object at ``uri``; the report of :func:`tests.stress.check`
    plus the updates and upkeep that succeeded."""
    columns = {_column(u): "string" for u in range(config.updaters)}
    options = storage_options or {}
    store = DeltaContractStore(
        path=uri, storage_options=options, validation="off", metadata_columns=columns
    )
    store.put_many([minimal("stress.seed", "1.0.0"), *(minimal(ROWS[0], v) for v in ROWS[1])])
    report = ThreadReport()
    stress = Config(processes=config.threads, puts=config.puts, readers=2, seed=config.seed)
    outcomes: list[tuple[int, tuple[str, str], str, str | None]] = []
    acknowledged: dict[tuple[str, str, str], str] = {}  # (id, version, column) -> value
    errors: list[str] = []
    stop = threading.Event()
    start = threading.Barrier(config.threads + config.updaters + 3)

    def guarded(work: Any) -> Any:
        def body(*args: Any) -> None:
            try:
                start.wait(timeout=120)
                work(*args)
            except Exception as exc:  # an untyped error is a failure of the store
                errors.append(f"{work.__name__}: {type(exc).__name__}: {exc}")

        return body

    @guarded
    def write(writer: int) -> None:
        for item in plan(writer, stress):
            key = (item["id"], item["version"])
            try:
                result = store.put(item)
                outcomes.append((writer, key, result.outcome, result.fingerprint))
            except VersionConflictError as exc:
                outcomes.append((writer, key, "conflict", exc.new_fingerprint))
            except TableBusyError:
                outcomes.append((writer, key, "busy", None))

    @guarded
    def update(updater: int) -> None:
        column = _column(updater)
        for round_ in range(config.updates):
            for version in ROWS[1]:
                value = f"u{updater}-r{round_}"
                try:
                    store.update_metadata(ROWS[0], version, {column: value})
                except TableBusyError:
                    continue
                acknowledged[(ROWS[0], version, column)] = value
                report.updates += 1

    @guarded
    def upkeep() -> None:
        while not stop.is_set():
            try:
                store.optimize()
                report.upkeep += 1
            except TableBusyError:
                pass
            time.sleep(0.2)

    @guarded
    def read() -> None:
        seen: set[str] = set()
        highest = ""
        while not stop.is_set():
            latest = store.latest(SHARED)  # then the list, which can only have grown since
            versions = store.list_versions(SHARED)
            report.reads += 2
            time.sleep(0.001)  # leave the cores to the writers
            if not seen <= set(versions):
                report.read_errors.append(f"versions disappeared: {sorted(seen - set(versions))}")
            seen |= set(versions)
            if latest is not None:
                key = version_sort_key(latest["version"])
                if key < highest:
                    report.read_errors.append(f"latest went back to {latest['version']}")
                highest = max(highest, key)

    started = time.perf_counter()
    workers = [threading.Thread(target=write, args=(w,)) for w in range(config.threads)]
    workers += [threading.Thread(target=update, args=(u,)) for u in range(config.updaters)]
    others = [threading.Thread(target=upkeep)] + [threading.Thread(target=read) for _ in range(2)]
    for thread in workers + others:
        thread.start()
    for thread in workers:
        thread.join(timeout=600)
        if thread.is_alive():
            report.violations.append("a writer or updater hung for 600 s")
    stop.set()
    for thread in others:
        thread.join(timeout=120)
    report.seconds = time.perf_counter() - started
    report.violations += errors
    rows = pa.table(DeltaTable(uri, storage_options=options or None).to_pyarrow_table()).to_pylist()
    meta = [row for row in rows if row["contract_id"] == ROWS[0]]
    check([row for row in rows if row["contract_id"] != ROWS[0]], stress, outcomes, report)
    report.rows = len(rows)
    for (contract_id, version, column), value in acknowledged.items():
        found = [row[column] for row in meta if row["version"] == version]
        if found != [value]:
            report.violations.append(
                f"{contract_id} {version} {column}: last acknowledged {value!r}, stored {found}"
            )
    return report


def _column(updater: int) -> str:
    return f"note_{updater}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    defaults = ThreadConfig()
    for name in ("threads", "puts", "updaters", "updates", "seed"):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    parser.add_argument("--path", help="a folder or URI (default: a temporary folder)")
    args = parser.parse_args()
    config = ThreadConfig(args.threads, args.puts, args.updaters, args.updates, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        report = run(args.path or str(Path(tmp) / "threads"), config)
    print(
        f"threads {config}: {report.summary()}; updates {report.updates}, optimize {report.upkeep}"
    )
    for line in (report.violations + report.read_errors)[:20]:
        print("  ", line)
    failed = report.violations or report.read_errors or report.duplicates
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
