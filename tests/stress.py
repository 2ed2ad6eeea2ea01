"""Many writers and readers on one table, in separate processes.

    python -m tests.stress [--processes 8] [--puts 50] [--readers 2] [--seed 0] [--path DIR]

Each writer puts ``puts`` contract versions in a shuffled order: half are keys shared by
every writer (even ones with identical content everywhere, odd ones with content that
differs per writer), half are the writer's own. Readers call ``latest`` and
``list_versions`` while the writers commit. :func:`run` checks the table afterwards and
returns the figures that the test asserts and prints.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import queue
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
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

SHARED = "stress.shared"


@dataclass(frozen=True)
class Config:
    processes: int = 8
    puts: int = 50
    readers: int = 2
    seed: int = 0


@dataclass
class Report:
    attempted: int = 0
    inserted: int = 0
    unchanged: int = 0
    conflicts: int = 0
    busy: int = 0
    duplicates: int = 0
    rows: int = 0
    reads: int = 0
    read_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"puts attempted {self.attempted}, succeeded {self.inserted + self.unchanged} "
            f"(inserted {self.inserted}, no-ops {self.unchanged}), conflicts {self.conflicts}, "
            f"busy {self.busy}; rows {self.rows}, duplicates {self.duplicates}; "
            f"reads {self.reads}, read errors {len(self.read_errors)}; "
            f"violations {len(self.violations)}; {self.seconds:.1f} s"
        )


def document(contract_id: str, version: str, writer: int | None) -> dict[str, Any]:
    usage = "the same everywhere" if writer is None else f"written by writer {writer}"
    return minimal(contract_id, version, description={"usage": usage})


def plan(writer: int, config: Config) -> list[dict[str, Any]]:
    shared = config.puts // 2
    items = [
        document(SHARED, f"{k}.0.0", None if k % 2 == 0 else writer) for k in range(shared)
    ] + [document(f"stress.own{writer}", f"{k}.0.0", writer) for k in range(config.puts - shared)]
    random.Random(config.seed * 1000 + writer).shuffle(items)
    return items


def write(path: str, writer: int, config: Config, start: Any, results: Any) -> None:
    store = DeltaContractStore(path=path, validation="off")
    start.wait(timeout=120)
    for item in plan(writer, config):
        key = (item["id"], item["version"])
        try:
            result = store.put(item)
            results.put((writer, key, result.outcome, result.fingerprint))
        except VersionConflictError as exc:
            results.put((writer, key, "conflict", exc.new_fingerprint))
        except TableBusyError:
            results.put((writer, key, "busy", None))
    results.put((writer, None, "done", None))


def read(path: str, start: Any, stop: Any, results: Any) -> None:
    store = DeltaContractStore(path=path, validation="off")
    seen: set[str] = set()
    highest = ""
    reads = 0
    errors: list[str] = []
    start.wait(timeout=120)
    while not stop.is_set():
        try:
            latest = store.latest(SHARED)  # then the list, which can only have grown since
            versions = store.list_versions(SHARED)
            reads += 2
        except Exception as exc:  # any error caused by a concurrent commit is a failure
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        if not seen <= set(versions):
            errors.append(f"versions disappeared: {sorted(seen - set(versions))}")
        seen |= set(versions)
        if latest is not None:
            if latest["version"] not in seen:
                errors.append(f"latest {latest['version']} not among listed versions")
            key = version_sort_key(latest["version"])
            if key < highest:
                errors.append(f"latest went back to {latest['version']}")
            highest = max(highest, key)
    results.put(("reader", reads, errors))


def run(path: Path, config: Config) -> Report:
    report = Report()
    started = time.perf_counter()
    DeltaContractStore(path=path, validation="off").put(document("stress.seed", "1.0.0", None))
    ctx = mp.get_context("spawn")  # deltalake panics in forked children
    start = ctx.Barrier(config.processes + config.readers)
    stop = ctx.Event()
    results = ctx.Queue()
    writers = [
        ctx.Process(target=write, args=(str(path), w, config, start, results))
        for w in range(config.processes)
    ]
    readers = [
        ctx.Process(target=read, args=(str(path), start, stop, results))
        for _ in range(config.readers)
    ]
    for process in writers + readers:
        process.start()
    outcomes: list[tuple[int, tuple[str, str], str, str | None]] = []
    done = 0
    while done < config.processes:
        try:
            item = results.get(timeout=300)
        except queue.Empty:
            report.violations.append("a writer hung: no result for 300 s")
            break
        if item[2] == "done":
            done += 1
        else:
            outcomes.append(item)
    stop.set()
    for _ in readers:
        try:
            _, reads, errors = results.get(timeout=120)
        except queue.Empty:
            report.violations.append("a reader hung")
            continue
        report.reads += reads
        report.read_errors += errors
    for process in writers + readers:
        process.join(timeout=60)
        if process.exitcode != 0:
            report.violations.append(f"process {process.name} exit code {process.exitcode}")
    report.seconds = time.perf_counter() - started
    check(pa.table(DeltaTable(str(path)).to_pyarrow_table()).to_pylist(), config, outcomes, report)
    return report


def check(rows: list[dict[str, Any]], config: Config, outcomes: list[Any], report: Report) -> None:
    """Judge the writers' ``outcomes`` (writer, key, outcome, fingerprint) against the
    table's ``rows`` afterwards, into ``report``."""
    counts = Counter(outcome for _, _, outcome, _ in outcomes)
    report.attempted = len(outcomes)
    report.inserted, report.unchanged = counts["inserted"], counts["unchanged"]
    report.conflicts, report.busy = counts["conflict"], counts["busy"]
    if report.attempted != config.processes * config.puts:
        report.violations.append(f"{report.attempted} puts reported, expected more")
    report.rows = len(rows)
    keys = Counter((row["contract_id"], row["version"]) for row in rows)
    report.duplicates = sum(count - 1 for count in keys.values())
    stored = {(row["contract_id"], row["version"]): row["fingerprint"] for row in rows}
    by_key: dict[tuple[str, str], Counter[str]] = {}
    for writer, key, outcome, fingerprint in outcomes:
        by_key.setdefault(key, Counter())[outcome] += 1
        if outcome in ("inserted", "unchanged") and stored.get(key) != fingerprint:
            report.violations.append(f"acknowledged {key} by writer {writer} is not as written")
        if outcome == "busy" and key[0] != SHARED and key in stored:
            report.violations.append(f"{key} reported busy but was written")
    for (contract_id, version), outcome in by_key.items():
        written = (contract_id, version) in stored
        if outcome["inserted"] != int(written):
            report.violations.append(
                f"{contract_id} {version} inserted {outcome['inserted']} times, "
                f"{'stored' if written else 'not stored'}"
            )
        if contract_id != SHARED:
            continue
        # every writer put each shared key: one inserted it, the others saw it there (the
        # same content: unchanged; their own: a conflict) or gave up busy; all busy: none
        shared_index = int(version.split(".")[0])
        loser, never = (
            ("unchanged", "conflict") if shared_index % 2 == 0 else ("conflict", "unchanged")
        )
        if (
            outcome[never]
            or outcome["inserted"] + outcome[loser] + outcome["busy"] != config.processes
            or (outcome["inserted"] == 0 and outcome[loser] > 0)
        ):
            report.violations.append(f"{version}: {dict(outcome)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--puts", type=int, default=50)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--path", type=Path)
    args = parser.parse_args()
    config = Config(args.processes, args.puts, args.readers, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        report = run(args.path or Path(tmp) / "stress", config)
    print(f"stress {config}: {report.summary()}")
    for line in (report.violations + report.read_errors)[:20]:
        print("  ", line)
    raise SystemExit(1 if report.violations or report.read_errors or report.duplicates else 0)


if __name__ == "__main__":
    main()
