"""Writers in separate processes behind an S3 endpoint that may ignore ``If-None-Match``.

    python -m tests.endpoint_race [--processes 3] [--rounds 4] [--delay 0.02] [--enforced]
                                  [--dynamodb]
    python -m tests.endpoint_race --check-cost


Starts moto and a :class:`~tests.servers.RequestProxy` in front of it that strips conditional
headers from PUTs (``--enforced``: forwards them). Each round, every writer puts one key that
all of them put (with its own content: one inserted, the others a conflict) and one key of
its own. Afterwards every acknowledged put is read back from moto directly; a put that was
acknowledged but is not in the table, as written, is lost.

The store's conditional-write check would refuse every write here; the writers set
``DC43_DELTA_STORE_UNSAFE_TRUST_ENDPOINT=1`` to show what it prevents. ``--dynamodb`` also
configures delta-rs's DynamoDB locking provider (``AWS_S3_LOCKING_PROVIDER=dynamodb``, a lock
table in moto's DynamoDB), which deltalake 1.6 ignores.

``--check-cost``: the requests and milliseconds of the conditional-write check on moto and
Azurite (counted by a forwarding proxy; timed on the servers directly).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable

from dc43_delta_store import DeltaContractStore, TableBusyError, VersionConflictError
from dc43_delta_store.table.endpoint import TRUST_ENDPOINT_ENV, check_conditional_writes
from dc43_delta_store.table.location import TableLocation
from tests.conftest import minimal
from tests.servers import AZURITE_ACCOUNT, Azurite, MotoS3, RequestProxy

LOCK_TABLE = "dc43_delta_lock"


@dataclass
class RaceReport:
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    conflicts: int = 0
    busy: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.acknowledged} puts acknowledged, {len(self.lost)} lost; "
            f"{self.conflicts} conflicts, {self.busy} busy, {len(self.errors)} errors; "
            f"{self.seconds:.1f} s"
        )


def write(
    uri: str, options: dict[str, str], writer: int, rounds: int, barrier: Any, results: Any
) -> None:
    os.environ[TRUST_ENDPOINT_ENV] = "1"
    store = DeltaContractStore(path=uri, storage_options=options, validation="off")
    for round_no in range(rounds):
        try:
            barrier.wait(timeout=120)
        except Exception:  # another writer died: stop too
            break
        contested = minimal(
            "race.contested", f"{round_no}.0.0", description={"usage": f"by {writer}"}
        )
        for document in (contested, minimal(f"race.own{writer}", f"{round_no}.0.0")):
            key = (document["id"], document["version"])
            try:
                result = store.put(document)
                results.put((key, result.outcome, result.fingerprint))
            except VersionConflictError:
                results.put((key, "conflict", None))
            except TableBusyError:
                results.put((key, "busy", None))
            except Exception as exc:  # reported, not raised: the run must finish
                results.put((key, "error", f"{type(exc).__name__}: {exc}"))
    results.put((None, "done", None))


def race(
    uri: str,
    writers_options: dict[str, str],
    read_options: dict[str, str],
    *,
    processes: int = 3,
    rounds: int = 4,
) -> RaceReport:
    """Run the writers against ``uri`` and check the table (read with ``read_options``)."""
    report = RaceReport()
    started = time.perf_counter()
    DeltaContractStore(path=uri, storage_options=read_options, validation="off").put(
        minimal("race.seed")
    )  # the table exists before the race
    ctx = mp.get_context("spawn")  # deltalake panics in forked children
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    workers = [
        ctx.Process(target=write, args=(uri, writers_options, w, rounds, barrier, results))
        for w in range(processes)
    ]
    for process in workers:
        process.start()
    outcomes: list[tuple[Any, str, Any]] = []
    done = 0
    while done < processes:
        try:
            item = results.get(timeout=180)
        except queue.Empty:
            report.errors.append("a writer hung: no result for 180 s")
            break
        if item[1] == "done":
            done += 1
        else:
            outcomes.append(item)
    for process in workers:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    report.seconds = time.perf_counter() - started
    rows = pa.table(DeltaTable(uri, storage_options=read_options).to_pyarrow_table()).to_pylist()
    stored = {(row["contract_id"], row["version"]): row["fingerprint"] for row in rows}
    for key, outcome, detail in outcomes:
        if outcome in ("inserted", "unchanged"):
            report.acknowledged += 1
            if stored.get(key) != detail:
                report.lost.append(f"{key[0]} {key[1]}")
        report.conflicts += outcome == "conflict"
        report.busy += outcome == "busy"
        if outcome == "error":
            report.errors.append(detail)
    return report


def lock_table(s3: MotoS3) -> None:
    """delta-rs's documented lock table, in moto's DynamoDB."""
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=s3.endpoint,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        region_name="us-east-1",
    )
    client.create_table(
        TableName=LOCK_TABLE,
        AttributeDefinitions=[
            {"AttributeName": "tablePath", "AttributeType": "S"},
            {"AttributeName": "fileName", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "tablePath", "KeyType": "HASH"},
            {"AttributeName": "fileName", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def dynamodb_options(s3: MotoS3) -> dict[str, str]:
    return {
        "AWS_S3_LOCKING_PROVIDER": "dynamodb",
        "DELTA_DYNAMO_TABLE_NAME": LOCK_TABLE,
        "AWS_ENDPOINT_URL_DYNAMODB": s3.endpoint,
    }


def check_cost(samples: int = 20) -> None:
    """Print what the check costs on a new location and on one where the probe object is."""
    s3, azurite = MotoS3(), Azurite()
    try:
        endpoints = {
            "moto": (
                s3.endpoint,
                lambda: f"s3://{s3.bucket()}/contracts",
                s3.options,
                "AWS_ENDPOINT_URL",
            ),
            "Azurite": (
                azurite.endpoint.rsplit("/", 1)[0],
                lambda: f"az://{azurite.container()}/contracts",
                azurite.options,
                "endpoint",
            ),
        }
        for name, (upstream, new_uri, options, key) in endpoints.items():
            suffix = f"/{AZURITE_ACCOUNT}" if name == "Azurite" else ""
            proxy = RequestProxy(upstream)
            try:
                counted = {}
                uri = new_uri()
                for kind in ("new location", "probe object there"):
                    proxy.reset()
                    location = TableLocation(uri, {**options(), key: proxy.endpoint + suffix})
                    check_conditional_writes(location)
                    counted[kind] = [f"{r.method} {r.status}" for r in proxy.requests()]
            finally:
                proxy.stop()
            times: dict[str, list[float]] = {"new location": [], "probe object there": []}
            for _ in range(samples):
                uri = new_uri()
                for kind in times:
                    started = time.perf_counter()
                    check_conditional_writes(TableLocation(uri, options()))
                    times[kind].append((time.perf_counter() - started) * 1000)
            for kind, spent in times.items():
                spent.sort()
                print(
                    f"{name}, {kind}: {len(counted[kind])} request(s) {counted[kind]}, "
                    f"median {spent[len(spent) // 2]:.1f} ms (min {spent[0]:.1f}, max {spent[-1]:.1f})"
                )
    finally:
        s3.stop()
        azurite.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--enforced", action="store_true", help="forward If-None-Match")
    parser.add_argument("--dynamodb", action="store_true", help="configure the DynamoDB lock")
    parser.add_argument("--check-cost", action="store_true", help="measure the check instead")
    args = parser.parse_args()
    if args.check_cost:
        return check_cost()
    s3 = MotoS3()
    proxy = RequestProxy(s3.endpoint, strip_conditional=not args.enforced, delay=args.delay)
    try:
        extra = {}
        if args.dynamodb:
            lock_table(s3)
            extra = dynamodb_options(s3)
        uri = f"s3://{s3.bucket()}/contracts"
        report = race(
            uri,
            s3.options(AWS_ENDPOINT_URL=proxy.endpoint, **extra),
            s3.options(),
            processes=args.processes,
            rounds=args.rounds,
        )
    finally:
        proxy.stop()
        s3.stop()
    print(
        f"{args.processes} writers x {args.rounds} rounds, "
        f"{'enforced' if args.enforced else 'If-None-Match stripped'}"
        f"{', DynamoDB lock configured' if args.dynamodb else ''}, delay {args.delay} s: "
        + report.summary()
    )
    for line in (report.lost + report.errors)[:10]:
        print("  ", line)


if __name__ == "__main__":
    main()
