"""Requests per answer on an object store, counted on the wire (a proxy in front of moto and
Azurite): the budget of issue 21, on a table with a checkpoint and on one without."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dc43_delta_store import DeltaContractStore, InvalidRequestError

from .conftest import minimal
from .servers import AZURITE_ACCOUNT, Azurite, MotoS3, ProxiedRequest, RequestProxy


@dataclass
class Endpoint:
    """A table location behind a counting proxy."""

    proxy: RequestProxy
    uri: str
    options: dict[str, str]

    def store(self, **kwargs: Any) -> DeltaContractStore:
        return DeltaContractStore(path=self.uri, storage_options=self.options, **kwargs)

    def counted(self, call: Callable[[], Any]) -> tuple[Any, list[ProxiedRequest]]:
        self.proxy.reset()
        result = call()
        requests = self.proxy.requests()
        print(f"{len(requests):3d} requests: {summary(requests)}")  # pytest -s shows them
        return result, requests


@pytest.fixture(scope="module", params=["s3", "azure"])
def proxied(request: pytest.FixtureRequest) -> Iterator[tuple[str, RequestProxy, Any]]:
    if request.param == "s3":
        server: Any = request.getfixturevalue("moto_s3")
    else:
        server = request.getfixturevalue("azurite")
    proxy = RequestProxy(
        server.endpoint if request.param == "s3" else server.endpoint.rsplit("/", 1)[0]
    )
    yield request.param, proxy, server
    proxy.stop()


def endpoint(proxied: tuple[str, RequestProxy, Any]) -> Endpoint:
    kind, proxy, server = proxied
    if kind == "s3":
        s3: MotoS3 = server
        return Endpoint(proxy, f"s3://{s3.bucket()}/t", s3.options(AWS_ENDPOINT_URL=proxy.endpoint))
    blob: Azurite = server
    options = {**blob.options(), "endpoint": f"{proxy.endpoint}/{AZURITE_ACCOUNT}"}
    return Endpoint(proxy, f"az://{blob.container()}/t", options)


def filled(place: Endpoint, *, checkpoint: bool) -> DeltaContractStore:
    """20 contracts, one of them in 6 versions; optimized (a checkpoint) or not."""
    writer = place.store(validation="off")
    writer.put_many([minimal(f"c{i}", "1.0.0") for i in range(20)])
    for version in ("1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0"):
        writer.put(minimal("c1", version))
    if checkpoint:
        writer.optimize()
    return writer


def summary(requests: list[ProxiedRequest]) -> str:
    return "; ".join(f"{r.method} {r.path}?{r.query[:40]} {r.status}" for r in requests)


@pytest.mark.parametrize("checkpoint", [True, False], ids=["checkpoint", "no-checkpoint"])
def test_requests_per_answer_stay_within_the_budget(
    proxied: tuple[str, RequestProxy, Any], checkpoint: bool
) -> None:
    place = endpoint(proxied)
    writer = filled(place, checkpoint=checkpoint)
    reader = place.store()

    # first ask from a new store object: _last_checkpoint, the checkpoint, one LIST, the file
    found, requests = place.counted(lambda: reader.latest("c1"))
    assert found["version"] == "1.5.0"
    if checkpoint:
        assert len(requests) <= 4, summary(requests)

    # strict warm ask on an unchanged table: one LIST
    found, requests = place.counted(lambda: reader.latest("c1"))
    assert found["version"] == "1.5.0"
    assert len(requests) == 1, summary(requests)

    # after another writer's commit: the LIST, the commit, the contract's new file
    writer.put(minimal("c1", "1.6.0"))
    found, requests = place.counted(lambda: reader.latest("c1"))
    assert found["version"] == "1.6.0"
    assert len(requests) <= 3, summary(requests)

    # a put of one contract, and of a hundred, by a store that has written before
    result, requests = place.counted(lambda: writer.put(minimal("new", "1.0.0")))
    assert result.outcome == "inserted"
    assert len(requests) <= 6, summary(requests)
    batch, requests = place.counted(
        lambda: writer.put_many([minimal(f"bulk{i}", "1.0.0") for i in range(100)])
    )
    assert batch.inserted == 100
    assert len(requests) <= 8, summary(requests)

    # list_contracts on a warm store, and a changes() poll with nothing new
    reader.list_contracts()
    ids, requests = place.counted(reader.list_contracts)
    assert "new" in ids and len(ids) == 121
    assert len(requests) <= 2, summary(requests)
    cursor = reader.changes().cursor
    feed, requests = place.counted(lambda: reader.changes(since=cursor))
    assert feed.events == ()
    assert len(requests) <= 2, summary(requests)


def test_a_refresh_under_max_staleness_is_one_request(
    proxied: tuple[str, RequestProxy, Any],
) -> None:
    place = endpoint(proxied)
    writer = filled(place, checkpoint=True)
    reader = place.store(max_staleness=2.0)
    reader.latest("c1")
    asked = time.monotonic()
    _, requests = place.counted(lambda: [reader.latest("c1") for _ in range(50)])
    if time.monotonic() - asked < 2.0:  # a slow machine may take longer than the bound
        assert requests == []  # within the staleness bound: no request at all
    writer.put(minimal("c1", "2.0.0"))
    time.sleep(2.1)
    found, requests = place.counted(lambda: reader.latest("c1"))
    assert found["version"] == "2.0.0"
    assert len(requests) == 3, summary(requests)  # the LIST, the new commit, the new file
    time.sleep(2.1)
    found, requests = place.counted(lambda: reader.latest("c1"))
    assert found["version"] == "2.0.0"
    assert len(requests) == 1, summary(requests)  # nothing new: one LIST


def test_a_cold_cli_latest_is_at_most_six_requests(
    proxied: tuple[str, RequestProxy, Any],
) -> None:
    place = endpoint(proxied)
    filled(place, checkpoint=True)
    options = [a for k, v in place.options.items() for a in ("--storage-option", f"{k}={v}")]
    place.proxy.reset()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dc43_delta_store",
            "--path",
            place.uri,
            *options,
            "latest",
            "c1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert '"version": "1.5.0"' in done.stdout
    requests = place.proxy.requests()
    assert len(requests) <= 6, summary(requests)


def test_background_refresh_keeps_requests_off_the_callers_path(
    proxied: tuple[str, RequestProxy, Any],
) -> None:
    """With ``refresh="background"``, a read never waits for the network: each request
    takes 0.3 s here (a look at the log up to 0.9 s), a read a few milliseconds, and a
    commit by another writer is answered within ``max_staleness``; the store's own write is
    seen by its next read."""
    place = endpoint(proxied)
    writer = filled(place, checkpoint=True)
    with place.store(max_staleness=3.0, refresh="background") as reader:
        assert reader.latest("c1")["version"] == "1.5.0"  # the first look is the caller's
        place.proxy.configure(delay=0.3)
        try:
            writer.put(minimal("c1", "1.6.0"))
            committed = time.monotonic()
            seen = None
            while seen != "1.6.0" and time.monotonic() - committed < 10:
                started = time.monotonic()
                seen = reader.latest("c1")["version"]
                assert time.monotonic() - started < 0.2  # no request on the caller's path
                time.sleep(0.05)
            assert seen == "1.6.0"
            assert time.monotonic() - committed < 3.0  # within max_staleness
            freshness = reader.freshness()
            assert freshness.refresh == "background" and freshness.table_version is not None
            assert freshness.table_version == 8  # the commit of 1.6.0
            reader.put(minimal("own", "1.0.0"))
            assert reader.latest("own")["version"] == "1.0.0"  # its own write, at once
        finally:
            place.proxy.configure(delay=0.0)
    assert not reader._table._refresher.running  # type: ignore[union-attr]


def test_freshness_says_which_version_answers_come_from(tmp_path: Any) -> None:
    store = DeltaContractStore(path=tmp_path / "t")
    assert store.freshness().table_version is None
    store.put(minimal("a", "1.0.0"))
    freshness = store.freshness()
    assert (freshness.table_version, freshness.refresh, freshness.max_staleness) == (
        1,
        "on_read",
        0.0,
    )
    assert freshness.confirmed_at is not None
    with pytest.raises(InvalidRequestError, match="needs max_staleness > 0"):
        DeltaContractStore(path=tmp_path / "t", refresh="background")
    with pytest.raises(InvalidRequestError, match="refresh must be"):
        DeltaContractStore(path=tmp_path / "t", refresh="sometimes")  # type: ignore[arg-type]
