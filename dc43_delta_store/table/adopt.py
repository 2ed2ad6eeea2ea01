"""Adopting a table other tools wrote: the derived columns added and filled, in one commit.

dc43's Spark store creates seven columns (see :mod:`..core.table_schema`); rows other
writers append to this store's table lack the derived ones; rows an older release wrote may
hold a ``version_sort_key`` the version order no longer gives (:mod:`..core.versions`).
Reads cope with all of that, reading the document where a value is missing, but SQL users
of other engines see nulls or a wrong order. :func:`plan_adoption` says what adoption would
change; :func:`adopt` rewrites the table with every derived column filled, in **one**
commit: the new columns (nullable, so the protocol stays as it is and Spark reads the
table) and every row's values. Partitioning, table properties and the other columns stay.

What is filled: ``contract_key``, ``version_sort_key`` and ``prerelease`` of every row,
recomputed from its id and version; ``api_version``, ``domain`` and ``data_product`` of
rows other tools wrote (``contract_key`` null) from their document; ``status`` of those rows
from the document where it is unset — a status set since (governance) is kept.

The required columns (``contract_id``, ``version``, ``json``, ``fingerprint``,
``created_at``) are made NOT NULL again where the table lets them be null and no row is
(dc43's Spark store creates them nullable; a ``MERGE ... WITH SCHEMA EVOLUTION`` on Sail
turns them nullable): a writer can then no longer add a row without identity.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, write_deltalake

from ..core.records import contract_key, document_fields
from ..core.table_schema import TABLE_SCHEMA
from ..core.versions import is_prerelease, version_sort_key
from .scanning import scan_frame

__all__ = ["DERIVED_COLUMNS", "AdoptionPlan", "AdoptionResult", "adopt", "backfilled"]

DERIVED_COLUMNS = (
    "status",
    "api_version",
    "domain",
    "data_product",
    "contract_key",
    "version_sort_key",
    "prerelease",
)
_FROM_DOCUMENT = ("status", "api_version", "domain", "data_product")
REQUIRED_COLUMNS = ("contract_id", "version", "json", "fingerprint", "created_at")
"""The columns the store creates NOT NULL."""


@dataclass(frozen=True)
class AdoptionPlan:
    """What adoption changes at ``table_version``: columns it adds, and per derived column
    the rows whose value it sets or corrects (``changes``)."""

    table: str
    table_version: int
    rows: int
    add_columns: tuple[str, ...]
    changes: Mapping[str, int] = field(default_factory=dict)
    not_null: tuple[str, ...] = ()
    """Required columns made NOT NULL again."""

    @property
    def needed(self) -> bool:
        return bool(self.add_columns or self.not_null) or any(self.changes.values())

    def describe(self) -> list[str]:
        """One line per change, for people."""
        lines = []
        if self.add_columns:
            lines.append(f"add columns {', '.join(self.add_columns)} (nullable)")
        if self.not_null:
            lines.append(f"make {', '.join(self.not_null)} NOT NULL again")
        lines += [
            f"set {column} on {count} of {self.rows} rows"
            for column, count in self.changes.items()
            if count
        ]
        return lines or ["nothing to do: every derived column is there and up to date"]


@dataclass(frozen=True)
class AdoptionResult:
    """The plan, whether it was applied, and the table version it wrote (None: dry run or
    nothing to do)."""

    plan: AdoptionPlan
    applied: bool
    table_version: int | None = None


def backfilled(frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    """``frame`` (rows of a contract table) with every derived column present and filled,
    and per derived column how many rows changed (null to a value counts). Pure.

    >>> frame = pl.DataFrame({"contract_id": ["a"], "version": ["0.10.0.0"],
    ...                       "json": ['{"status": "active"}']})
    >>> filled, changes = backfilled(frame)
    >>> filled["status"].item(), changes["version_sort_key"]
    ('active', 1)
    """
    empty = pl.from_arrow(TABLE_SCHEMA.empty_table())
    assert isinstance(empty, pl.DataFrame)
    present = frame.with_columns(
        pl.lit(None, dtype=empty.schema[name]).alias(name)
        for name in DERIVED_COLUMNS
        if name not in frame.columns
    )
    foreign = present["contract_key"].is_null()
    documents = [document_fields(payload) for payload in present["json"].filter(foreign)]
    by_position = dict(zip(foreign.arg_true().to_list(), documents, strict=True))
    filled = present.with_columns(
        _mapped(present["contract_id"], contract_key, pl.String).alias("contract_key"),
        _mapped(present["version"], version_sort_key, pl.String).alias("version_sort_key"),
        _mapped(present["version"], is_prerelease, pl.Boolean).alias("prerelease"),
        *(_unset_from(present[name], foreign, by_position, name) for name in _FROM_DOCUMENT),
    )
    changes = {
        name: int((~present[name].eq_missing(filled[name])).sum()) for name in DERIVED_COLUMNS
    }
    return filled, changes


def _unset_from(
    values: pl.Series,
    foreign: pl.Series,
    documents: Mapping[int, Mapping[str, str | None]],
    name: str,
) -> pl.Series:
    """``values`` with the unset ones of foreign rows taken from their ``documents``."""
    values = values.cast(pl.String)
    unset = (foreign & values.is_null()).arg_true()
    if unset.len():
        taken = [documents[index][name] for index in unset.to_list()]
        values = values.scatter(unset, pl.Series(taken, dtype=pl.String))
    return values.alias(name)


def _mapped(
    values: pl.Series, compute: Callable[[str], Any], dtype: type[pl.DataType]
) -> pl.Series:
    """``compute`` of each value, called once per distinct value; null stays null."""
    distinct = [value for value in values.unique().to_list() if value is not None]
    mapping = {value: compute(value) for value in distinct}
    return values.replace_strict(mapping, default=None, return_dtype=dtype)


def plan_adoption(dt: DeltaTable, table: str) -> tuple[AdoptionPlan, pl.DataFrame]:
    """What adopting snapshot ``dt`` changes, and the table it would write."""
    frame = scan_frame(dt).collect()
    filled, changes = backfilled(frame)
    added = tuple(name for name in DERIVED_COLUMNS if name not in frame.columns)
    schema = pa.schema(dt.schema().to_arrow())
    not_null = tuple(
        name
        for name in REQUIRED_COLUMNS
        if name in frame.columns and schema.field(name).nullable and not frame[name].null_count()
    )
    plan = AdoptionPlan(table, dt.version(), frame.height, added, changes, not_null)
    return plan, filled


def adopt(
    dt: DeltaTable, table: str, *, dry_run: bool, commit_info: Mapping[str, Any]
) -> AdoptionResult:
    """Plan (``dry_run``) or apply the adoption of snapshot ``dt`` in one commit.

    Raises ``CommitFailedError`` when a concurrent commit removed rows it read (then plan
    again); rows other writers added meanwhile stay, without derived values.
    """
    plan, filled = plan_adoption(dt, table)
    if dry_run or not plan.needed:
        return AdoptionResult(plan, applied=False)
    schema = _target_schema(pa.schema(dt.schema().to_arrow()), plan.add_columns, plan.not_null)
    data = filled.select(schema.names).to_arrow().cast(schema)
    write_deltalake(
        dt,
        data,
        mode="overwrite",
        schema_mode="overwrite" if plan.add_columns or plan.not_null else None,
        commit_properties=CommitProperties(custom_metadata=dict(commit_info)),
    )
    return AdoptionResult(plan, applied=True, table_version=dt.version())


def _target_schema(
    current: pa.Schema, added: Collection[str], not_null: Collection[str]
) -> pa.Schema:
    """The table's schema as it is but ``not_null`` NOT NULL, then the added derived columns
    (nullable)."""
    kept = [f.with_nullable(False) if f.name in not_null else f for f in current]
    new = [TABLE_SCHEMA.field(name).with_nullable(True) for name in added]
    return pa.schema([*kept, *new])
