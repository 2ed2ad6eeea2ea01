"""The stored payload and the fingerprint, computed from the source document.

dc43 fingerprints ``model_dump(by_alias=True, exclude_none=True)`` of the ODCS pydantic
model. For every document the model keeps whole, that dump equals the source with its
explicit nulls removed, so hashing the null-stripped source gives dc43's fingerprint while
keeping the keys the model would have dropped.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["canonical_json", "fingerprint", "payload_and_fingerprint", "strip_nulls"]


def strip_nulls(value: Any) -> Any:
    """Drop mapping entries whose value is ``None``, at every depth (list items stay)."""
    if isinstance(value, dict):
        return {key: strip_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [strip_nulls(item) for item in value]
    return value


def canonical_json(document: dict[str, Any]) -> str:
    """The ``json`` column: compact JSON in the author's key order, without explicit nulls.

    >>> canonical_json({"id": "x", "version": "1.0.0", "name": None})
    '{"id":"x","version":"1.0.0"}'
    """
    return _compact(strip_nulls(document))


def fingerprint(document: dict[str, Any]) -> str:
    """SHA-256 hex of the sorted-key compact JSON, exactly as ``dc43_core.odcs.fingerprint``.

    >>> fingerprint({"version": "1.0.0", "id": "x"}) == fingerprint({"id": "x", "version": "1.0.0"})
    True
    """
    return _sha256(strip_nulls(document))


def payload_and_fingerprint(document: dict[str, Any]) -> tuple[str, str]:
    """:func:`canonical_json` and :func:`fingerprint` of ``document``, stripping nulls once."""
    stripped = strip_nulls(document)
    return _compact(stripped), _sha256(stripped)


def _compact(stripped: Any) -> str:
    return json.dumps(stripped, ensure_ascii=False, separators=(",", ":"))


def _sha256(stripped: Any) -> str:
    payload = json.dumps(stripped, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
