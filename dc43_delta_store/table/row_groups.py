"""Point reads: one contract's rows from the few Parquet row groups that can hold them.

Polars' ``scan_delta`` plans a scan of the whole snapshot for every lookup (~3 ms at 1M
versions), and on a table compacted into large row groups then reads a whole file's
``json`` column (~10 MB uncompressed at 12k rows). Here the files whose ``contract_key``
statistics admit the key are known per table version — from the snapshot's add actions,
or derived from the previous version's files and the commits in between (:meth:`advance`)
— and Polars reads just those files, skipping the row groups whose statistics exclude the
key. ``optimize`` writes row groups of about :data:`ROW_GROUP_BYTES`, so a lookup reads one.

:meth:`PointReader.rows` answers None — the caller then scans the snapshot — whenever an
assumption does not hold: no ``contract_key`` column, partition columns, column mapping,
deletion vectors or other reader features, a file without key statistics or with rows
lacking a key, a key spread over more than :data:`MAX_FILES` files, a file path that is
not relative to the table, a file whose columns do not read as the table types them.
"""

from __future__ import annotations

import io
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable

from ..core.file_stats import bounds, parse_stats
from ..core.log_state import LogState
from ..core.records import contract_key
from .location import TableLocation
from .log import LogEntry
from .objects import TableFiles

__all__ = ["MAX_FILES", "ROW_GROUP_BYTES", "Files", "PointReader"]

MAX_FILES: Final = 8
WHOLE_FILE_BYTES: Final = 8 * 1024 * 1024
"""On object stores, a file up to this size is read in one GET, and kept (see :mod:`.objects`)."""
ROW_GROUP_BYTES: Final = 2 * 1024 * 1024
_READABLE_FEATURES = frozenset({"timestampNtz", "v2Checkpoint", "vacuumProtocolCheck"})
_KEY = "contract_key"


@dataclass(frozen=True)
class Files:
    """The data files of one snapshot (every row keyed), sorted by lowest key; ``reach[i]``
    is the highest key of files ``0..i``, so a search stops at the first file below."""

    schema: pa.Schema
    polars: dict[str, pl.DataType]  # the same columns, as Polars types them
    ranges: dict[str, tuple[str, str]]  # path -> lowest and highest key
    paths: list[str]
    low: list[str]
    high: list[str]
    reach: list[str]
    sizes: dict[str, int]  # path -> bytes, where the log says

    @classmethod
    def of(
        cls,
        schema: pa.Schema,
        ranges: dict[str, tuple[str, str]],
        polars: dict[str, pl.DataType] | None = None,
        sizes: dict[str, int] | None = None,
    ) -> Files:
        ordered = sorted((low, high, path) for path, (low, high) in ranges.items())
        reach: list[str] = []
        for _, high, _ in ordered:
            reach.append(max(high, reach[-1]) if reach else high)
        if polars is None:
            empty = pl.from_arrow(
                pa.table([pa.nulls(0, field.type) for field in schema], schema=schema)
            )
            assert isinstance(empty, pl.DataFrame)
            polars = dict(empty.schema)
        return cls(
            schema,
            polars,
            ranges,
            [f[2] for f in ordered],
            [f[0] for f in ordered],
            [f[1] for f in ordered],
            reach,
            sizes or {},
        )

    def admitting(self, key: str) -> list[str] | None:
        """Files whose key range holds ``key``; None when more than :data:`MAX_FILES`."""
        found = []
        index = bisect_right(self.low, key) - 1
        while index >= 0 and self.reach[index] >= key:
            if self.high[index] >= key:
                found.append(self.paths[index])
                if len(found) > MAX_FILES:
                    return None
            index -= 1
        return found


class PointReader:
    """Reads contracts' rows of the table at ``location`` from the files that hold them."""

    def __init__(
        self,
        location: TableLocation,
        epoch: Callable[[], int] = lambda: 0,
        files: TableFiles | None = None,
    ) -> None:
        self._location = location
        self._table_files = files  # reads small files whole, once, on object stores
        self._plans: OrderedDict[int, Files | None] = OrderedDict()
        self._epoch_of = epoch  # a new epoch (the table was replaced) forgets the plans
        self._epoch = epoch()
        self._lock = threading.Lock()
        self.served = 0  # lookups answered here rather than by a scan
        self._filesystem: Any = None  # pyarrow's, for optimize's look at a file
        self._generation = -1

    def known(self, version: int) -> Files | None:
        """The files of table ``version`` if known (None otherwise)."""
        with self._lock:
            self._same_table()
            return self._plans.get(version)

    def _same_table(self) -> None:
        epoch = self._epoch_of()
        if epoch != self._epoch:
            self._plans.clear()
            self._epoch = epoch

    def files_of_state(self, state: LogState, schema: pa.Schema) -> Files | None:
        """The files of log ``state`` (whose Arrow schema is ``schema``), or None when point
        reads do not apply to it."""
        with self._lock:
            self._same_table()
            if state.version in self._plans:
                self._plans.move_to_end(state.version)
                return self._plans[state.version]
            epoch = self._epoch
        plan = _files_of_state(state, schema)
        self._keep(state.version, plan, epoch)
        return plan

    def files(self, dt: DeltaTable, schema: pa.Schema) -> Files | None:
        """The files of snapshot ``dt`` (whose Arrow schema is ``schema``), or None when
        point reads do not apply to it."""
        version = dt.version()
        with self._lock:
            self._same_table()
            if version in self._plans:
                self._plans.move_to_end(version)
                return self._plans[version]
            epoch = self._epoch
        plan = _files_of(dt, schema)
        self._keep(version, plan, epoch)
        return plan

    def rows(self, files: Files, contract_id: str, columns: Sequence[str]) -> pl.DataFrame | None:
        """The rows of ``contract_id`` among ``files``: ``contract_id``, ``contract_key`` and
        ``columns``, typed as the table types them; or None when this cannot read them."""
        key = contract_key(contract_id)
        paths = files.admitting(key)
        if paths is None:
            return None
        match = (pl.col(_KEY) == key) & (pl.col("contract_id") == contract_id)
        return self._read(files, paths, ["contract_id", _KEY, *columns], match)

    def rows_of(
        self, files: Files, contract_ids: Sequence[str], columns: Sequence[str]
    ) -> pl.DataFrame | None:
        """:meth:`rows` of several contracts, each file read once."""
        paths: set[str] = set()
        for contract_id in contract_ids:
            found = files.admitting(contract_key(contract_id))
            if found is None:
                return None
            paths.update(found)
        keys = [contract_key(contract_id) for contract_id in contract_ids]
        match = pl.col(_KEY).is_in(keys) & pl.col("contract_id").is_in(list(contract_ids))
        return self._read(files, sorted(paths), ["contract_id", _KEY, *columns], match)

    def every(self, files: Files, columns: Sequence[str]) -> pl.DataFrame | None:
        """``columns`` of every row of ``files`` (at most :data:`MAX_FILES` x 4 files), or
        None when this cannot read them."""
        if len(files.paths) > 4 * MAX_FILES:
            return None
        return self._read(files, files.paths, list(columns), pl.lit(True))

    def _read(
        self, files: Files, paths: Sequence[str], columns: Sequence[str], match: pl.Expr
    ) -> pl.DataFrame | None:
        wanted = list(dict.fromkeys(columns))
        schema = {name: files.polars[name] for name in wanted}
        if not paths:
            return pl.DataFrame(schema=schema)
        root = self._location.uri.rstrip("/")
        sources: list[Any] = [f"{root}/{path}" for path in paths]
        reader = self._table_files
        if (
            reader is not None
            and self._location.local_path is None
            and all(0 < files.sizes.get(path, 0) <= WHOLE_FILE_BYTES for path in paths)
        ):
            sources = [io.BytesIO(reader.get(path) or b"") for path in paths]
        try:
            found = (
                pl.scan_parquet(
                    sources,
                    schema=schema,
                    missing_columns="insert",
                    extra_columns="ignore",
                    storage_options=self._location.options() or None,
                    credential_provider=None,
                )
                .filter(match)
                .collect()
            )
        except Exception:  # a file Polars reads otherwise: the snapshot scan decides
            return None
        self.served += 1
        return found

    # -- per snapshot --------------------------------------------------------------------

    def advance(self, old: int, new: int, entries: Sequence[LogEntry]) -> None:
        """Derive the files of version ``new`` from those of ``old`` and the commits in
        between (``entries``), rather than from the snapshot's add actions."""
        with self._lock:
            self._same_table()
            plan = self._plans.get(old)
            if plan is None or new in self._plans:
                return
            epoch = self._epoch
        ranges = dict(plan.ranges)
        sizes = dict(plan.sizes)
        for entry in entries:
            for action in entry.actions:
                if "metaData" in action or "protocol" in action:
                    return  # the snapshot's add actions decide
                remove, add = action.get("remove"), action.get("add")
                if isinstance(remove, dict) and isinstance(remove.get("path"), str):
                    ranges.pop(unquote(remove["path"]), None)
                elif isinstance(add, dict):
                    found = _added(add)
                    if found is None:
                        return
                    if len(found) == 3:
                        ranges[found[0]] = (found[1], found[2])
                        sizes[found[0]] = _size(add)
        self._keep(new, Files.of(plan.schema, ranges, plan.polars, sizes), epoch)

    def _keep(self, version: int, plan: Files | None, epoch: int) -> None:
        with self._lock:
            if epoch != self._epoch:
                return  # read from a table since replaced
            self._plans[version] = plan
            self._plans.move_to_end(version)
            if len(self._plans) > 4:
                self._plans.popitem(last=False)

    def row_group_rows(self, dt: DeltaTable) -> int:
        """Rows per row group for ``optimize`` to write groups of about
        :data:`ROW_GROUP_BYTES`, from the uncompressed bytes per row of the table's largest
        file (16 to 8,192 rows)."""
        import pyarrow.parquet as pq

        actions = _arrow(dt.get_add_actions())
        if actions.num_rows == 0:
            return 1024
        sizes = actions.column("size_bytes").to_pylist()
        path = str(actions.column("path")[sizes.index(max(sizes))])
        if "://" in path or path.startswith("/"):
            return 1024
        with self._open(path) as source:
            metadata = pq.ParquetFile(source).metadata
        rows = int(metadata.num_rows)
        if rows == 0:
            return 1024
        total = sum(
            int(metadata.row_group(i).total_byte_size) for i in range(metadata.num_row_groups)
        )
        return max(16, min(8192, ROW_GROUP_BYTES // max(1, total // rows)))

    def _open(self, path: str) -> Any:
        local = self._location.local_path
        if local is not None:
            return pa.OSFile(str(local / unquote(path)))
        generation = self._location.credentials_generation
        if self._filesystem is None or generation != self._generation:
            from deltalake.fs import DeltaStorageHandler
            from pyarrow.fs import PyFileSystem

            handler = DeltaStorageHandler(self._location.uri, self._location.options())
            self._filesystem = PyFileSystem(handler)
            self._generation = generation
        return self._filesystem.open_input_file(unquote(path))


def _files_of(dt: DeltaTable, schema: pa.Schema) -> Files | None:
    """The snapshot's files with their key ranges, or None when point reads do not apply.

    Plain Python on the add actions: pyarrow's conversions of Python values import pandas.
    """
    if _KEY not in schema.names or dt.metadata().partition_columns:
        return None
    configuration = dt.metadata().configuration
    if configuration.get("delta.columnMapping.mode", "none") != "none":
        return None
    if set(dt.protocol().reader_features or ()) - _READABLE_FEATURES:
        return None
    actions = _arrow(dt.get_add_actions(flatten=True))
    names = ("path", f"min.{_KEY}", f"max.{_KEY}", f"null_count.{_KEY}", "num_records")
    if not set(names) <= set(actions.column_names):
        return None
    ranges = {}
    sizes = dict(
        zip(
            (unquote(p) for p in actions.column("path").to_pylist()),
            actions.column("size_bytes").to_pylist(),
            strict=True,
        )
    )
    for path, low, high, nulls, rows in zip(
        *(actions.column(name).to_pylist() for name in names), strict=True
    ):
        if rows == 0:
            continue
        if low is None or high is None or nulls != 0 or not _relative(path):
            return None  # rows without a key, no statistics, a file elsewhere: not here
        ranges[unquote(path)] = (low, high)
    return Files.of(schema, ranges, sizes=sizes)


def _files_of_state(state: LogState, schema: pa.Schema) -> Files | None:
    """:func:`_files_of` from the log the store replayed itself."""
    if _KEY not in schema.names or state.partition_columns:
        return None
    if state.configuration.get("delta.columnMapping.mode", "none") != "none":
        return None
    readers, _ = state.features()
    if readers - _READABLE_FEATURES:
        return None
    ranges, sizes = {}, {}
    for data_file in state.files.values():
        found = _added(dict(data_file.action))
        if found is None:
            return None
        if len(found) == 3:
            ranges[found[0]] = (found[1], found[2])
            sizes[found[0]] = data_file.size
    return Files.of(schema, ranges, sizes=sizes)


def _size(add: dict[str, Any]) -> int:
    size = add.get("size")
    return size if isinstance(size, int) else 0


def _added(add: dict[str, Any]) -> tuple[str, str, str] | tuple[()] | None:
    """``(path, lowest key, highest key)`` of an add action, ``()`` for an empty file,
    None when its statistics do not place every row."""
    path, raw = add.get("path"), add.get("stats")
    if not isinstance(path, str) or not _relative(path) or not isinstance(raw, str):
        return None
    if add.get("partitionValues") or add.get("deletionVector"):
        return None
    stats = parse_stats(raw)
    if stats is None:
        return None
    if stats.get("numRecords") == 0:
        return ()
    found = bounds(stats, _KEY)
    if found is None:
        return None
    low, high = found
    return unquote(path), low, high


def _relative(path: str) -> bool:
    return "://" not in path and not path.startswith("/")


def _arrow(table: Any) -> pa.Table:
    """A pyarrow table from deltalake's arro3 one (``pa.table`` would import pandas)."""
    return pa.RecordBatchReader.from_stream(table).read_all()
