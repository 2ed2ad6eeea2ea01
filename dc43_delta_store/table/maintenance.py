"""Table upkeep: compaction with clustering by contract_id, checkpoints, log and file cleanup.

Every put is a commit that adds one small file. ``optimize`` rewrites the table into files of
about ``target_file_size`` clustered by ``contract_key`` (a Z-order on the id's hash; on
tables without it, on ``contract_id``), so a lookup's predicate matches one file's
statistics, in row groups of about 512 KB so that a lookup reads one of them; then writes
a checkpoint (table loading reads it instead of replaying JSON commits) and removes log
files past ``delta.logRetentionDuration``.
``vacuum`` deletes data files that no version within the retention period refers to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, WriterProperties
from deltalake.exceptions import DeltaError

from ..errors import InvalidRequestError

__all__ = ["DEFAULT_TARGET_FILE_SIZE", "OptimizeResult", "VacuumResult", "optimize", "vacuum"]

DEFAULT_TARGET_FILE_SIZE = 2 * 1024 * 1024


@dataclass(frozen=True)
class OptimizeResult:
    """Data files before and after, and the table version a checkpoint was written for."""

    files_before: int
    files_after: int
    table_version: int


@dataclass(frozen=True)
class VacuumResult:
    """Data files no version in the retention period refers to: deleted, or listed (dry run)."""

    files: tuple[str, ...]
    dry_run: bool


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
    if before > 0:
        dt.optimize.z_order(
            ["contract_key" if "contract_key" in columns else "contract_id"],
            target_size=target_file_size,
            writer_properties=WriterProperties(max_row_group_size=row_group_rows),
            commit_properties=CommitProperties(custom_metadata=dict(commit_info)),
        )
    dt.create_checkpoint()
    dt.cleanup_metadata()
    return OptimizeResult(before, len(dt.file_uris()), dt.version())


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
