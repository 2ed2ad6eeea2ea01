"""The process that runs ``store.sql`` queries, apart from the caller's (see :mod:`.sql_pool`).

Started by the pool as a new interpreter (never forked: deltalake's runtime panics in a
forked child), it reads requests from its stdin and writes answers to its stdout, each one
pickled behind an 8-byte length. A request names the table (URI, storage options, the
snapshot's version: the worker opens the table itself and keeps it open for the next
request) and the query as the guard returned it (checked in the caller: the worker runs
it and imports no SQL parser); the answer is the result as Arrow IPC bytes, or an error as
``(class name, message, limit)``, with how much the worker's address space has grown since
it started (allocators keep what they freed: the pool replaces a worker grown past half its
limit, so that the next query gets the whole of it).

Before each query the worker lowers its address-space limit (``RLIMIT_AS``) to its own
footprint plus the query's ``max_memory``: an allocation past it fails, and Polars aborts
the process, which the pool reports as the memory limit. A thread ends the process when
the query outlives its deadline by a grace period (the pool kills it at the deadline;
this covers a pool that is gone) or when the parent process dies.
"""

from __future__ import annotations

import io
import os
import pickle
import signal
import struct
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO, Any

__all__ = ["GRACE_SECONDS", "HEADER", "main", "read_message", "write_message"]

GRACE_SECONDS = 5.0
"""How long past its deadline a query may run before the worker ends itself."""
HEADER = struct.Struct(">Q")
"""Each message's length, before it."""
_TABLES_KEPT = 4


def write_message(stream: IO[bytes], message: object) -> None:
    """Pickle ``message`` to ``stream`` behind its length."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)))
    stream.write(data)  # not joined to the header: a result may be large
    stream.flush()


def read_message(stream: IO[bytes]) -> Any:
    """The next message on ``stream``, or None at its end."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    data = stream.read(size)
    return None if len(data) < size else pickle.loads(data)


def address_space() -> int:
    """This process's address space in bytes (``VmSize``); 0 where /proc does not say."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class _Watchdog(threading.Thread):
    """Ends the process when the parent dies or a query outlives its deadline."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="sql-worker-watchdog")
        self.parent = os.getppid()
        self.deadline: float | None = None

    def run(self) -> None:
        while True:
            time.sleep(0.2)
            if os.getppid() != self.parent:
                os._exit(0)
            deadline = self.deadline
            if deadline is not None and time.monotonic() > deadline:
                os._exit(3)


class _Worker:
    def __init__(self) -> None:
        from deltalake import DeltaTable

        self._tables: dict[tuple[str, tuple[tuple[str, str], ...]], DeltaTable] = {}
        self.watchdog = _Watchdog()
        self.watchdog.start()
        self.baseline = 0

    def warm_up(self) -> None:
        """Import and run everything a query needs once, then measure the footprint."""
        import polars as pl

        from ..core.table_schema import TABLE_SCHEMA
        from .sql import execute, sql_views

        frame = pl.from_arrow(TABLE_SCHEMA.empty_table())
        assert isinstance(frame, pl.DataFrame)
        scan = frame.lazy()
        execute('SELECT COUNT(*) FROM "contracts_latest"', sql_views(scan, scan.collect_schema()))
        self.baseline = address_space()

    def answer(self, request: Mapping[str, Any]) -> tuple[Any, ...]:
        from ..errors import ContractStoreError, QueryLimitError

        self._limit_memory(request["max_memory"])
        self.watchdog.deadline = time.monotonic() + request["timeout"] + GRACE_SECONDS
        try:
            frame = self._run(request)
            buffer = io.BytesIO()
            frame.write_ipc(buffer)
            return ("ok", buffer.getvalue())
        except QueryLimitError as exc:
            return ("error", type(exc).__name__, str(exc), exc.limit)
        except ContractStoreError as exc:
            return ("error", type(exc).__name__, str(exc), None)
        except MemoryError:
            return ("memory",)
        finally:
            self.watchdog.deadline = None

    def _limit_memory(self, max_memory: int) -> None:
        import resource

        if self.baseline:
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            soft = self.baseline + max_memory
            if hard != resource.RLIM_INFINITY:
                soft = min(soft, hard)
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))

    def _run(self, request: Mapping[str, Any]) -> Any:
        import polars as pl

        from ..core.table_schema import TABLE_SCHEMA
        from .location import TableLocation
        from .scanning import scan_frame
        from .sql import execute, sql_views

        location = TableLocation(request["uri"], request["options"], request["name"])
        with _reading(location):
            if request["version"] is None:
                empty = pl.from_arrow(TABLE_SCHEMA.empty_table())
                assert isinstance(empty, pl.DataFrame)
                scan = empty.lazy()
            else:
                scan = scan_frame(
                    self._table(request["uri"], request["options"], request["version"])
                )
            return execute(request["sql"], sql_views(scan, scan.collect_schema()))

    def _table(self, uri: str, options: Mapping[str, str], version: int) -> Any:
        from deltalake import DeltaTable

        key = (uri, tuple(sorted(options.items())))
        dt = self._tables.pop(key, None)
        if dt is None:
            dt = DeltaTable(uri, storage_options=dict(options) or None, version=version)
        elif dt.version() != version:
            dt.load_as_version(version)
        self._tables[key] = dt  # most recently used last
        while len(self._tables) > _TABLES_KEPT:
            del self._tables[next(iter(self._tables))]
        return dt


@contextmanager
def _reading(location: Any) -> Iterator[None]:
    """I/O failures as the store reports them (see ``TableReads.reading``)."""
    from ..errors import ContractStoreError, StoreUnavailableError
    from .location import describe

    try:
        yield
    except ContractStoreError:
        raise
    except Exception as exc:
        message = describe(exc, location)
        raise StoreUnavailableError(f"cannot read table {location}: {message}") from None


def main() -> None:
    """Serve requests on stdin/stdout until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when a query stops
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)  # whatever else prints goes to stderr, not into the answers
    sys.stdout = sys.stderr
    worker = _Worker()
    worker.warm_up()
    write_message(answers, ("ready", worker.baseline))
    while (request := read_message(requests)) is not None:
        answer = worker.answer(request)
        write_message(answers, (answer, address_space() - worker.baseline))  # and what it grew
        if answer[0] == "memory":
            return  # a MemoryError may have left Python's state half-built: start afresh


if __name__ == "__main__":
    main()
