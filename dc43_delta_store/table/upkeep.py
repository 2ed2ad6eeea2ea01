"""The store's upkeep: ``optimize``, ``vacuum`` and ``adopt``, one at a time per table.

Each needs an existing Delta table: where there is none (a missing or empty folder, a
prefix without ``_delta_log``) it raises :class:`~..errors.TableNotFoundError` and creates
nothing — not the table, not the maintenance lock. A folder holding other files is an
:class:`~..errors.InvalidLocationError`. Upkeep that commits runs under the table's
maintenance lock (see :mod:`.locking`) on a snapshot of its own (see
:meth:`.delta_table.ContractTable.writing`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deltalake import DeltaTable

from ..errors import TableNotFoundError
from .adopt import AdoptionResult, adopt
from .delta_table import ContractTable, WriteSnapshot
from .maintenance import OptimizeResult, VacuumResult, optimize, vacuum
from .reads import TableReads
from .writer import TableWriter

__all__ = ["TableUpkeep"]


class TableUpkeep:
    """Upkeep of one store's table (safe to share between threads)."""

    def __init__(self, table: ContractTable, reads: TableReads, writer: TableWriter) -> None:
        self._table = table
        self._reads = reads
        self._writer = writer

    def optimize(self, target_file_size: int, info: Mapping[str, Any]) -> OptimizeResult:
        """Compact, cluster, checkpoint and clean the log (see :mod:`.maintenance`)."""

        def attempt(held: WriteSnapshot) -> OptimizeResult:
            dt = held.existing("optimize")
            rows = self._reads.row_group_rows(dt)
            with self._table.errors("optimize"):
                return optimize(
                    dt, target_file_size=target_file_size, commit_info=info, row_group_rows=rows
                )

        self._existing("optimize")
        return self._writer.exclusive("optimizing", "optimize", attempt)

    def vacuum(
        self, retention_hours: int | None, dry_run: bool, info: Mapping[str, Any]
    ) -> VacuumResult:
        """Delete (or list, ``dry_run``) data files no version within the retention period
        refers to."""

        def attempt(held: WriteSnapshot) -> VacuumResult:
            dt = held.existing("vacuum")
            with self._table.errors("vacuum"):
                return vacuum(
                    dt, retention_hours=retention_hours, dry_run=dry_run, commit_info=info
                )

        if dry_run:  # nothing is committed: the reads' snapshot will do
            dt = self._existing("vacuum")
            with self._table.errors("vacuum"):
                return vacuum(dt, retention_hours=retention_hours, dry_run=True, commit_info=info)
        self._existing("vacuum")
        return self._writer.exclusive("vacuuming", "vacuum", attempt)

    def adopt(self, dry_run: bool, info: Mapping[str, Any]) -> AdoptionResult:
        """Add and fill the derived columns of a table other tools wrote (see :mod:`.adopt`)."""
        name = str(self._table.location)

        def attempt(held: WriteSnapshot) -> AdoptionResult:
            dt = held.existing("adopt")
            with self._reads.reading(), self._table.errors("adopt"):
                return adopt(dt, name, dry_run=False, commit_info=info)

        if dry_run:  # only plans: the reads' snapshot will do
            dt = self._existing("adopt")
            with self._reads.reading(), self._table.errors("adopt"):
                return adopt(dt, name, dry_run=True, commit_info=info)
        self._existing("adopt")
        return self._writer.exclusive("adopting", "adopt", attempt)

    def _existing(self, action: str) -> DeltaTable:
        """The newest snapshot; :class:`~..errors.TableNotFoundError` when there is none."""
        dt = self._table.current()
        if dt is None:
            raise TableNotFoundError(str(self._table.location), action)
        return dt
