"""Answers of reads, remembered per table version.

A table version never changes, so an answer computed at version N stays right for as long as
the table is at version N; the store checks for a newer version on every call (see
``ContractTable.current``) and only then computes again. Values are immutable (JSON text,
tuples), so callers cannot alter a remembered answer.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

__all__ = ["ResultCache"]

_MISSING = object()
T = TypeVar("T")


class ResultCache:
    """A bounded LRU map from ``(table version, query)`` to an immutable answer."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[int, Hashable], Any] = OrderedDict()

    def get_or_compute(self, version: int, query: Hashable, compute: Callable[[], T]) -> T:
        key = (version, query)
        value = self._entries.get(key, _MISSING)
        if value is _MISSING:
            value = compute()
            self._entries[key] = value
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return cast(T, value)
