"""Bad requests against ``serve``: huge and malformed bodies, odd ids and versions in paths,
percent-encoded slashes, slow clients, thousands of connections. Each gets a 4xx or is cut
off, the server keeps answering, and nothing is written. Every socket has a timeout; the
connection flood runs in a child process under a memory limit."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.serve import Limits, Tokens, create_app

from .conftest import minimal
from .serving import serving

LIMITS = Limits(
    max_body_bytes=64 * 1024,
    body_timeout=1.0,
    header_timeout=1.0,
    max_header_bytes=16 * 1024,
    max_connections=1000,
)
AUTH = "Authorization: Bearer w\r\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DeltaContractStore]]:
    store = DeltaContractStore(path=tmp_path_factory.mktemp("abuse") / "contracts")
    store.put(minimal())
    app = create_app(store, tokens=Tokens([("w", "write")]), limits=LIMITS)
    with serving(app, LIMITS) as url:
        yield url, store
    assert store.list_versions("sales.orders") == ["1.0.0"]  # nothing written, ever
    assert store.list_contracts() == ["sales.orders"]


def exchange(url: str, data: bytes, *, wait: float = 0.0, timeout: float = 10.0) -> bytes:
    """Send raw bytes, optionally stall ``wait`` s, and read until the server closes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        time.sleep(wait)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            received += chunk
    return received


def status_and_json(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), raw[:300]
    return int(head.split(b" ", 2)[1]), json.loads(body)


def still_serving(url: str) -> None:
    assert (
        httpx.get(url + "/contracts/sales.orders/latest", timeout=10).json()["version"] == "1.0.0"
    )


def test_a_huge_declared_body_is_refused_before_it_is_read(
    served: tuple[str, DeltaContractStore],
) -> None:
    url, _ = served
    request = (
        "PUT /contracts/sales.orders/versions/2.0.0 HTTP/1.1\r\nHost: t\r\n"
        f"{AUTH}Content-Type: application/json\r\nContent-Length: 100000000000\r\n\r\n"
    )
    started = time.monotonic()
    status, body = status_and_json(exchange(url, request.encode() + b"{" * 1000))
    assert (status, body) == (413, {"detail": "the body is larger than 65536 bytes"})
    assert time.monotonic() - started < 5
    still_serving(url)


def test_a_chunked_body_over_the_limit_is_cut_off(served: tuple[str, DeltaContractStore]) -> None:
    url, _ = served

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b" " * 4096

    refused = httpx.put(
        url + "/contracts/sales.orders/versions/2.0.0",
        content=chunks(),
        headers={"Authorization": "Bearer w"},
    )
    assert refused.status_code == 413
    still_serving(url)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe\x00\x00",
        b"[" * 30000,
        b'{"id": "sales.orders", "version": "2.0.0", "a": ' + b"[" * 20000 + b"]" * 20000 + b"}",
        b'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
        b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        b"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        b"g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
        b'"just a string"',
        b"null",
    ],
    ids=["broken-json", "not-utf8", "deep-list", "deep-value", "yaml-bomb", "string", "null"],
)
@pytest.mark.parametrize(
    "route",
    [
        "PUT /contracts/sales.orders/versions/2.0.0",
        "POST /contracts/sales.orders/check",
        "POST /contracts/sales.orders/diff",
    ],
)
def test_malformed_bodies_are_400(
    served: tuple[str, DeltaContractStore], route: str, body: bytes
) -> None:
    url, _ = served
    method, path = route.split(" ")
    answer = httpx.request(
        method, url + path, content=body, headers={"Authorization": "Bearer w"}, timeout=30
    )
    assert answer.status_code == 400, answer.text[:300]
    assert answer.json()["detail"] and "Traceback" not in answer.text


ODD_PATHS = [
    "/contracts/%00/latest",
    "/contracts/sales.orders%00/versions/1.0.0",
    "/contracts/sales.orders/versions/1.0.0%0A",
    "/contracts/sales.orders/versions/%FF%FE",
    "/contracts/a%2Fb/latest",
    "/contracts/sales.orders%2Fversions%2F1.0.0",
    "/contracts/../latest",
    "/contracts/%2E%2E/versions/1.0.0",
    "/contracts/%E2%80%AEsredro/latest",
    "/contracts/" + "x" * 8000 + "/latest",
    "/contracts/sales.orders/versions/" + "9" * 8000,
    "/contracts/sales.orders/resolve?range=" + "^1||" * 1000,
    "/contracts/sales.orders/resolve?range=%00",
    "/contracts/sales.orders/resolve?as_of=-99999999999999999999",
    "/contracts/sales.orders/resolve?as_of=yesterday",
    "/contracts/sales.orders/resolve?filter=json=x",
    "/contracts/sales.orders/resolve?" + "&".join(f"p{n}=1" for n in range(500)),
    "/changes?since=99999999999999999999999",
    "/contracts/sales.orders/diff?from=%00",
    "/contracts/sales.orders/diff?from=1.0.0&to=/etc/passwd.yaml",
]


@pytest.mark.parametrize("path", ODD_PATHS, ids=range(len(ODD_PATHS)))
def test_odd_ids_and_versions_in_paths_are_4xx(
    served: tuple[str, DeltaContractStore], path: str
) -> None:
    url, _ = served
    answer = httpx.get(url + path, timeout=30)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    assert answer.json()["detail"] and "Traceback" not in answer.text
    written = httpx.put(
        url + path.split("?")[0].replace("/latest", "/versions/9.0.0"),
        json=minimal(version="9.0.0"),
        headers={"Authorization": "Bearer w"},
        timeout=30,
    )
    assert 400 <= written.status_code < 500


def test_a_request_line_over_the_header_limit_is_431(
    served: tuple[str, DeltaContractStore],
) -> None:
    url, _ = served
    status, body = status_and_json(
        exchange(url, b"GET /contracts/" + b"x" * 20000 + b"/latest HTTP/1.1\r\nHost: t\r\n\r\n")
    )
    assert status == 431 and "16384 bytes" in body["detail"]
    status, _ = status_and_json(
        exchange(url, b"GET / HTTP/1.1\r\n" + b"X-Big: y\r\n" * 3000 + b"\r\n")
    )
    assert status == 431
    still_serving(url)


def test_garbage_is_a_json_400_and_logged(
    served: tuple[str, DeltaContractStore], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = served
    caplog.set_level(logging.INFO, logger="dc43_delta_store.serve.access")
    garbage = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03GARBAGE\r\n\r\n"
    assert status_and_json(exchange(url, garbage))[0] == 400
    assert any('"-" 400' in record.getMessage() for record in caplog.records)
    negative = b"GET /health HTTP/1.1\r\nContent-Length: -5\r\n\r\n"
    assert status_and_json(exchange(url, negative))[0] == 400
    still_serving(url)


def test_slow_clients_are_cut_off(served: tuple[str, DeltaContractStore]) -> None:
    url, _ = served
    started = time.monotonic()
    status, body = status_and_json(
        exchange(url, b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ", wait=0.2)
    )
    assert (status, body) == (408, {"detail": "the request headers took over 1 s"})
    assert exchange(url, b"") == b""  # connected, said nothing: hung up on
    slow_body = (
        f"PUT /contracts/sales.orders/versions/2.0.0 HTTP/1.1\r\nHost: t\r\n{AUTH}Content-Length: 100\r\n\r\n"
        '{"id": '
    )
    status, body = status_and_json(exchange(url, slow_body.encode()))
    assert (status, body) == (408, {"detail": "the body took over 1 s"})
    assert time.monotonic() - started < 15
    still_serving(url)


FLOOD = textwrap.dedent(
    """
    import json, resource, select, socket, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_NOFILE, (count + 100, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    sockets = []
    for _ in range(count):
        try:
            sockets.append(socket.create_connection((host, port), timeout=5))
        except OSError:
            break
    print(json.dumps({"opened": len(sockets)}), flush=True)
    sys.stdin.readline()  # hold them until told, then count the ones the server closed
    closed = 0
    for sock in sockets:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        if poller.poll(5000) and sock.recv(1) == b"":
            closed += 1
    print(json.dumps({"closed": closed}), flush=True)
    """
)


def test_thousands_of_connections_do_not_stop_the_server(
    served: tuple[str, DeltaContractStore], tmp_path: Path
) -> None:
    url, _ = served
    host, port = url.removeprefix("http://").split(":")
    flood = subprocess.Popen(
        [sys.executable, "-c", FLOOD, host, port, "3000"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert flood.stdout is not None and flood.stdin is not None
        opened = json.loads(flood.stdout.readline())["opened"]
        assert opened >= 2000
        started = time.monotonic()
        still_serving(url)  # while they are held
        assert time.monotonic() - started < 10
        flood.stdin.write("\n")
        flood.stdin.flush()
        closed = json.loads(flood.stdout.readline())["closed"]
        assert closed == opened  # the oldest when over the cap, the others after header_timeout
        assert flood.wait(timeout=60) == 0
    finally:
        if flood.poll() is None:
            flood.kill()
            flood.wait(10)
    still_serving(url)
