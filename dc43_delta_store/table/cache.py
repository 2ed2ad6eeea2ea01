"""Answers of reads, remembered in a bounded number of bytes across commits.

A *live* answer was computed on the newest snapshot the store has seen, and says what it
depends on: one contract (``latest``, ``get``, ``list_versions``), the whole table's rows
(``list_contracts``: :data:`TABLE`) or its schema (:data:`SCHEMA`). When the table moves
from version N to M, ``changes(N, M)`` tells which contracts the commits in between touched
(see :mod:`..feed.touched`); live answers about the others stay, answers about the whole
table go with any data change, and everything goes when the commits cannot be attributed.
A *pinned* answer belongs to one fixed table version (``as_of=12``) and stays right for
ever. Both kinds share one least-recently-used budget of ``max_bytes``, counted from the
size of what is kept (a 200 KB contract counts 200 KB).

Values are immutable (text, tuples, frozen dataclasses), so callers cannot alter them.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Final, TypeVar, cast

from ..core.records import contract_key
from ..feed.touched import EVERYTHING, Touched

__all__ = ["DEFAULT_CACHE_BYTES", "SCHEMA", "TABLE", "ResultCache", "Scope", "size_of"]

T = TypeVar("T")
DEFAULT_CACHE_BYTES: Final = 8 * 1024 * 1024
_OVERHEAD = 640  # per live entry: its key, entry object, index and dictionary slots (measured)


class _Whole:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


TABLE: Final = _Whole("TABLE")
"""Scope of an answer that depends on every row (``list_contracts``)."""
SCHEMA: Final = _Whole("SCHEMA")
"""Scope of an answer that depends on the table's schema only (its columns)."""
Scope = str | _Whole
"""What a live answer depends on: a contract id, :data:`TABLE` or :data:`SCHEMA`."""
Changes = Callable[[int, int], Touched]


@dataclass(slots=True)
class _Entry:
    value: Any
    size: int
    scope: Scope | None  # None: pinned to a version


class ResultCache:
    """Live answers that follow the table and pinned ones, in ``max_bytes`` at most.

    ``changes(old, new)`` says what the commits after ``old`` up to ``new`` touched;
    without it, any new version forgets every live answer.

    >>> cache = ResultCache(max_bytes=1000)
    >>> cache.live(3, ("latest", "a"), lambda: "1.0.0", scope="a")
    '1.0.0'
    >>> cache.live(3, ("latest", "a"), lambda: "computed again", scope="a")
    '1.0.0'
    """

    def __init__(
        self,
        max_bytes: int = DEFAULT_CACHE_BYTES,
        changes: Changes | None = None,
        epoch: Callable[[], int] = lambda: 0,
    ):
        self.max_bytes = max_bytes
        self._changes = changes or (lambda old, new: EVERYTHING)
        self._epoch_of = epoch  # a new epoch (the table was replaced) forgets everything
        self._epoch = epoch()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0
        self._version: int | None = None  # of the live answers
        self._by_id: dict[str, list[Hashable]] = {}  # contract id -> its live entries
        self._ids_by_key: dict[str, list[str]] = {}  # contract_key -> contract ids
        self._wholes: dict[_Whole, set[Hashable]] = {TABLE: set(), SCHEMA: set()}
        self._lock = threading.RLock()
        self.hits = 0  # live answers found, and computed: what benchmarks and tests observe
        self.misses = 0

    @property
    def bytes(self) -> int:
        """The size of what is remembered."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    # -- live answers --------------------------------------------------------------------

    def live(self, version: int, query: Hashable, compute: Callable[[], T], *, scope: Scope) -> T:
        """The answer to ``query`` on the newest snapshot, at table ``version``."""
        key = ("live", query)
        with self._lock:
            self._same_table()
            self._follow(version)
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return cast(T, entry.value)
            self.misses += 1
        epoch = self._epoch
        value = compute()
        with self._lock:
            if self._version == version and self._epoch == epoch:  # not moved on meanwhile
                self._store(key, value, scope)
        return value

    def _follow(self, version: int) -> None:
        if self._version == version:
            return
        old, self._version = self._version, version
        if old is None:
            return
        touched = self._changes(old, version) if version > old else EVERYTHING
        if touched.everything:
            self._drop([k for k, e in self._entries.items() if e.scope is not None])
            return
        stale: list[Hashable] = list(self._wholes[TABLE]) if touched.data else []
        ids = set(touched.ids)
        for key in touched.keys:
            ids.update(self._ids_by_key.get(key, ()))
        if touched.ranged:
            ids |= {i for i in self._by_id if touched.covers(i, contract_key(i))}
        for contract_id in ids:
            stale += self._by_id.get(contract_id, ())
        self._drop(stale)

    # -- pinned answers ------------------------------------------------------------------

    def pinned(self, version: int, query: Hashable, compute: Callable[[], T]) -> T:
        """The answer to ``query`` at the fixed table ``version``."""
        key = ("at", version, query)
        with self._lock:
            self._same_table()
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return cast(T, entry.value)
        epoch = self._epoch
        value = compute()
        with self._lock:
            if self._epoch == epoch:
                self._store(key, value, None)
        return value

    def _same_table(self) -> None:
        epoch = self._epoch_of()
        if epoch != self._epoch:
            self._drop(list(self._entries))
            self._version, self._epoch = None, epoch

    # -- bookkeeping ---------------------------------------------------------------------

    def _store(self, key: Hashable, value: Any, scope: Scope | None) -> None:
        size = size_of(value) + _OVERHEAD
        if size > self.max_bytes:
            return
        self._drop([key])
        self._entries[key] = _Entry(value, size, scope)
        self._bytes += size
        if isinstance(scope, _Whole):
            self._wholes[scope].add(key)
        elif scope is not None:
            if scope not in self._by_id:
                self._by_id[scope] = []
                self._ids_by_key.setdefault(contract_key(scope), []).append(scope)
            self._by_id[scope].append(key)
        while self._bytes > self.max_bytes:
            self._drop([next(iter(self._entries))])

    def _drop(self, keys: list[Hashable]) -> None:
        for key in keys:
            entry = self._entries.pop(key, None)
            if entry is None:
                continue
            self._bytes -= entry.size
            scope = entry.scope
            if isinstance(scope, _Whole):
                self._wholes[scope].discard(key)
            elif scope is not None:
                queries = self._by_id[scope]
                queries.remove(key)
                if not queries:
                    del self._by_id[scope]
                    ids = self._ids_by_key[contract_key(scope)]
                    ids.remove(scope)
                    if not ids:
                        del self._ids_by_key[contract_key(scope)]


def size_of(value: Any) -> int:
    """About how many bytes ``value`` holds (text by its length, containers by their items;
    a long tuple or list by an even sample of :data:`_SAMPLE` of them).

    >>> size_of("x" * 200_000) > 200_000
    True
    >>> size_of(tuple("x" * 1_000 for _ in range(10_000))) > 10_000_000
    True
    """
    kind = type(value)
    if kind is str or kind is bytes:
        return sys.getsizeof(value)
    if kind is tuple or kind is list:
        return _sequence_size(value)
    names = _field_names(kind)
    if names:
        return 56 + sum(size_of(getattr(value, name)) for name in names)
    if isinstance(value, (str, bytes, bytearray)):
        return sys.getsizeof(value)
    if isinstance(value, (tuple, list)):
        return _sequence_size(value)
    if isinstance(value, (set, frozenset)):
        return 56 + 8 * len(value) + sum(map(size_of, value))
    if isinstance(value, Mapping):
        return 232 + sum(size_of(k) + size_of(v) for k, v in value.items())
    return sys.getsizeof(value)


_SAMPLE: Final = 32


def _sequence_size(items: Sequence[Any]) -> int:
    count = len(items)
    if count <= 2 * _SAMPLE:
        return 56 + 8 * count + sum(map(size_of, items))
    sample = items[:: count // _SAMPLE]
    return 56 + 8 * count + sum(map(size_of, sample)) * count // len(sample)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    """The fields of dataclass ``kind`` (none for other types)."""
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in fields(kind)) if is_dataclass(kind) else ()
    return names
