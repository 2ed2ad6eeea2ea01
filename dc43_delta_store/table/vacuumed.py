"""Why an older table version cannot be read: ``vacuum`` deleted its data files.

Time travel loads any version whose commits are in the log, but reading its rows needs its
data files, and ``vacuum`` deletes the files that versions older than its retention refer
to. Every version committed at or after the cutoff of the last vacuum (its start time minus
its retention) is still readable; older ones may not be.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["vacuumed"]


def vacuumed(history: Sequence[Mapping[str, Any]], version: int, table: str) -> str | None:
    """Why ``version`` of ``table`` is unreadable if a vacuum after it explains it (from the
    table's ``history``, newest first, as deltalake gives it), else None.

    >>> history = [
    ...     {"version": 3, "timestamp": 9000, "operation": "VACUUM START",
    ...      "operationParameters": {"specifiedRetentionMillis": "5000"}},
    ...     {"version": 2, "timestamp": 4500, "operation": "WRITE"},
    ...     {"version": 1, "timestamp": 3000, "operation": "WRITE"},
    ... ]
    >>> print(vacuumed(history, 1, "t"))
    table t version 1 cannot be read: its data files were deleted by vacuum at table \
version 3; versions 2 to 3 are readable
    """
    starts = [
        entry
        for entry in history
        if entry.get("operation") == "VACUUM START" and _int(entry.get("version")) > version
    ]
    if not starts:
        return None
    last = max(starts, key=lambda entry: _int(entry.get("version")))
    first = min(starts, key=lambda entry: _int(entry.get("version")))
    parameters = last.get("operationParameters") or {}
    retention = _int(
        parameters.get("specifiedRetentionMillis") or parameters.get("defaultRetentionMillis")
    )
    cutoff = _int(last.get("timestamp")) - retention
    versions = [_int(entry.get("version")) for entry in history]
    newest = max(versions)
    readable = min(
        (_int(e.get("version")) for e in history if _int(e.get("timestamp")) >= cutoff),
        default=newest,
    )
    return (
        f"table {table} version {version} cannot be read: its data files were deleted by "
        f"vacuum at table version {_int(first.get('version'))}; versions {readable} to "
        f"{newest} are readable"
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
