"""What a commit means to a consumer: the change feed's events, from a commit's actions (pure).

A Delta commit is a list of actions (``commitInfo``, ``add``, ``remove``, ``metaData``…).
The store writes what a consumer needs into ``commitInfo`` (see
:mod:`..table.history`): ``published`` lists the ``[contract_id, version, fingerprint]``
a put inserted, ``metadata_update`` the row and the columns an update set. From those:

- ``published``: a new contract version (id, version, fingerprint, who, why, and the
  commit's provenance such as ``git_commit``, ``ingested_from`` and the file it came from);
- ``metadata``: governance columns set on a stored version (id, version, the new values);
- ``columns-added``: metadata columns added to the table (name and type);
- ``unknown``: a data change by another writer (Spark, SQL), described as well as the
  actions allow (operation, rows added and removed, contract ids from file statistics).

Upkeep — compaction, optimize, vacuum, checkpoints, table properties, the table's
creation — changes no data and produces no event. Commits written by dc43_delta_store 0.1.0
(before ``published`` existed) give ``published`` events without fingerprints and
``metadata`` events without values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ["DELTA_KEYS", "ChangeEvent", "Changes", "EventKind", "events_of"]

EventKind = Literal["published", "metadata", "columns-added", "unknown"]

DELTA_KEYS = frozenset(
    {
        "timestamp",
        "inCommitTimestamp",
        "operation",
        "operationParameters",
        "operationMetrics",
        "readVersion",
        "isolationLevel",
        "isBlindAppend",
        "engineInfo",
        "clientVersion",
        "userName",
        "userId",
        "userMetadata",
        "txnId",
        "job",
        "notebook",
        "clusterId",
        "tags",
    }
)
"""The commit info keys Delta writers (and Databricks) write themselves."""
_STORE_KEYS = frozenset(
    {
        "dc43_delta_store",
        "contracts",
        "contract_count",
        "published",
        "metadata_update",
        "auto_compact",
        "sources",
    }
)


@dataclass(frozen=True)
class ChangeEvent:
    """One thing that happened at table version ``table_version``.

    ``who`` and ``why`` are the commit's ``userName`` and ``userMetadata``; ``values`` the
    columns a ``metadata`` event set (None when the commit did not say); ``columns`` the
    columns added (name -> type); ``provenance`` what else the writer recorded
    (``git_commit``, ``ingested_from``, ``source``…); ``description`` what an ``unknown``
    event did, as far as the commit tells.
    """

    table_version: int
    timestamp: datetime | None
    kind: EventKind
    operation: str
    contract_id: str | None = None
    version: str | None = None
    fingerprint: str | None = None
    who: str | None = None
    why: str | None = None
    values: Mapping[str, Any] | None = None
    columns: Mapping[str, str] | None = None
    provenance: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the command line prints."""
        return {
            "table_version": self.table_version,
            "timestamp": self.timestamp,
            "kind": self.kind,
            "contract_id": self.contract_id,
            "version": self.version,
            "fingerprint": self.fingerprint,
            "who": self.who,
            "why": self.why,
            "values": None if self.values is None else dict(self.values),
            "columns": None if self.columns is None else dict(self.columns),
            "provenance": dict(self.provenance),
            "operation": self.operation,
            "description": self.description,
        }


@dataclass(frozen=True)
class Changes:
    """Events after table version ``since``, oldest first, and the ``cursor`` to pass as
    ``since`` next time: the table version they were read up to (-1 before any table)."""

    events: tuple[ChangeEvent, ...]
    cursor: int

    def to_dict(self) -> dict[str, Any]:
        return {"events": [event.to_dict() for event in self.events], "cursor": self.cursor}


def events_of(table_version: int, actions: Sequence[Mapping[str, Any]]) -> list[ChangeEvent]:
    """The events of one commit, from its actions in log order (never raises on odd input).

    >>> info = {"commitInfo": {"operation": "MERGE", "timestamp": 0, "userName": "ci",
    ...         "published": [["sales.orders", "1.0.0", "6d55fa"]], "git_commit": "abc123"}}
    >>> [(e.kind, e.contract_id, e.version, e.who, dict(e.provenance))
    ...  for e in events_of(7, [info])]
    [('published', 'sales.orders', '1.0.0', 'ci', {'git_commit': 'abc123'})]
    """
    info = _commit_info(actions)
    base = _Base(
        table_version,
        _timestamp(info),
        str(info.get("operation") or "unknown"),
        _text(info.get("userName")),
        _text(info.get("userMetadata")),
    )
    provenance = {k: v for k, v in info.items() if k not in DELTA_KEYS | _STORE_KEYS}
    metrics = info.get("operationMetrics")
    metrics = metrics if isinstance(metrics, Mapping) else {}
    if isinstance(info.get("published"), list):
        if metrics.get("num_target_rows_inserted") == 0:
            return []  # nothing was new after all
        sources = info.get("sources")
        sources = sources if isinstance(sources, Mapping) else {}
        return [
            base.event(
                "published",
                contract_id=str(entry[0]),
                version=str(entry[1]),
                fingerprint=_text(entry[2]) if len(entry) > 2 else None,
                provenance=_with_source(provenance, sources, entry),
            )
            for entry in info["published"]
            if isinstance(entry, list) and len(entry) >= 2
        ]
    update = info.get("metadata_update")
    if isinstance(update, Mapping):
        values = update.get("values")
        return [
            base.event(
                "metadata",
                contract_id=_text(update.get("contract_id")),
                version=_text(update.get("version")),
                values=dict(values) if isinstance(values, Mapping) else None,
                provenance=provenance,
            )
        ]
    if base.operation == "ADD COLUMN":
        return [base.event("columns-added", columns=_added_columns(info), provenance=provenance)]
    legacy = _legacy(base, info, metrics, provenance)
    if legacy is not None:
        return legacy
    if _changes_data(actions):
        return [base.event("unknown", provenance=provenance, description=_describe(base, actions))]
    return []


@dataclass(frozen=True)
class _Base:
    table_version: int
    timestamp: datetime | None
    operation: str
    who: str | None
    why: str | None

    def event(self, kind: EventKind, **fields: Any) -> ChangeEvent:
        return ChangeEvent(
            self.table_version,
            self.timestamp,
            kind,
            self.operation,
            who=self.who,
            why=self.why,
            **fields,
        )


def _commit_info(actions: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    for action in actions:
        info = action.get("commitInfo")
        if isinstance(info, Mapping):
            return info
    return {}


def _timestamp(info: Mapping[str, Any]) -> datetime | None:
    millis = info.get("inCommitTimestamp", info.get("timestamp"))
    if isinstance(millis, bool) or not isinstance(millis, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _with_source(
    provenance: Mapping[str, Any], sources: Mapping[str, Any], entry: list[Any]
) -> dict[str, Any]:
    source = sources.get(f"{entry[0]}@{entry[1]}")
    return {**provenance, "source": source} if source is not None else dict(provenance)


def _added_columns(info: Mapping[str, Any]) -> dict[str, str]:
    parameters = info.get("operationParameters")
    fields = parameters.get("fields") if isinstance(parameters, Mapping) else None
    try:
        parsed = json.loads(fields) if isinstance(fields, str) else fields
    except ValueError:
        return {}
    if not isinstance(parsed, list):
        return {}
    return {
        str(item["name"]): str(item.get("type"))
        for item in parsed
        if isinstance(item, Mapping) and "name" in item
    }


def _legacy(
    base: _Base,
    info: Mapping[str, Any],
    metrics: Mapping[str, Any],
    provenance: Mapping[str, Any],
) -> list[ChangeEvent] | None:
    """Events of a MERGE written by dc43_delta_store 0.1.0 (its ``contracts`` summary)."""
    listed = info.get("contracts")
    if "dc43_delta_store" not in info or base.operation != "MERGE" or not isinstance(listed, str):
        return None
    keys = [entry.rsplit("@", 1) for entry in listed.split(", ") if "@" in entry]
    inserted, updated = (
        metrics.get("num_target_rows_inserted"),
        metrics.get("num_target_rows_updated"),
    )
    if inserted and inserted == len(keys):
        return [
            base.event("published", contract_id=i, version=v, provenance=provenance)
            for i, v in keys
        ]
    if updated and len(keys) == 1:
        ((cid, version),) = keys
        return [base.event("metadata", contract_id=cid, version=version, provenance=provenance)]
    return None


def _changes_data(actions: Sequence[Mapping[str, Any]]) -> bool:
    for action in actions:
        for kind in ("add", "remove"):
            body = action.get(kind)
            if isinstance(body, Mapping) and body.get("dataChange", True):
                return True
    return False


def _describe(base: _Base, actions: Sequence[Mapping[str, Any]]) -> str:
    """``WRITE by alice: 1 file added (3 rows), 0 removed; contract ids a, b``."""
    added = removed = rows = 0
    ids: set[str] = set()
    for action in actions:
        add, remove = action.get("add"), action.get("remove")
        if isinstance(add, Mapping) and add.get("dataChange", True):
            added += 1
            stats = _stats(add.get("stats"))
            count = stats.get("numRecords")
            rows += count if isinstance(count, int) else 0
            low = (stats.get("minValues") or {}).get("contract_id")
            high = (stats.get("maxValues") or {}).get("contract_id")
            if isinstance(low, str) and low == high:
                ids.add(low)
        elif isinstance(remove, Mapping) and remove.get("dataChange", True):
            removed += 1
    who = f" by {base.who}" if base.who else ""
    text = f"{base.operation}{who}: {added} file(s) added ({rows} rows), {removed} removed"
    return text + (f"; contract ids {', '.join(sorted(ids))}" if ids else "")


def _stats(raw: Any) -> Mapping[str, Any]:
    try:
        stats = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return stats if isinstance(stats, Mapping) else {}
