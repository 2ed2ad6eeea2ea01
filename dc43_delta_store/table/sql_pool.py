"""Worker processes that run ``store.sql`` queries, so that no query can take the caller down.

A query the guard lets through can still ask for more than the machine has (a cross join of
the views, ``string_agg`` over one) or run for ever; and Polars, like any engine, may crash.
So queries run in worker processes (:mod:`.sql_worker`), each query:

- within ``timeout`` seconds (waiting for a free worker included; starting one, ~0.5 s, is
  not): at the deadline the worker is killed and :class:`~..errors.QueryLimitError`
  (``limit="timeout"``) raised;
- within ``max_memory`` bytes of address space beyond the worker's own footprint
  (``RLIMIT_AS``, Linux): past it the worker dies and ``QueryLimitError``
  (``limit="memory"``) is raised;
- a worker that crashes is an :class:`~..errors.InvalidRequestError` naming how it ended.

A dead worker is replaced on the next query, and so is one whose address space grew past
half its limit (allocators keep what they freed: the next query gets the whole limit).
Workers start on first need (a new interpreter, never a fork: deltalake panics in forked
children), are reused, and at most ``workers`` run at once; a thread that finds them all
busy waits for one. They end with the pool (:meth:`SqlPool.close`, called when the store is
collected and at exit) and end themselves when the parent dies. The worker opens the table
itself, at the version the caller's snapshot has, with the caller's storage options (sent
through the pipe, never in the command line or the environment).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import polars as pl

from ..errors import (
    ContractStoreError,
    IncompatibleTableError,
    InvalidRequestError,
    QueryLimitError,
    StoreUnavailableError,
)
from .location import TableLocation
from .sql_worker import HEADER, write_message

__all__ = ["DEFAULT_MAX_MEMORY", "DEFAULT_TIMEOUT", "SqlPool"]

DEFAULT_TIMEOUT = 30.0
"""Seconds a query may take, by default."""
DEFAULT_MAX_MEMORY = 4 * 1024**3
"""Bytes a query may allocate beyond the worker's own footprint, by default: the SQL
discovery query on 1M versions grows the worker by 1.3 GB (1.8 GB after three)."""
STARTUP_SECONDS = 60.0
_PATH_VARIABLE = "DC43_DELTA_STORE_SQL_PATH"
# The caller's sys.path, and its dc43_delta_store as a bare package: the worker needs a few
# of its modules, not what the package's __init__ imports (~0.4 s)
_BOOTSTRAP = (
    "import json, os, sys, types; "
    f"paths, package = json.loads(os.environ.pop({_PATH_VARIABLE!r})); "
    "sys.path[:] = paths; "
    "sys.modules['dc43_delta_store'] = module = types.ModuleType('dc43_delta_store'); "
    "module.__path__ = [package]; "
    "from dc43_delta_store.table.sql_worker import main; main()"
)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_OUT_OF_MEMORY = ("memory allocation of", "MemoryError", "Cannot allocate memory", "out of memory")
_ERRORS: dict[str, type[ContractStoreError]] = {
    cls.__name__: cls
    for cls in (InvalidRequestError, IncompatibleTableError, StoreUnavailableError)
}


class _Worker:
    """One worker process, used by one thread at a time."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the worker)
        if not sys.executable:
            raise StoreUnavailableError("cannot start the SQL worker: no Python executable")
        environment = {
            **os.environ,
            "TZ": "UTC",  # now() and CURRENT_DATE are UTC, as the views' timestamps
            "MALLOC_ARENA_MAX": "2",  # glibc reserves 64 MiB per arena: keep RLIMIT_AS for data
            # the caller's sys.path and package: the worker runs the caller's code, not another
            _PATH_VARIABLE: json.dumps([[p for p in sys.path if isinstance(p, str)], _PACKAGE]),
        }
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _BOOTSTRAP],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=environment,
                start_new_session=True,  # a Ctrl-C in the terminal is the caller's to handle
            )
        except OSError as exc:
            raise StoreUnavailableError(f"cannot start the SQL worker: {exc}") from None
        try:
            ready = self._receive(time.monotonic() + STARTUP_SECONDS)
        except TimeoutError:
            ready = None
        if not (isinstance(ready, tuple) and ready[0] == "ready"):
            self.kill()
            detail = self._last_line(0)
            raise StoreUnavailableError(
                "cannot start the SQL worker" + (f": {detail}" if detail else "")
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if os.getpid() != self.owner:
            return  # a forked child's copy: the worker is its parent's
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):  # a request the dead worker never read
                    stream.close()

    def run(
        self, request: dict[str, Any], deadline: float, location: TableLocation
    ) -> tuple[Any, ...]:
        """The worker's answer; the worker is killed when the deadline passes or the caller
        is interrupted, and a dead worker becomes the error it stands for."""
        seen = self._stderr.seek(0, io.SEEK_END)
        assert self.process.stdin is not None
        try:
            write_message(self.process.stdin, request)
            message = self._receive(deadline)
        except TimeoutError:
            self.kill()
            raise QueryLimitError(
                f"store.sql stopped the query after {request['timeout']:g} s (limit "
                "'timeout': sql_timeout=, timeout= or --timeout sets it)",
                limit="timeout",
            ) from None
        except OSError:  # the worker died before it read the request
            message = None
        except BaseException:  # KeyboardInterrupt...: the worker's state is unknown
            self.kill()
            raise
        answer, grown = (None, 0) if message is None else message
        if answer is None or answer[0] == "memory":
            try:
                code = self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
                code = self.process.returncode
            raise self._death(code, seen, request, location, answer is not None)
        if grown > request["max_memory"] // 2:  # what its allocators keep would cramp the next
            self.kill()
        return tuple(answer)

    def _receive(self, deadline: float) -> Any:
        """The next message, None if the worker closed its end; TimeoutError at the deadline."""
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        header = self._read(descriptor, HEADER.size, deadline)
        if header is None:
            return None
        data = self._read(descriptor, HEADER.unpack(header)[0], deadline)
        return None if data is None else pickle.loads(data)

    @staticmethod
    def _read(descriptor: int, size: int, deadline: float) -> bytes | None:
        buffer = bytearray()
        poller = select.poll()
        poller.register(descriptor, select.POLLIN)
        while len(buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if not poller.poll(min(left, 1.0) * 1000):
                continue
            chunk = os.read(descriptor, min(size - len(buffer), 1 << 20))
            if not chunk:
                return None
            buffer += chunk
        return bytes(buffer)

    def _death(
        self,
        code: int,
        seen: int,
        request: dict[str, Any],
        location: TableLocation,
        memory: bool,
    ) -> ContractStoreError:
        text = self._stderr_since(seen)
        if memory or any(sign in text for sign in _OUT_OF_MEMORY):
            return QueryLimitError(
                "store.sql stopped the query: it needed more than the "
                f"{_size(request['max_memory'])} of memory allowed (limit 'memory': "
                "sql_max_memory=, max_memory= or --max-memory sets it)",
                limit="memory",
            )
        if code == 3:  # the worker's own watchdog: the deadline passed long ago
            return QueryLimitError(
                f"store.sql stopped the query after {request['timeout']:g} s (limit 'timeout')",
                limit="timeout",
            )
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        detail = location.redact(self._last_line(seen))[:300]
        return InvalidRequestError(
            f"store.sql: the query crashed the SQL engine ({how})"
            + (f": {detail}" if detail else "")
            + "; its worker process is replaced for the next query"
        )

    def _stderr_since(self, seen: int) -> str:
        self._stderr.seek(seen)
        return self._stderr.read(1 << 16).decode("utf-8", "replace")

    def _last_line(self, seen: int) -> str:
        lines = [line.strip() for line in self._stderr_since(seen).splitlines() if line.strip()]
        return lines[-1] if lines else ""


class SqlPool:
    """Up to ``workers`` worker processes, shared by the threads of one store.

    >>> pool = SqlPool(workers=1)
    >>> pool.close()
    """

    def __init__(self, *, workers: int = 1) -> None:
        self._size = workers
        self._pid = os.getpid()
        self._changed = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._started = 0

    def run(
        self,
        query: str,
        location: TableLocation,
        version: int | None,
        *,
        timeout: float,
        max_memory: int,
    ) -> pl.DataFrame:
        """``query`` over the views of ``location`` at ``version`` (None: no table yet),
        checked here (:mod:`..core.sql_guard`: a refusal starts no worker), run in a worker."""
        from ..core.sql_guard import sandboxed  # sqlglot takes ~0.1 s to import: only for SQL

        path = location.local_path
        request = {
            "sql": sandboxed(query),
            "uri": location.uri if path is None else os.path.abspath(path),
            "name": location.name,
            "options": location.options(),
            "version": version,
            "timeout": timeout,
            "max_memory": max_memory,
        }
        begun = time.monotonic()
        worker, starting = self._acquire(begun + timeout, timeout)
        try:
            answer = worker.run(request, begun + starting + timeout, location)
        finally:
            self._release(worker)
        if answer[0] == "ok":
            return pl.read_ipc(io.BytesIO(answer[1]))
        _, name, message, limit = answer
        if name == QueryLimitError.__name__:
            raise QueryLimitError(message, limit=limit)
        raise _ERRORS.get(name, StoreUnavailableError)(message)

    def close(self) -> None:
        """End every worker (a query running on one fails)."""
        with self._changed:
            workers = list(self._all) if os.getpid() == self._pid else []
            self._started -= len(self._idle)
            self._all.difference_update(self._idle)
            self._idle.clear()
        for worker in workers:
            worker.kill()

    def _acquire(self, deadline: float, timeout: float) -> tuple[_Worker, float]:
        if os.getpid() != self._pid:  # a forked child: its parent's workers are not ours
            self._pid, self._changed = os.getpid(), threading.Condition()
            self._idle, self._all, self._started = [], set(), 0
        with self._changed:
            for worker in [w for w in self._idle if not w.alive()]:  # ended while idle
                self._idle.remove(worker)
                self._all.discard(worker)
                self._started -= 1
            while not self._idle and self._started >= self._size:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise QueryLimitError(
                        f"store.sql waited {timeout:g} s for a SQL worker: all {self._size} "
                        "were busy with other queries (limit 'timeout'; sql_workers= of the "
                        "store allows more)",
                        limit="timeout",
                    )
                self._changed.wait(left)
            if self._idle:
                return self._idle.pop(), 0.0
            self._started += 1
        begun = time.monotonic()
        try:
            worker = _Worker()
        except BaseException:
            with self._changed:
                self._started -= 1
                self._changed.notify()
            raise
        with self._changed:
            self._all.add(worker)
        return worker, time.monotonic() - begun

    def _release(self, worker: _Worker) -> None:
        with self._changed:
            if worker.owner != os.getpid():
                return
            if worker.alive() and worker in self._all:
                self._idle.append(worker)
            else:
                self._all.discard(worker)
                self._started -= 1
            self._changed.notify()


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= scale:
            return f"{count / scale:g} {unit}"
    return f"{count} bytes"
