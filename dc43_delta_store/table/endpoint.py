"""Does the table's object store refuse a second put-if-absent? Checked before the first write.

delta-rs commits version N of a table by creating ``_delta_log/N.json`` only if it is absent:
a conditional PUT (``If-None-Match: *`` on S3 and Azure, ``x-goog-if-generation-match: 0`` on
GCS). Of two writers of one version the second is refused, and retries on the new snapshot.
An endpoint that ignores the condition (some S3-compatible stores and gateways) lets the
second commit overwrite the first: its rows vanish, and both writers were told they succeeded.
deltalake 1.6 has no lock for such endpoints: its DynamoDB locking provider was removed, and
``AWS_S3_LOCKING_PROVIDER=dynamodb`` is ignored (with an error in the log, nothing else).

So before the first write of a store object, :func:`check_conditional_writes` asks the
endpoint, through ``obstore`` (Python bindings of the ``object_store`` crate that delta-rs
uses) configured from the same storage options and environment variables:

1. put-if-absent ``<table>/_dc43_conditional_write_probe``; refused because it exists: the
   endpoint enforces the condition (1 request). Names starting with ``_`` are ignored by Delta
   readers and by vacuum.
2. Created: a second put-if-absent must be refused (2 requests; later checks cost 1).
3. Accepted twice: the endpoint ignores the condition. The probe object is deleted and
   :class:`~dc43_delta_store.errors.UnsafeEndpointError` refuses the write.

Not checked: local folders (their commits use ``O_EXCL`` creates), AWS S3 itself (no custom
endpoint: it enforces ``If-None-Match``, and its credentials may come from AWS profiles,
which ``obstore`` does not read), and any location while
``DC43_DELTA_STORE_UNSAFE_TRUST_ENDPOINT=1`` is set, for someone who knows that writes to
the table never overlap (one writer at a time: one thread of one process).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..errors import StoreUnavailableError, UnsafeEndpointError
from .location import TableLocation, describe
from .objects import obstore_for

__all__ = [
    "PROBE_NAME",
    "TRUST_ENDPOINT_ENV",
    "EndpointCheck",
    "check_conditional_writes",
    "needs_check",
]

PROBE_NAME = "_dc43_conditional_write_probe"
TRUST_ENDPOINT_ENV = "DC43_DELTA_STORE_UNSAFE_TRUST_ENDPOINT"
_PROBE_BODY = (
    b"Written by dc43_delta_store to check that this endpoint refuses a second "
    b"put-if-absent (If-None-Match: *). Safe to delete.\n"
)
_SCHEMES = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"} | dict.fromkeys(
    ("az", "azure", "abfs", "abfss", "adl"), "azure"
)
_S3_ENDPOINT_KEYS = ("aws_endpoint_url_s3", "aws_endpoint_url", "aws_endpoint", "endpoint_url")
logger = logging.getLogger("dc43_delta_store")


class EndpointCheck:
    """:func:`check_conditional_writes` once per object, however many threads write.

    A failed check is not remembered: the next write checks again (a fixed endpoint then
    passes without a restart).
    """

    def __init__(self, location: TableLocation) -> None:
        self._location = location
        self._lock = threading.Lock()
        self._passed = False

    def ensure(self) -> None:
        if self._passed:
            return
        with self._lock:
            if not self._passed:
                check_conditional_writes(self._location)
                self._passed = True


def check_conditional_writes(location: TableLocation) -> None:
    """Raise :class:`UnsafeEndpointError` unless ``location``'s endpoint refuses a second
    put-if-absent; a no-op where no check is needed (see the module docstring).

    >>> check_conditional_writes(TableLocation("/srv/tables/contracts"))  # a local folder
    """
    kind = _kind(location)
    if kind is None:
        return
    started = time.perf_counter()
    store = obstore_for(location)
    for attempt in (1, 2):
        if not _created(store, location):
            logger.debug(
                "endpoint %s of %s refused a second put-if-absent (%d request(s), %.0f ms)",
                _endpoint_name(location, kind),
                location,
                attempt,
                (time.perf_counter() - started) * 1000,
            )
            return
    raise UnsafeEndpointError(_refusal(location, kind, _deleted(store, location)))


def needs_check(location: TableLocation) -> bool:
    """Whether writes to ``location`` are preceded by :func:`check_conditional_writes`."""
    return _kind(location) is not None


def _kind(location: TableLocation) -> str | None:
    if location.local_path is not None or _truthy(os.environ.get(TRUST_ENDPOINT_ENV)):
        return None
    kind = _SCHEMES.get(location.uri.split("://", 1)[0].lower())
    if kind == "s3" and _is_aws(_s3_endpoint(location.options())):
        return None
    return kind


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _s3_endpoint(options: Mapping[str, str]) -> str | None:
    lowered = {key.lower(): value for key, value in options.items()}
    for key in (*_S3_ENDPOINT_KEYS, "endpoint"):
        if lowered.get(key):
            return lowered[key]
    for key in _S3_ENDPOINT_KEYS:
        if os.environ.get(key.upper()):
            return os.environ[key.upper()]
    return None


def _is_aws(endpoint: str | None) -> bool:
    if endpoint is None:
        return True
    host = (urlsplit(endpoint).hostname or "").lower()
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


def _created(store: Any, location: TableLocation) -> bool:
    """Put the probe object if absent: True if created, False if refused because it exists."""
    import obstore
    from obstore.exceptions import AlreadyExistsError, PreconditionError

    try:
        obstore.put(store, PROBE_NAME, _PROBE_BODY, mode="create")
    except (AlreadyExistsError, PreconditionError):
        return False
    except Exception as exc:
        raise StoreUnavailableError(
            f"cannot write table {location}: checking that its endpoint refuses a second "
            f"put-if-absent failed: {describe(exc, location)}"
        ) from None
    return True


def _deleted(store: Any, location: TableLocation) -> str | None:
    """Delete the probe object; None, or why it could not be deleted."""
    import obstore

    try:
        obstore.delete(store, PROBE_NAME)
    except FileNotFoundError:
        pass
    except Exception as exc:
        return describe(exc, location, limit=200)
    return None


def _endpoint_name(location: TableLocation, kind: str | None = None) -> str:
    """The endpoint that serves ``location``, without credentials, for messages."""
    options = {key.lower(): value for key, value in location.options().items()}
    kind = kind or _SCHEMES.get(location.uri.split("://", 1)[0].lower())
    if kind == "s3":
        found = _s3_endpoint(location.options())
    elif kind == "azure":
        found = options.get("azure_storage_endpoint") or options.get("endpoint")
        account = options.get("azure_storage_account_name") or options.get("account_name")
        if found is None and account:
            found = f"https://{account}.blob.core.windows.net"
    else:
        found = options.get("google_base_url") or options.get("base_url")
    if not found:
        return {"s3": "AWS S3", "azure": "Azure Blob Storage"}.get(kind or "", "GCS")
    parts = urlsplit(found)
    return (
        f"{parts.scheme}://{parts.hostname or ''}"
        + (f":{parts.port}" if parts.port else "")
        + parts.path.rstrip("/")
    )


def _refusal(location: TableLocation, kind: str, not_deleted: str | None) -> str:
    header = {"gcs": "x-goog-if-generation-match: 0"}.get(kind, "If-None-Match: *")
    options = {key.lower(): value for key, value in location.options().items()}
    locking = options.get("aws_s3_locking_provider") or os.environ.get("AWS_S3_LOCKING_PROVIDER")
    return (
        f"refusing to write table {location}: its endpoint {_endpoint_name(location, kind)} "
        f"does not enforce conditional writes (it accepted a second `{header}` PUT of "
        f"{PROBE_NAME}), so concurrent writers would silently overwrite each other's commits. "
        "Nothing was written"
        + (
            f"; the probe object could not be deleted: {not_deleted}"
            if not_deleted
            else " and the probe object was deleted"
        )
        + ". Fix: serve the table from an endpoint, or through a gateway, that refuses a PUT "
        f"with `{header}` when the object exists"
        + (
            f" (AWS_S3_LOCKING_PROVIDER={locking} does not help: deltalake 1.6 ignores it)"
            if locking
            else ""
        )
        + "; or, if writes to this table never overlap (one thread of one process at a time), "
        f"set {TRUST_ENDPOINT_ENV}=1"
    )
