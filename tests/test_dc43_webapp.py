"""dc43's own web app (``build_local_app``) over the adapter, served by uvicorn on 127.0.0.1 and
driven over real HTTP with dc43's own client and with httpx: never a 500."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from dc43_service_backends.web import build_local_app
from dc43_service_clients.contracts.client.remote import RemoteContractServiceClient
from deltalake import DeltaTable

from dc43_delta_store import Dc43ContractStore

from .test_dc43_compat import dc43_contract


@contextmanager
def serving(adapter: Dc43ContractStore) -> Iterator[str]:
    """dc43's app over ``adapter`` on a free port of 127.0.0.1; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            build_local_app(adapter), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[str]:
    with serving(Dc43ContractStore(path=tmp_path / "t")) as url:
        yield url


def test_put_get_latest_and_list_round_trip_through_dc43s_client(app: str) -> None:
    client = RemoteContractServiceClient(base_url=app)
    try:
        sent = {v: dc43_contract(v) for v in ("0.32.0.0", "0.9.0.0", "0.32.0.0rc2", "0.10.0.0")}
        for contract in sent.values():
            client.put(contract)
        for version, contract in sent.items():
            assert client.get("sales.orders", version) == contract
        assert client.list_versions("sales.orders") == [
            "0.9.0.0",
            "0.10.0.0",
            "0.32.0.0rc2",
            "0.32.0.0",
        ]
        latest = client.latest("sales.orders")
        assert latest is not None and latest.version == "0.32.0.0"
        assert client.list_contracts()["items"] == ["sales.orders"]
        assert client.latest("unknown") is None  # the app's 404, as dc43's client reads it
    finally:
        client.close()


def test_a_missing_version_is_404_not_500(app: str) -> None:
    client = RemoteContractServiceClient(base_url=app)
    try:
        client.put(dc43_contract("1.0.0"))
        with pytest.raises(httpx.HTTPStatusError) as caught:
            client.get("sales.orders", "9.9.9")
        assert caught.value.response.status_code == 404
    finally:
        client.close()
    for path in ("/contracts/sales.orders/versions/9.9.9", "/contracts/nope/versions/1.0.0"):
        answer = httpx.get(app + path)
        assert answer.status_code == 404
        assert "not found" in answer.json()["detail"]
    assert httpx.get(app + "/contracts/nope/latest").status_code == 404
    assert httpx.get(app + "/contracts/nope/versions").json() == []


def test_a_changed_reput_is_409_and_the_stored_version_stays(app: str) -> None:
    client = RemoteContractServiceClient(base_url=app)
    try:
        client.put(dc43_contract("1.0.0", usage="first"))
        client.put(dc43_contract("1.0.0", usage="first"))  # identical: accepted again (204)
        with pytest.raises(httpx.HTTPStatusError) as caught:
            client.put(dc43_contract("1.0.0", usage="second"))
        assert caught.value.response.status_code == 409
        detail = caught.value.response.json()["detail"]
        assert "'sales.orders' version '1.0.0' already exists with fingerprint" in detail
        assert client.get("sales.orders", "1.0.0").description.usage == "first"  # type: ignore[union-attr]
    finally:
        client.close()
    payload = dc43_contract("1.0.0", usage="third").model_dump(by_alias=True, exclude_none=True)
    answer = httpx.put(app + "/contracts/sales.orders/versions/1.0.0", json=payload)
    assert answer.status_code == 409


def test_a_contract_strict_validation_refuses_is_400(tmp_path: Path) -> None:
    contract = dc43_contract("1.0.0").model_dump(by_alias=True, exclude_none=True)
    contract["schema"][0]["properties"][0]["logicalType"] = "uuid"  # not an ODCS logical type
    with serving(Dc43ContractStore(path=tmp_path / "t", validation="strict")) as app:
        answer = httpx.put(app + "/contracts/sales.orders/versions/1.0.0", json=contract)
        assert answer.status_code == 400
        assert "logicalType" in answer.json()["detail"]
        assert httpx.get(app + "/contracts/sales.orders/versions/1.0.0").status_code == 404
        good = dc43_contract("1.0.0").model_dump(by_alias=True, exclude_none=True)
        assert httpx.put(app + "/contracts/sales.orders/versions/1.0.0", json=good).is_success


@pytest.mark.parametrize("bodies", ["different", "identical"])
def test_concurrent_puts_of_one_version_through_dc43s_app(tmp_path: Path, bodies: str) -> None:
    """uvicorn shares one store across its thread pool: of 8 PUTs at once of one version,
    different bodies get exactly one 204 (the rest 409) and identical ones all 204; the
    table then holds the winner's body, once."""
    with serving(Dc43ContractStore(path=tmp_path / "t")) as app:
        for round_ in range(4):
            version = f"1.0.{round_}"
            barrier = threading.Barrier(8)

            def put(
                thread: int, version: str = version, barrier: threading.Barrier = barrier
            ) -> int:
                usage = f"thread {thread}" if bodies == "different" else "the same"
                body = dc43_contract(version, usage=usage).model_dump(
                    by_alias=True, exclude_none=True
                )
                barrier.wait()
                url = f"{app}/contracts/sales.orders/versions/{version}"
                return httpx.put(url, json=body, timeout=60).status_code * 100 + thread

            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(put, range(8)))
            codes = sorted(answer // 100 for answer in answers)
            if bodies == "identical":
                assert codes == [204] * 8
                continue
            assert codes == [204] + [409] * 7, codes
            winner = next(answer % 100 for answer in answers if answer // 100 == 204)
            stored = httpx.get(f"{app}/contracts/sales.orders/versions/{version}").json()
            assert stored["description"]["usage"] == f"thread {winner}"
    assert DeltaTable(str(tmp_path / "t")).to_pyarrow_table().num_rows == 4
