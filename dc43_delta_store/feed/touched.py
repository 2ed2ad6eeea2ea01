"""Which contracts a commit touched, for remembered answers to survive the others (pure).

A reader that remembered answers at table version N and finds the table at N+k reads the
k commits and keeps every answer whose contract none of them touched:

- the store's own writes name their rows in ``commitInfo`` — ``published`` lists every
  ``[contract_id, version, …]`` a put wrote, ``metadata_update`` the row an update set —
  and touch those contracts only: the rows they carry over (other keys of a rewritten file)
  are unchanged;
- other writers' data changes are placed by file statistics: every row of an added or
  removed file lies between its ``minValues`` and ``maxValues``. ``contract_key`` (the id's
  hash: never truncated) when no row lacks it, else ``contract_id`` (a truncated maximum is
  widened to everything it prefixes). A removed file's statistics come from the remove
  action when the writer kept them, else from ``stats_of(path)`` (the path decoded) — the
  snapshot before;
- upkeep (``dataChange=false``: compaction, optimize) and commits without data files
  (vacuum, application transactions) touch nothing;
- anything else forgets everything: a schema, property or protocol change, a file without
  usable statistics, an action this module does not know.

>>> put = [{"commitInfo": {"dc43_delta_store": "0.1.0", "published": [["a.b", "1.0.0", "f"]]}},
...        {"add": {"path": "p.parquet", "dataChange": True}}]
>>> touched_by(put, lambda path: None).ids
frozenset({'a.b'})
>>> touched_by([{"metaData": {"id": "t"}}], lambda path: None).everything
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ..core.file_stats import Stats, bounds, parse_stats

__all__ = [
    "EVERYTHING",
    "NOTHING",
    "Stats",
    "Touched",
    "bounds",
    "parse_stats",
    "touched_by",
    "union",
]

# Statistics this long may be truncated prefixes (Spark keeps 32 characters, delta-rs 64).
_TRUNCATION = 32
_ABOVE_PREFIXED = "\U0010ffff"
# Actions that change no row.
_NO_DATA = frozenset({"commitInfo", "txn", "cdc", "domainMetadata", "checkpointMetadata"})


@dataclass(frozen=True)
class Touched:
    """What some commits changed, as remembered answers see it.

    ``everything``: forget every answer. ``data``: some rows changed (answers about the
    whole table are stale). The contracts touched: ``ids``, ``keys`` (``contract_key``
    values), and inclusive ranges of either.
    """

    everything: bool = False
    data: bool = False
    ids: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()
    id_ranges: tuple[tuple[str, str], ...] = ()
    key_ranges: tuple[tuple[str, str], ...] = ()
    reason: str = field(default="", compare=False)

    def covers(self, contract_id: str, key: str) -> bool:
        """Whether answers about ``contract_id`` (whose contract_key is ``key``) are stale.

        >>> Touched(data=True, key_ranges=(("0a", "0f"),)).covers("x", "0c")
        True
        """
        return (
            self.everything
            or contract_id in self.ids
            or key in self.keys
            or any(low <= contract_id <= high for low, high in self.id_ranges)
            or any(low <= key <= high for low, high in self.key_ranges)
        )

    @property
    def ranged(self) -> bool:
        return bool(self.id_ranges or self.key_ranges)

    def __or__(self, other: Touched) -> Touched:
        if self.everything:
            return self
        if other.everything:
            return other
        return Touched(
            data=self.data or other.data,
            ids=self.ids | other.ids,
            keys=self.keys | other.keys,
            id_ranges=self.id_ranges + other.id_ranges,
            key_ranges=self.key_ranges + other.key_ranges,
        )


NOTHING = Touched()
EVERYTHING = Touched(everything=True, data=True, reason="unknown")


def _everything(reason: str) -> Touched:
    return Touched(everything=True, data=True, reason=reason)


def touched_by(
    actions: Sequence[Mapping[str, Any]], stats_of: Callable[[str], Stats | None]
) -> Touched:
    """What one commit (its actions, in log order) touched; ``stats_of`` gives the
    statistics of a file the table held before the commit (None when unknown)."""
    files: list[Mapping[str, Any]] = []
    info: Mapping[str, Any] = {}
    for action in actions:
        if len(action) != 1:
            return _everything("an action that is not one object")
        ((kind, body),) = action.items()
        if kind == "commitInfo":
            info = body if isinstance(body, Mapping) else {}
        elif kind in ("add", "remove"):
            if not isinstance(body, Mapping):
                return _everything(f"a malformed {kind} action")
            if body.get("dataChange", True) is not False:
                files.append({"kind": kind, **body})
        elif kind not in _NO_DATA:
            return _everything(f"a {kind} action")
    if not files:
        return NOTHING
    named = _named_by_store(info)
    if named is not None:
        return Touched(data=True, ids=named)
    result = Touched(data=True)
    for body in files:
        scope = _file_scope(body, stats_of)
        if scope.everything:
            return scope
        result = result | scope
    return result


def _named_by_store(info: Mapping[str, Any]) -> frozenset[str] | None:
    """The contract ids a commit of this store names, or None when it names none."""
    if "dc43_delta_store" not in info:
        return None
    published = info.get("published")
    if isinstance(published, list) and all(
        isinstance(entry, list) and entry and isinstance(entry[0], str) for entry in published
    ):
        return frozenset(entry[0] for entry in published)
    update = info.get("metadata_update")
    if isinstance(update, Mapping) and isinstance(update.get("contract_id"), str):
        return frozenset({update["contract_id"]})
    return None


def _file_scope(body: Mapping[str, Any], stats_of: Callable[[str], Stats | None]) -> Touched:
    path = body.get("path")
    partition = body.get("partitionValues")
    if isinstance(partition, Mapping):
        for column in ("contract_key", "contract_id"):
            value = partition.get(column)
            if isinstance(value, str):
                return _exact(column, value)
    stats = parse_stats(body.get("stats"))
    if stats is None and body["kind"] == "remove" and isinstance(path, str):
        stats = stats_of(unquote(path))
    if stats is None:
        return _everything(f"a {body['kind']} of {path!r} without statistics")
    if stats.get("numRecords") == 0:
        return Touched(data=True)
    for column in ("contract_key", "contract_id"):
        found = bounds(stats, column)
        if found is not None:
            low, high = found
            if low == high and len(low) < _TRUNCATION:
                return _exact(column, low)
            high += _ABOVE_PREFIXED  # a truncated maximum bounds what it prefixes
            if column == "contract_key":
                return Touched(data=True, key_ranges=((low, high),))
            return Touched(data=True, id_ranges=((low, high),))
    return _everything(f"a {body['kind']} of {path!r} without contract statistics")


def _exact(column: str, value: str) -> Touched:
    if column == "contract_key":
        return Touched(data=True, keys=frozenset({value}))
    return Touched(data=True, ids=frozenset({value}))


def union(parts: Iterable[Touched]) -> Touched:
    """Everything ``parts`` touched."""
    result = NOTHING
    for part in parts:
        result = result | part
        if result.everything:
            break
    return result
