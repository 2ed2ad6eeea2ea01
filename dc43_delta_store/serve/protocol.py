"""uvicorn's httptools protocol with the limits it lacks: a client that does not finish its
request headers within ``header_timeout`` (a slow-loris) gets 408 and is disconnected,
headers over ``max_header_bytes`` get 431, and malformed requests get a JSON 400 (uvicorn's
is plain text) — each with its line in the access log. Beyond ``max_connections``, a new
connection closes the one that has waited longest without a request under way (or, when
every one has one, is itself closed): a flood of idle connections does not lock new clients
out.

Bodies have their own limits in :mod:`.lane`; idle keep-alive connections are closed by
uvicorn after ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .settings import Limits

__all__ = ["GuardedProtocol"]

access = logging.getLogger("dc43_delta_store.serve.access")  # requests refused here too

_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class _TooLarge(Exception):
    """The request line and headers passed ``max_header_bytes``."""


class GuardedProtocol(HttpToolsProtocol):
    """See the module doc. ``limits`` is set by the process that serves (one per process)."""

    limits: ClassVar[Limits] = Limits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._in_headers = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        idle = self._idle()
        if len(self.connections) > self.limits.max_connections:
            if not idle:
                transport.abort()
                return
            oldest = next(iter(idle))
            del idle[oldest]
            oldest.transport.abort()
        idle[self] = None
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._idle().pop(self, None)
        super().connection_lost(exc)

    # the parser hands over the request line and headers piece by piece: count as they come
    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        if self._header_timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = 0
        self._disarm()
        self._idle().pop(self, None)
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._in_headers = True  # the next bytes start the next request
        if not self.transport.is_closing():
            self._idle()[self] = None

    def send_400_response(self, msg: str) -> None:
        if self._header_bytes > self.limits.max_header_bytes:
            limit = self.limits.max_header_bytes
            self._refuse(431, f"the request headers are larger than {limit} bytes")
        else:
            self._refuse(400, "malformed HTTP request")

    # -- helpers -----------------------------------------------------------------------------

    def _idle(self) -> dict[GuardedProtocol, None]:
        """This server's connections without a request under way, oldest first."""
        idle: dict[GuardedProtocol, None] | None = getattr(self.server_state, "dc43_idle", None)
        if idle is None:
            idle = {}
            self.server_state.dc43_idle = idle  # type: ignore[attr-defined]
        return idle

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.limits.max_header_bytes:
            raise _TooLarge  # stops the parser; uvicorn then calls send_400_response

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.limits.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if self._in_headers and (self.cycle is None or self.cycle.response_complete):
            if self._header_bytes:
                timeout = self.limits.header_timeout
                self._refuse(408, f"the request headers took over {timeout:g} s")
            else:
                self.transport.close()  # connected, said nothing: just hang up

    def _refuse(self, status: int, detail: str) -> None:
        self._disarm()
        if self.transport.is_closing():
            return
        body = json.dumps({"detail": detail}).encode()
        head = b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])
        self.transport.write(
            head
            + b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body)
            + b"connection: close\r\n\r\n"
            + body
        )
        self.transport.close()
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "-"
        access.info('%s "-" %d %d (%s)', client, status, len(body), detail)
