"""Whether a remembered answer about a contract still holds.

A task asks the store for the table's version every ``interval`` seconds, in a worker
thread (on a local table a ``stat``; on an object store a log listing, hence the longer
default), and wakes whoever waits for a newer one (long-polls, event streams). When the
version moved, the change feed of the new commits says which contracts they touched: only
answers about those are dropped (a commit of other writers' data, or one the feed cannot
describe, drops all). A write through this server drops all before and after it runs and
asks at once: a client that wrote reads its write on its next request; other writers'
commits show within ``interval``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import anyio.to_thread

from ..store import DeltaContractStore

__all__ = ["Freshness", "Stamp"]

log = logging.getLogger("dc43_delta_store.serve")
Stamp = tuple[int, int]  # (generation of everything, generation of the contract)
_UNKNOWN = object()  # before the first look, or while the table cannot be read
_PER_CONTRACT = ("published", "metadata")


class Freshness:
    """The table version as last seen (see the module doc)."""

    def __init__(self, store: DeltaContractStore, interval: float) -> None:
        self._store = store
        self.interval = interval
        self.version: object = _UNKNOWN
        self.writing = 0
        self._everything = 0
        self._counter = 0
        self._touched: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._changed: asyncio.Event | None = None
        self._failing = False

    def start(self) -> None:
        """Start watching (idempotent; needs the running event loop)."""
        if self._task is None or self._task.done():
            self._wake, self._changed = asyncio.Event(), asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def stamp(self, contract_id: str) -> Stamp | None:
        """What an answer about ``contract_id`` computed now depends on; None while a write
        runs or the table cannot be read (do not keep it)."""
        if self.writing or self.version is _UNKNOWN:
            return None
        return (self._everything, self._touched.get(contract_id, 0))

    def holds(self, stamp: Stamp, contract_id: str) -> bool:
        return not self.writing and stamp == (self._everything, self._touched.get(contract_id, 0))

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """Around a write through this server: nothing remembered is used meanwhile."""
        self._everything += 1
        self.writing += 1
        try:
            yield
        finally:
            self.writing -= 1
            self._everything += 1
            if self._wake is not None:
                self._wake.set()

    async def newer_than(self, cursor: int, timeout: float) -> bool:
        """Wait until the table is past version ``cursor`` or ``timeout`` passed."""
        self.start()
        deadline = asyncio.get_running_loop().time() + timeout
        while not (isinstance(self.version, int) and self.version > cursor):
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or self._changed is None:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    async def _watch(self) -> None:
        assert self._wake is not None and self._changed is not None
        while True:
            version = await self._look()
            if version != self.version:
                await self._forget(self.version, version)
                self.version = version
                self._changed.set()
                self._changed = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()

    async def _forget(self, before: object, now: object) -> None:
        """Drop what the commits after ``before`` may have changed."""
        touched = None
        if isinstance(before, int) and isinstance(now, int) and now > before:
            touched = await anyio.to_thread.run_sync(self._touched_since, before)
        if touched is None:
            self._everything += 1
            return
        for contract_id in touched:
            self._counter += 1
            self._touched[contract_id] = self._counter

    def _touched_since(self, version: int) -> set[str] | None:
        """The contracts the commits after ``version`` touched; None: possibly any."""
        try:
            events = self._store.changes(version).events
        except Exception:
            return None
        ids = {event.contract_id for event in events if event.kind in _PER_CONTRACT}
        if None in ids or any(event.kind not in _PER_CONTRACT for event in events):
            return None
        return {i for i in ids if i is not None}

    async def _look(self) -> object:
        try:
            version = await anyio.to_thread.run_sync(lambda: self._store.table_version)
        except Exception as exc:  # the table cannot be read now: remember nothing
            if not self._failing:
                log.warning("cannot read the table version (%s): answering uncached", exc)
            self._failing = True
            return _UNKNOWN
        if self._failing:
            log.warning("the table can be read again")
        self._failing = False
        return -1 if version is None else version
