"""Two processes put the same keys at the same moment: no duplicates, nothing acknowledged lost."""

from __future__ import annotations

import logging
import multiprocessing as mp
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from dc43_delta_store import DeltaContractStore, VersionConflictError

from .conftest import minimal

ROUNDS = 100


def contested(round_no: int, worker: int) -> dict[str, Any]:
    """Even rounds: both workers put identical content; odd rounds: different content."""
    document = minimal("race.contested", f"{round_no}.0.0")
    if round_no % 2:
        document["description"] = {"usage": f"written by worker {worker}"}
    return document


class _Count(logging.Handler):
    retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "concurrent commit" in record.getMessage():
            _Count.retries += 1


def race_worker(path: str, worker: int, rounds: int, barrier: Any, results: Any) -> None:
    logger = logging.getLogger("dc43_delta_store")
    logger.setLevel(logging.INFO)
    logger.addHandler(_Count())
    store = DeltaContractStore(path=path, validation="off")
    for round_no in range(rounds):
        barrier.wait(timeout=60)
        for document in (
            contested(round_no, worker),
            minimal(f"race.own{worker}", f"{round_no}.0.0"),
        ):
            try:
                result = store.put(document)
                results.put((worker, document["id"], round_no, result.outcome, result.fingerprint))
            except VersionConflictError as exc:
                results.put((worker, document["id"], round_no, "conflict", exc.new_fingerprint))
    results.put(("retries", _Count.retries))


@pytest.mark.slow
def test_two_processes_racing_on_the_same_keys(tmp_path: Path) -> None:
    path = str(tmp_path / "race")
    DeltaContractStore(path=path, validation="off").put(minimal("race.seed"))  # table exists
    ctx = mp.get_context("spawn")  # deltalake panics in forked children
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [
        ctx.Process(target=race_worker, args=(path, w, ROUNDS, barrier, results)) for w in (0, 1)
    ]
    for process in workers:
        process.start()
    received = [results.get(timeout=120) for _ in range(2 * 2 * ROUNDS + 2)]
    outcomes = [item for item in received if item[0] != "retries"]
    retries = sum(item[1] for item in received if item[0] == "retries")
    for process in workers:
        process.join(timeout=60)
        assert process.exitcode == 0

    rows = pa.table(DeltaTable(path).to_pyarrow_table()).to_pylist()
    keys = Counter((row["contract_id"], row["version"]) for row in rows)
    duplicates = [key for key, count in keys.items() if count > 1]
    stored = {(row["contract_id"], row["version"]): row["fingerprint"] for row in rows}
    print(
        f"\nrace: {ROUNDS} rounds x 2 processes, {len(outcomes)} puts, "
        f"{retries} commit conflicts retried, {len(duplicates)} duplicates"
    )
    assert retries > 0  # the processes really did collide
    assert duplicates == []
    assert len(rows) == 1 + 3 * ROUNDS  # seed, one contested and two own keys per round

    # every acknowledged put is in the table with exactly the content it wrote
    for _worker, contract_id, round_no, outcome, fingerprint in outcomes:
        if outcome != "conflict":
            assert stored[(contract_id, f"{round_no}.0.0")] == fingerprint
    per_round = Counter(
        (round_no, outcome) for _, cid, round_no, outcome, _ in outcomes if cid == "race.contested"
    )
    for round_no in range(ROUNDS):
        loser = "conflict" if round_no % 2 else "unchanged"
        assert per_round[(round_no, "inserted")] == 1, round_no
        assert per_round[(round_no, loser)] == 1, round_no
    own = [o for o in outcomes if o[1] != "race.contested"]
    assert all(outcome == "inserted" for *_, outcome, _ in own)
