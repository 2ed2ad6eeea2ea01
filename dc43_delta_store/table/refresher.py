"""Background refresh: one thread per store object keeps its view of the log fresh, so
reads never wait for a refresh (``refresh="background"`` with ``max_staleness``).

Every ``max_staleness / 2`` seconds the thread looks at the log (one LIST on an object
store); a failed look is logged and tried again at the next tick. Answers stay within
``max_staleness`` as long as a look takes less than half of it; when it takes longer, a
read that finds its answers too old looks itself. The thread holds the view
only weakly: it stops when the store is closed (:meth:`Refresher.stop`), garbage-collected,
or the interpreter exits.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable

from ..errors import ContractStoreError

__all__ = ["Refresher"]

logger = logging.getLogger("dc43_delta_store")
_RUNNING: weakref.WeakSet[Refresher] = weakref.WeakSet()


class Refresher:
    """Calls ``refresh`` every ``interval`` seconds on a daemon thread until stopped."""

    def __init__(self, refresh: Callable[[], object], interval: float, name: str) -> None:
        self._stop = threading.Event()
        target = weakref.WeakMethod(refresh) if hasattr(refresh, "__self__") else None
        self._thread = threading.Thread(
            target=_loop,
            args=(target or (lambda: refresh), interval, self._stop, name),
            name=f"dc43-refresh {name}",
            daemon=True,
        )
        _RUNNING.add(self)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (it finishes a look under way first)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)


def _loop(
    refresh: Callable[[], Callable[[], object] | None],
    interval: float,
    stop: threading.Event,
    name: str,
) -> None:
    began = time.monotonic()
    while not stop.wait(max(0.0, began + interval - time.monotonic())):
        began = time.monotonic()  # a refresh every interval, however long one takes
        call = refresh()
        if call is None:
            return  # the view is gone with its store
        try:
            call()
        except ContractStoreError as exc:
            logger.info("background refresh of %s failed (tried again): %s", name, exc)
        del call


@atexit.register
def _stop_all() -> None:
    for refresher in list(_RUNNING):
        refresher.stop(timeout=1.0)
