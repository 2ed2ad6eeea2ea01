"""The store's point reads: a stored document, a contract's versions, every contract id.

Each answer is computed on the snapshot ``as_of`` names and remembered by
:class:`~.reads.TableReads` until a commit touches the contract it is about. Copies of one
version another writer made are answered when they hold one content and refused otherwise
(:class:`~..errors.DuplicateVersionError`).
"""

from __future__ import annotations

import polars as pl

from ..core.duplicates import StoredRow, versions_of
from ..core.versions import sort_versions
from .cache import TABLE
from .delta_table import AsOf
from .queries import one_copy
from .reads import Snapshot, TableReads

__all__ = ["contract_ids", "stored_payload", "version_list"]

_ROW_COLUMNS = ("version", "fingerprint", "json")


def stored_payload(
    reads: TableReads, contract_id: str, version: str, as_of: AsOf | None
) -> str | None:
    """The ``json`` column of ``contract_id`` at ``version``, or None when absent."""

    def compute(snapshot: Snapshot | None) -> str | None:
        if snapshot is None:
            return None
        frame = snapshot.frame(contract_id, ["version", "json"])
        found = reads.collect(frame.filter(pl.col("version") == version).select("json"))["json"]
        if len(found) > 1:  # copies another writer made: one content, or refuse
            dt = snapshot.table()
            return one_copy(dt, contract_id, version, reads.columns(dt), reads.collect)
        return found[0] if len(found) else None

    return reads.answer(as_of, ("get", contract_id, version), compute, scope=contract_id)


def version_list(reads: TableReads, contract_id: str, as_of: AsOf | None) -> tuple[str, ...]:
    """The versions of ``contract_id``, lowest to highest."""

    def compute(snapshot: Snapshot | None) -> tuple[str, ...]:
        if snapshot is None:
            return ()
        frame = snapshot.frame(contract_id, ["version"])
        versions = reads.collect(frame.select("version"))["version"]
        if not versions.is_duplicated().any():
            return tuple(sort_versions(versions.to_list()))
        frame = snapshot.frame(contract_id, _ROW_COLUMNS)  # copies: one content, or refuse
        rows = [StoredRow(*row) for row in reads.collect(frame.select(*_ROW_COLUMNS)).iter_rows()]
        return tuple(sort_versions(versions_of(contract_id, rows)))

    return reads.answer(as_of, ("versions", contract_id), compute, scope=contract_id)


def contract_ids(reads: TableReads, as_of: AsOf | None) -> tuple[str, ...]:
    """Every contract id in the table, sorted."""

    def compute(snapshot: Snapshot | None) -> tuple[str, ...]:
        if snapshot is None:
            return ()
        ids = reads.collect(snapshot.every(["contract_id"]).unique().drop_nulls())
        return tuple(sorted(ids["contract_id"].to_list()))

    return reads.answer(as_of, ("contracts",), compute, scope=TABLE)
