"""Object stores that ignore ``If-None-Match`` are detected before the first write, not trusted.

A :class:`~tests.servers.RequestProxy` that strips conditional headers from PUTs plays the
S3-compatible gateway that ignores them; the same proxy, forwarding them, counts what the
check costs on moto and Azurite.
"""

from __future__ import annotations

import http.client
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from azure.storage.blob import ContainerSasPermissions, generate_container_sas
from click.testing import CliRunner
from deltalake import DeltaTable

from dc43_delta_store import DeltaContractStore, UnsafeEndpointError
from dc43_delta_store.cli import EXIT_CODES, cli
from dc43_delta_store.table.endpoint import (
    PROBE_NAME,
    TRUST_ENDPOINT_ENV,
    EndpointCheck,
    check_conditional_writes,
    needs_check,
)
from dc43_delta_store.table.location import TableLocation

from .conftest import minimal
from .endpoint_race import race
from .servers import AZURITE_ACCOUNT, AZURITE_KEY, Azurite, MotoS3, ProxiedRequest, RequestProxy

FIX = f"set {TRUST_ENDPOINT_ENV}=1"


@pytest.fixture(autouse=True)
def _no_trust_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRUST_ENDPOINT_ENV, raising=False)


@pytest.fixture(scope="module")
def s3_proxy(moto_s3: MotoS3) -> Iterator[RequestProxy]:
    proxy = RequestProxy(moto_s3.endpoint)
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def azure_proxy(azurite: Azurite) -> Iterator[RequestProxy]:
    proxy = RequestProxy(azurite.endpoint.rsplit("/", 1)[0])
    yield proxy
    proxy.stop()


@pytest.fixture
def stripping(s3_proxy: RequestProxy, azure_proxy: RequestProxy) -> Iterator[None]:
    """Both proxies strip ``If-None-Match`` and ``If-Match`` from PUTs during the test."""
    for proxy in (s3_proxy, azure_proxy):
        proxy.configure(strip_conditional=True)
        proxy.reset()
    yield
    for proxy in (s3_proxy, azure_proxy):
        proxy.configure(strip_conditional=False)


def s3_table(moto_s3: MotoS3, proxy: RequestProxy, **options: str) -> tuple[str, dict[str, str]]:
    uri = f"s3://{moto_s3.bucket()}/governance/contracts"
    return uri, moto_s3.options(AWS_ENDPOINT_URL=proxy.endpoint, **options)


def azure_table(azurite: Azurite, proxy: RequestProxy) -> tuple[str, dict[str, str]]:
    uri = f"az://{azurite.container()}/governance/contracts"
    return uri, {**azurite.options(), "endpoint": f"{proxy.endpoint}/{AZURITE_ACCOUNT}"}


def s3_keys(moto_s3: MotoS3, uri: str) -> list[str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    client = boto3.client(
        "s3",
        endpoint_url=moto_s3.endpoint,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        region_name="us-east-1",
    )
    found = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in found.get("Contents", [])]


def probes(proxy: RequestProxy) -> list[ProxiedRequest]:
    return [request for request in proxy.requests() if request.path.endswith(PROBE_NAME)]


# -- an endpoint that ignores the condition ------------------------------------------------


@pytest.mark.usefixtures("stripping")
def test_an_s3_endpoint_that_ignores_if_none_match_is_refused_and_nothing_is_left(
    moto_s3: MotoS3, s3_proxy: RequestProxy
) -> None:
    uri, options = s3_table(moto_s3, s3_proxy)
    store = DeltaContractStore(path=uri, storage_options=options, validation="off")
    with pytest.raises(UnsafeEndpointError) as refused:
        store.put(minimal())
    message = str(refused.value)
    assert message.startswith(f"refusing to write table {uri}: its endpoint {s3_proxy.endpoint} ")
    assert "If-None-Match: *" in message and FIX in message and "\n" not in message
    assert "Nothing was written and the probe object was deleted." in message
    for secret in (options["AWS_ACCESS_KEY_ID"], options["AWS_SECRET_ACCESS_KEY"]):
        assert secret not in message
    assert s3_keys(moto_s3, uri) == []  # no table, no probe object
    sent = s3_proxy.requests()
    assert [(r.method, r.status, r.stripped) for r in probes(s3_proxy)] == [
        ("PUT", 200, True),
        ("PUT", 200, True),  # the second put-if-absent was accepted too
    ]
    assert not [r for r in sent if r.method == "PUT" and not r.path.endswith(PROBE_NAME)]
    with pytest.raises(UnsafeEndpointError):  # refused every time, not only once
        store.put_many([minimal("sales.customers")])
    assert s3_keys(moto_s3, uri) == []


@pytest.mark.usefixtures("stripping")
def test_an_azure_endpoint_that_ignores_if_none_match_is_refused(
    azurite: Azurite, azure_proxy: RequestProxy
) -> None:
    """With a SAS token: a shared-key signature covers If-None-Match, so Azurite would refuse
    the stripped request for its signature rather than store it."""
    uri, options = azure_table(azurite, azure_proxy)
    container = uri.removeprefix("az://").split("/")[0]
    sas = generate_container_sas(
        AZURITE_ACCOUNT,
        container,
        account_key=AZURITE_KEY,
        permission=ContainerSasPermissions(read=True, write=True, delete=True, list=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    options = {**options, "sas_token": sas}
    del options["account_key"]
    store = DeltaContractStore(path=uri, storage_options=options, validation="off")
    with pytest.raises(
        UnsafeEndpointError, match=f"its endpoint {azure_proxy.endpoint}/"
    ) as refused:
        store.put(minimal())
    assert sas not in str(refused.value) and "sig=" not in str(refused.value)
    assert [(r.method, r.status, r.stripped) for r in probes(azure_proxy)] == [
        ("PUT", 201, True),
        ("PUT", 201, True),
    ]
    assert DeltaContractStore(path=uri, storage_options=options).latest("sales.orders") is None


@pytest.mark.usefixtures("stripping")
def test_the_cli_put_is_refused_with_exit_8_and_one_line(
    moto_s3: MotoS3, s3_proxy: RequestProxy, tmp_path: Path
) -> None:
    uri, options = s3_table(moto_s3, s3_proxy)
    document = tmp_path / "orders.json"
    document.write_text(
        '{"apiVersion": "v3.1.0", "kind": "DataContract", "id": "a", "version": "1"}'
    )
    given = [
        arg for key, value in options.items() for arg in ("--storage-option", f"{key}={value}")
    ]
    result = CliRunner().invoke(
        cli, ["--path", uri, *given, "put", "--validation", "off", str(document)]
    )
    assert result.exit_code == EXIT_CODES["table"] == 8, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: refusing to write table {uri}: ")
    assert options["AWS_SECRET_ACCESS_KEY"] not in result.stderr
    assert s3_keys(moto_s3, uri) == []


@pytest.mark.usefixtures("stripping")
def test_the_dynamodb_locking_provider_is_no_way_around_the_check(
    moto_s3: MotoS3, s3_proxy: RequestProxy
) -> None:
    """deltalake 1.6 removed its DynamoDB lock: the setting changes nothing, so the check
    still runs, and its refusal says the setting does not help."""
    uri, options = s3_table(
        moto_s3,
        s3_proxy,
        AWS_S3_LOCKING_PROVIDER="dynamodb",
        DELTA_DYNAMO_TABLE_NAME="delta_log",
        AWS_ENDPOINT_URL_DYNAMODB=moto_s3.endpoint,
    )
    store = DeltaContractStore(path=uri, storage_options=options, validation="off")
    with pytest.raises(UnsafeEndpointError, match="AWS_S3_LOCKING_PROVIDER=dynamodb does not help"):
        store.put(minimal())
    assert s3_keys(moto_s3, uri) == []


@pytest.mark.usefixtures("stripping")
def test_a_user_who_trusts_the_endpoint_can_skip_the_check(
    moto_s3: MotoS3, s3_proxy: RequestProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TRUST_ENDPOINT_ENV, "1")
    uri, options = s3_table(moto_s3, s3_proxy)
    store = DeltaContractStore(path=uri, storage_options=options, validation="off")
    assert store.put(minimal()).outcome == "inserted"
    assert probes(s3_proxy) == []


@pytest.mark.slow
@pytest.mark.usefixtures("stripping")
def test_without_the_check_that_endpoint_loses_acknowledged_puts(
    moto_s3: MotoS3, s3_proxy: RequestProxy
) -> None:
    """What the check prevents, so that a test fails if it stops refusing: 3 writer
    processes x 4 rounds behind the stripping proxy, trusting it, lose acknowledged puts."""
    lost = []
    for _attempt in range(3):  # bounded: each race takes ~10 s
        uri, options = s3_table(moto_s3, s3_proxy)
        report = race(uri, options, moto_s3.options(), processes=3, rounds=4)
        print(f"\nIf-None-Match stripped, check skipped: {report.summary()}")
        assert report.errors == []
        lost = report.lost
        if lost:
            break
    assert lost, "the stripping proxy lost nothing: the tests above prove nothing"


# -- endpoints that enforce it ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["s3", "azure"])
def test_the_check_passes_on_moto_and_azurite_and_costs_two_then_one_request(
    kind: str,
    request: pytest.FixtureRequest,
) -> None:
    proxy: RequestProxy = request.getfixturevalue(f"{kind}_proxy")
    if kind == "s3":
        uri, options = s3_table(request.getfixturevalue("moto_s3"), proxy)
        created, refused = 200, 412
    else:
        uri, options = azure_table(request.getfixturevalue("azurite"), proxy)
        created, refused = 201, 409
    location = TableLocation(uri, options)
    proxy.reset()
    started = time.perf_counter()
    check_conditional_writes(location)  # a new location: created, then refused
    first = time.perf_counter() - started
    assert [(r.method, r.status) for r in proxy.requests()] == [("PUT", created), ("PUT", refused)]
    proxy.reset()
    started = time.perf_counter()
    check_conditional_writes(location)  # the probe object is there: refused at once
    again = time.perf_counter() - started
    assert [(r.method, r.status) for r in proxy.requests()] == [("PUT", refused)]
    print(f"\n{kind}: check of a new location {first * 1000:.1f} ms, then {again * 1000:.1f} ms")
    store = DeltaContractStore(path=uri, storage_options=options, validation="off")
    proxy.reset()
    store.put(minimal())
    assert [(r.method, r.status) for r in probes(proxy)] == [("PUT", refused)]
    assert store.latest("sales.orders")["version"] == "1.0.0"


def test_the_check_runs_once_per_store_object(moto_s3: MotoS3, s3_proxy: RequestProxy) -> None:
    uri, options = s3_table(moto_s3, s3_proxy)
    s3_proxy.reset()
    store = DeltaContractStore(path=uri, storage_options=options, validation="off")
    store.put(minimal())
    store.put_many([minimal(version="1.1.0"), minimal(version="1.2.0")])
    store.update_metadata("sales.orders", "1.0.0", {"status": "deprecated"})
    assert len(probes(s3_proxy)) == 2  # a new location: created, then refused
    s3_proxy.reset()
    DeltaContractStore(path=uri, storage_options=options).put(minimal(version="2.0.0"))
    assert len(probes(s3_proxy)) == 1  # another store object checks again

    location = TableLocation(f"s3://{moto_s3.bucket()}/threads", options)
    check = EndpointCheck(location)
    s3_proxy.reset()
    threads = [threading.Thread(target=check.ensure) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(probes(s3_proxy)) == 2  # 8 threads' first writes, one check


def test_readers_and_vacuum_ignore_the_probe_object(moto_s3: MotoS3) -> None:
    uri = f"s3://{moto_s3.bucket()}/contracts"
    store = DeltaContractStore(path=uri, storage_options=moto_s3.options(), validation="off")
    store.put(minimal())
    assert f"contracts/{PROBE_NAME}" in s3_keys(moto_s3, uri)
    table = DeltaTable(uri, storage_options=moto_s3.options())
    removable = table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=True)
    assert not [path for path in removable if PROBE_NAME in path]
    assert store.list_versions("sales.orders") == ["1.0.0"]
    assert store.latest("sales.orders")["version"] == "1.0.0"


def test_where_the_check_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    custom = {"AWS_ENDPOINT_URL": "http://minio.internal:9000"}
    assert not needs_check(TableLocation(str(tmp_path)))  # local folders: O_EXCL creates
    assert not needs_check(TableLocation("s3://bucket/t"))  # AWS S3 itself enforces it
    assert not needs_check(
        TableLocation("s3://b/t", {"AWS_ENDPOINT_URL": "https://s3.eu-west-1.amazonaws.com"})
    )
    assert needs_check(TableLocation("s3://b/t", custom))
    assert needs_check(TableLocation("s3a://b/t", {"aws_endpoint": "http://ceph:7480"}))
    assert needs_check(TableLocation("az://container/t", {"account_name": "a"}))
    assert needs_check(TableLocation("abfss://c@a.dfs.core.windows.net/t"))
    assert needs_check(TableLocation("gs://bucket/t"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://minio.internal:9000")
    assert needs_check(TableLocation("s3://bucket/t"))  # the endpoint from the environment
    monkeypatch.setenv(TRUST_ENDPOINT_ENV, "true")
    assert not needs_check(TableLocation("s3://b/t", custom))


@pytest.mark.skipif(
    not os.environ.get("DC43_TEST_GCS_URI"),
    reason="GCS needs real credentials: set DC43_TEST_GCS_URI (gs://bucket/prefix) and "
    "GOOGLE_APPLICATION_CREDENTIALS to run it",
)
def test_gcs_refuses_a_second_put_if_absent() -> None:
    """On GCS the condition is ``x-goog-if-generation-match: 0``."""
    uri = os.environ["DC43_TEST_GCS_URI"].rstrip("/") + f"/dc43-probe-{uuid.uuid4().hex[:8]}"
    check_conditional_writes(TableLocation(uri))
    check_conditional_writes(TableLocation(uri))


# -- the proxy itself ----------------------------------------------------------------------


def test_the_proxy_forwards_what_object_store_clients_send(
    moto_s3: MotoS3, s3_proxy: RequestProxy
) -> None:
    """Chunked and sized bodies, ranged GETs, HEAD, LIST, on one kept-alive connection; one
    record per request; a delay per request; If-None-Match stripped only when asked."""
    bucket = moto_s3.bucket()
    key = f"/{bucket}/data/object.bin"
    connection = http.client.HTTPConnection("127.0.0.1", s3_proxy.port, timeout=30)
    s3_proxy.reset()

    # moto does not check signatures, but answers 403 to anonymous reads of private objects
    signed = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"
    }

    def send(
        method: str, path: str, body: Any = None, **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        connection.request(method, path, body, {**signed, **headers})
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()

    connection.request("PUT", key, iter([b"0123", b"456789"]), signed, encode_chunked=True)
    chunked = connection.getresponse()
    assert (chunked.status, chunked.read()) == (200, b"")  # a chunked body
    socket = connection.sock
    assert send("GET", key, Range="bytes=2-5")[::2] == (206, b"2345")
    status, headers, body = send("HEAD", key)
    assert (status, headers["Content-Length"], body) == (200, "10", b"")
    assert send("GET", f"/{bucket}?list-type=2&prefix=data")[0] == 200
    assert send("PUT", key, b"x", **{"If-None-Match": "*"})[0] == 412
    assert connection.sock is socket  # kept alive all along
    s3_proxy.configure(strip_conditional=True, delay=0.05)
    try:
        started = time.perf_counter()
        assert send("PUT", key, b"y", **{"If-None-Match": "*"})[0] == 200
        assert time.perf_counter() - started >= 0.05
    finally:
        s3_proxy.configure(strip_conditional=False, delay=0.0)
    assert send("GET", key)[2] == b"y"
    assert [(r.method, r.path, r.query, r.status, r.stripped) for r in s3_proxy.requests()] == [
        ("PUT", key, "", 200, False),
        ("GET", key, "", 206, False),
        ("HEAD", key, "", 200, False),
        ("GET", f"/{bucket}", "list-type=2&prefix=data", 200, False),
        ("PUT", key, "", 412, False),
        ("PUT", key, "", 200, True),
        ("GET", key, "", 200, False),
    ]
    connection.close()
