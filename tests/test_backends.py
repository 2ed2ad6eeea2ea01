"""One behaviour suite, run against a local folder, moto's S3 server and Azurite."""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from dc43_delta_store import (
    BatchError,
    ContractNotFoundError,
    DeltaContractStore,
    InvalidRequestError,
    StoreUnavailableError,
    VersionConflictError,
)

from .conftest import EXAMPLES, Backend, minimal
from .servers import MotoS3


def rows(store: DeltaContractStore) -> list[dict[str, Any]]:
    dt = DeltaTable(store.location.uri, storage_options=store.location.options() or None)
    return pa.table(dt.to_pyarrow_table()).to_pylist()


def test_put_get_latest_list(backend: Backend) -> None:
    store = backend.store()
    for version, status in [
        ("1.0.0", "active"),
        ("1.10.0", "active"),
        ("1.9.0", "active"),
        ("2.0.0-rc.1", "active"),
        ("1.11.0", "draft"),
    ]:
        assert store.put(minimal(version=version, status=status)).inserted
    store.put(minimal("finance.invoices"))
    assert store.list_contracts() == ["finance.invoices", "sales.orders"]
    assert store.list_versions("sales.orders") == [
        "1.0.0",
        "1.9.0",
        "1.10.0",
        "1.11.0",
        "2.0.0-rc.1",
    ]
    assert store.latest("sales.orders")["version"] == "1.11.0"
    assert store.latest("sales.orders", status="active")["version"] == "1.10.0"
    assert store.latest("sales.orders", include_prereleases=True)["version"] == "2.0.0-rc.1"
    assert store.get("sales.orders", "1.9.0") == minimal(version="1.9.0")
    assert store.exists("sales.orders", "1.0.0") and not store.exists("sales.orders", "3.0.0")
    with pytest.raises(ContractNotFoundError):
        store.get("sales.orders", "3.0.0")
    protocol = DeltaTable(
        store.location.uri, storage_options=store.location.options() or None
    ).protocol()
    assert (protocol.min_reader_version, protocol.min_writer_version) == (1, 2)


def test_immutability_and_idempotency(backend: Backend) -> None:
    store = backend.store()
    first = store.put(minimal())
    again = store.put(minimal())
    assert again.outcome == "unchanged" and again.table_version == first.table_version
    with pytest.raises(VersionConflictError, match="already exists with fingerprint"):
        store.put(minimal(status="retired"))
    assert len(rows(store)) == 1 and store.table_version == first.table_version


def test_batches_are_atomic(backend: Backend) -> None:
    store = backend.store()
    store.put(minimal("other"))
    before = store.table_version
    with pytest.raises(BatchError):
        store.put_many([minimal(version="2.0.0"), minimal("other", status="changed"), {"id": "x"}])
    assert store.table_version == before
    batch = store.put_many([*sorted(EXAMPLES.rglob("*.odcs.*")), minimal("other")])
    assert batch.inserted == 6 and batch.unchanged == 1
    assert store.table_version == before + 1


def test_governance(backend: Backend) -> None:
    store = backend.store(metadata_columns={"owner": "string"})
    store.put_many(sorted(EXAMPLES.rglob("*.odcs.*")))
    start = store.table_version
    store.update_metadata(
        "sales.orders",
        "1.1.0",
        {"status": "Validated", "owner": "sales"},
        who="collibra-sync",
        why="approved",
    )
    assert store.latest("sales.orders", status="Validated")["version"] == "1.1.0"
    assert store.latest("sales.orders", owner="sales")["version"] == "1.1.0"
    assert store.latest("sales.orders", status="Validated", as_of=start) is None
    assert store.history(limit=1)[0].user == "collibra-sync"
    latest = store.sql("SELECT contract_id, version FROM contracts_latest ORDER BY contract_id")
    assert latest.rows()[-1] == ("sales.orders", "2.0.0")
    with pytest.raises(InvalidRequestError):
        store.sql("DROP TABLE contracts")
    result = store.optimize()
    assert result.files_after <= result.files_before
    assert store.latest("sales.orders", status="Validated")["version"] == "1.1.0"
    assert len(rows(store)) == 6


def test_a_reused_store_sees_another_writers_commit(backend: Backend) -> None:
    reader = backend.store(max_staleness=0.0)
    writer = backend.store()
    writer.put(minimal())
    assert reader.latest("sales.orders")["version"] == "1.0.0"
    writer.put(minimal(version="1.1.0"))
    assert reader.latest("sales.orders")["version"] == "1.1.0"


def test_wrong_credentials_fail_clearly_without_showing_them(backend: Backend) -> None:
    if backend.name == "local":
        pytest.skip("a local table has no credentials")
    store = backend.store()
    store.put(minimal())
    wrong = dict(backend.options)
    secret_key = "AWS_SECRET_ACCESS_KEY" if backend.name == "s3" else "account_key"
    wrong[secret_key] = "d3JvbmctYnV0LWxvbmctZW5vdWdoLXNlY3JldA=="
    if backend.name == "s3":
        wrong["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # moto accepts any key: refuse the door
    wrong["max_retries"] = "0"
    broken = DeltaContractStore(path=store.location.uri, storage_options=wrong)
    with pytest.raises(StoreUnavailableError) as caught:
        broken.latest("sales.orders")
    assert store.location.uri in str(caught.value)
    assert wrong[secret_key] not in str(caught.value) + repr(broken)


def race_worker(
    root: str, options: dict[str, str], worker: int, rounds: int, start: Any, out: Any
) -> None:
    store = DeltaContractStore(path=f"{root}/race", storage_options=options, validation="off")
    for round_no in range(rounds):
        start.wait(timeout=60)
        document = minimal(
            "race.s3",
            f"{round_no}.0.0",
            description={"usage": f"w{worker}" if round_no % 2 else "same"},
        )
        try:
            result = store.put(document)
            out.put((round_no, result.outcome, result.fingerprint))
        except VersionConflictError as exc:
            out.put((round_no, "conflict", exc.new_fingerprint))


@pytest.mark.slow
def test_two_processes_racing_on_s3(moto_s3: MotoS3) -> None:
    root, options, rounds = f"s3://{moto_s3.bucket()}", moto_s3.options(), 30
    DeltaContractStore(path=f"{root}/race", storage_options=options, validation="off").put(
        minimal("seed")
    )
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(2), ctx.Queue()
    workers = [
        ctx.Process(target=race_worker, args=(root, options, w, rounds, start, out)) for w in (0, 1)
    ]
    for worker in workers:
        worker.start()
    outcomes = [out.get(timeout=120) for _ in range(2 * rounds)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    stored = rows(DeltaContractStore(path=f"{root}/race", storage_options=options))
    keys = Counter((row["contract_id"], row["version"]) for row in stored)
    assert max(keys.values()) == 1 and len(stored) == 1 + rounds
    fingerprints = {
        row["version"]: row["fingerprint"] for row in stored if row["contract_id"] == "race.s3"
    }
    for round_no, outcome, fingerprint in outcomes:
        if outcome != "conflict":
            assert fingerprints[f"{round_no}.0.0"] == fingerprint
    per_round = Counter((round_no, outcome) for round_no, outcome, _ in outcomes)
    assert all(per_round[(r, "inserted")] == 1 for r in range(rounds))
    print(
        f"\nS3 race: {rounds} rounds x 2 processes, {len(stored) - 1} keys, 0 duplicates "
        f"({datetime.now(UTC):%H:%M:%S})"
    )


def optimize_worker(uri: str, options: dict[str, str], start: Any, out: Any) -> None:
    from dc43_delta_store import TableBusyError

    store = DeltaContractStore(path=uri, storage_options=options, validation="off")
    start.wait(timeout=60)
    try:
        store.optimize()
        out.put("optimized")
    except TableBusyError:
        out.put("busy")


@pytest.mark.slow
def test_concurrent_optimize_on_s3_never_duplicates_rows(moto_s3: MotoS3) -> None:
    # deltalake lets two concurrent compactions both commit; on object stores the store's
    # maintenance lease (a row in a tiny Delta table) keeps them apart
    uri, options = f"s3://{moto_s3.bucket()}/lease", moto_s3.options()
    store = DeltaContractStore(
        path=uri, storage_options=options, validation="off", auto_compact=None
    )
    for n in range(12):
        store.put(minimal(f"c{n}"))
    ctx = mp.get_context("spawn")
    for round_no in range(3):
        start, out = ctx.Barrier(2), ctx.Queue()
        workers = [
            ctx.Process(target=optimize_worker, args=(uri, options, start, out)) for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        outcomes = [out.get(timeout=10) for _ in workers]
        assert "optimized" in outcomes, outcomes
        assert len(rows(store)) == 12 + round_no
        store.put(minimal(f"between{round_no}"))
