"""The table's commits, for audits: who changed what, when and why — read and written."""

from __future__ import annotations

import getpass
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .. import __version__
from ..core.records import ContractRow
from ..errors import InvalidRequestError
from ..feed.events import DELTA_KEYS

__all__ = [
    "RESERVED_KEYS",
    "Commit",
    "commit_metadata",
    "commits_of",
    "update_summary",
    "write_summary",
]


@dataclass(frozen=True)
class Commit:
    """One Delta commit. ``user`` and ``reason`` are Delta's ``userName`` and ``userMetadata``.

    A commit of ``dc43-delta-store ingest`` also says where its contracts came from: the
    folder (``ingested_from``), its Git commit (``git_commit``, and ``git_dirty`` when the
    work tree had uncommitted changes) and each contract's file (``sources``:
    ``{"id@version": "relative/path.yaml"}``). ``info`` holds everything the commit carries.
    """

    version: int
    timestamp: datetime
    operation: str
    user: str | None = None
    reason: str | None = None
    contracts: str | None = None
    info: Mapping[str, Any] = field(default_factory=dict, repr=False)
    ingested_from: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    sources: Mapping[str, str] | None = field(default=None, repr=False)


def commits_of(raw: list[dict[str, Any]]) -> list[Commit]:
    """Commits from ``DeltaTable.history()`` entries, newest first."""
    return [
        Commit(
            version=int(entry["version"]),
            timestamp=datetime.fromtimestamp(int(entry.get("timestamp", 0)) / 1000, UTC),
            operation=str(entry.get("operation", "")),
            user=entry.get("userName"),
            reason=entry.get("userMetadata"),
            contracts=entry.get("contracts"),
            info=entry,
            ingested_from=entry.get("ingested_from"),
            git_commit=entry.get("git_commit"),
            git_dirty=entry.get("git_dirty"),
            sources=entry.get("sources"),
        )
        for entry in raw
    ]


def write_summary(rows: list[ContractRow]) -> dict[str, Any]:
    """What the commit says about a write: the first 100 keys and the count, for people;
    every ``[contract_id, version, fingerprint]`` for the change feed (``published``)."""
    return {
        "contract_count": len(rows),
        "contracts": ", ".join(f"{row.contract_id}@{row.version}" for row in rows[:100]),
        "published": [[row.contract_id, row.version, row.fingerprint] for row in rows],
    }


def update_summary(contract_id: str, version: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """What the commit of a metadata update says: the row, and the values it set (as JSON)."""
    return {
        "contracts": f"{contract_id}@{version}",
        "metadata_update": {
            "contract_id": contract_id,
            "version": version,
            "values": {name: _json_value(value) for name, value in values.items()},
        },
    }


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


RESERVED_KEYS = DELTA_KEYS | {
    # what the store writes, which the change feed reads
    "dc43_delta_store",
    "contract_count",
    "published",
    "metadata_update",
    "auto_compact",
}
"""Keys ``commit_info`` cannot hold: an :class:`~.errors.InvalidRequestError` names the key."""
_INSTEAD = {"userName": " (pass who=)", "userMetadata": " (pass why=)"}


def commit_metadata(
    who: str | None, why: str | None, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Commit info: Delta's ``userName`` (``who``, else the OS user) and ``userMetadata``.

    ``who`` and ``why`` are text; ``extra`` maps text to JSON values, none of them a key of
    :data:`RESERVED_KEYS`: anything else is an :class:`~.errors.InvalidRequestError`, before
    any commit.

    >>> commit_metadata("ci", None, {"operation": "x"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dc43_delta_store.errors.InvalidRequestError: commit_info 'operation' is Delta's...
    """
    for name, value in (("who", who), ("why", why)):
        if value is not None and not isinstance(value, str):
            raise InvalidRequestError(f"{name} must be text, not {type(value).__name__}")
    if extra is not None and not isinstance(extra, Mapping):
        raise InvalidRequestError(f"commit_info must be a mapping, not {type(extra).__name__}")
    for key in extra or {}:
        if key in RESERVED_KEYS:
            raise InvalidRequestError(
                f"commit_info {key!r} is Delta's or the store's: it cannot be "
                f"set{_INSTEAD.get(key, '')}; use another key"
            )
    for key, value in {**(extra or {}), "who": who, "why": why}.items():
        try:
            if not isinstance(key, str):
                raise TypeError(f"key {key!r} is not text")
            json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
            key.encode("utf-8")
        except (TypeError, ValueError) as exc:
            label = key if key in ("who", "why") else f"commit_info {key!r}"
            raise InvalidRequestError(f"{label} cannot be recorded in a commit: {exc}") from None
    info: dict[str, Any] = {**(extra or {}), "dc43_delta_store": __version__}
    user = who or os_user()
    if user:
        info["userName"] = user
    if why:
        info["userMetadata"] = why
    return info


def os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None
