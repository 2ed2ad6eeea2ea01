"""A Delta table version replayed from its log: protocol, metadata, data files and
application transactions (pure: actions in, state out).

The store reads the log itself on object stores (see :mod:`..table.log_reader`), where
each request is a network round trip: a checkpoint's actions, then the commits after it.
Only what the store's reads and writes use is kept: every ``add`` of the version (path,
size, statistics), the last ``metaData`` and ``protocol``, and ``txn`` versions by app id.
A state is immutable: :meth:`LogState.advance` returns the next one.

>>> state = LogState.replay(0, [
...     {"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}},
...     {"metaData": {"id": "t1", "schemaString": "{}", "partitionColumns": [],
...                   "configuration": {}}},
... ])
>>> state = state.advance(1, [{"add": {"path": "a%20b.parquet", "size": 10,
...     "partitionValues": {}, "modificationTime": 1, "dataChange": True}}])
>>> sorted(state.files), state.table_id
(['a b.parquet'], 't1')
>>> state.advance(2, [{"remove": {"path": "a%20b.parquet", "dataChange": True}}]).files
mappingproxy({})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

__all__ = ["DataFile", "LogState"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class DataFile:
    """One data file of a table version, as its ``add`` action describes it."""

    path: str  # decoded, relative to the table root (or a URI)
    size: int
    stats: str | None  # the statistics' JSON text, as the log holds it
    partition_values: Mapping[str, str | None] = field(default_factory=lambda: _EMPTY)
    deletion_vector: bool = False
    action: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False)  # the add


@dataclass(frozen=True)
class LogState:
    """Table ``version``: its ``protocol`` and ``metadata`` actions, its ``files`` by
    decoded path and its application ``transactions`` (app id -> version)."""

    version: int
    protocol: Mapping[str, Any]
    metadata: Mapping[str, Any]
    files: Mapping[str, DataFile]
    transactions: Mapping[str, int]

    @classmethod
    def replay(cls, version: int, actions: Iterable[Mapping[str, Any]]) -> LogState:
        """The state after ``actions`` (a checkpoint's, then commits' in order) at
        ``version``."""
        empty = cls(-1, _EMPTY, _EMPTY, _EMPTY, _EMPTY)
        return empty.advance(version, actions)

    def advance(self, version: int, actions: Iterable[Mapping[str, Any]]) -> LogState:
        """The state at ``version`` after this one and ``actions`` (one or more commits)."""
        protocol, metadata = self.protocol, self.metadata
        files = dict(self.files)
        transactions = dict(self.transactions)
        for action in actions:
            if not isinstance(action, Mapping):
                raise ValueError(f"table version {version}: an action is not a JSON object")
            if isinstance(add := action.get("add"), Mapping):
                data_file = _data_file(add, version)
                files[data_file.path] = data_file
            elif isinstance(remove := action.get("remove"), Mapping):
                files.pop(_path(remove, version), None)
            elif isinstance(found := action.get("metaData"), Mapping):
                metadata = MappingProxyType(dict(found))
            elif isinstance(found := action.get("protocol"), Mapping):
                protocol = MappingProxyType(dict(found))
            elif isinstance(txn := action.get("txn"), Mapping):
                app, number = txn.get("appId"), txn.get("version")
                if isinstance(app, str) and isinstance(number, int):
                    transactions[app] = number
        return LogState(
            version, protocol, metadata, MappingProxyType(files), MappingProxyType(transactions)
        )

    @property
    def table_id(self) -> str | None:
        found = self.metadata.get("id")
        return found if isinstance(found, str) else None

    @property
    def configuration(self) -> Mapping[str, str]:
        found = self.metadata.get("configuration")
        return found if isinstance(found, Mapping) else _EMPTY

    @property
    def partition_columns(self) -> tuple[str, ...]:
        found = self.metadata.get("partitionColumns")
        return tuple(str(c) for c in found) if isinstance(found, list | tuple) else ()

    @property
    def schema_string(self) -> str | None:
        found = self.metadata.get("schemaString")
        return found if isinstance(found, str) else None

    def features(self) -> tuple[frozenset[str], frozenset[str]]:
        """The protocol's reader and writer features as listed (table features, writer 7)."""
        return (
            frozenset(self.protocol.get("readerFeatures") or ()),
            frozenset(self.protocol.get("writerFeatures") or ()),
        )


def _path(action: Mapping[str, Any], version: int) -> str:
    path = action.get("path")
    if not isinstance(path, str) or not path:
        raise ValueError(f"table version {version}: a file action without a path")
    return unquote(path)


def _data_file(add: Mapping[str, Any], version: int) -> DataFile:
    size = add.get("size")
    stats = add.get("stats")
    partitions = add.get("partitionValues")
    return DataFile(
        path=_path(add, version),
        size=size if isinstance(size, int) else 0,
        stats=stats if isinstance(stats, str) else None,
        partition_values=MappingProxyType(dict(partitions))
        if isinstance(partitions, Mapping)
        else _EMPTY,
        deletion_vector=bool(add.get("deletionVector")),
        action=MappingProxyType(dict(add)),
    )
