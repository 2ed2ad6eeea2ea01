"""Lazy Polars frames over a table snapshot, whichever reader the table needs.

``polars.scan_delta`` reads the store's own tables and dc43's, pushing predicates down to
the file statistics. It refuses tables with column mapping (``delta.columnMapping.mode``
``name`` or ``id``, common on Databricks): their data files name columns by physical names.
deltalake's own DataFusion reader (``DeltaTable.scan``) reads those right — its
``to_pyarrow_table`` returns nulls for every column of such a table, measured on 1.6.6 — so
for them the frame is a Polars IO source over ``DeltaTable.scan``: columns are projected,
rows filtered by Polars after the read (every file of the table is read).
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable
from polars.io.plugins import register_io_source

from ..core.health import POLARS_READER_FEATURES, implied_features

__all__ = ["column_mapping", "polars_reads", "scan_frame"]


def column_mapping(dt: DeltaTable) -> str | None:
    """The table's column mapping mode (``"name"``, ``"id"``), or None without one."""
    mode = dt.metadata().configuration.get("delta.columnMapping.mode")
    return None if mode in (None, "none") else str(mode)


def polars_reads(dt: DeltaTable) -> bool:
    """Whether ``polars.scan_delta`` reads snapshot ``dt``."""
    protocol = dt.protocol()
    if protocol.min_reader_version > 3 or column_mapping(dt):
        return False
    readers, _ = implied_features(
        protocol.min_reader_version,
        protocol.min_writer_version,
        protocol.reader_features,
        protocol.writer_features,
    )
    return readers <= POLARS_READER_FEATURES


def scan_frame(dt: DeltaTable) -> pl.LazyFrame:
    """Snapshot ``dt`` as a ``LazyFrame``: ``polars.scan_delta``, or DataFusion where Polars
    cannot read the table (see the module docstring)."""
    if polars_reads(dt):
        return pl.scan_delta(dt)
    schema = pa.schema(dt.schema().to_arrow())
    empty = pl.from_arrow(schema.empty_table())
    assert isinstance(empty, pl.DataFrame)

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        columns = with_columns or schema.names
        left = n_rows
        for batch in dt.scan(columns=columns):
            frame = pl.DataFrame(pa.record_batch(batch)).cast(
                {name: empty.schema[name] for name in columns}
            )
            if predicate is not None:
                frame = frame.filter(predicate)
            if left is not None:
                frame = frame.head(left)
                left -= frame.height
            yield frame
            if left == 0:
                return

    frame = register_io_source(
        source, schema=empty.schema, explain_name="deltalake DataFusion scan"
    )
    # Filters stay in Polars: every file is read anyway, and pushing a filter into a Python
    # source serialises it, which fails for Python functions (the version order's).
    return frame.with_row_index("\0row").drop("\0row")
