"""What the reads know of a table on an object store: its newest log state, confirmed by
one LIST at most every ``max_staleness`` seconds (each read, when 0).

Reads answer from :class:`~..core.log_state.LogState` — the data files and their
statistics, the schema, the protocol — without a deltalake snapshot, whose loading and
refreshing fetch the same files many times over. A write tells the view what it committed
(:meth:`LogView.written`), so the store's own writes are visible to its next read whatever
``max_staleness`` says. Local tables are followed by ``stat`` calls instead (see
:mod:`.delta_table`).

Safe to share between threads: a state is immutable, and threads asking at once share one
refresh that began after they asked.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..core.log_state import LogState
from .log_reader import LogReader, NotReplayed
from .objects import TableFiles

__all__ = ["Freshness", "LogView"]

_KEPT_STATES = 4
PREFETCH_BYTES = 1024 * 1024  # new data files up to this size are fetched in the background
logger = logging.getLogger("dc43_delta_store")


@dataclass(frozen=True)
class Freshness:
    """Where a store's answers come from: ``table_version`` (None before a table exists),
    confirmed to be the newest at ``confirmed_at`` (UTC; None before the first look); how
    stale they may be (``max_staleness`` seconds) and who refreshes them (``refresh``:
    ``"on_read"`` or ``"background"``)."""

    table_version: int | None
    confirmed_at: datetime | None
    max_staleness: float
    refresh: str


class LogView:
    """The newest :class:`LogState` of the table ``files`` reads.

    ``supported`` turns False for logs the store does not replay itself (then deltalake
    answers); ``replaced()`` is called when the table was dropped and created again.
    """

    def __init__(
        self,
        files: TableFiles,
        *,
        max_staleness: float,
        replaced: Callable[[], None],
        background: bool = False,
    ) -> None:
        self.files = files
        self.reader = LogReader(files)
        self.supported = True
        self._max_staleness = max_staleness
        self._background = background  # a thread refreshes (see refresh): callers need not
        self._replaced = replaced
        self._state: LogState | None = None
        self._states: OrderedDict[int, LogState] = OrderedDict()  # recent, by version
        self._opened = False
        self._confirmed = -math.inf  # when the refresh behind the state began
        self._stale = False  # a write of this store committed since
        self._lock = threading.Lock()

    def newest(self, *, strict: bool = False) -> LogState | None:
        """The newest state (None: no table), refreshed unless confirmed within
        ``max_staleness`` seconds (``strict``: by a refresh that began after this call)."""
        asked = time.monotonic()
        recent = asked - self._confirmed < self._max_staleness  # the background keeps it so
        if self._opened and not self._stale and not strict and recent:
            return self._state
        with self._lock:
            if self._opened and not self._stale and self._confirmed >= asked:
                return self._state  # another thread refreshed after this one asked
            return self._refreshed(prefetch=False)

    def refresh(self) -> None:
        """Look at the log now (what a background refresh calls). In the background, the
        small data files new commits added are fetched before the new state is shown, so
        that reads of the contracts they hold need no request either."""
        with self._lock:
            self._refreshed(prefetch=self._background)

    def _refreshed(self, *, prefetch: bool) -> LogState | None:
        began = time.monotonic()
        self._stale = False
        before = state = self._state
        if state is None:
            state = self._open()
        else:
            followed = self.reader.follow(state)
            if followed.replaced:
                self.files.forget()
                self._states.clear()
                self._replaced()
                state = self._open()
            else:
                state = followed.state if followed.state is not None else self._open()
        if prefetch and before is not None and state is not None:
            for path, data_file in state.files.items():
                if path not in before.files and 0 < data_file.size <= PREFETCH_BYTES:
                    self.files.get(path)
        self._keep(state)
        self._confirmed = began
        return state

    def at(self, version: int) -> LogState | None:
        """A recent state at ``version``, if this view still holds it."""
        with self._lock:
            return self._states.get(version)

    def confirmed(self) -> tuple[int | None, float]:
        """The version answers come from and when (``time.monotonic()``) it was confirmed
        (``-inf`` before the first look)."""
        state = self._state
        return (None if state is None else state.version), self._confirmed

    def written(self, state: LogState | None = None) -> None:
        """A write of this store committed: ``state`` is the table after it, when the
        writer knows it; else the next read refreshes whatever ``max_staleness`` says."""
        with self._lock:
            if state is not None and (self._state is None or state.version > self._state.version):
                self._keep(state)
            else:
                self._stale = True

    def _open(self) -> LogState | None:
        self._opened = True
        try:
            return self.reader.open()
        except NotReplayed as exc:
            logger.info("table %s: %s; deltalake reads its log", self.files.location, exc)
            self.supported = False
            return None

    def _keep(self, state: LogState | None) -> None:
        self._state = state
        if state is not None:
            self._states[state.version] = state
            self._states.move_to_end(state.version)
            while len(self._states) > _KEPT_STATES:
                self._states.popitem(last=False)
