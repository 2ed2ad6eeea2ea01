"""Table upkeep: compaction with clustering by contract_id, checkpoints, log and file cleanup.

Every put is a commit that adds one small file. ``optimize`` rewrites the table into files of
about ``target_file_size`` clustered by ``contract_key`` (a Z-order on the id's hash; on
tables without it, on ``contract_id``), so a lookup's predicate matches one file's
statistics, in row groups of about 2 MB so that a lookup reads one of them; then writes
a checkpoint (table loading reads it instead of replaying JSON commits) and removes log
files past ``delta.logRetentionDuration``. A table partitioned by ``contract_id`` (as dc43's
Spark store creates it) is compacted within its partitions, which already cluster it; one
partitioned by other columns is Z-ordered within each partition.
``vacuum`` deletes data files that no version within the retention period refers to.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, WriterProperties
from deltalake.exceptions import DeltaError

from ..errors import InvalidRequestError

__all__ = [
    "DEFAULT_TARGET_FILE_SIZE",
    "OptimizeResult",
    "VacuumResult",
    "clustering",
    "compactable",
    "optimize",
    "vacuum",
]

DEFAULT_TARGET_FILE_SIZE = 2 * 1024 * 1024


@dataclass(frozen=True)
class OptimizeResult:
    """Data files before and after, the table version a checkpoint was written for, the
    Z-order columns (none: compacted only) and the table's partition columns."""

    files_before: int
    files_after: int
    table_version: int
    clustered_by: tuple[str, ...] = ()
    partitioned_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class VacuumResult:
    """Data files no version in the retention period refers to: deleted, or listed (dry run)."""

    files: tuple[str, ...]
    dry_run: bool


def clustering(columns: Collection[str], partitions: Sequence[str]) -> tuple[str, ...]:
    """The Z-order columns of ``optimize``: ``contract_key``, else ``contract_id``; none when
    the table is partitioned by either (each file then holds one contract's rows already).

    >>> clustering(["contract_id", "contract_key"], [])
    ('contract_key',)
    >>> clustering(["contract_id", "version"], ["contract_id"])
    ()
    """
    if {"contract_id", "contract_key"} & set(partitions):
        return ()
    return ("contract_key" if "contract_key" in columns else "contract_id",)


def compactable(files: Iterable[tuple[Any, int]], small: int) -> int:
    """How many of ``files`` (partition, size in bytes) compaction can merge: the files
    under ``small`` bytes in a partition holding at least two of them (compaction never
    merges files of different partitions).

    >>> compactable([("a", 10), ("a", 10), ("b", 10), ("c", 999)], small=100)
    2
    """
    counts: dict[Any, int] = {}
    for partition, size in files:
        if size < small:
            counts[partition] = counts.get(partition, 0) + 1
    return sum(count for count in counts.values() if count > 1)


def optimize(
    dt: DeltaTable,
    *,
    target_file_size: int,
    commit_info: Mapping[str, Any],
    row_group_rows: int | None = None,
) -> OptimizeResult:
    """Z-order by contract key into files of ~``target_file_size`` with row groups of
    ``row_group_rows`` (small groups: a point read reads one; see :mod:`.row_groups`)."""
    before = len(dt.file_uris())
    columns = {field.name for field in pa.schema(dt.schema().to_arrow())}
    partitions = tuple(dt.metadata().partition_columns)
    order = clustering(columns, partitions)
    properties = CommitProperties(custom_metadata=dict(commit_info))
    if before > 0 and order:
        dt.optimize.z_order(
            list(order),
            target_size=target_file_size,
            writer_properties=WriterProperties(
                max_row_group_size=row_group_rows,
                compression="ZSTD",  # the default's
            ),
            commit_properties=properties,
        )
    elif before > 0:
        dt.optimize.compact(target_size=target_file_size, commit_properties=properties)
    dt.create_checkpoint()
    dt.cleanup_metadata()
    return OptimizeResult(before, len(dt.file_uris()), dt.version(), order, partitions)


def vacuum(
    dt: DeltaTable, *, retention_hours: int | None, dry_run: bool, commit_info: Mapping[str, Any]
) -> VacuumResult:
    try:
        files = dt.vacuum(
            retention_hours=retention_hours,
            dry_run=dry_run,
            enforce_retention_duration=True,
            commit_properties=CommitProperties(custom_metadata=dict(commit_info)),
        )
    except DeltaError as exc:
        if "retention" not in str(exc):
            raise
        raise InvalidRequestError(
            f"vacuum refused: {str(exc).splitlines()[0]}; files younger than the table's "
            "delta.deletedFileRetentionDuration may still be read by running readers and "
            "time travel"
        ) from None
    return VacuumResult(tuple(sorted(files)), dry_run)
