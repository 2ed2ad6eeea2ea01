"""HTTP answers as bytes: JSON bodies, the status of each store error, entity tags.

Every error a client sees is JSON, ``{"detail": "..."}``, as FastAPI (and so dc43's app)
writes them. A store error keeps its message (it names the contract, version or table and
never a credential); anything else is ``internal error`` and goes to the server log only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..cli.output import to_json
from ..errors import (
    BatchError,
    CompatibilityError,
    ContractNotFoundError,
    ContractStoreError,
    CursorExpiredError,
    DuplicateVersionError,
    InvalidContractError,
    InvalidLocationError,
    InvalidRequestError,
    StoreUnavailableError,
    TableBusyError,
    UpdateConflictError,
    VersionConflictError,
)

__all__ = [
    "IMMUTABLE",
    "Answer",
    "body_etag",
    "error_answer",
    "error_of",
    "etag_matches",
    "json_answer",
    "json_bytes",
    "status_of",
]

# a stored version never changes: caches may keep it for a year without asking again
IMMUTABLE = b"public, max-age=31536000, immutable"

_STATUS: tuple[tuple[type[ContractStoreError], int], ...] = (
    (ContractNotFoundError, 404),
    (CursorExpiredError, 410),
    (InvalidContractError, 400),
    (InvalidRequestError, 400),
    (InvalidLocationError, 400),
    (VersionConflictError, 409),
    (DuplicateVersionError, 409),
    (UpdateConflictError, 409),
    (CompatibilityError, 409),
    (TableBusyError, 503),
    (StoreUnavailableError, 503),
)


def status_of(error: ContractStoreError) -> int:
    """The HTTP status that stands for a store error (500: the table needs attention).

    >>> status_of(ContractNotFoundError("sales.orders"))
    404
    """
    if isinstance(error, BatchError) and error.problems:
        return status_of(error.problems[0].error)
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 500)


@dataclass(frozen=True)
class Answer:
    """A complete response: status, body, entity tag and extra headers."""

    status: int
    body: bytes
    etag: str | None = None
    headers: tuple[tuple[bytes, bytes], ...] = field(default=())
    media_type: bytes = b"application/json"

    def header_list(self, *, with_body: bool = True) -> list[tuple[bytes, bytes]]:
        """The headers to send (``content-length`` of the body, or 0 without one; none of
        either on a 304)."""
        headers = []
        if self.status != 304:
            length = len(self.body) if with_body else 0
            headers += [
                (b"content-type", self.media_type),
                (b"content-length", str(length).encode("ascii")),
            ]
        if self.etag is not None:
            headers.append((b"etag", self.etag.encode("ascii")))
        headers.extend(self.headers)
        return headers

    def not_modified(self) -> Answer:
        """The 304 answer for a client that already holds this one."""
        return Answer(304, b"", self.etag, self.headers)


def json_bytes(value: Any) -> bytes:
    """Compact JSON, as FastAPI's ``JSONResponse`` renders it; dates as ISO 8601.

    >>> json_bytes({"id": "sales.orders", "ok": True})
    b'{"id":"sales.orders","ok":true}'
    """
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):  # datetimes, NaN...: the command line's conversions
        text = json.dumps(json.loads(to_json(value)), ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def json_answer(
    status: int, value: Any, *, etag: str | None = None, headers: Iterable[tuple[bytes, bytes]] = ()
) -> Answer:
    return Answer(status, json_bytes(value), etag, tuple(headers))


def error_answer(status: int, detail: str, **extra: Any) -> Answer:
    """``{"detail": ...}`` with ``status``; extra fields after it.

    >>> error_answer(404, "contract 'x' not found").body
    b'{"detail":"contract \\'x\\' not found"}'
    """
    return json_answer(status, {"detail": detail, **extra})


def body_etag(body: bytes) -> str:
    """A strong entity tag for a body that is not one stored version."""
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def etag_matches(header: str | None, etag: str | None) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (or ``*``); weak tags compare equal
    to strong ones, as RFC 9110 asks for ``If-None-Match``.

    >>> etag_matches('W/"abc", "def"', '"abc"'), etag_matches('"x"', '"abc"')
    (True, False)
    """
    if not header or etag is None:
        return False
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def error_of(exc: ContractStoreError) -> Answer:
    """The answer for a store error: its status and message."""
    return error_answer(status_of(exc), str(exc), **_fields_of(exc))


def _fields_of(exc: ContractStoreError) -> Mapping[str, Any]:
    if isinstance(exc, CursorExpiredError):
        return {"earliest": exc.earliest}
    if isinstance(exc, CompatibilityError):
        return {
            "needed_bump": exc.needed_bump,
            "suggested_version": exc.suggested_version,
            "baseline": exc.baseline,
        }
    return {}
