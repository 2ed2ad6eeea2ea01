"""Answers under ``max_staleness`` are never older than the bound allows, and strict answers
are current: writer processes publish on moto while long-lived readers ask, at random.

Each writer puts rising versions of its own contracts and records when each put was
acknowledged. A reader's answer to ``latest(c)`` asked at time ``t`` must be at least the
highest version of ``c`` acknowledged before ``t - max_staleness`` (strict: before ``t``),
and a version that was put by the time the answer came back.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import threading
import time
from typing import Any

import pytest

from dc43_delta_store import DeltaContractStore, version_sort_key

from .conftest import minimal
from .servers import MotoS3

WRITERS = 2
CONTRACTS = 3  # per writer
SECONDS = 4.0
MODES = {"strict": (0.0, "on_read"), "stale": (0.5, "on_read"), "background": (0.5, "background")}


def write(uri: str, options: dict[str, str], writer: int, seed: int, acks: Any, go: Any) -> None:
    store = DeltaContractStore(path=uri, storage_options=options, validation="off")
    store.put(minimal(f"w{writer}.warm", "1.0.0"))  # the endpoint check, the log: before
    acks.put("ready")
    go.wait(timeout=120)
    chance = random.Random(seed)
    versions = dict.fromkeys(range(CONTRACTS), 0)
    stop = time.monotonic() + SECONDS
    while time.monotonic() < stop:
        contract = chance.randrange(CONTRACTS)
        versions[contract] += 1
        contract_id, version = f"w{writer}.c{contract}", f"1.{versions[contract]}.0"
        started = time.time()
        store.put(minimal(contract_id, version))
        acks.put((contract_id, version, started, time.time()))
        time.sleep(chance.uniform(0.0, 0.05))
    acks.put(None)


@pytest.mark.slow
def test_answers_are_never_staler_than_the_bound(moto_s3: MotoS3) -> None:
    uri, options = f"s3://{moto_s3.bucket()}/t", moto_s3.options()
    ids = [f"w{w}.c{c}" for w in range(WRITERS) for c in range(CONTRACTS)]
    DeltaContractStore(path=uri, storage_options=options).put_many(
        [minimal(contract_id, "1.0.0") for contract_id in ids]
    )
    readers = {
        mode: DeltaContractStore(
            path=uri, storage_options=options, max_staleness=bound, refresh=refresh
        )
        for mode, (bound, refresh) in MODES.items()
    }
    for reader in readers.values():
        reader.latest(ids[0])  # opened before the writers start
    answers: dict[str, list[tuple[str, float, float, str, Any]]] = {mode: [] for mode in MODES}
    stop = threading.Event()

    def ask(mode: str) -> None:
        chance = random.Random(mode)
        while not stop.is_set():
            contract_id = chance.choice(ids)
            asked = time.time()
            found = readers[mode].latest(contract_id)
            assert found is not None
            seen = readers[mode].freshness()
            answers[mode].append((contract_id, asked, time.time(), found["version"], seen))
            time.sleep(chance.uniform(0.01, 0.05))

    ctx = mp.get_context("spawn")
    acks, go = ctx.Queue(), ctx.Event()
    writers = [
        ctx.Process(target=write, args=(uri, options, w, w, acks, go)) for w in range(WRITERS)
    ]
    threads = [threading.Thread(target=ask, args=(mode,)) for mode in MODES]
    for process in writers:
        process.start()
    for _ in writers:
        assert acks.get(timeout=120) == "ready"
    go.set()
    for thread in threads:
        thread.start()
    acknowledged: list[tuple[str, str, float, float]] = []
    done = 0
    while done < WRITERS:
        item = acks.get(timeout=120)
        if item is None:
            done += 1
        else:
            acknowledged.append(item)
    time.sleep(1.5)  # the readers catch up with the last puts
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    for process in writers:
        process.join(timeout=60)
    for reader in readers.values():
        reader.close()

    assert len(acknowledged) > 10
    for mode, (bound, _) in MODES.items():
        assert len(answers[mode]) > 15, mode
        late = []
        for contract_id, asked, answered, version, seen in answers[mode]:
            due = [
                v for c, v, _, acked in acknowledged if c == contract_id and acked < asked - bound
            ]
            put = {
                v for c, v, started, _ in acknowledged if c == contract_id and started < answered
            }
            lowest = max(due, key=version_sort_key, default="1.0.0")
            if version_sort_key(version) < version_sort_key(lowest):
                late.append((contract_id, round(asked, 3), version, lowest, seen))
            assert version in put | {"1.0.0"}, (mode, contract_id, version)
        assert late == [], (mode, late[:5])
    final = {
        c: max((v for c2, v, _, _ in acknowledged if c2 == c), key=version_sort_key)
        for c in ids
        if any(a[0] == c for a in acknowledged)
    }
    for mode, reader in readers.items():
        if mode != "strict":
            time.sleep(0)
        for contract_id, version in final.items():
            assert reader.latest(contract_id)["version"] == version, mode
