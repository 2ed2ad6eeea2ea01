"""Keys stored more than once: identical copies read as one, different ones are refused.

Delta has no unique keys. This store never writes a key twice, but other writers can (a
plain append, a Spark job without ``MERGE``). A lookup hands the rows it found to these
functions: copies with the same content (same fingerprint; a row without one counts by the
fingerprint of its JSON) answer once, different contents raise
:class:`~..errors.DuplicateVersionError` naming the key and the fingerprints. Pure: no table
access here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import DuplicateVersionError
from .canonical import fingerprint as document_fingerprint

__all__ = [
    "DuplicateKey",
    "StoredRow",
    "content_of",
    "duplicate_keys",
    "fingerprints_by_key",
    "one_row",
    "versions_of",
]


@dataclass(frozen=True)
class StoredRow:
    """What a lookup read of one row: its version, fingerprint and JSON payload."""

    version: str
    fingerprint: str | None
    payload: str | None = None

    @property
    def content(self) -> str | None:
        return content_of(self.fingerprint, self.payload)


@dataclass(frozen=True)
class DuplicateKey:
    """A (contract_id, version) held by ``rows`` rows with these distinct ``fingerprints``."""

    contract_id: str
    version: str
    rows: int
    fingerprints: tuple[str | None, ...]

    @property
    def identical(self) -> bool:
        """All copies hold the same content: reads answer once, only SQL sees two rows."""
        return len(self.fingerprints) == 1


def content_of(fingerprint: str | None, payload: str | None) -> str | None:
    """What makes two rows of a key the same: the fingerprint; for a row without one, the
    fingerprint of its JSON (or the text itself, if it is not a JSON object).

    >>> content_of(None, '{"id": "a"}') == content_of(None, '{"id":"a"}')
    True
    """
    if fingerprint is not None or payload is None:
        return fingerprint
    try:
        document = json.loads(payload)
    except ValueError:
        return "=" + payload
    return document_fingerprint(document) if isinstance(document, dict) else "=" + payload


def one_row(contract_id: str, version: str, rows: Sequence[StoredRow]) -> StoredRow | None:
    """The row of ``(contract_id, version)`` among ``rows`` (all of that key), or None.

    >>> one_row("a", "1.0.0", [StoredRow("1.0.0", "f1", "{}"), StoredRow("1.0.0", "f1", "{}")])
    StoredRow(version='1.0.0', fingerprint='f1', payload='{}')
    >>> one_row("a", "1.0.0", [StoredRow("1.0.0", "f1"), StoredRow("1.0.0", "f2")])
    Traceback (most recent call last):
    ...
    dc43_delta_store.errors.DuplicateVersionError: contract 'a' version '1.0.0' is stored 2 ...
    """
    if not rows:
        return None
    contents = {row.content for row in rows}
    if len(contents) > 1:
        raise DuplicateVersionError(contract_id, version, _fingerprints(rows), len(rows))
    return rows[0]


def versions_of(contract_id: str, rows: Iterable[StoredRow]) -> list[str]:
    """The distinct versions among ``rows`` (all of one contract), in first-seen order.

    Raises :class:`~..errors.DuplicateVersionError` for the first version (in version text
    order) whose copies differ.
    """
    groups = _by_version(rows)
    for version in sorted(groups):
        one_row(contract_id, version, groups[version])
    return list(groups)


def duplicate_keys(rows: Iterable[tuple[str, str, str | None, str | None]]) -> list[DuplicateKey]:
    """Every key held by more than one of ``rows`` ``(contract_id, version, fingerprint,
    json)``, sorted by key; differing copies first is the caller's choice of order."""
    groups: dict[tuple[str, str], list[StoredRow]] = {}
    for contract_id, version, fingerprint, payload in rows:
        groups.setdefault((contract_id, version), []).append(
            StoredRow(version, fingerprint, payload)
        )
    return [
        DuplicateKey(key[0], key[1], len(group), _fingerprints(group))
        for key, group in sorted(groups.items())
        if len(group) > 1
    ]


def fingerprints_by_key(
    rows: Iterable[tuple[str, str, str | None, str | None]],
) -> dict[tuple[str, str], str | DuplicateKey]:
    """The stored fingerprint of each key among ``rows`` ``(contract_id, version,
    fingerprint, json)``; a :class:`DuplicateKey` where the key is held more than once."""
    rows = list(rows)
    duplicated = {(key.contract_id, key.version): key for key in duplicate_keys(rows)}
    stored: dict[tuple[str, str], str | DuplicateKey] = {}
    for contract_id, version, fingerprint, payload in rows:
        key = (contract_id, version)
        content = content_of(fingerprint, payload)
        stored[key] = duplicated.get(key) or ("" if content is None else content)
    return stored


def _by_version(rows: Iterable[StoredRow]) -> dict[str, list[StoredRow]]:
    groups: dict[str, list[StoredRow]] = {}
    for row in rows:
        groups.setdefault(row.version, []).append(row)
    return groups


def _fingerprints(rows: Iterable[StoredRow]) -> tuple[str | None, ...]:
    """The distinct contents, sorted (a row without fingerprint by its JSON's; None if it
    has neither)."""
    contents = {row.content for row in rows}
    return tuple(sorted(contents, key=lambda fp: (fp is None, fp or "")))
