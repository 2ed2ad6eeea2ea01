"""The table's commits, for audits: who changed what, when and why — read and written."""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .. import __version__
from ..core.records import ContractRow

__all__ = ["Commit", "commit_metadata", "commits_of", "update_summary", "write_summary"]


@dataclass(frozen=True)
class Commit:
    """One Delta commit. ``user`` and ``reason`` are Delta's ``userName`` and ``userMetadata``."""

    version: int
    timestamp: datetime
    operation: str
    user: str | None = None
    reason: str | None = None
    contracts: str | None = None
    info: Mapping[str, Any] = field(default_factory=dict, repr=False)


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


def commit_metadata(
    who: str | None, why: str | None, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Commit info: Delta's ``userName`` (``who``, else the OS user) and ``userMetadata``."""
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
