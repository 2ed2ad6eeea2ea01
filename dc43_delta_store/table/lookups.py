"""The store's point reads: a stored document, a contract's versions, every contract id.

Each answer is computed on the snapshot ``as_of`` names and remembered by
:class:`~.reads.TableReads` until a commit touches the contract it is about. Copies of one
version another writer made are answered when they hold one content and refused otherwise
(:class:`~..errors.DuplicateVersionError`). Rows other writers left without a contract id,
a version or a json object are skipped (see :mod:`.queries`); ``list_contracts`` skips the
rows lacking one of those columns but does not parse every payload of the table: a contract
whose every row holds text that is not a JSON object is still listed (with no versions).
"""

from __future__ import annotations

import polars as pl

from ..core.duplicates import StoredRow, versions_of
from ..core.versions import sort_versions
from ..errors import ContractNotFoundError
from .cache import TABLE
from .delta_table import AsOf
from .queries import one_copy, payload_document
from .reads import Snapshot, TableReads

__all__ = ["contract_ids", "stored_payload", "version_list"]

_ROW_COLUMNS = ("version", "fingerprint", "json")
_IDENTITY = ("contract_id", "version", "json")
_UNREADABLE = (
    ": its row's json holds no JSON object, so reads skip it (`dc43-delta-store check` "
    "lists such rows)"
)


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
        if len(found) and payload_document(found[0]) is None:
            raise ContractNotFoundError(contract_id, version, detail=_UNREADABLE)
        return found[0] if len(found) else None

    return reads.answer(as_of, ("get", contract_id, version), compute, scope=contract_id)


def version_list(reads: TableReads, contract_id: str, as_of: AsOf | None) -> tuple[str, ...]:
    """The versions of ``contract_id``, lowest to highest."""

    def compute(snapshot: Snapshot | None) -> tuple[str, ...]:
        if snapshot is None:
            return ()
        frame = snapshot.frame(contract_id, ["version", "json"])
        found = reads.collect(frame.select("version", "json"))
        readable = [payload_document(payload) is not None for payload in found["json"]]
        versions = found["version"].filter(pl.Series(readable, dtype=pl.Boolean))
        if not versions.is_duplicated().any():
            return tuple(sort_versions(versions.to_list()))
        frame = snapshot.frame(contract_id, _ROW_COLUMNS)  # copies: one content, or refuse
        rows = [
            StoredRow(*row)
            for row in reads.collect(frame.select(*_ROW_COLUMNS)).iter_rows()
            if payload_document(row[2]) is not None
        ]
        return tuple(sort_versions(versions_of(contract_id, rows)))

    return reads.answer(as_of, ("versions", contract_id), compute, scope=contract_id)


def contract_ids(reads: TableReads, as_of: AsOf | None) -> tuple[str, ...]:
    """Every contract id in the table, sorted."""

    def compute(snapshot: Snapshot | None) -> tuple[str, ...]:
        if snapshot is None:
            return ()
        schema = snapshot.schema()
        nullable = [
            name
            for name in _IDENTITY
            if schema.get_field_index(name) < 0 or schema.field(name).nullable
        ]  # rows other writers left without identity are no contract
        frame = snapshot.every(list(dict.fromkeys(["contract_id", *nullable])))
        if nullable:
            frame = frame.filter(pl.all_horizontal(pl.col(name).is_not_null() for name in nullable))
        ids = reads.collect(frame.select("contract_id").unique())
        return tuple(sorted(ids["contract_id"].to_list()))

    return reads.answer(as_of, ("contracts",), compute, scope=TABLE)
