"""Read-only SQL over the contract table, without Spark (Polars SQL on lazy Delta scans).

Two views:

- ``contracts``: one row per contract version — every table column, plus ``tenant`` and
  ``kind`` read from the document's JSON (and ``status``, ``api_version``, ``domain``,
  ``data_product`` where the table lacks them, as dc43's seven-column tables do, or rows
  other tools wrote left them unset);
- ``contracts_latest``: one row per contract, its latest version as :meth:`latest` picks it
  (the version order of ``core.versions``, prereleases skipped).

Rows other tools wrote without a ``contract_id``, a ``version`` or a ``json`` that holds a
JSON object (one that does not start with ``{`` and end with ``}``) are in neither view:
a check costing no JSON parse (a parse of every payload would cost the discovery query ten
times its time); ``check`` parses them all. In :func:`sql_views` (what ``store.sql`` queries)
timestamps are UTC without a time zone, as SQL's ``TIMESTAMP '...'`` literals and ``now()``
in the worker (``TZ=UTC``) are, so that they compare.

What may run is decided by :mod:`..core.sql_guard` (one query over these views, allowed
functions only); Polars runs the SQL it regenerates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl

from ..core.versions import is_prerelease, version_sort_key
from ..errors import InvalidRequestError
from .queries import DOCUMENT_FIELDS, document_column

__all__ = ["SQL_ONLY_FIELDS", "execute", "run_sql", "sql_views", "views"]

SQL_ONLY_FIELDS = ("tenant", "kind")
"""View columns read from the payload only: reserved names for metadata columns."""


def views(scan: pl.LazyFrame, columns: Mapping[str, object]) -> dict[str, pl.LazyFrame]:
    """The ``contracts`` and ``contracts_latest`` views over a lazy scan of the table."""
    sort_key, prerelease = _version_order(columns)
    helper = "_order"
    while helper in columns:  # a column of the table by that name must survive
        helper = "_" + helper
    scan = scan.filter(_readable())
    released = scan.filter(~prerelease.fill_null(False)).with_columns(sort_key.alias(helper))
    latest = released.filter(pl.col(helper) == pl.col(helper).max().over("contract_id"))
    # JSON fields are read after the latest row is picked: one parse per contract, not version
    lifted = _lifted(columns)
    return {
        "contracts": scan.with_columns(lifted),
        "contracts_latest": latest.drop(helper).with_columns(lifted),
    }


def sql_views(scan: pl.LazyFrame, columns: Mapping[str, object]) -> dict[str, pl.LazyFrame]:
    """:func:`views` as ``store.sql`` queries them: timestamps UTC without a time zone."""
    return views(scan.with_columns(_naive_utc(columns)), columns)


def _readable() -> pl.Expr:
    """Rows with an identity and a payload shaped as a JSON object."""
    payload = pl.col("json")
    return (
        pl.col("contract_id").is_not_null()
        & pl.col("version").is_not_null()
        & payload.str.contains(r"^\s*\{")
        & payload.str.contains(r"\}\s*$")
    )


def _naive_utc(columns: Mapping[str, object]) -> list[pl.Expr]:
    """Timestamp columns with a time zone (``created_at``), as UTC without one."""
    return [
        pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        for name, dtype in columns.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    ]


def _version_order(columns: Mapping[str, object]) -> tuple[pl.Expr, pl.Expr]:
    """Each row's ``version_sort_key`` and ``prerelease``, fresh.

    The stored values are used, except where they may be stale: keys an earlier release
    wrote as unordered (``"0 ..."``, e.g. ``0.32.0.0rc2``), nulls other writers left, and
    columns a table lacks. Only those rows are recomputed from ``version``, so an up-to-date
    table costs no Python call.
    """
    stored = [
        pl.col(name) if name in columns else pl.lit(None, dtype).alias(name)  # all stale
        for name, dtype in (("version_sort_key", pl.String), ("prerelease", pl.Boolean))
    ]
    rows = pl.struct("version", *stored)
    return (
        rows.map_batches(
            lambda batch: _refreshed(batch, "version_sort_key", version_sort_key),
            return_dtype=pl.String,
            is_elementwise=True,
        ),
        rows.map_batches(
            lambda batch: _refreshed(batch, "prerelease", is_prerelease),
            return_dtype=pl.Boolean,
            is_elementwise=True,
        ),
    )


def _refreshed(batch: pl.Series, column: str, compute: Callable[[str], object]) -> pl.Series:
    rows = batch.struct.unnest()
    key = rows["version_sort_key"]
    stale = (key.is_null() | key.str.starts_with("0 ") | rows["prerelease"].is_null()).arg_true()
    values = rows[column]
    if stale.len():
        values = values.scatter(stale, [compute(v) for v in rows["version"].gather(stale)])
    return values


def _lifted(columns: Mapping[str, object]) -> list[pl.Expr]:
    """Document fields the table lacks as columns (or that rows other tools wrote leave
    unset), read from the payload when a query needs them. A ``tenant`` or ``kind`` column
    another tool added keeps its values, and the payload fills its nulls."""
    lifted = []
    for name, path in DOCUMENT_FIELDS.items():
        if name in SQL_ONLY_FIELDS and name in columns:
            found = pl.col("json").str.json_path_match(path)
            lifted.append(pl.coalesce(pl.col(name).cast(pl.String), found).alias(name))
        elif (expr := document_column(name, columns)) is not None:
            lifted.append(expr)
    return lifted


def run_sql(query: str, frames: Mapping[str, pl.LazyFrame]) -> pl.DataFrame:
    """Run ``query`` over ``frames`` if the sandbox allows it, in this process (``store.sql``
    checks in the caller and runs in a worker, see :mod:`.sql_pool`)."""
    from ..core.sql_guard import sandboxed  # sqlglot takes ~0.1 s to import: only for SQL

    return execute(sandboxed(query, frames), frames)


def execute(checked: str, frames: Mapping[str, pl.LazyFrame]) -> pl.DataFrame:
    """Run SQL the sandbox returned over ``frames``; errors in the query itself (syntax,
    unknown column, a failed cast) become :class:`InvalidRequestError`."""
    context = pl.SQLContext(frames=dict(frames))
    try:
        return context.execute(checked).collect()
    except (
        pl.exceptions.SQLInterfaceError,
        pl.exceptions.SQLSyntaxError,
        pl.exceptions.ColumnNotFoundError,
        pl.exceptions.InvalidOperationError,
        pl.exceptions.ComputeError,  # a failed cast or pattern; I/O failures are OSErrors
        pl.exceptions.SchemaError,
        pl.exceptions.DuplicateError,
        pl.exceptions.StructFieldNotFoundError,
        pl.exceptions.OutOfBoundsError,
    ) as exc:
        raise InvalidRequestError(f"cannot run the query: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())[:2000]
