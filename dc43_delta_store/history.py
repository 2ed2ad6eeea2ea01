"""The table's commits, for audits: who changed what, when and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["Commit", "commits_of"]


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
