"""The store's reads: the snapshot a read asks for, remembered answers, one contract's rows.

Answers are remembered in a :class:`~.cache.ResultCache` of ``cache_bytes``. An answer on
the newest snapshot says what it depends on (one contract, the whole table); when the table
has moved on, the commits in between are read from the log (:func:`..feed.reader.read_touched`)
and only the answers about the contracts they touched are computed again. ``as_of`` answers
are pinned to their table version.

A contract's rows come from the row groups that can hold its key
(:class:`~.row_groups.PointReader`), or from a Polars scan of the snapshot when that does
not apply.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import unquote

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable

from ..core.file_stats import parse_stats
from ..core.log_state import LogState
from ..errors import ContractStoreError, InvalidRequestError, StoreUnavailableError
from ..feed.reader import read_touched
from ..feed.touched import EVERYTHING, Stats, Touched
from .cache import DEFAULT_CACHE_BYTES, TABLE, ResultCache, Scope
from .delta_table import (
    FORKED,
    AsOf,
    CommitFailedError,
    ContractTable,
    arrow_schema,
    table_schema,
)
from .location import describe
from .log import DeltaLog
from .queries import lookup, readable_rows
from .row_groups import Files, PointReader
from .scanning import scan_frame
from .vacuumed import vacuumed

__all__ = ["Snapshot", "TableReads"]

T = TypeVar("T")
logger = logging.getLogger("dc43_delta_store")
_STATS_COLUMNS = ("contract_key", "contract_id")


class TableReads:
    """Reads of one store's table, remembered in at most ``cache_bytes``."""

    def __init__(
        self, table: ContractTable, log: DeltaLog, *, cache_bytes: int = DEFAULT_CACHE_BYTES
    ) -> None:
        self._table = table
        self._log = log
        self.cache = ResultCache(cache_bytes, changes=self._touched, epoch=lambda: table.epoch)
        self._points = PointReader(table.location, epoch=lambda: table.epoch, files=table.files)

    def answer(
        self,
        as_of: AsOf | None,
        query: Hashable,
        compute: Callable[[Snapshot | None], T],
        *,
        scope: Scope = TABLE,
    ) -> T:
        """``compute`` on the snapshot ``as_of`` names; on the newest one, remembered until a
        commit touches ``scope`` (a contract id, or :data:`~.cache.TABLE`)."""
        if isinstance(as_of, int) and not isinstance(as_of, bool):
            with self.time_travel(as_of):
                return self.cache.pinned(
                    as_of, query, lambda: compute(self.snapshot(self._table.at(as_of)))
                )
        if as_of is not None:
            dt = self._table.at(as_of)
            with self.time_travel(dt.version()):
                return self.cache.pinned(dt.version(), query, lambda: compute(self.snapshot(dt)))
        newest = self.newest()
        if newest is None:
            return compute(None)
        return self.cache.live(newest.version, query, lambda: compute(newest), scope=scope)

    def newest(self) -> Snapshot | None:
        """The newest snapshot (None before the table exists), loaded only when needed."""
        state = self._table.log_state()
        if state is not None:
            return Snapshot(self, state.version, state=state)
        version = self._table.newest()
        return None if version is None else Snapshot(self, version)

    def snapshot(self, dt: DeltaTable) -> Snapshot:
        """Snapshot ``dt`` (a fixed version, such as ``as_of``'s)."""
        return Snapshot(self, dt.version(), dt)

    def schema(self, dt: DeltaTable) -> pa.Schema:
        """The Arrow schema of snapshot ``dt`` (remembered per version)."""
        return self.cache.pinned(dt.version(), ("schema",), lambda: table_schema(dt))

    def columns(self, dt: DeltaTable) -> dict[str, Any]:
        """Column name -> Arrow type of snapshot ``dt``."""
        schema = self.schema(dt)
        return {field.name: field.type for field in schema}

    def stored_rows(self, state: LogState, contract_ids: Sequence[str]) -> pl.DataFrame | None:
        """``contract_id``, ``version``, ``fingerprint``, ``json`` of the rows of
        ``contract_ids`` in log ``state`` (for a write planned on it); None when point reads
        cannot tell (the caller then scans a deltalake snapshot)."""
        columns = ["version", "fingerprint", "json"]
        with self.reading():
            files = Snapshot(self, state.version, state=state)._files()
            rows = None if files is None else self._points.rows_of(files, contract_ids, columns)
        return None if rows is None else rows.select("contract_id", *columns)

    def row_group_rows(self, dt: DeltaTable) -> int:
        """Rows per row group for ``optimize`` (see :mod:`.row_groups`)."""
        with self.reading():
            return self._points.row_group_rows(dt)

    def collect(self, frame: pl.LazyFrame) -> pl.DataFrame:
        with self.reading():
            return frame.collect()

    @contextlib.contextmanager
    def time_travel(self, version: int) -> Iterator[None]:
        """Reads of the older table ``version``: when files ``vacuum`` deleted make them
        fail, an :class:`~..errors.InvalidRequestError` that says so and names the versions
        still readable."""
        try:
            yield
        except StoreUnavailableError:
            dt = self._table.current()
            if dt is None:
                raise
            with self._table.errors("read the history of"):
                why = vacuumed(dt.history(), version, str(self._table.location))
            if why is None:
                raise
            raise InvalidRequestError(why) from None

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Polars and pyarrow raise their own exceptions for I/O failures: make them store
        errors."""
        location = self._table.location
        try:
            yield
        except (ContractStoreError, CommitFailedError):
            raise
        except Exception as exc:
            message = describe(exc, location)
            raise StoreUnavailableError(f"cannot read table {location}: {message}") from None
        except BaseException as exc:  # Rust panics are BaseExceptions: a forked child's
            if type(exc).__name__ != "PanicException":  # deltalake, a truncated file's polars
                raise
            forked = "Forked process" in str(exc)
            message = FORKED.format(parent="another process") if forked else describe(exc, location)
            raise StoreUnavailableError(f"cannot read table {location}: {message}") from None

    # -- following commits ---------------------------------------------------------------

    def _touched(self, old: int, new: int) -> Touched:
        """What the commits after ``old`` up to ``new`` touched; everything if the log
        cannot say."""
        try:
            touched, entries = read_touched(self._log, old, new, self._stats_at(old))
        except (ContractStoreError, OSError, ValueError) as exc:
            logger.info("remembered answers of %s forgotten: %s", self._table.location, exc)
            return EVERYTHING
        if entries:
            self._points.advance(old, new, entries)
        if touched.everything:
            logger.debug("table %s %d -> %d: %s", self._table.location, old, new, touched.reason)
        return touched

    def _stats_at(self, version: int) -> Callable[[str], Stats | None]:
        """Statistics of the files of snapshot ``version``, loaded on first use."""
        loaded: dict[str, Stats] | None = None

        def stats_of(path: str) -> Stats | None:
            nonlocal loaded
            if loaded is None:
                state = self._table.log.at(version)
                loaded = (
                    _file_stats(self._table.at(version)) if state is None else _state_stats(state)
                )
            return loaded.get(path)

        return stats_of


def _file_stats(dt: DeltaTable) -> dict[str, Stats]:
    """Path -> statistics of ``contract_key``/``contract_id`` of every file of ``dt``, in
    the shape of the log's ``stats``."""
    actions = pa.RecordBatchReader.from_stream(dt.get_add_actions(flatten=True)).read_all()
    names = set(actions.column_names)
    columns: dict[str, list[Any]] = {
        name: actions.column(name).to_pylist()
        for name in (
            "path",
            "num_records",
            *(
                f"{part}.{column}"
                for column in _STATS_COLUMNS
                for part in ("min", "max", "null_count")
            ),
        )
        if name in names
    }
    stats: dict[str, Stats] = {}
    for index, path in enumerate(columns["path"]):
        sections: dict[str, dict[str, Any]] = {"minValues": {}, "maxValues": {}, "nullCount": {}}
        for column in _STATS_COLUMNS:
            for part, section in (
                ("min", "minValues"),
                ("max", "maxValues"),
                ("null_count", "nullCount"),
            ):
                values = columns.get(f"{part}.{column}")
                if values is not None and values[index] is not None:
                    sections[section][column] = values[index]
        records = columns.get("num_records")
        stats[unquote(path)] = {
            "numRecords": None if records is None else records[index],
            **sections,
        }
    return stats


def _state_stats(state: LogState) -> dict[str, Stats]:
    """Path -> statistics of every file of a log state the store replayed."""
    found = {}
    for path, data_file in state.files.items():
        stats = parse_stats(data_file.stats)
        if stats is not None:
            found[path] = stats
    return found


class Snapshot:
    """The table at ``version``, as a read sees it.

    A contract's rows come from point reads on the files of that version, which the reads
    know from the snapshot they last loaded and the commits they followed since; only a
    read that needs more (a scan, the schema of a version they cannot derive) loads the
    table, at that version or a later one. A later one is as good: an answer remembered as
    of ``version`` is dropped when a later commit touches its contract.
    """

    def __init__(
        self,
        reads: TableReads,
        version: int,
        dt: DeltaTable | None = None,
        *,
        state: LogState | None = None,
    ) -> None:
        self._reads = reads
        self.version = version
        self._dt = dt
        self._state = state  # the log at ``version``, as the store replayed it

    def table(self) -> DeltaTable:
        """The DeltaTable (loaded at ``version`` or later)."""
        if self._dt is None:
            dt = self._reads._table.current(at_least=self.version)
            if dt is None:
                raise StoreUnavailableError(f"table {self._reads._table.location} is gone")
            self._dt = dt
        return self._dt

    def _files(self) -> Files | None:
        known = self._reads._points.known(self.version) if self._dt is None else None
        if known is not None:
            return known
        if self._state is not None:
            return self._reads._points.files_of_state(self._state, self.schema())
        dt = self.table()
        return self._reads._points.files(dt, self._reads.schema(dt))

    def schema(self) -> pa.Schema:
        known = self._reads._points.known(self.version) if self._dt is None else None
        if known is not None:
            return known.schema
        if self._state is not None and self._state.schema_string:
            return arrow_schema(self._state.schema_string)
        return self._reads.schema(self.table())

    def columns(self) -> dict[str, Any]:
        """Column name -> Arrow type."""
        return {field.name: field.type for field in self.schema()}

    def every(self, columns: Sequence[str]) -> pl.LazyFrame:
        """``columns`` of every row: read from the data files themselves when there are few
        (on an object store, each in one GET, kept), else a scan of the snapshot."""
        with self._reads.reading():
            files = self._files()
            rows = None if files is None else self._reads._points.every(files, columns)
        if rows is not None:
            return rows.lazy()
        return scan_frame(self.table()).select(columns)

    def frame(self, contract_id: str, columns: Sequence[str]) -> pl.LazyFrame:
        """The rows of ``contract_id``, with at least ``columns`` (which must be the
        table's): read from the row groups that hold them when it can, else a scan with the
        lookup predicate pushed down. Rows without a version, or without json where
        ``columns`` hold it, are left out (see :func:`.queries.readable_rows`)."""
        with self._reads.reading():
            files = self._files()
            rows = None if files is None else self._reads._points.rows(files, contract_id, columns)
        if rows is not None:
            return readable_rows(rows.lazy(), columns)
        dt = self.table()
        frame = scan_frame(dt).filter(lookup(contract_id, self._reads.columns(dt)))
        return readable_rows(frame, columns)
