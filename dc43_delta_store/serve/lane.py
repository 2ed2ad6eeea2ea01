"""The server's front: every request passes here before dc43's app or this server's routes.

In order: a limit on requests in flight (503 with ``Retry-After``); the guard (401/403,
see :mod:`.auth`) before any body is read; the body, read whole within ``max_body_bytes``
and ``body_timeout`` (413, 408); then the hot routes (:mod:`.answers`, remembered by
:mod:`.hot`, with ``If-None-Match`` answered 304) or the app behind. One access-log line
per request (never a header, so never a token); an error that escapes the app is a JSON
500 for the client and a traceback in the server log only.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from functools import partial
from typing import Any

from .answers import Answers, parse_query
from .auth import Guard, is_write
from .freshness import Freshness
from .hot import HotCache
from .responses import Answer, error_answer, etag_matches
from .settings import Limits

__all__ = ["ASGIApp", "Runtime", "ServeApp"]

log = logging.getLogger("dc43_delta_store.serve")
access = logging.getLogger("dc43_delta_store.serve.access")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


class Runtime:
    """What the front and the routes share: the answers, freshness, limits, and whether the
    server is stopping (set on SIGTERM/SIGINT, so that long-polls and streams end)."""

    def __init__(self, answers: Answers, fresh: Freshness, limits: Limits) -> None:
        self.answers = answers
        self.store = answers.store
        self.fresh = fresh
        self.limits = limits
        self.stopping = threading.Event()
        self.cache = HotCache(fresh, limits.cache_bytes)


class ServeApp:
    """The ASGI application ``serve`` runs: the front of ``inner`` (see the module doc)."""

    def __init__(
        self, inner: ASGIApp, runtime: Runtime, guard: Guard, *, access_log: bool = True
    ) -> None:
        self.inner = inner
        self.runtime = runtime
        self.guard = guard
        self.access_log = access_log
        self._limits = runtime.limits
        self._in_flight = 0

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._logged(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1003})

    # -- lifespan ----------------------------------------------------------------------------

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.runtime.fresh.start()
                _stop_on_signals(self.runtime.stopping)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.runtime.stopping.set()
                await self.runtime.fresh.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- requests ----------------------------------------------------------------------------

    async def _logged(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        sent = {"status": 0, "bytes": 0}

        async def tracking(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self._http(scope, receive, tracking)
        except Exception:
            log.exception("error answering %s %s", scope["method"], _shown_path(scope))
            if not sent["status"]:
                detail = "internal error; the server log has the details"
                await _send(tracking, error_answer(500, detail), close=True)
        finally:
            if self.access_log:
                access.info(
                    '%s "%s %s HTTP/%s" %s %d %.1fms',
                    _client(scope),
                    scope["method"],
                    _shown_path(scope),
                    scope.get("http_version", "1.1"),
                    sent["status"] or "-",
                    sent["bytes"],
                    (time.perf_counter() - started) * 1000,
                )

    async def _http(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if self._in_flight >= self._limits.max_in_flight:
            busy = error_answer(503, f"busy: {self._in_flight} requests in flight; retry soon")
            await _send(send, busy, extra=[(b"retry-after", b"1")], close=True)
            return
        self._in_flight += 1
        try:
            await self._guarded(scope, receive, send)
        finally:
            self._in_flight -= 1

    async def _guarded(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        self.runtime.fresh.start()
        method, path, headers = scope["method"], scope["path"], scope["headers"]
        if b"%2f" in scope.get("raw_path", b"").lower():
            detail = "a percent-encoded slash (%2F) in the path: ids and versions cannot hold '/'"
            await _send(send, error_answer(400, detail))
            return
        decision = self.guard.decide(method, path, _header(headers, b"authorization"))
        if not decision.allowed:
            extra = [(b"www-authenticate", b"Bearer")] if decision.status == 401 else []
            await _send(
                send, error_answer(decision.status, decision.detail), extra=extra, close=True
            )
            return
        body_receive = await self._body(headers, receive, send)
        if body_receive is None:
            return
        hot = _hot_route(method, path)
        if hot is not None:
            await self._hot(hot, scope, send)
        elif is_write(method, path):
            with self.runtime.fresh.write():
                await self.inner(scope, body_receive, send)
        else:
            await self.inner(scope, body_receive, send)

    async def _body(
        self, headers: list[tuple[bytes, bytes]], receive: Receive, send: Send
    ) -> Receive | None:
        """A ``receive`` that replays the whole body; None when the request was answered
        (too large, too slow, a bad length) or the client left."""
        declared = _header(headers, b"content-length")
        chunked = b"chunked" in (_header(headers, b"transfer-encoding") or "").encode().lower()
        if declared is None and not chunked:
            return receive
        limit = self._limits.max_body_bytes
        if declared is not None:
            if not declared.isdigit():
                await _send(
                    send, error_answer(400, f"bad Content-Length {declared[:40]!r}"), close=True
                )
                return None
            if int(declared) > limit:
                await _send(send, _too_large(limit), close=True)
                return None
            if int(declared) == 0:
                return receive
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self._limits.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        await _send(send, _too_large(limit), close=True)
                        return None
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            timeout = self._limits.body_timeout
            await _send(send, error_answer(408, f"the body took over {timeout:g} s"), close=True)
            return None
        return _replay(b"".join(chunks), receive)

    async def _hot(
        self, route: tuple[str, str, str | None], scope: MutableMapping[str, Any], send: Send
    ) -> None:
        kind, contract_id, version = route
        query: bytes = scope.get("query_string", b"")
        answers = self.runtime.answers
        compute: Callable[[], Answer]
        if kind == "version":
            assert version is not None
            compute = partial(answers.version, contract_id, version)
        elif kind == "latest":
            compute = lambda: answers.latest(contract_id, parse_query(query))  # noqa: E731
        else:
            compute = lambda: answers.resolve(contract_id, parse_query(query))  # noqa: E731
        key = (kind, contract_id, version, query)
        answer = await self.runtime.cache.get(key, contract_id, compute)
        if answer.status == 200 and etag_matches(
            _header(scope["headers"], b"if-none-match"), answer.etag
        ):
            answer = answer.not_modified()
        await _send(send, answer)


def _hot_route(method: str, path: str) -> tuple[str, str, str | None] | None:
    """``(kind, contract_id, version)`` for a GET of a hot route, else None."""
    if method not in ("GET", "HEAD") or not path.startswith("/contracts/"):
        return None
    parts = path.split("/")
    if len(parts) == 4 and parts[2] and parts[3] in ("latest", "resolve"):
        return parts[3], parts[2], None
    if len(parts) == 5 and parts[2] and parts[3] == "versions" and parts[4]:
        return "version", parts[2], parts[4]
    return None


async def _send(
    send: Send,
    answer: Answer,
    *,
    extra: list[tuple[bytes, bytes]] | None = None,
    close: bool = False,
) -> None:
    headers = answer.header_list()
    headers.extend(extra or ())
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


def _replay(body: bytes, receive: Receive) -> Receive:
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _too_large(limit: int) -> Answer:
    return error_answer(413, f"the body is larger than {limit} bytes")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def _client(scope: MutableMapping[str, Any]) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "-"


def _shown_path(scope: MutableMapping[str, Any]) -> str:
    """The path and query as received, with anything unprintable escaped (one log line)."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    query: bytes = scope.get("query_string", b"")
    text = (raw + (b"?" + query if query else b"")).decode("ascii", "backslashreplace")[:2000]
    if text.isprintable():  # the usual case: nothing to escape
        return text
    return "".join(c if " " <= c <= "~" else f"\\x{ord(c):02x}" for c in text)


def _stop_on_signals(stopping: threading.Event) -> None:
    """Also set ``stopping`` when the server is told to stop (after its own handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)

        def chained(number: int, frame: Any, previous: Any = previous) -> None:
            stopping.set()
            if callable(previous):
                previous(number, frame)

        signal.signal(sig, chained)
