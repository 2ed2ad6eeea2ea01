"""Answers of the hot routes kept while they hold (see :mod:`.freshness`).

A miss computes the answer once in a worker thread, however many requests ask for it
meanwhile; a hit costs a dictionary lookup on the event loop. Only 200 and 404 answers
are kept, at most ``max_bytes`` of bodies (the oldest go first).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import anyio.to_thread

from ..errors import ContractStoreError
from .freshness import Freshness, Stamp
from .responses import Answer, error_of

__all__ = ["HotCache"]

_KEPT = (200, 404)


@dataclass(frozen=True)
class _Entry:
    stamp: Stamp
    answer: Answer


class HotCache:
    """Remembered answers by key; ``get`` computes the missing ones."""

    def __init__(self, fresh: Freshness, max_bytes: int) -> None:
        self._fresh = fresh
        self._max_bytes = max_bytes
        self._bytes = 0
        self._entries: dict[Hashable, _Entry] = {}
        self._pending: dict[tuple[Hashable, Stamp | None], asyncio.Task[Answer]] = {}

    async def get(self, key: Hashable, contract_id: str, compute: Callable[[], Answer]) -> Answer:
        """The answer for ``key`` (about ``contract_id``): remembered, or computed."""
        entry = self._entries.get(key)
        if entry is not None and self._fresh.holds(entry.stamp, contract_id):
            return entry.answer
        stamp = self._fresh.stamp(contract_id)
        flight = (key, stamp)
        task = self._pending.get(flight) if stamp is not None else None
        if task is None:
            task = asyncio.get_running_loop().create_task(
                self._compute(key, contract_id, stamp, compute)
            )
            if stamp is not None:
                self._pending[flight] = task
                task.add_done_callback(lambda _: self._pending.pop(flight, None))
        return await asyncio.shield(task)

    async def _compute(
        self, key: Hashable, contract_id: str, stamp: Stamp | None, compute: Callable[[], Answer]
    ) -> Answer:
        answer = await anyio.to_thread.run_sync(_answering, compute)
        if stamp is not None and answer.status in _KEPT and self._fresh.holds(stamp, contract_id):
            self._keep(key, _Entry(stamp, answer))
        return answer

    def _keep(self, key: Hashable, entry: _Entry) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old.answer.body)
        size = len(entry.answer.body)
        while self._entries and self._bytes + size > self._max_bytes:
            _, dropped = self._oldest()
            self._bytes -= len(dropped.answer.body)
        if size <= self._max_bytes:
            self._entries[key] = entry
            self._bytes += size

    def _oldest(self) -> tuple[Hashable, _Entry]:
        key = next(iter(self._entries))
        return key, self._entries.pop(key)


def _answering(compute: Callable[[], Answer]) -> Answer:
    """``compute()``; a store error is its answer (anything else is the server's fault)."""
    try:
        return compute()
    except ContractStoreError as exc:
        return error_of(exc)
