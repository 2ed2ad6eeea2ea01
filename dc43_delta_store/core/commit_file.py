"""The store's own insert commits: the actions of one, and whether a commit that won the
race for its version conflicts with it (pure).

An insert adds one data file holding new (contract_id, version) keys, after reading that
the snapshot holds none of them. A concurrent commit invalidates that reading when it could
hold one of the keys — it adds a file whose statistics admit one (or has no statistics), or
changes the schema or protocol — or when it records one of the same application
transactions (the compatibility gate's per-contract locks). Otherwise the insert commits at
the next version unchanged, as Delta's optimistic concurrency allows.

>>> add = {"add": {"path": "p", "stats": '{"numRecords":1,"minValues":{"contract_key":"0a"},'
...        '"maxValues":{"contract_key":"0f"},"nullCount":{"contract_key":0}}'}}
>>> conflict([("x", "1.0.0")], (), [add], key_of=lambda cid: "0c")
'it added p, which may hold contract_id x'
>>> conflict([("x", "1.0.0")], (), [add], key_of=lambda cid: "1c") is None
True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .file_stats import bounds, parse_stats

__all__ = ["add_action", "commit_bytes", "conflict"]

_HARMLESS = frozenset({"commitInfo", "cdc", "domainMetadata", "checkpointMetadata"})


def add_action(path: str, size: int, modified_ms: int, stats: str) -> dict[str, Any]:
    """The ``add`` of a new data file (``path`` relative to the table, plain characters)."""
    return {
        "add": {
            "path": path,
            "partitionValues": {},
            "size": size,
            "modificationTime": modified_ms,
            "dataChange": True,
            "stats": stats,
        }
    }


def commit_bytes(
    info: Mapping[str, Any],
    timestamp_ms: int,
    actions: Sequence[Mapping[str, Any]],
    transactions: Sequence[tuple[str, int]] = (),
) -> bytes:
    """A commit file: ``commitInfo`` (``info`` merged in, as delta-rs merges custom
    metadata), the application transactions, then ``actions``, one JSON object per line."""
    added = [a["add"] for a in actions if "add" in a]
    rows = sum(json.loads(a.get("stats") or "{}").get("numRecords", 0) for a in added)
    commit_info = {
        "timestamp": timestamp_ms,
        "operation": "WRITE",
        "operationParameters": {"mode": "Append"},
        **info,
        "operationMetrics": {
            "num_added_files": len(added),
            "num_removed_files": 0,
            "num_added_rows": rows,
        },
        "isBlindAppend": False,
    }
    lines: list[Mapping[str, Any]] = [{"commitInfo": commit_info}]
    lines += [
        {"txn": {"appId": app, "version": version, "lastUpdated": timestamp_ms}}
        for app, version in transactions
    ]
    lines += list(actions)
    text = "\n".join(json.dumps(line, separators=(",", ":"), ensure_ascii=False) for line in lines)
    return text.encode("utf-8")


def conflict(
    keys: Iterable[tuple[str, str]],
    transactions: Iterable[str],
    winner: Sequence[Mapping[str, Any]],
    *,
    key_of: Callable[[str], str],
) -> str | None:
    """Why the commit ``winner`` (its actions) invalidates an insert of ``keys`` recording
    the application ``transactions``, or None when the insert may commit after it.
    ``key_of`` gives an id's ``contract_key``."""
    ids = sorted({contract_id for contract_id, _ in keys})
    apps = set(transactions)
    for action in winner:
        kind = next(iter(action), "")
        body = action.get(kind)
        if kind in _HARMLESS or kind == "remove":
            continue  # a removed file's rows were already there: the insert read them
        if kind in ("metaData", "protocol"):
            return f"it changed the table's {kind}"
        if kind == "txn":
            if isinstance(body, Mapping) and body.get("appId") in apps:
                return f"it recorded the same application transaction {body.get('appId')}"
            continue
        if kind != "add" or not isinstance(body, Mapping):
            return f"it holds a {kind} action"
        found = _admitted(body, ids, key_of)
        if found is not None:
            return f"it added {body.get('path')}, which may hold contract_id {found}"
    return None


def _admitted(
    add: Mapping[str, Any], ids: Sequence[str], key_of: Callable[[str], str]
) -> str | None:
    """The first id the added file may hold (by partition values or statistics)."""
    partitions = add.get("partitionValues")
    if isinstance(partitions, Mapping) and partitions:
        for contract_id in ids:
            if partitions.get("contract_id") in (None, contract_id) and partitions.get(
                "contract_key"
            ) in (None, key_of(contract_id)):
                return contract_id
        return None
    stats = parse_stats(add.get("stats"))
    if stats is None:
        return ids[0] if ids else None
    if stats.get("numRecords") == 0:
        return None
    by_key = bounds(stats, "contract_key")
    by_id = bounds(stats, "contract_id")
    for contract_id in ids:
        if by_key is not None:
            if by_key[0] <= key_of(contract_id) <= by_key[1]:
                return contract_id
        elif by_id is None or by_id[0] <= contract_id <= by_id[1] + "\U0010ffff":
            return contract_id
    return None
