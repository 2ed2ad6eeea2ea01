"""``GET /changes``: the table's change feed, polled, long-polled or streamed.

- ``/changes?since=N``: ``{"events": [...], "cursor": M}`` (the events after table version
  ``N``; pass ``M`` as ``since`` next time; without ``since``: from the first commit).
- ``&wait=S``: when nothing happened yet, wait up to ``S`` seconds (at most ``max_wait``)
  for something to happen, then answer.
- ``Accept: text/event-stream`` (an ``EventSource``): server-sent events, one per change
  (``event:`` its kind, ``data:`` the event as JSON, ``id:`` its table version on the last
  event of each commit), a comment every 15 s; ``Last-Event-ID`` resumes after a
  reconnection. A stream ends after ``stream_seconds`` or when the server stops.

410 when log cleanup removed the commits after ``since`` (``earliest`` says what is left).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from ..errors import ContractStoreError, InvalidRequestError
from ..feed.events import Changes
from .lane import Runtime
from .responses import json_bytes, status_of

__all__ = ["feed_routes"]

HEARTBEAT = 15.0


def feed_routes(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["change feed"])

    @router.get("/changes", response_model=None)
    async def changes(
        request: Request,
        since: int | None = Query(None, ge=-1, description="table version already seen"),
        wait: float = Query(0.0, ge=0, description="seconds to wait for a change"),
    ) -> Response:
        """Events after table version ``since`` and the cursor to pass next (see the
        module doc of ``dc43_delta_store.serve.feed``)."""
        if "text/event-stream" in request.headers.get("accept", ""):
            resumed = request.headers.get("last-event-id")
            start = _cursor(resumed, "Last-Event-ID") if resumed else since
            return StreamingResponse(_stream(runtime, start), media_type="text/event-stream")
        if wait > runtime.limits.max_wait:
            raise InvalidRequestError(f"wait must be at most {runtime.limits.max_wait:g} seconds")
        feed = await _read(runtime, since)
        deadline = time.monotonic() + wait
        while not feed.events and not runtime.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if await runtime.fresh.newer_than(feed.cursor, min(remaining, 1.0)):
                feed = await _read(runtime, since)
        return Response(json_bytes(feed.to_dict()), media_type="application/json")

    return router


async def _read(runtime: Runtime, since: int | None) -> Changes:
    return await anyio.to_thread.run_sync(runtime.store.changes, since)


async def _stream(runtime: Runtime, since: int | None) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n\n"
    cursor = since
    ends = time.monotonic() + runtime.limits.stream_seconds
    quiet_since = time.monotonic()
    while not runtime.stopping.is_set() and time.monotonic() < ends:
        try:
            feed = await _read(runtime, cursor)
        except ContractStoreError as exc:
            yield _message("error", json_bytes({"detail": str(exc), "status": status_of(exc)}))
            return
        for index, event in enumerate(feed.events):
            following = feed.events[index + 1] if index + 1 < len(feed.events) else None
            last = following is None or following.table_version != event.table_version
            yield _message(
                event.kind, json_bytes(event.to_dict()), event.table_version if last else None
            )
        if feed.events:
            quiet_since = time.monotonic()
        cursor = feed.cursor
        while not runtime.stopping.is_set() and time.monotonic() < ends:
            if await runtime.fresh.newer_than(cursor, 1.0):
                break
            if time.monotonic() - quiet_since >= HEARTBEAT:
                quiet_since = time.monotonic()
                yield b": keep-alive\n\n"
        await asyncio.sleep(0)


def _message(kind: str, data: bytes, event_id: int | None = None) -> bytes:
    head = b"event: " + kind.encode() + b"\n"
    if event_id is not None:
        head += b"id: %d\n" % event_id
    return head + b"data: " + data + b"\n\n"


def _cursor(text: str, what: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise InvalidRequestError(f"{what} must be a table version, not {text[:40]!r}") from None
    if value < -1:
        raise InvalidRequestError(f"{what} must be -1 or more, not {value}")
    return value
