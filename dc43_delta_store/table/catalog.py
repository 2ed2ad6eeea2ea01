"""Unity Catalog names: ``catalog.schema.table`` resolved over the UC REST API.

Two calls (delta-rs' own ``uc://`` support hangs too often to rely on):
``GET /api/2.1/unity-catalog/tables/{full_name}`` gives the table's ``storage_location`` and
``table_id``; ``POST /api/2.1/unity-catalog/temporary-table-credentials`` gives short-lived
credentials, which are renewed ``refresh_margin`` seconds before they expire. Creating the
table (when a storage root is given) uses ``temporary-path-credentials`` and
``POST /tables``. UC-managed tables cannot be written by delta-rs, so the contract table is
an *external* table.

The token is sent in the ``Authorization`` header only: it never appears in a repr, a log
line or an error message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidLocationError, StoreUnavailableError

__all__ = ["CatalogTable", "UnityCatalog", "VendedCredentials"]

API = "/api/2.1/unity-catalog"
_USABLE_FOR = 30.0  # seconds of validity below which credentials are renewed before a call
logger = logging.getLogger("dc43_delta_store")


@dataclass(frozen=True)
class CatalogTable:
    """A table as Unity Catalog knows it."""

    full_name: str
    table_id: str
    storage_location: str


class UnityCatalog:
    """A Unity Catalog endpoint and token (``DATABRICKS_HOST`` / ``DATABRICKS_TOKEN``, or
    ``UNITY_CATALOG_URL`` / ``UNITY_CATALOG_TOKEN``).

    >>> UnityCatalog("https://uc.example.com", token="secret")
    UnityCatalog('https://uc.example.com')
    """

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 30.0) -> None:
        if not url.startswith(("http://", "https://")):
            url = "https://" + url
        self.url = url.rstrip("/")
        self._token = token
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"UnityCatalog({self.url!r})"

    @property
    def identity(self) -> str:
        """Who asks (a digest of the token, never the token): resolutions are shared only
        between stores that use the same token."""
        return hashlib.sha256((self._token or "").encode("utf-8")).hexdigest()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UnityCatalog | None:
        """The catalog the environment names, or None."""
        env = os.environ if env is None else env
        for url_var, token_var in (
            ("UNITY_CATALOG_URL", "UNITY_CATALOG_TOKEN"),
            ("DATABRICKS_HOST", "DATABRICKS_TOKEN"),
        ):
            if env.get(url_var):
                return cls(env[url_var], token=env.get(token_var))
        return None

    # -- the REST calls --------------------------------------------------------------------

    def table(self, full_name: str) -> CatalogTable | None:
        """The table, or None when the catalog does not have it."""
        try:
            info = self._call("GET", f"/tables/{urllib.parse.quote(full_name)}", None, full_name)
        except _NotFound:
            return None
        return CatalogTable(full_name, info["table_id"], info["storage_location"])

    def table_credentials(
        self, table: CatalogTable, operation: str
    ) -> tuple[dict[str, str], float]:
        body = {"table_id": table.table_id, "operation": operation}
        info = self._call("POST", "/temporary-table-credentials", body, table.full_name)
        return _storage_options(info), _expiry(info)

    def path_credentials(
        self, url: str, operation: str, full_name: str
    ) -> tuple[dict[str, str], float]:
        info = self._call(
            "POST", "/temporary-path-credentials", {"url": url, "operation": operation}, full_name
        )
        return _storage_options(info), _expiry(info)

    def create_table(
        self, full_name: str, storage_location: str, columns: list[dict[str, Any]]
    ) -> CatalogTable:
        catalog, schema, name = full_name.split(".")
        body = {
            "name": name,
            "catalog_name": catalog,
            "schema_name": schema,
            "table_type": "EXTERNAL",
            "data_source_format": "DELTA",
            "storage_location": storage_location,
            "columns": columns,
            "comment": "ODCS data contracts, one row per contract version (dc43_delta_store)",
        }
        info = self._call("POST", "/tables", body, full_name)
        return CatalogTable(full_name, info["table_id"], info["storage_location"])

    def _call(self, method: str, path: str, body: Any, full_name: str) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url + API + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            code, message = _error_body(exc)
            if exc.code == 404 and method == "GET":
                raise _NotFound from None
            what = {401: "did not accept the token", 403: "denied access"}.get(
                exc.code, f"answered HTTP {exc.code}"
            )
            raise StoreUnavailableError(
                f"Unity Catalog at {self.url} {what} for table {full_name!r}: "
                f"{code}: {self._clean(message)}"
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise StoreUnavailableError(
                f"Unity Catalog at {self.url} is unreachable for table {full_name!r}: "
                f"{self._clean(str(reason))}"
            ) from None

    def _clean(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


class _NotFound(Exception):
    pass


def _error_body(exc: urllib.error.HTTPError) -> tuple[str, str]:
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    return str(body.get("error_code", exc.code)), str(body.get("message", exc.reason))


def _expiry(info: Mapping[str, Any]) -> float:
    millis = info.get("expiration_time")
    return float(millis) / 1000 if millis else time.time() + 3600


def _storage_options(info: Mapping[str, Any]) -> dict[str, str]:
    """Vended credentials as deltalake storage options (AWS, Azure SAS or GCP token)."""
    if aws := info.get("aws_temp_credentials"):
        options = {
            "AWS_ACCESS_KEY_ID": aws["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": aws["secret_access_key"],
        }
        if aws.get("session_token"):
            options["AWS_SESSION_TOKEN"] = aws["session_token"]
        return options
    if azure := info.get("azure_user_delegation_sas"):
        return {"AZURE_STORAGE_SAS_TOKEN": azure["sas_token"]}
    kinds = ", ".join(key for key in info if key != "expiration_time") or "none"
    raise StoreUnavailableError(
        f"Unity Catalog vended credentials of a kind this store cannot use ({kinds}); "
        "give storage_options instead"
    )


@dataclass
class VendedCredentials:
    """Short-lived credentials for one table, renewed before they expire.

    Renewal starts ``refresh_margin`` seconds before expiry, on a thread of its own, while
    calls go on with the credentials still valid; only credentials that are missing or
    about to expire (``_USABLE_FOR`` seconds) are fetched on the caller's path. Safe to share
    between threads and store objects.
    """

    catalog: UnityCatalog
    table: CatalogTable
    operation: str = "READ_WRITE"
    refresh_margin: float = 300.0
    generation: int = 0
    _options: dict[str, str] = field(default_factory=dict, repr=False)
    _expires_at: float = 0.0
    _renewing: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def current(self) -> dict[str, str]:
        """Valid credentials (fetched now only when none are usable)."""
        with self._lock:
            now = time.time()
            if now < self._expires_at - self.refresh_margin:
                return dict(self._options)
            if now < self._expires_at - _USABLE_FOR:
                if not self._renewing:
                    self._renewing = True
                    threading.Thread(target=self._renew, daemon=True).start()
                return dict(self._options)
            self._fetch()
            return dict(self._options)

    def _renew(self) -> None:
        """Fetch new credentials without holding the lock: calls go on meanwhile."""
        try:
            fetched = self.catalog.table_credentials(self.table, self.operation)
        except StoreUnavailableError as exc:  # the next call tries again, or fetches itself
            logger.info("renewing credentials of %s failed: %s", self.table.full_name, exc)
            fetched = None
        with self._lock:
            if fetched is not None and fetched[1] > self._expires_at:
                self._options, self._expires_at = fetched
                self.generation += 1
            self._renewing = False

    def _fetch(self) -> None:
        self._options, self._expires_at = self.catalog.table_credentials(self.table, self.operation)
        self.generation += 1

    def secrets(self) -> list[str]:
        """The credential values last vended (for redaction; no network call)."""
        return list(self._options.values())


def resolve_catalog_table(
    catalog: UnityCatalog,
    full_name: str,
    *,
    storage_root: str | None,
    storage_options: Mapping[str, str],
    columns: list[dict[str, Any]],
    create: Callable[[str, dict[str, str]], None],
) -> VendedCredentials:
    """The table's credentials; when it is not in the catalog, create it under ``storage_root``.

    ``create(uri, options)`` writes the empty Delta table before it is registered.
    """
    if full_name.count(".") != 2:
        raise InvalidLocationError(
            f"a Unity Catalog table name has three parts, catalog.schema.table: {full_name!r}"
        )
    key = (catalog.url, catalog.identity, full_name)
    with _RESOLVED_LOCK:
        known = _RESOLVED.get(key)
        if known is not None and time.monotonic() - known[0] < RESOLVED_SECONDS:
            return known[1]
    table = catalog.table(full_name)
    if table is None:
        if storage_root is None:
            raise InvalidLocationError(
                f"table {full_name!r} is not registered in Unity Catalog at {catalog.url}; "
                "give catalog_storage_root= to create it there"
            )
        location = storage_root.rstrip("/") + "/" + full_name.replace(".", "/")
        options, _ = catalog.path_credentials(location, "PATH_CREATE_TABLE", full_name)
        create(location, {**storage_options, **options})
        table = catalog.create_table(full_name, location, columns)
    credentials = VendedCredentials(catalog, table)
    with _RESOLVED_LOCK:
        _RESOLVED[key] = (time.monotonic(), credentials)
    return credentials


_RESOLVED: dict[tuple[str, str, str], tuple[float, VendedCredentials]] = {}
_RESOLVED_LOCK = threading.Lock()
RESOLVED_SECONDS = 300.0
"""A table the catalog resolved serves every store object of the process for this long:
one catalog call opens it (the table lookup), its credentials are shared."""
