"""A long-lived reader's remembered answers, checked against the table while others write.

    python -m tests.busy_reads [--size 40] [--writers 2] [--contracts 6] [--seed 0]

Writer processes publish new versions of random contracts, update the status of random
stored versions, and now and then append rows the way another tool would (no commit info,
file statistics only) or optimize. A reader process with one store object asks random
contracts random questions — ``latest`` with or without filters and prereleases,
``resolve`` with a range, ``get``, ``list_versions`` — and records each answer with the
table version it was given at (the version before and after the call agree). Afterwards
every answer is compared with the answer computed from that table version read in full
(no pruning, nothing remembered), and a sample with a fresh store's ``as_of`` answer.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import queue
import random
import tempfile
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import write_deltalake
from deltalake.exceptions import CommitFailedError

from dc43_delta_store import (
    ContractNotFoundError,
    DeltaContractStore,
    TableBusyError,
    VersionConflictError,
)
from dc43_delta_store.core.records import build_row
from dc43_delta_store.core.table_schema import rows_to_table
from dc43_delta_store.core.versions import sort_versions
from dc43_delta_store.resolution.explain import CandidateRow, ResolveRequest, decide
from dc43_delta_store.resolution.ranges import parse_range
from tests.conftest import minimal

STATUSES = ["active", "draft", "retired"]
SPECS = [None, "^1", ">=1.0,<3 || ^0"]
FILTERS: list[Any] = [None, "active", ("active", "draft")]


@dataclass(frozen=True)
class Config:
    size: int = 40  # operations per writer
    writers: int = 2
    contracts: int = 6
    seed: int = 0
    fresh_checks: int = 60


@dataclass
class Report:
    writes: int = 0
    asked: int = 0
    checked: int = 0
    hits: int = 0
    mismatches: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.writes} commits; {self.asked} answers, {self.checked} checked "
            f"({self.hits} from memory); {len(self.mismatches)} mismatches, "
            f"{len(self.errors)} errors; {self.seconds:.1f} s"
        )


def ids(config: Config) -> list[str]:
    return [f"busy.c{n:02d}" for n in range(config.contracts)]


def document(contract_id: str, version: str, status: str) -> dict[str, Any]:
    return minimal(contract_id, version, status=status)


# -- processes ---------------------------------------------------------------------------


def write(path: str, writer: int, config: Config, start: Any, results: Any) -> None:
    try:
        results.put(("writer", *_write(path, writer, config, start), None))
    except Exception:  # reported, not lost in a child's stderr
        results.put(("writer", 0, f"writer {writer}: {traceback.format_exc()}"))


def _write(path: str, writer: int, config: Config, start: Any) -> tuple[int]:
    rng = random.Random(config.seed * 100 + writer)
    store = DeltaContractStore(path=path, validation="off", auto_compact=None)
    contracts = ids(config)
    written: list[tuple[str, str]] = []
    commits = 0
    start.wait(timeout=120)
    for n in range(config.size):
        roll = rng.random()
        contract_id = rng.choice(contracts)
        version = f"{rng.randint(0, 3)}.{rng.randint(0, 3)}.{writer * 1000 + n}"
        if rng.random() < 0.15:
            version += "-rc.1"
        try:
            if roll < 0.5 or not written:
                store.put(document(contract_id, version, rng.choice(STATUSES)))
                written.append((contract_id, version))
            elif roll < 0.85:
                key = rng.choice(written)
                store.update_metadata(*key, {"status": rng.choice(STATUSES)})
            elif roll < 0.95:
                row = build_row(document(contract_id, version, rng.choice(STATUSES)))
                write_deltalake(path, rows_to_table([row], datetime.now(UTC)), mode="append")
            else:
                store.optimize()
            commits += 1
        except (TableBusyError, VersionConflictError, CommitFailedError):
            pass  # a lost race (the foreign append does not retry)
        time.sleep(rng.random() * 0.02)
    return (commits,)


def read(path: str, config: Config, start: Any, stop: Any, results: Any) -> None:
    rng = random.Random(config.seed * 100 + 99)
    store = DeltaContractStore(path=path)
    contracts = ids(config)
    samples: list[tuple[int, str, tuple[Any, ...], Any]] = []
    errors: list[str] = []
    start.wait(timeout=120)
    while not stop.is_set():
        kind, arguments = question(rng, contracts)
        try:
            before = store.table_version
            answer = ask(store, kind, arguments)
            after = store.table_version
        except Exception as exc:
            errors.append(f"{kind}{arguments}: {type(exc).__name__}: {exc}")
            continue
        if before is not None and before == after and len(samples) < 20_000:
            samples.append((before, kind, arguments, answer))
        time.sleep(0.0005)
    cache = store._reads.cache
    results.put(("reader", samples, errors, cache.hits))


def question(rng: random.Random, contracts: list[str]) -> tuple[str, tuple[Any, ...]]:
    contract_id = rng.choice(contracts)
    roll = rng.random()
    if roll < 0.6:
        spec, statuses = rng.choice(SPECS), rng.choice(FILTERS)
        return "resolve", (contract_id, spec, statuses, rng.random() < 0.1)
    if roll < 0.8:
        version = f"{rng.randint(0, 3)}.{rng.randint(0, 3)}.{rng.choice([0, 1, 1000, 1001])}"
        return "get", (contract_id, version)
    return "versions", (contract_id,)


def ask(store: DeltaContractStore, kind: str, arguments: tuple[Any, ...], **as_of: Any) -> Any:
    """The answer, as comparable text: the document's JSON, a version list, or None."""
    if kind == "resolve":
        contract_id, spec, statuses, prereleases = arguments
        filters = {} if statuses is None else {"status": statuses}
        found = store.resolve(
            contract_id, spec, include_prereleases=prereleases, **filters, **as_of
        )
        return None if found is None else json.dumps(found, sort_keys=True)
    if kind == "get":
        try:
            return json.dumps(store.get(*arguments, **as_of), sort_keys=True)
        except ContractNotFoundError:
            return None
    return store.list_versions(*arguments, **as_of)


def expected(rows: pl.DataFrame, kind: str, arguments: tuple[Any, ...]) -> Any:
    """The answer computed from every row of one table version (the oracle)."""
    mine = rows.filter(pl.col("contract_id") == arguments[0])
    if kind == "versions":
        return sort_versions(mine["version"].to_list())
    if kind == "get":
        found = mine.filter(pl.col("version") == arguments[1])["json"].to_list()
        return json.dumps(json.loads(found[0]), sort_keys=True) if found else None
    _, spec, statuses, prereleases = arguments
    if isinstance(statuses, str):
        mine = mine.filter(pl.col("status") == statuses)
    elif statuses is not None:
        mine = mine.filter(pl.col("status").is_in(list(statuses)))
    request = ResolveRequest(None if spec is None else parse_range(spec), {}, prereleases)
    payloads = dict(zip(mine["version"], mine["json"], strict=True))
    chosen = decide(arguments[0], map(CandidateRow, payloads), request).chosen
    return None if chosen is None else json.dumps(json.loads(payloads[chosen]), sort_keys=True)


# -- the run -----------------------------------------------------------------------------


def run(path: Path, config: Config) -> Report:
    report = Report()
    started = time.perf_counter()
    seed = DeltaContractStore(path=path, validation="off")
    seed.put_many(document(cid, "1.0.0", "active") for cid in ids(config))
    ctx = mp.get_context("spawn")  # deltalake panics in forked children
    start = ctx.Barrier(config.writers + 1)
    stop = ctx.Event()
    results = ctx.Queue()
    writers = [
        ctx.Process(target=write, args=(str(path), w, config, start, results))
        for w in range(config.writers)
    ]
    reader = ctx.Process(target=read, args=(str(path), config, start, stop, results))
    for process in [*writers, reader]:
        process.start()
    samples: list[Any] = []
    finished = 0
    deadline = time.monotonic() + 600
    while True:
        try:
            item = results.get(timeout=1)
        except queue.Empty:
            if time.monotonic() > deadline or not reader.is_alive():
                report.errors.append("no answer from the reader")
                break
            if not any(process.is_alive() for process in writers):
                stop.set()
            continue
        if item[0] == "writer":
            report.writes += item[1]
            if item[2] is not None:
                report.errors.append(item[2])
            finished += 1
            if finished == config.writers:
                stop.set()
        else:
            samples, errors, report.hits = item[1], item[2], item[3]
            report.errors += errors
            break
    for process in [*writers, reader]:
        process.join(timeout=60)
        if process.exitcode is None:
            process.kill()
        if process.exitcode != 0:
            report.errors.append(f"process {process.name} exit code {process.exitcode}")
    report.asked = len(samples)
    check(path, config, samples, report)
    report.seconds = time.perf_counter() - started
    return report


def check(path: Path, config: Config, samples: list[Any], report: Report) -> None:
    by_version: dict[int, list[Any]] = defaultdict(list)
    for sample in samples:
        by_version[sample[0]].append(sample)
    for version, asked in sorted(by_version.items()):
        rows = pl.read_delta(str(path), version=version)
        for _, kind, arguments, answer in asked:
            want = expected(rows, kind, arguments)
            report.checked += 1
            if answer != want:
                report.mismatches.append(
                    f"table version {version} {kind}{arguments}: {answer!r} != {want!r}"
                )
    fresh = DeltaContractStore(path=path)
    for version, kind, arguments, answer in random.Random(config.seed).sample(
        samples, min(config.fresh_checks, len(samples))
    ):
        again = ask(fresh, kind, arguments, as_of=version)
        if again != answer:
            report.mismatches.append(
                f"fresh store as_of={version} {kind}{arguments}: {again!r} != {answer!r}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=40, help="operations per writer")
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--contracts", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fresh-checks", type=int, default=200)
    parser.add_argument("--path", type=Path)
    args = parser.parse_args()
    config = Config(args.size, args.writers, args.contracts, args.seed, args.fresh_checks)
    with tempfile.TemporaryDirectory() as tmp:
        report = run(args.path or Path(tmp) / "busy", config)
    print(f"busy reads {config}: {report.summary()}")
    for line in (report.mismatches + report.errors)[:20]:
        print("  ", line)
    raise SystemExit(1 if report.mismatches or report.errors else 0)


if __name__ == "__main__":
    main()
