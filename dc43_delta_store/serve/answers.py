"""The answers of the routes every client calls most: a version, the latest, a range.

Each is computed by the store in a worker thread and returned whole (status, body, entity
tag) so that the server can keep it until the table changes (see :mod:`.lane`):

- ``GET /contracts/{id}/versions/{version}``: the document; ``ETag`` its fingerprint and
  ``Cache-Control: immutable`` (a stored version never changes).
- ``GET /contracts/{id}/latest``: the highest release; ``ETag`` the fingerprint of the
  version chosen. Accepts ``status``, ``filter``, ``include_prereleases`` and ``as_of``
  as ``resolve`` does; other parameters are ignored, as dc43's app ignores them.
- ``GET /contracts/{id}/resolve?range=^1.2&status=active&explain=true``: the highest
  version in the range; with ``explain`` every candidate with its verdict and reasons.

In front of dc43's app (``dc43_bodies``) a version and the latest are answered with the
body dc43's own routes give (the ODCS pydantic model's dump), computed once per
fingerprint; ``resolve`` is this server's own route and answers with the stored document.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl

from ..cli.support import parse_as_of
from ..core.canonical import fingerprint
from ..errors import ContractNotFoundError, InvalidRequestError
from ..resolution.explain import Resolution
from ..store import DeltaContractStore
from .responses import IMMUTABLE, Answer, body_etag, error_answer, json_bytes

__all__ = ["Answers", "Query", "parse_query"]

Query = tuple[tuple[str, str], ...]
_FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_RESOLVE_PARAMS = {"range", "status", "filter", "include_prereleases", "as_of", "explain"}
_NOT_COLUMNS = _RESOLVE_PARAMS - {"status"} | {"contract_id", "spec"}
NO_STORE = b"no-cache"  # latest and resolve change: ask again, with If-None-Match


def parse_query(raw: bytes) -> Query:
    """The query string's parameters in order (a malformed one is a bad request).

    >>> parse_query(b"range=%5E1.2&status=active")
    (('range', '^1.2'), ('status', 'active'))
    """
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequestError(f"the query string cannot be read: {exc}") from None
    if len(pairs) > 100:
        raise InvalidRequestError(f"{len(pairs)} query parameters: at most 100")
    return tuple(pairs)


class Answers:
    """Computes answers with the store; thread-safe (the store's reads are)."""

    def __init__(self, store: DeltaContractStore, *, dc43_bodies: bool = False) -> None:
        self.store = store
        self._dc43 = _Dc43Bodies(store) if dc43_bodies else None
        self._fingerprints = _Memo[bytes, str](4096)

    def version(self, contract_id: str, version: str) -> Answer:
        try:
            document = self.store.get(contract_id, version)
        except ContractNotFoundError as exc:
            return error_answer(404, str(exc))
        return self._document(document, contract_id, version, IMMUTABLE)

    def latest(self, contract_id: str, query: Query) -> Answer:
        options = _options(query, strict=False)
        options.pop("explain", None)
        document = self.store.latest(contract_id, **options)
        if document is None:
            return error_answer(404, "contract not found")  # dc43's words
        return self._document(document, contract_id, str(document.get("version")), NO_STORE)

    def resolve(self, contract_id: str, query: Query) -> Answer:
        options = _options(query, strict=True)
        spec = options.pop("range", None)
        if options.pop("explain", False):
            resolution = self.store.resolve(contract_id, spec, explain=True, **options)
            return _explained(resolution)
        document = self.store.resolve(contract_id, spec, **options)
        if document is None:
            asked = f"in range {spec!r} " if spec else ""
            detail = f"no version of contract {contract_id!r} {asked}matches"
            return error_answer(404, detail + " (explain=true says why)")
        body, etag = self._body_and_tag(document)
        return Answer(200, body, etag, _about(document, NO_STORE))

    def _document(
        self, document: dict[str, Any], contract_id: str, version: str, cache: bytes
    ) -> Answer:
        body, etag = self._body_and_tag(document)
        if self._dc43 is not None:
            body = self._dc43.body(contract_id, version, etag)
        return Answer(200, body, etag, _about(document, cache))

    def _body_and_tag(self, document: dict[str, Any]) -> tuple[bytes, str]:
        body = json_bytes(document)
        etag = self._fingerprints.get(body)
        if etag is None:
            etag = self._fingerprints.put(body, f'"{fingerprint(document)}"')
        return body, etag


class _Dc43Bodies:
    """What dc43's app answers for a stored version, remembered by fingerprint."""

    def __init__(self, store: DeltaContractStore) -> None:
        from ..dc43_compat import Dc43ContractStore

        self._adapter = Dc43ContractStore(store=store)
        self._bodies = _Memo[str, bytes](4096)

    def body(self, contract_id: str, version: str, etag: str) -> bytes:
        found = self._bodies.get(etag)
        if found is None:
            model = self._adapter.get(contract_id, version)
            found = self._bodies.put(
                etag, json_bytes(model.model_dump(by_alias=True, exclude_none=True))
            )
        return found


K = TypeVar("K")
V = TypeVar("V")


class _Memo(Generic[K, V]):
    """A bounded map shared by threads; the oldest entry goes first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: dict[K, V] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def put(self, key: K, value: V) -> V:
        with self._lock:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)), None)
            self._items[key] = value
        return value


def _about(document: Mapping[str, Any], cache: bytes) -> tuple[tuple[bytes, bytes], ...]:
    version = str(document.get("version", ""))
    headers = [(b"cache-control", cache)]
    if version.isascii() and version.isprintable():
        headers.append((b"x-contract-version", version.encode("ascii")))
    return tuple(headers)


def _explained(resolution: Resolution) -> Answer:
    data = {**resolution.to_dict(), "document": resolution.document}
    if resolution.chosen is None:
        asked = f"in range {resolution.spec!r} " if resolution.spec else ""
        data = {
            "detail": f"no version of contract {resolution.contract_id!r} {asked}matches",
            **data,
        }
    status = 200 if resolution.chosen is not None else 404
    body = json_bytes(data)
    return Answer(status, body, body_etag(body), ((b"cache-control", NO_STORE),))


def _options(query: Query, *, strict: bool) -> dict[str, Any]:
    """``resolve``'s keyword arguments from the query (``filter=column=value``, repeatable
    ``status``); unknown parameters are refused when ``strict``."""
    options: dict[str, Any] = {}
    filters: dict[str, list[str]] = {}
    for name, value in query:
        if name not in _RESOLVE_PARAMS:
            if strict:
                known = ", ".join(sorted(_RESOLVE_PARAMS))
                raise InvalidRequestError(f"unknown query parameter {name!r} (known: {known})")
            continue
        if name in ("status", "filter"):
            column, value = ("status", value) if name == "status" else _column_value(value)
            filters.setdefault(column, []).append(value)
        elif name in ("include_prereleases", "explain"):
            options[name] = _flag(name, value)
        elif name == "as_of":
            options["as_of"] = parse_as_of(value)
        else:
            options["range"] = value
    for column, values in filters.items():
        if column in _NOT_COLUMNS:
            raise InvalidRequestError(f"filter on {column!r} is not possible")
        options[column] = values[0] if len(values) == 1 else values
    return options


def _column_value(text: str) -> tuple[str, str]:
    column, equals, value = text.partition("=")
    if not equals or not column:
        raise InvalidRequestError(f"filter must be COLUMN=VALUE, got {text!r}")
    return column, value


def _flag(name: str, value: str) -> bool:
    try:
        return _FLAGS[value.strip().lower()]
    except KeyError:
        raise InvalidRequestError(f"{name} must be true or false, not {value!r}") from None
