"""One behaviour suite, run against a local folder, moto's S3 server and Azurite."""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from dc43_delta_store import (
    BatchError,
    ContractNotFoundError,
    DeltaContractStore,
    InvalidRequestError,
    StoreUnavailableError,
    TableBusyError,
    VersionConflictError,
)
from dc43_delta_store.table.locking import lease

from .conftest import EXAMPLES, Backend, minimal
from .servers import AuthenticatingS3, Azurite, MotoS3


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


@pytest.mark.parametrize("kind", ["s3", "azure"])
def test_wrong_credentials_fail_clearly_without_showing_them(
    kind: str, request: pytest.FixtureRequest
) -> None:
    # both servers check credentials: moto (with IAM auth on) and Azurite refuse a wrong secret
    if kind == "s3":  # through a proxy that adds to refusals what AWS adds: the key id
        s3: AuthenticatingS3 = request.getfixturevalue("s3_with_auth")
        uri, options = f"s3://{s3.bucket_name}/wrong-credentials", s3.options()
        options["AWS_ENDPOINT_URL"] = s3.aws_errors
        secret_key, refusal = "AWS_SECRET_ACCESS_KEY", "SignatureDoesNotMatch"
    else:
        blob: Azurite = request.getfixturevalue("azurite")
        uri, options = f"az://{blob.container()}/contracts", blob.options()
        secret_key, refusal = "account_key", "403"
    store = DeltaContractStore(path=uri, storage_options=options, validation="off")
    store.put(minimal())
    wrong = {**options, secret_key: "d3JvbmctYnV0LWxvbmctZW5vdWdoLXNlY3JldA==", "max_retries": "0"}
    broken = DeltaContractStore(path=uri, storage_options=wrong, validation="off")
    for call in (lambda: broken.latest("sales.orders"), lambda: broken.put(minimal("other"))):
        with pytest.raises(StoreUnavailableError) as caught:
            call()
        assert uri in str(caught.value) and refusal in str(caught.value)
        shown = str(caught.value) + repr(broken)
        assert wrong[secret_key] not in shown
        assert all(value not in shown for name, value in wrong.items() if "KEY" in name.upper())
    assert store.list_contracts() == ["sales.orders"]  # the right key still works; nothing written


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


def test_concurrent_optimize_on_s3_never_duplicates_rows(moto_s3: MotoS3) -> None:
    # deltalake lets two concurrent compactions both commit, and every row they moved then
    # appears twice; on object stores the store's maintenance lease (a row in a tiny Delta
    # table) keeps them apart. Another process's compaction, played deterministically: it
    # holds the lease and compacts the snapshot it read while this store tries to optimize.
    uri, options = f"s3://{moto_s3.bucket()}/lease", moto_s3.options()
    store = DeltaContractStore(
        path=uri, storage_options=options, validation="off", auto_compact=None
    )
    for n in range(6):
        store.put(minimal(f"c{n}"))
    other = DeltaTable(uri, storage_options=options)
    with lease(uri, options) as held:
        assert held
        with pytest.raises(TableBusyError, match="being optimized by another process"):
            store.optimize()
        other.optimize.compact()
    keys = Counter((row["contract_id"], row["version"]) for row in rows(store))
    assert sorted(keys.values()) == [1] * 6  # every row once
    assert store.optimize().files_after == 1  # the lease was released

    # a holder that died: its lease expired, and the next compaction takes it over
    expired = datetime.now(UTC) - timedelta(minutes=1)
    write_deltalake(
        f"{uri}/_dc43_maintenance",
        pa.table({"lock": ["maintenance"], "owner": ["dead"], "expires_at": [expired]}),
        mode="overwrite",
        storage_options=options,
    )
    store.put(minimal("c6"))
    assert store.optimize().files_before == 2
    assert len(rows(store)) == 7


def test_check_reads_the_log_and_files_with_the_stores_credentials(backend: Backend) -> None:
    store = backend.store()
    store.put_many([minimal(), minimal(version="1.1.0")])
    optimized = store.optimize()
    report = store.check()
    assert report.healthy, report.findings
    assert report.facts.last_checkpoint == optimized.table_version
    assert (report.facts.rows, report.facts.files) == (2, optimized.files_after)
