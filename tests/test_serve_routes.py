"""``serve`` on a table (no dc43 configuration): dc43's contract routes, and resolve, diff,
check and the change feed, over real HTTP; entity tags, tokens, read-only, JSON errors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from dc43_service_clients.contracts.client.remote import RemoteContractServiceClient
from deltalake import write_deltalake

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.core.canonical import fingerprint
from dc43_delta_store.serve import Limits, Tokens, create_app

from .conftest import EXAMPLES, minimal
from .serving import serving
from .test_dc43_compat import dc43_contract

WRITE = {"Authorization": "Bearer writer-token"}
READ = {"Authorization": "Bearer reader-token"}


@pytest.fixture
def table(tmp_path: Path) -> Path:
    return tmp_path / "contracts"


@pytest.fixture
def url(table: Path) -> Iterator[str]:
    store = DeltaContractStore(path=table)
    app = create_app(store, tokens=Tokens([("writer-token", "write")]), poll_interval=0.05)
    with serving(app) as base:
        yield base


def put(url: str, document: dict, headers: dict[str, str] = WRITE) -> httpx.Response:
    path = f"/contracts/{document['id']}/versions/{document['version']}"
    return httpx.put(url + path, json=document, headers=headers)


def publish(url: str, *documents: dict) -> None:
    for document in documents:
        assert put(url, document).status_code == 204


def test_dc43s_client_round_trips_documents_exactly_as_stored(url: str) -> None:
    client = RemoteContractServiceClient(base_url=url, token="writer-token")
    try:
        client.put(dc43_contract("1.0.0"))
        assert client.get("sales.orders", "1.0.0") == dc43_contract("1.0.0")
        assert client.latest("sales.orders").version == "1.0.0"  # type: ignore[union-attr]
        assert client.list_contracts()["items"] == ["sales.orders"]
        assert client.list_versions("sales.orders") == ["1.0.0"]
    finally:
        client.close()
    extra = minimal("lossless", "1.0.0", customKey={"kept": [1, None, "x"]})
    publish(url, extra)
    assert httpx.get(url + "/contracts/lossless/versions/1.0.0").json() == extra  # nothing dropped


def test_put_answers_as_dc43s_app_does(url: str) -> None:
    publish(url, minimal(version="1.0.0", description={"usage": "first"}))
    assert put(url, minimal(version="1.0.0", description={"usage": "first"})).status_code == 204
    changed = put(url, minimal(version="1.0.0", description={"usage": "second"}))
    assert (
        changed.status_code == 409 and "already exists with fingerprint" in changed.json()["detail"]
    )
    wrong = httpx.put(url + "/contracts/other/versions/1.0.0", json=minimal(), headers=WRITE)
    assert wrong.json() == {"detail": "contract.id does not match request path"}
    wrong = httpx.put(url + "/contracts/sales.orders/versions/2.0.0", json=minimal(), headers=WRITE)
    assert (wrong.status_code, wrong.json()) == (
        400,
        {"detail": "contract.version does not match request path"},
    )
    filled = {k: v for k, v in minimal(version="3.0.0").items() if k not in ("id", "version")}
    assert (
        httpx.put(
            url + "/contracts/sales.orders/versions/3.0.0", json=filled, headers=WRITE
        ).status_code
        == 204
    )
    assert httpx.get(url + "/contracts/sales.orders/versions").json() == ["1.0.0", "3.0.0"]
    for body in (b"{not json", b"[1, 2]", b"", b"\xff\xfe"):
        refused = httpx.put(
            url + "/contracts/sales.orders/versions/4.0.0", content=body, headers=WRITE
        )
        assert refused.status_code == 400 and refused.json()["detail"], body
    assert httpx.get(url + "/contracts/sales.orders/versions").json() == ["1.0.0", "3.0.0"]


def test_resolve_picks_the_highest_in_range_and_explains_why(url: str) -> None:
    publish(
        url,
        minimal(version="1.0.0"),
        minimal(version="1.1.0", status="draft"),
        minimal(version="1.2.0-rc.1"),
        minimal(version="2.0.0"),
    )
    found = httpx.get(
        url + "/contracts/sales.orders/resolve", params={"range": "^1", "status": "active"}
    )
    assert found.status_code == 200 and found.json()["version"] == "1.0.0"
    assert found.headers["x-contract-version"] == "1.0.0"
    explained = httpx.get(
        url + "/contracts/sales.orders/resolve?range=%5E1&status=active&explain=true"
    ).json()
    assert explained["chosen"] == "1.0.0" and explained["document"]["version"] == "1.0.0"
    verdicts = {c["version"]: (c["verdict"], c["reasons"]) for c in explained["candidates"]}
    assert verdicts["1.1.0"] == ("skipped", ["status: 'draft', wanted 'active'"])
    assert verdicts["2.0.0"][0] == "skipped" and "range" in verdicts["2.0.0"][1][0]
    assert httpx.get(url + "/contracts/sales.orders/resolve?range=^2").json()["version"] == "2.0.0"
    assert (
        httpx.get(url + "/contracts/sales.orders/resolve?include_prereleases=true&range=^1").json()[
            "version"
        ]
        == "1.2.0-rc.1"
    )
    none = httpx.get(url + "/contracts/sales.orders/resolve?range=^3&explain=true")
    assert (
        none.status_code == 404
        and none.json()["chosen"] is None
        and "no version" in none.json()["detail"]
    )
    assert httpx.get(url + "/contracts/sales.orders/resolve?range=^3").status_code == 404
    bad = httpx.get(url + "/contracts/sales.orders/resolve?range=^1..2")
    assert bad.status_code == 400 and "not valid at character 3" in bad.json()["detail"]
    unknown = httpx.get(url + "/contracts/sales.orders/resolve?rang=^1")
    assert (
        unknown.status_code == 400 and "unknown query parameter 'rang'" in unknown.json()["detail"]
    )
    assert (
        httpx.get(url + "/contracts/sales.orders/latest?status=draft").json()["version"] == "1.1.0"
    )


def test_versions_are_immutable_and_latest_answers_304_until_it_changes(url: str) -> None:
    document = minimal(version="1.0.0")
    publish(url, document)
    version = httpx.get(url + "/contracts/sales.orders/versions/1.0.0")
    assert version.headers["etag"] == f'"{fingerprint(document)}"'
    assert version.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = version.headers["etag"]
    again = httpx.get(
        url + "/contracts/sales.orders/versions/1.0.0", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    latest = httpx.get(
        url + "/contracts/sales.orders/latest", headers={"If-None-Match": f'W/{etag}, "x"'}
    )
    assert latest.status_code == 304 and latest.headers["etag"] == etag
    resolved = httpx.get(
        url + "/contracts/sales.orders/resolve?range=1.x", headers={"If-None-Match": etag}
    )
    assert resolved.status_code == 304
    publish(url, minimal(version="1.1.0"))
    newer = httpx.get(url + "/contracts/sales.orders/latest", headers={"If-None-Match": etag})
    assert (
        newer.status_code == 200 and newer.json()["version"] == "1.1.0"
    )  # this server's own write: at once
    assert newer.headers["etag"] != etag and newer.headers["cache-control"] == "no-cache"
    head = httpx.head(url + "/contracts/sales.orders/latest")
    assert (
        head.status_code == 200
        and head.content == b""
        and int(head.headers["content-length"]) == len(newer.content)
    )


def test_another_writers_commits_show_within_the_poll_interval(url: str, table: Path) -> None:
    publish(url, minimal(version="1.0.0"), minimal("other", "1.0.0"))
    assert httpx.get(url + "/contracts/sales.orders/latest").json()["version"] == "1.0.0"
    assert httpx.get(url + "/contracts/other/latest?status=retired").status_code == 404
    writer = DeltaContractStore(path=table)

    def shows(path: str, expected: int | str) -> None:
        committed = time.monotonic()
        while True:
            answer = httpx.get(url + path)
            seen = answer.json().get("version") if answer.status_code == 200 else answer.status_code
            if seen == expected:
                return
            assert time.monotonic() - committed < 5, (path, seen)
            time.sleep(0.01)

    writer.put(minimal(version="1.1.0"))
    shows("/contracts/sales.orders/latest", "1.1.0")
    writer.update_metadata("other", "1.0.0", {"status": "retired"})  # a metadata event
    shows("/contracts/other/latest?status=retired", "1.0.0")
    writer.put(minimal("third", "1.0.0"))  # touches neither: their answers stay right
    shows("/contracts/third/latest", "1.0.0")
    assert httpx.get(url + "/contracts/sales.orders/latest").json()["version"] == "1.1.0"


def test_changes_polls_long_polls_and_streams(url: str, table: Path) -> None:
    publish(url, minimal(version="1.0.0"))
    feed = httpx.get(url + "/changes").json()
    assert [(e["kind"], e["version"]) for e in feed["events"]] == [("published", "1.0.0")]
    cursor = feed["cursor"]
    empty = httpx.get(url + f"/changes?since={cursor}").json()
    assert empty == {"events": [], "cursor": cursor}

    def later() -> None:
        time.sleep(0.5)
        DeltaContractStore(path=table).put(minimal(version="1.1.0"), who="ci")

    writer = threading.Thread(target=later)
    started = time.monotonic()
    writer.start()
    waited = httpx.get(url + f"/changes?since={cursor}&wait=20", timeout=30).json()
    writer.join()
    assert time.monotonic() - started < 10  # answered when the commit came, not after 20 s
    assert [(e["kind"], e["version"], e["who"]) for e in waited["events"]] == [
        ("published", "1.1.0", "ci")
    ]
    assert httpx.get(url + "/changes?wait=1000").status_code == 400
    assert httpx.get(url + "/changes?since=-5").status_code == 422

    received: list[str] = []
    with httpx.stream(
        "GET", url + f"/changes?since={cursor}", headers={"Accept": "text/event-stream"}, timeout=30
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            received.append(line)
            if line.startswith("data:"):
                break
    assert received[:2] == ["retry: 2000", ""] and received[2] == "event: published"
    assert received[3] == f"id: {waited['cursor']}"
    assert json.loads(received[4].removeprefix("data: "))["version"] == "1.1.0"
    resumed: list[str] = []
    headers = {"Accept": "text/event-stream", "Last-Event-ID": str(cursor - 1)}
    with httpx.stream("GET", url + "/changes", headers=headers, timeout=30) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                resumed.append(json.loads(line.removeprefix("data: "))["version"])
            if len(resumed) == 2:
                break
    assert resumed == ["1.0.0", "1.1.0"]


def test_diff_of_stored_versions_and_of_a_posted_document(url: str) -> None:
    old = EXAMPLES / "sales" / "orders-1.0.0.odcs.yaml"
    new = EXAMPLES / "sales" / "orders-1.1.0.odcs.yaml"
    for path in (old, new):
        text = path.read_text(encoding="utf-8")
        sent = httpx.put(
            url
            + "/contracts/sales.orders/versions/"
            + path.stem.split("-")[-1].removesuffix(".odcs"),
            content=text,
            headers={**WRITE, "Content-Type": "application/yaml"},
        )
        assert sent.status_code == 204
    stored = httpx.get(url + "/contracts/sales.orders/diff?from=1.0.0&to=1.1.0").json()
    assert stored["required_bump"] == "major" and stored["compatible"] is False
    assert [c["path"] for c in stored["changes"]] == ["schema.orders.properties.currency"]
    assert (
        httpx.get(url + "/contracts/sales.orders/diff?from=1.0.0").json() == stored
    )  # to: the latest
    candidate = httpx.get(url + "/contracts/sales.orders/versions/1.1.0").json() | {
        "version": "1.2.0",
        "status": "retired",
    }
    posted = httpx.post(url + "/contracts/sales.orders/diff", json=candidate).json()
    assert posted["old"]["version"] == "1.1.0" and posted["new"]["version"] == "1.2.0"
    against = httpx.post(
        url + "/contracts/sales.orders/diff?against=1.0.0", content=json.dumps(candidate)
    ).json()
    assert against["old"]["version"] == "1.0.0" and against["required_bump"] == "major"
    assert httpx.get(url + "/contracts/sales.orders/diff?from=9.9.9").status_code == 404
    assert (
        httpx.get(url + "/contracts/sales.orders/diff?from=1.0.0&mode=lenient").status_code == 400
    )
    assert httpx.get(url + "/contracts/nothing/diff?from=1.0.0").status_code == 404
    file_name = httpx.get(url + "/contracts/sales.orders/diff?from=../../../etc/passwd.yaml")
    assert file_name.status_code in (400, 404) and "root:" not in file_name.text


def test_check_applies_the_tables_policy_without_writing(url: str, table: Path) -> None:
    base = minimal(
        version="1.0.0",
        schema=[{"name": "orders", "properties": [{"name": "id"}, {"name": "amount"}]}],
    )
    publish(url, base)
    DeltaContractStore(path=table).set_compatibility("backward")
    before = DeltaContractStore(path=table).table_version
    dropped = base | {
        "version": "1.1.0",
        "schema": [{"name": "orders", "properties": [{"name": "id"}]}],
    }
    verdict = httpx.post(url + "/contracts/sales.orders/check", json=dropped).json()
    assert verdict["verdict"] == "incompatible" and verdict["compatible"] is False
    assert verdict["needed_bump"] == "major" and verdict["suggested_version"] == "2.0.0"
    assert verdict["policy"] == "backward" and verdict["against"] == "1.0.0"
    assert verdict["diff"]["changes"][0]["path"] == "schema.orders.properties.amount"
    ok = httpx.post(
        url + "/contracts/sales.orders/check", json=dropped | {"version": "2.0.0"}
    ).json()
    assert (ok["verdict"], ok["compatible"]) == ("new", True)
    assert (
        httpx.post(url + "/contracts/sales.orders/check", json=base).json()["verdict"]
        == "unchanged"
    )
    conflict = httpx.post(
        url + "/contracts/sales.orders/check", json=base | {"status": "retired"}
    ).json()
    assert conflict["verdict"] == "conflict" and "already exists" in conflict["detail"]
    invalid = httpx.post(url + "/contracts/sales.orders/check", json={"version": " "})
    assert invalid.status_code == 400 and "version" in invalid.json()["detail"]
    issues = httpx.post(
        url + "/contracts/sales.orders/check", json=minimal(version="3.0.0", tags="x")
    ).json()
    assert issues["verdict"] == "new" and any(
        "$.tags" in issue for issue in issues["schema_issues"]
    )
    assert DeltaContractStore(path=table).table_version == before  # nothing written


def test_tokens_scopes_and_read_only(table: Path, tmp_path: Path) -> None:
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(
        "# who may do what\nwrite writer-token\nread reader-token\n", encoding="utf-8"
    )
    store = DeltaContractStore(path=table)
    with serving(create_app(store, tokens=Tokens.load(tokens_file, env={}))) as url:
        assert (
            httpx.get(url + "/contracts").status_code == 401
        )  # a read token exists: reads need one
        assert httpx.get(url + "/contracts", headers=READ).status_code == 200
        assert put(url, minimal(), READ).status_code == 403
        assert put(url, minimal(), {"Authorization": "Basic d3JpdGVyLXRva2Vu"}).status_code == 401
        assert put(url, minimal(), WRITE).status_code == 204
        checked = httpx.post(
            url + "/contracts/sales.orders/check", json=minimal(version="2.0.0"), headers=READ
        )
        assert checked.status_code == 200  # a check writes nothing: reading is enough
    with serving(
        create_app(store, tokens=Tokens([("writer-token", "write")]), read_only=True)
    ) as url:
        refused = put(url, minimal(version="2.0.0"), WRITE)
        assert refused.status_code == 403 and refused.json() == {
            "detail": "this server is read-only (--read-only): writes refused"
        }
        assert httpx.get(url + "/contracts/sales.orders/latest").status_code == 200
    with serving(create_app(store)) as url:  # no write token at all: read-only
        refused = put(url, minimal(version="2.0.0"), WRITE)
        assert refused.status_code == 403 and "no write token" in refused.json()["detail"]
    assert store.list_versions("sales.orders") == ["1.0.0"]


@pytest.mark.parametrize("table_exists", [True, False])
def test_concurrent_puts_of_one_version_store_one_and_refuse_the_others(
    url: str, table_exists: bool
) -> None:
    if table_exists:
        publish(url, minimal("another.contract"))
    bodies = [minimal(version="1.0.0", description={"usage": f"writer {n}"}) for n in range(8)]
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda body: put(url, body).status_code, bodies))
    assert statuses == [204] + [409] * 7
    stored = httpx.get(url + "/contracts/sales.orders/versions/1.0.0").json()
    assert stored in bodies


def test_errors_are_json_and_never_a_traceback(url: str, tmp_path: Path) -> None:
    missing = httpx.get(url + "/no/such/route")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    wrong_method = httpx.delete(url + "/contracts/x/latest", headers=WRITE)
    assert wrong_method.status_code == 405 and wrong_method.json()["detail"]
    foreign = tmp_path / "foreign"
    write_deltalake(str(foreign), pa.table({"x": [1]}))  # a Delta table, not a contract table
    with serving(create_app(DeltaContractStore(path=foreign))) as other:
        for path in (
            "/contracts/a/versions/1.0.0",
            "/contracts/a/latest",
            "/contracts/a/resolve",
            "/contracts",
        ):
            answer = httpx.get(other + path)
            assert answer.status_code == 500, path
            assert (
                "is not a contract table" in answer.json()["detail"]
                and "Traceback" not in answer.text
            )
        assert httpx.get(other + "/health").json()["status"] == "ok"


def test_limits_in_flight(table: Path) -> None:
    app = create_app(DeltaContractStore(path=table), limits=Limits(max_in_flight=2))
    with serving(app) as url, ThreadPoolExecutor(2) as pool:
        waits = [
            pool.submit(httpx.get, url + "/changes?since=-1&wait=3", timeout=30) for _ in range(2)
        ]
        time.sleep(1)
        busy = httpx.get(url + "/health")
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert [w.result().status_code for w in waits] == [200, 200]
        assert httpx.get(url + "/health").status_code == 200
