"""One maintenance job per table at a time.

deltalake 1.6 lets two concurrent compactions (or Z-orders) of the same files both commit,
because it no longer treats concurrent removes with ``dataChange=false`` as a conflict
(delta-rs PR #3982): every row they moved then appears twice. Writes, metadata updates and
upkeep conflict properly with each other; only upkeep against upkeep needs this lock.

On a local table the lock is an advisory ``flock`` on ``<table>/_dc43_maintenance.lock``
(files starting with ``_`` are ignored by Delta readers and by ``vacuum``); the operating
system releases it when the holding process dies, so a crash never leaves it stuck.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LOCK_NAME", "maintenance_lock"]

LOCK_NAME = "_dc43_maintenance.lock"


@contextlib.contextmanager
def maintenance_lock(table: Path) -> Iterator[bool]:
    """Hold the table's maintenance lock; yields False (without waiting) if another has it."""
    handle = os.open(table / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)
