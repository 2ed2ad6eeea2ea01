"""``dc43-delta-store serve --dc43-config``: dc43's own HTTP clients, unchanged, against the
real command line serving a dc43 TOML that names a Delta table — and every answer the same
as dc43's own app gives over the same table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dc43_core.odcs import fingerprint
from dc43_service_backends.web import build_local_app
from dc43_service_clients.contracts.client.remote import RemoteContractServiceClient
from dc43_service_clients.governance.client.remote import RemoteGovernanceServiceClient
from open_data_contract_standard.model import OpenDataContractStandard
from starlette.testclient import TestClient

from dc43_delta_store import Dc43ContractStore, DeltaContractStore
from dc43_delta_store.core.documents import load_document
from dc43_delta_store.core.validation import validate_document
from dc43_delta_store.serve import ServeSettings, app_from_settings

from .conftest import require_corpus
from .serving import CliServer, serving
from .test_dc43_compat import dc43_contract

TOKEN = "dc43-backend-token"


def write_toml(folder: Path, body: str) -> Path:
    path = folder / "dc43.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliServer]:
    folder = tmp_path_factory.mktemp("dc43")
    config = write_toml(
        folder,
        f"""
[contract_store]
type = "delta"
base_path = "{folder / "delta-table"}"
validation = "strict"

[auth]
token = "{TOKEN}"
""",
    )
    server = CliServer(["serve", "--dc43-config", str(config)], cwd=folder)
    yield server
    server.stop()
    assert not (folder / "contracts").exists()  # dc43's webapp module (which makes it) not imported


@pytest.fixture
def client(service: CliServer) -> Iterator[RemoteContractServiceClient]:
    client = RemoteContractServiceClient(base_url=service.url, token=TOKEN)
    yield client
    client.close()


def named(contract: OpenDataContractStandard, contract_id: str) -> OpenDataContractStandard:
    return contract.model_copy(update={"id": contract_id})


def test_put_get_latest_list_and_versions_through_dc43s_client(
    client: RemoteContractServiceClient,
) -> None:
    sent = {
        v: named(dc43_contract(v), "orders.client")
        for v in ("0.32.0.0", "0.9.0.0", "0.32.0.0rc2", "0.10.0.0")
    }
    for contract in sent.values():
        client.put(contract)
    for version, contract in sent.items():
        assert client.get("orders.client", version) == contract
    assert client.list_versions("orders.client") == [
        "0.9.0.0",
        "0.10.0.0",
        "0.32.0.0rc2",
        "0.32.0.0",
    ]
    latest = client.latest("orders.client")
    assert latest is not None and latest.version == "0.32.0.0"
    assert "orders.client" in client.list_contracts()["items"]
    page = client.list_contracts(limit=1, offset=0)
    assert len(page["items"]) == 1 and page["total"] >= 1
    assert client.latest("no.such.contract") is None  # the 404 dc43's client reads as None
    assert client.list_versions("no.such.contract") == []


def test_not_found_is_404_with_dc43s_detail(
    client: RemoteContractServiceClient, service: CliServer
) -> None:
    client.put(named(dc43_contract("1.0.0"), "orders.missing"))
    with pytest.raises(httpx.HTTPStatusError) as caught:
        client.get("orders.missing", "9.9.9")
    assert caught.value.response.status_code == 404
    assert caught.value.response.json() == {
        "detail": "contract 'orders.missing' version '9.9.9' not found"
    }
    latest = httpx.get(service.url + "/contracts/nope/latest", headers=_auth())
    assert (latest.status_code, latest.json()) == (404, {"detail": "contract not found"})


def test_a_changed_reput_is_409_and_an_identical_one_204(
    client: RemoteContractServiceClient, service: CliServer
) -> None:
    client.put(named(dc43_contract("1.0.0", usage="first"), "orders.reput"))
    client.put(named(dc43_contract("1.0.0", usage="first"), "orders.reput"))
    with pytest.raises(httpx.HTTPStatusError) as caught:
        client.put(named(dc43_contract("1.0.0", usage="second"), "orders.reput"))
    assert caught.value.response.status_code == 409
    assert (
        "version '1.0.0' already exists with fingerprint" in caught.value.response.json()["detail"]
    )
    assert client.get("orders.reput", "1.0.0").description.usage == "first"  # type: ignore[union-attr]


def test_invalid_contracts_are_400_and_not_stored(
    client: RemoteContractServiceClient, service: CliServer
) -> None:
    bad = named(dc43_contract("1.0.0"), "orders.invalid")
    bad.schema_[0].properties[0].logicalType = "uuid"  # type: ignore[index]  # not an ODCS type
    with pytest.raises(httpx.HTTPStatusError) as caught:
        client.put(bad)  # validation = "strict" in the TOML
    assert caught.value.response.status_code == 400
    assert "logicalType" in caught.value.response.json()["detail"]
    payload = dc43_contract("1.0.0").model_dump(by_alias=True, exclude_none=True)
    mismatch = httpx.put(
        service.url + "/contracts/orders.other/versions/1.0.0", json=payload, headers=_auth()
    )
    assert (mismatch.status_code, mismatch.json()) == (
        400,
        {"detail": "contract.id does not match request path"},
    )
    assert client.list_versions("orders.invalid") == []
    assert client.list_versions("orders.other") == []


def test_dc43s_governance_client_reads_contracts(
    client: RemoteContractServiceClient, service: CliServer
) -> None:
    client.put(named(dc43_contract("2.0.0"), "orders.governed"))
    governance = RemoteGovernanceServiceClient(base_url=service.url, token=TOKEN)
    try:
        assert (
            governance.get_contract(contract_id="orders.governed", contract_version="2.0.0").version
            == "2.0.0"
        )
        latest = governance.latest_contract(contract_id="orders.governed")
        assert latest is not None and latest.version == "2.0.0"
        assert governance.list_contract_versions(contract_id="orders.governed") == ["2.0.0"]
        assert governance.latest_contract(contract_id="orders.nothing") is None
    finally:
        governance.close()


def test_every_request_needs_dc43s_token(service: CliServer) -> None:
    path = "/contracts/orders.client/latest"
    assert httpx.get(service.url + path).status_code == 401
    assert (
        httpx.get(service.url + path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    )
    payload = dc43_contract("5.0.0").model_dump(by_alias=True, exclude_none=True)
    refused = httpx.put(service.url + "/contracts/sales.orders/versions/5.0.0", json=payload)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in service.stderr()  # never logged


def test_answers_are_dc43s_own_bytes_with_an_etag(service: CliServer, tmp_path: Path) -> None:
    """GET of a version and of the latest give the bytes dc43's own app gives for the same
    table; a version carries its fingerprint as ETag and is immutable; 304 on a match."""
    client = RemoteContractServiceClient(base_url=service.url, token=TOKEN)
    sent: list[OpenDataContractStandard] = []
    for entry in [e for e in require_corpus() if e.pydantic_lossless and e.contract_id]:
        model = OpenDataContractStandard.model_validate(load_document(entry.path))
        model = model.model_copy(update={"id": f"corpus.{len(sent)}"})
        if validate_document(model.model_dump(by_alias=True, exclude_none=True)).issues:
            continue  # the server validates strictly
        client.put(model)
        sent.append(model)
        if len(sent) == 12:
            break
    client.close()
    table = Path(service.log.parent) / "delta-table"
    theirs = TestClient(build_local_app(Dc43ContractStore(store=DeltaContractStore(path=table))))
    for model in sent:
        for path in (
            f"/contracts/{model.id}/versions/{model.version}",
            f"/contracts/{model.id}/latest",
        ):
            ours = httpx.get(service.url + path, headers=_auth())
            expected = theirs.get(path)
            assert (ours.status_code, ours.content) == (expected.status_code, expected.content), (
                path
            )
            assert ours.headers["etag"] == f'"{fingerprint(model)}"'
        version = httpx.get(
            service.url + f"/contracts/{model.id}/versions/{model.version}", headers=_auth()
        )
        assert "immutable" in version.headers["cache-control"]
        again = httpx.get(
            service.url + f"/contracts/{model.id}/latest",
            headers={**_auth(), "If-None-Match": version.headers["etag"]},
        )
        assert again.status_code == 304 and again.content == b""


def test_an_unreachable_table_is_503_for_dc43s_client(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path,
        """
[contract_store]
type = "delta"
base_path = "s3://bucket/contracts"

[contract_store.storage_options]
AWS_ENDPOINT_URL = "http://127.0.0.1:9"
AWS_REGION = "us-east-1"
AWS_ALLOW_HTTP = "true"
AWS_ACCESS_KEY_ID = "k"
AWS_SECRET_ACCESS_KEY = "s"
max_retries = "0"
""",
    )
    app, _ = app_from_settings(ServeSettings(dc43_config=str(config)))
    with serving(app) as url:
        client = RemoteContractServiceClient(base_url=url)
        try:
            for call in (
                lambda: client.get("sales.orders", "1.0.0"),
                lambda: client.latest("sales.orders"),
            ):
                with pytest.raises(httpx.HTTPStatusError) as caught:
                    call()
                assert caught.value.response.status_code == 503
                assert (
                    "cannot read table s3://bucket/contracts"
                    in caught.value.response.json()["detail"]
                )
                assert "AWS_SECRET_ACCESS_KEY" not in caught.value.response.text
        finally:
            client.close()


def test_writes_go_to_the_delta_table_and_show_in_our_routes(
    client: RemoteContractServiceClient, service: CliServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.put(named(dc43_contract("3.1.0"), "orders.routes"))
    client.put(named(dc43_contract("3.2.0"), "orders.routes"))
    resolved = httpx.get(
        service.url + "/contracts/orders.routes/resolve?range=~3.1", headers=_auth()
    )
    assert resolved.status_code == 200 and resolved.json()["version"] == "3.1.0"
    feed = httpx.get(service.url + "/changes", headers=_auth()).json()
    published = [
        (e["contract_id"], e["version"]) for e in feed["events"] if e["kind"] == "published"
    ]
    assert ("orders.routes", "3.2.0") in published
    monkeypatch.setenv("DC43_BACKEND_TOKEN", "other")  # the environment beats the file, as in dc43
    settings = ServeSettings(dc43_config=str(service.log.parent / "dc43.toml"), read_only=True)
    with serving(app_from_settings(settings)[0]) as read_only:
        headers = {"Authorization": "Bearer other"}
        latest = httpx.get(read_only + "/contracts/orders.routes/latest", headers=headers)
        assert latest.json()["version"] == "3.2.0"
        assert (
            httpx.get(read_only + "/contracts/orders.routes/latest", headers=_auth()).status_code
            == 401
        )
        document = named(dc43_contract("4.0.0"), "orders.routes").model_dump(
            by_alias=True, exclude_none=True
        )
        refused = httpx.put(
            read_only + "/contracts/orders.routes/versions/4.0.0", json=document, headers=headers
        )
        assert refused.status_code == 403 and "read-only" in refused.json()["detail"]


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def test_a_config_without_auth_takes_writes_as_dcs_own_service_does(tmp_path: Path) -> None:
    """dc43's service without an ``[auth] token`` takes writes from anyone; served from the
    same TOML, so does this one (``--read-only`` still refuses them)."""
    config = write_toml(
        tmp_path,
        f"""
[contract_store]
type = "delta"
base_path = "{tmp_path / "delta-table"}"
""",
    )
    contract = named(dc43_contract("1.0.0"), "orders.open")
    with serving(app_from_settings(ServeSettings(dc43_config=str(config)))[0]) as url:
        client = RemoteContractServiceClient(base_url=url)
        try:
            client.put(contract)
            assert client.get("orders.open", "1.0.0") == contract
        finally:
            client.close()
    settings = ServeSettings(dc43_config=str(config), read_only=True)
    with serving(app_from_settings(settings)[0]) as url:
        document = named(dc43_contract("2.0.0"), "orders.open").model_dump(
            by_alias=True, exclude_none=True
        )
        refused = httpx.put(url + "/contracts/orders.open/versions/2.0.0", json=document)
        assert refused.status_code == 403
    assert DeltaContractStore(path=tmp_path / "delta-table").list_versions("orders.open") == [
        "1.0.0"
    ]
