"""The Delta table behind a store: open, create, refresh, check it, and write to it.

The writes themselves (replace-where commits on the read snapshot, and why not ``MERGE``)
are in :mod:`.commits`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import (
    DeltaTable,
    Field,
    Schema,
)
from deltalake.exceptions import (
    CommitFailedError,
    DeltaError,
    DeltaProtocolError,
    SchemaMismatchError,
)
from deltalake.exceptions import TableNotFoundError as NoDeltaTable
from deltalake.schema import PrimitiveType

from ..core.health import DELTA_RS_READER_FEATURES, implied_features
from ..core.key_filter import key_predicate
from ..core.log_state import LogState
from ..core.metadata import type_name
from ..core.records import ContractRow
from ..core.table_schema import REQUIRED_COLUMNS, TABLE_SCHEMA, catalog_columns, rows_to_table
from ..core.values import as_of_value
from ..errors import (
    ContractStoreError,
    IncompatibleTableError,
    InvalidLocationError,
    InvalidRequestError,
    StoreUnavailableError,
    TableNotFoundError,
)
from .appender import Appender
from .catalog import UnityCatalog, resolve_catalog_table
from .commits import (
    POST_COMMIT,
    append_only,
    commit_properties,
    merge_on_key,
    read_keys,
    replace_keys,
)
from .endpoint import EndpointCheck, check_conditional_writes
from .location import TableLocation, describe
from .locking import lease, maintenance_lock
from .log_view import Freshness, LogView
from .maintenance import compactable
from .objects import TableFiles
from .refresher import Refresher
from .scanning import column_mapping

__all__ = ["WRITABLE_FEATURES", "AsOf", "CommitFailedError", "ContractTable", "WriteSnapshot"]

AsOf = int | datetime | str
"""A table version number, or a point in time (``datetime`` or RFC 3339 text)."""

WRITABLE_FEATURES = frozenset(
    {
        "appendOnly",
        "changeDataFeed",
        "checkConstraints",
        "generatedColumns",
        "invariants",
        "timestampNtz",
    }
)
"""Writer features that delta-rs honours on the inserts this store makes."""

logger = logging.getLogger("dc43_delta_store")
_deltalake_pid: int | None = None
"""The process whose deltalake runtime the store has used (inherited by forked children)."""
FORKED = (
    "this process was forked from one that had already used deltalake (pid {parent}), and "
    "deltalake's runtime cannot run in a forked child; start workers with multiprocessing's "
    "'spawn' or 'forkserver' method (multiprocessing.get_context('spawn')), or fork before "
    "the first store call"
)
_SPARE_SNAPSHOTS = 4  # writes' snapshots kept for reuse: those of concurrent writes beyond it
TABLE_CONFIGURATION = {
    # Stats only where lookups and conflict checks use them; keeps checkpoints small.
    "delta.dataSkippingStatsColumns": (
        "contract_id,contract_key,version,status,fingerprint,created_at"
    ),
}


class ContractTable:
    """One Delta table location, opened lazily and refreshed incrementally.

    Safe to share between threads. Reads share one snapshot (:meth:`current`), brought up
    to date in place, one refresh at a time; a reader holding it may see it move forward,
    never back. Each write runs on a snapshot of its own (:meth:`writing`) that no other
    thread reads or refreshes while the write holds it, so its checks and its commit see
    the same table version, exactly as in a process of its own. A write's snapshot, which
    holds its commit, then becomes the reads' (no refresh needed to see it), and the one
    the reads had becomes the next write's.
    """

    def __init__(
        self, location: TableLocation, *, max_staleness: float = 0.0, background: bool = False
    ) -> None:
        self.location = location
        self._max_staleness = max_staleness
        self._dt: DeltaTable | None = None  # the reads' snapshot
        self._spare: list[tuple[DeltaTable, int]] = []  # for writes; held by no thread
        self._lock = threading.Lock()  # guards the two above and refreshes of the first
        self._refreshed_at = -math.inf  # when the last refresh of the reads' snapshot began
        self._generation = 0
        self._checked: tuple[int, bool] | None = None  # (version, writable) last verified
        self._checked_state: tuple[int, str | None, bool] | None = None  # version, id, writable
        local = location.local_path
        self._log_folder = None if local is None else f"{local / '_delta_log'}{os.sep}"
        self._seen = -1  # the newest version the commit files showed
        self._commit_file: tuple[int, int, int] | None = None  # version, inode, mtime (local)
        self._table_id: str | None = None  # of the reads' snapshot
        self.epoch = 0  # counts replacements of the table at the location (a new table id)
        self.files = TableFiles(location)
        # the log as the store replays it: for every write it commits itself, and for the
        # reads on object stores (local reads follow the commit files by stat)
        self.log = LogView(
            self.files,
            max_staleness=max_staleness,
            replaced=self._replaced_log,
            background=background and local is None,
        )
        self._refresher = (
            Refresher(self.log.refresh, max_staleness / 2, str(location))
            if background and local is None
            else None
        )
        self.appender = Appender(self.files, self.log.reader)
        self._endpoint = EndpointCheck(location)  # conditional writes enforced? once

    # -- opening -------------------------------------------------------------------------

    def current(self, at_least: int = -1) -> DeltaTable | None:
        """The newest snapshot, or None while no table exists at the location.

        Freshness: on a local table, one ``stat`` of the next commit file (microseconds);
        on an object store, an incremental log listing (one round trip), skipped for
        ``max_staleness`` seconds after the last one — unless the snapshot is older than
        version ``at_least`` (one the reads already know of). Threads asking at once share
        one refresh that began after they asked.
        """
        check_process()
        asked = time.monotonic()
        dt = self._dt
        if dt is None or self._outdated(dt) or dt.version() < at_least:
            with self._lock, self.errors("read"):
                dt = self._dt
                behind = dt is not None and dt.version() < at_least
                if self._refreshed_at < asked or dt is None or behind:
                    began = time.monotonic()
                    if dt is None or self._credentials_renewed() or self._replaced(dt):
                        dt = self._reopen()
                    elif behind or self._outdated(dt):
                        dt.update_incremental()
                    self._refreshed_at = began
        if dt is not None:
            self._verify(dt, writable=False)
        return dt

    def _reopen(self) -> DeltaTable | None:
        """The reads' snapshot opened anew; a new table id at the location (the table was
        dropped and created again) starts a new :attr:`epoch`. Under ``_lock``."""
        generation = self.location.credentials_generation
        dt = self._dt = self._open()
        self._generation = generation
        table_id = None if dt is None else str(dt.metadata().id)
        if self._table_id is not None and table_id != self._table_id:
            self.epoch += 1
            self._spare.clear()
            self._checked = None
            self._seen = -1
            logger.info(
                "table %s was replaced: answers remembered of it are dropped", self.location
            )
        self._table_id = table_id or self._table_id
        return dt

    @contextlib.contextmanager
    def writing(self) -> Iterator[WriteSnapshot]:
        """A snapshot for one write to plan and commit on (see the class docstring),
        taken and brought up to date on first use of its ``.dt``; None while no table
        exists."""
        check_process()
        shared = self._dt
        if shared is not None and self._replaced(shared):
            self.current()  # a new epoch: the spare snapshots of the old table are dropped
        held = WriteSnapshot(self)
        try:
            yield held
        finally:
            held.release()

    def write_state(self) -> LogState | None:
        """The log's newest state, refreshed now, for a write the store commits itself
        (None: no table, or a log it does not replay)."""
        if not self.log.supported:
            return None
        path = self.location.local_path
        if path is not None and not (path / "_delta_log").is_dir():
            self._check_local_folder(path)
            return None
        with self.errors("read"):
            state = self.log.newest(strict=True)
        return state if self.log.supported else None

    def _take(self) -> tuple[DeltaTable | None, int]:
        """A spare snapshot brought up to date (or the table opened): no other thread
        touches it until :meth:`_release`."""
        with self._lock:
            spare = self._spare.pop() if self._spare else None
        generation = self.location.credentials_generation
        with self.errors("read"):
            if spare is None or spare[1] != generation:
                return self._open(), generation
            dt = spare[0]
            if self._log_folder is None or self._next_commit_exists(dt):
                dt.update_incremental()
        return dt, generation

    def _release(self, dt: DeltaTable | None, generation: int, started: int) -> None:
        if dt is not None and dt.version() > started:
            self.log.written()  # the next read sees this write, however stale it may be
        self._give_back(dt, generation)

    def _give_back(self, dt: DeltaTable | None, generation: int) -> None:
        """Make a write's snapshot the reads' when it is newer; keep the other for writes."""
        with self._lock:
            if dt is None or generation != self.location.credentials_generation:
                return  # opened with credentials since replaced
            table_id = str(dt.metadata().id)
            if self._table_id is not None and table_id != self._table_id:
                return  # a snapshot of a table since replaced, or its replacement: reads reopen
            self._table_id = table_id
            shared = self._dt
            if shared is None or self._generation != generation or dt.version() > shared.version():
                (self._dt, self._generation), (dt, generation) = (
                    (dt, generation),
                    (
                        shared,
                        self._generation,
                    ),
                )
            if dt is not None and len(self._spare) < _SPARE_SNAPSHOTS:
                self._spare.append((dt, generation))

    def newest(self) -> int | None:
        """The newest table version, or None while no table exists.

        On a local table the commit files say (a ``stat`` each) and the snapshot is not
        brought up to it: reads that need it call :meth:`current`, reads that do not (see
        :mod:`.reads`) save its refresh, which replays every commit since the last checkpoint.
        On an object store, the log the reads follow (:mod:`.log_view`); else the version of
        :meth:`current`.
        """
        check_process()
        state = self.log_state()
        if state is not None:
            return state.version
        if self._log_folder is None and self.log.supported:
            return None
        dt = self._dt
        if self._log_folder is None or dt is None or self._replaced(dt):
            dt = self.current()
            return None if dt is None else dt.version()
        version = max(dt.version(), self._seen)
        while os.path.exists(f"{self._log_folder}{version + 1:020d}.json"):
            version += 1
        self._seen = version
        return version

    def freshness(self, refresh: str) -> Freshness:
        """Which table version reads answer from, and since when it is known to be the
        newest (a local table is looked at on every read)."""
        if self._log_folder is None and self.log.supported:
            version, confirmed = self.log.confirmed()
            seen = (
                None
                if confirmed == -math.inf
                else datetime.now(UTC) - timedelta(seconds=time.monotonic() - confirmed)
            )
            return Freshness(version, seen, self._max_staleness, refresh)
        return Freshness(self.newest(), datetime.now(UTC), self._max_staleness, refresh)

    def close(self) -> None:
        """Stop the background refresh, if any."""
        if self._refresher is not None:
            self._refresher.stop()

    def log_state(self) -> LogState | None:
        """On an object store whose log the store replays, its newest state (checked to be
        readable); None elsewhere, or while no table exists."""
        if self._log_folder is not None or not self.log.supported:
            return None
        with self.errors("read"):
            state = self.log.newest()
        if state is not None:
            self._verify_state(state)
        return state

    def _replaced_log(self) -> None:
        """The log view found the table replaced: drop what belongs to the old one."""
        with self._lock:
            self.epoch += 1
            self._spare.clear()
            self._dt = None
            self._checked = None
            self._table_id = None
        logger.info("table %s was replaced: answers remembered of it are dropped", self.location)

    def _outdated(self, dt: DeltaTable) -> bool:
        if self._credentials_renewed():
            return True
        if self._log_folder is not None:
            return self._seen > dt.version() or self._next_commit_exists(dt) or self._replaced(dt)
        return time.monotonic() - self._refreshed_at >= self._max_staleness

    def _replaced(self, dt: DeltaTable) -> bool:
        """On a local table: whether the commit file of ``dt``'s version is gone or another
        file than when first seen (the table may have been dropped and created again; a
        reopen compares table ids). One ``stat``."""
        if self._log_folder is None:
            return False
        version = dt.version()
        try:
            found = os.stat(f"{self._log_folder}{version:020d}.json")
        except OSError:
            return True
        seen = (version, found.st_ino, found.st_mtime_ns)
        known = self._commit_file
        if known is None or known[0] != version:
            self._commit_file = seen
            return False
        return known != seen

    def _credentials_renewed(self) -> bool:
        """New credentials need a new DeltaTable."""
        return self.location.credentials_generation != self._generation

    def _next_commit_exists(self, dt: DeltaTable) -> bool:
        # a plain string: pathlib would cost more than the stat
        return os.path.exists(f"{self._log_folder}{dt.version() + 1:020d}.json")

    def at(self, as_of: AsOf, *, before_creation: bool = False) -> DeltaTable:
        """A snapshot as the table stood at a version number or a point in time.

        A naive ``datetime`` (or time text without an offset) is local time, as Python's
        ``datetime.now()`` gives it. A time before the table was created is an error unless
        ``before_creation`` (then: its first version, which the caller judges).
        """
        try:
            point = as_of_value(as_of)
        except ValueError as exc:
            raise InvalidRequestError(str(exc)) from None
        head = self.current()
        if head is None:
            raise InvalidRequestError(f"table {self.location} does not exist, at any version")
        if isinstance(point, int) and point > head.version():
            raise InvalidRequestError(
                f"as_of={point} is past the newest version of table {self.location}, "
                f"{head.version()}"
            )
        with self.errors("read"):
            dt = self._open()
            if dt is None:
                raise InvalidRequestError(f"table {self.location} does not exist, at any version")
            try:
                dt.load_as_version(point)
            except (DeltaError, ValueError, OverflowError) as exc:
                raise InvalidRequestError(
                    f"table {self.location} has no state at as_of={as_of!r}"
                    f"{' (' + point.isoformat() + ')' if not isinstance(point, int) else ''}: "
                    f"{self._redact(exc)}"
                ) from None
            if not isinstance(point, int) and dt.version() == 0 and not before_creation:
                created = datetime.fromtimestamp(dt.history(1)[0]["timestamp"] / 1000, UTC)
                if created > point:
                    raise InvalidRequestError(
                        f"table {self.location} did not exist yet at {point.isoformat()}: it "
                        f"was created at {created.isoformat()}"
                    )
        self._verify(dt, writable=False)
        return dt

    def writable(
        self, dt: DeltaTable | None, metadata_columns: Mapping[str, pa.DataType]
    ) -> DeltaTable:
        """Snapshot ``dt`` checked to be writable, or a new table when ``dt`` is None.

        ``dt`` is not refreshed: a write must run on the snapshot its checks read.
        """
        if dt is None:
            self._endpoint.ensure()  # before anything is created at the location
            dt = self._create(metadata_columns)
        self._verify(dt, writable=True)
        self._endpoint.ensure()
        return dt

    def add_columns(
        self, dt: DeltaTable, columns: Mapping[str, pa.DataType], commit_info: Mapping[str, Any]
    ) -> None:
        """Add nullable metadata columns (schema evolution: one commit, no rewrite)."""
        self._verify(dt, writable=True)
        fields = [
            Field(name, PrimitiveType(type_name(dtype) or "string"))
            for name, dtype in columns.items()
        ]
        with self.errors("evolve"):
            dt.alter.add_columns(fields, commit_properties=commit_properties(commit_info))

    def _open(self) -> DeltaTable | None:
        path = self.location.local_path
        if path is not None and not (path / "_delta_log").is_dir():
            self._check_local_folder(path)
            return None
        check_process(using=True)
        try:
            return DeltaTable(self.location.uri, storage_options=self._options())
        except NoDeltaTable:
            return None

    def _create(self, metadata_columns: Mapping[str, pa.DataType]) -> DeltaTable:
        check_process(using=True)
        path = self.location.local_path
        if path is not None:
            with self.errors("create"):
                path.mkdir(parents=True, exist_ok=True)
        with self.errors("create"):
            create_table(self.location.uri, self._options() or {}, metadata_columns)
            return DeltaTable(self.location.uri, storage_options=self._options())

    def _check_local_folder(self, path: Path) -> None:
        if path.is_file():
            raise InvalidLocationError(f"table path {path} is a file, not a Delta table folder")
        # _delta_log: another writer is creating the table right now
        if path.is_dir() and any(entry.name != "_delta_log" for entry in path.iterdir()):
            raise InvalidLocationError(
                f"table path {path} is a folder with files but no _delta_log: "
                "not a Delta table, and not creating one among other files"
            )

    # -- checks --------------------------------------------------------------------------

    def _verify(self, dt: DeltaTable, *, writable: bool) -> None:
        version = dt.version()
        if (
            self._checked is not None
            and self._checked[0] == version
            and (self._checked[1] or not writable)
        ):
            return
        protocol = dt.protocol()
        self._verify_facts(
            table_columns(dt),
            (
                protocol.min_reader_version,
                protocol.min_writer_version,
                protocol.reader_features,
                protocol.writer_features,
            ),
            column_mapping(dt),
            writable=writable,
        )
        self._checked = (version, writable)

    def append(self, state: LogState, rows: pa.Table, commit_info: Mapping[str, Any]) -> LogState:
        """Commit ``rows`` (new keys) on top of ``state`` with the store's own commit (see
        :mod:`.appender`); the state after it, which the next read answers from."""
        check_process(using=True)
        self._endpoint.ensure()
        with self.errors("write"):
            committed = self.appender.append(state, rows, commit_info)
        self.log.written(committed)
        return committed

    def verify_writable(self, state: LogState) -> None:
        """:meth:`_verify` (for writing) of a log state the store replayed."""
        self._verify_state(state, writable=True)

    def _verify_state(self, state: LogState, *, writable: bool = False) -> None:
        """:meth:`_verify` of a log state the store replayed."""
        if self._checked_state == (state.version, state.table_id, True) or (
            not writable and self._checked_state == (state.version, state.table_id, False)
        ):
            return
        protocol = state.protocol
        readers, writers = state.features()
        mapping = state.configuration.get("delta.columnMapping.mode", "none")
        self._verify_facts(
            {field.name: field.type for field in arrow_schema(state.schema_string or "")},
            (
                int(protocol.get("minReaderVersion") or 1),
                int(protocol.get("minWriterVersion") or 2),
                sorted(readers) or None,
                sorted(writers) or None,
            ),
            None if mapping == "none" else mapping,
            writable=writable,
        )
        self._checked_state = (state.version, state.table_id, writable)

    def _verify_facts(
        self,
        columns: Mapping[str, pa.DataType],
        protocol: tuple[int, int, Sequence[str] | None, Sequence[str] | None],
        mapping: str | None,
        *,
        writable: bool,
    ) -> None:
        missing = [
            name for name in REQUIRED_COLUMNS if name not in columns or not _is_text(columns[name])
        ]
        if missing:
            raise IncompatibleTableError(
                f"table {self.location} is not a contract table: it lacks string columns "
                + ", ".join(missing)
            )
        if writable:
            foreign = [
                f"{field.name} ({columns[field.name]}, not {type_name(field.type)})"
                for field in TABLE_SCHEMA
                if field.name in columns
                and field.name != "created_at"
                and type_name(columns[field.name]) != type_name(field.type)
            ]
            if foreign:
                raise IncompatibleTableError(
                    f"table {self.location} holds columns of other types than this store "
                    f"writes: {', '.join(foreign)}; nothing was written"
                )
        min_reader, min_writer, reader_features, writer_features = protocol
        described = f"protocol {min_reader}/{min_writer}"
        readers, writers = implied_features(
            min_reader, min_writer, reader_features, writer_features
        )
        unreadable = sorted(readers - DELTA_RS_READER_FEATURES)
        if unreadable or min_reader > 3:
            raise IncompatibleTableError(
                f"table {self.location} needs Delta reader features "
                f"{', '.join(unreadable) or '(unknown)'} ({described}), which neither Polars "
                "nor deltalake reads"
            )
        if writable and mapping:
            raise IncompatibleTableError(
                f"table {self.location} uses the Delta feature columnMapping "
                f"(delta.columnMapping.mode={mapping}, {described}): this store reads it but "
                "does not write it (delta-rs cannot add columns to it, and the store's writes "
                "are not tested on it); nothing was written"
            )
        blocked = sorted(writers - WRITABLE_FEATURES - {"columnMapping"})
        if writable and blocked:
            raise IncompatibleTableError(
                f"table {self.location} uses Delta writer features {', '.join(blocked)} "
                f"({described}), which this store cannot write safely; nothing was written"
            )

    # -- writing -------------------------------------------------------------------------

    def insert_new(
        self,
        dt: DeltaTable,
        rows: Sequence[ContractRow],
        metadata: Mapping[str, Any],
        commit_info: Mapping[str, Any],
        app_transactions: Sequence[tuple[str, int]] = (),
    ) -> int:
        """Insert the ``rows`` whose keys snapshot ``dt`` lacks, in one commit; the count.

        Raises ``CommitFailedError`` when a concurrent commit touched the same keys, or
        recorded one of the same ``app_transactions`` (Delta ``SetTransaction``: app id,
        version).
        """
        schema = table_schema(dt)
        with self.errors("write"):
            if append_only(dt):
                source = rows_to_table(rows, datetime.now(UTC), schema, metadata)
                merger = merge_on_key(dt, schema, source, commit_info, app_transactions)
                return int(
                    merger.when_not_matched_insert_all().execute()["num_target_rows_inserted"]
                )
            hashed = "contract_key" in schema.names
            keys = [(row.contract_id, row.version) for row in rows]
            stored = read_keys(dt, key_predicate(keys, hashed=hashed))
            new = [row for row in rows if (row.contract_id, row.version) not in stored]
            if new:
                source = rows_to_table(new, datetime.now(UTC), schema, metadata)
                replace_keys(dt, source, hashed, commit_info, app_transactions)
            return len(new)

    def compact_small_files(
        self, dt: DeltaTable, threshold: int, target_size: int, commit_info: Mapping[str, Any]
    ) -> bool:
        """Bin-pack small files into ~``target_size`` files once ``threshold`` of them exist.

        Every put adds a one-row file and every file costs each later write and lookup;
        this keeps their number bounded. A lost race with another writer just skips it.

        Under the lock the snapshot is brought up to date first: a compaction that another
        process finished meanwhile removed the same files, and delta-rs lets a second
        compaction of them commit too (every row it moved would then appear twice).
        """
        if compactable(file_sizes(dt), target_size // 8) < threshold:
            return False
        try:
            with self.maintenance() as held:
                if not held:
                    return False  # another process is compacting right now
                dt.update_incremental()
                if compactable(file_sizes(dt), target_size // 8) < threshold:
                    return False  # someone else compacted them
                dt.optimize.compact(
                    target_size=target_size,
                    commit_properties=commit_properties(commit_info),
                    post_commithook_properties=POST_COMMIT,
                )
        except (DeltaError, OSError) as exc:  # the put already committed: never fail it here
            logger.info("compaction of %s skipped: %s", self.location, self._redact(exc))
            return False
        return True

    def maintenance(self) -> contextlib.AbstractContextManager[bool]:
        """The maintenance lock (see :mod:`.locking`); yields whether it is held."""
        path = self.location.local_path
        if path is None:
            return lease(self.location.uri, self.location.options())
        return maintenance_lock(path)

    def update_row(
        self,
        dt: DeltaTable,
        key: tuple[str, str],
        values: Mapping[str, Any],
        commit_info: Mapping[str, Any],
    ) -> int:
        """Set metadata ``values`` on the row ``key`` of snapshot ``dt``; the rows updated.

        The row is read and written back whole, with the other rows of its file.
        Raises ``CommitFailedError`` when a concurrent commit touched the same row.
        """
        if append_only(dt):
            raise IncompatibleTableError(
                f"cannot update {key[0]!r} version {key[1]!r} in table {self.location}: the "
                "table is append-only (delta.appendOnly=true) and an update rewrites the row; "
                "nothing was changed"
            )
        schema = table_schema(dt)
        hashed = "contract_key" in schema.names
        with self.errors("update"):
            current = pa.table(dt.scan(predicate=key_predicate([key], hashed=hashed)))
            if current.num_rows == 0:
                return 0
            updated = current.select(schema.names).cast(schema)
            for name, value in values.items():
                column = pa.array([value] * updated.num_rows, schema.field(name).type)
                updated = updated.set_column(schema.get_field_index(name), name, column)
            replace_keys(dt, updated, hashed, commit_info)
            return int(updated.num_rows)

    # -- errors --------------------------------------------------------------------------

    def _options(self) -> dict[str, str] | None:
        return self.location.options() or None

    def _redact(self, exc: BaseException) -> str:
        return describe(exc, self.location)

    @contextlib.contextmanager
    def errors(self, action: str) -> Iterator[None]:
        """Turn deltalake and OS errors into store errors that name the table, not secrets.

        ``from None``: the original message may carry credentials, so it is not chained.
        """
        try:
            yield
        except (CommitFailedError, ContractStoreError):  # ours already name the table
            raise
        except (SchemaMismatchError, DeltaProtocolError) as exc:
            raise IncompatibleTableError(
                f"cannot {action} table {self.location}: {self._redact(exc)}"
            ) from None
        except (DeltaError, OSError) as exc:
            raise StoreUnavailableError(
                f"cannot {action} table {self.location}: {self._redact(exc)}"
            ) from None
        except BaseException as exc:  # deltalake panics (a BaseException) in a forked child
            if type(exc).__name__ == "PanicException" and "Forked process" in str(exc):
                raise StoreUnavailableError(
                    f"cannot {action} table {self.location}: "
                    + FORKED.format(parent=_deltalake_pid or "another process")
                ) from None
            raise


class WriteSnapshot:
    """The snapshot one write plans and commits on (``dt``; None while no table exists),
    taken on first use."""

    def __init__(self, table: ContractTable) -> None:
        self._table = table
        self._dt: DeltaTable | None = None
        self._taken = False
        self._generation = 0
        self._started = -1

    @property
    def dt(self) -> DeltaTable | None:
        if not self._taken:
            self._dt, self._generation = self._table._take()
            self._started = -1 if self._dt is None else self._dt.version()
            self._taken = True
        return self._dt

    def writable(self, metadata_columns: Mapping[str, pa.DataType]) -> DeltaTable:
        """The snapshot checked to be writable; the table is created first if missing."""
        self._dt = self._table.writable(self.dt, metadata_columns)
        return self._dt

    def existing(self, action: str) -> DeltaTable:
        """The snapshot checked to be writable; :class:`~..errors.TableNotFoundError` (and
        nothing created) while no table exists."""
        if self.dt is None:
            raise TableNotFoundError(str(self._table.location), action)
        return self.writable({})

    def release(self) -> None:
        if self._taken:
            self._table._release(self._dt, self._generation, self._started)


def check_process(*, using: bool = False) -> None:
    """Refuse to run in a child forked after this process used deltalake (its tokio runtime
    panics there); ``using`` records that this process is about to use it."""
    global _deltalake_pid
    pid = os.getpid()
    if _deltalake_pid is not None and _deltalake_pid != pid:
        raise StoreUnavailableError(FORKED.format(parent=_deltalake_pid))
    if using:
        _deltalake_pid = pid


def create_table(
    uri: str,
    storage_options: Mapping[str, str],
    metadata_columns: Mapping[str, pa.DataType] | None = None,
) -> None:
    """Create an empty contract table at ``uri`` unless one is there already."""
    schema = table_arrow_schema(metadata_columns or {})
    try:
        DeltaTable.create(
            uri,
            schema,
            mode="ignore",
            name="contracts",
            description="ODCS data contracts, one row per contract version",
            configuration=TABLE_CONFIGURATION,
            storage_options=dict(storage_options) or None,
        )
    except (CommitFailedError, DeltaError):
        # Another writer may have created it first; that table is the one to use.
        if not DeltaTable.is_deltatable(uri, dict(storage_options) or None):
            raise


def catalog_location(
    catalog: UnityCatalog,
    table: str,
    storage_options: Mapping[str, str],
    storage_root: str | None,
    metadata_columns: Mapping[str, pa.DataType],
) -> TableLocation:
    """Resolve ``table`` in Unity Catalog, creating and registering it under ``storage_root``
    when it is not there (and a root is given)."""

    def create(uri: str, options: dict[str, str]) -> None:
        with ContractTable(TableLocation(uri, options, table)).errors("create"):
            check_conditional_writes(TableLocation(uri, options, table))
            create_table(uri, options, metadata_columns)

    credentials = resolve_catalog_table(
        catalog,
        table,
        storage_root=storage_root,
        storage_options=storage_options,
        columns=catalog_columns(table_arrow_schema(metadata_columns)),
        create=create,
    )
    location = credentials.table.storage_location
    return TableLocation(location, dict(storage_options), table, credentials)


def table_arrow_schema(metadata_columns: Mapping[str, pa.DataType]) -> pa.Schema:
    """The contract table's columns followed by the declared metadata columns."""
    return pa.schema([*TABLE_SCHEMA, *(pa.field(n, t) for n, t in metadata_columns.items())])


def table_schema(dt: DeltaTable) -> pa.Schema:
    """The Arrow schema of snapshot ``dt``."""
    return pa.schema(dt.schema().to_arrow())


@functools.lru_cache(maxsize=32)
def arrow_schema(schema_string: str) -> pa.Schema:
    """The Arrow schema of a Delta schema (a ``metaData.schemaString``), as
    :func:`table_schema` gives it."""
    if not schema_string:
        return pa.schema([])
    with contextlib.suppress(DeltaError, ValueError, TypeError):
        return pa.schema(Schema.from_json(schema_string).to_arrow())
    return pa.schema([])


def file_sizes(dt: DeltaTable) -> list[tuple[tuple[Any, ...], int]]:
    """(partition values, size in bytes) of every data file of snapshot ``dt``."""
    actions = pa.table(dt.get_add_actions(flatten=True))
    sizes = actions.column("size_bytes").to_pylist()
    columns = [f"partition.{name}" for name in dt.metadata().partition_columns]
    values = [actions.column(c).to_pylist() for c in columns if c in actions.column_names]
    return list(zip(zip(*values, strict=True) if values else [()] * len(sizes), sizes, strict=True))


def table_columns(dt: DeltaTable) -> dict[str, pa.DataType]:
    """Column name -> Arrow type of the snapshot ``dt``."""
    return {field.name: field.type for field in table_schema(dt)}


def _is_text(dtype: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(dtype)
        or pa.types.is_large_string(dtype)
        or pa.types.is_string_view(dtype)
    )
