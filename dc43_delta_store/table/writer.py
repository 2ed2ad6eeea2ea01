"""The store's writes: batches of new versions, governance updates, declared columns, the
compatibility settings, and the retry loop every commit runs in.

Each write reads the newest snapshot, decides, and commits on that snapshot; a concurrent
commit it conflicts with fails it (``CommitFailedError``) and it runs again on top of the
other, with jittered backoff, up to ``max_attempts`` (then :class:`~..errors.TableBusyError`).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable

from ..compatibility import CompatibilitySettings, Policy
from ..core.batch import (
    BatchResult,
    Classified,
    Prepared,
    batch_result,
    classify,
    describe_keys,
    prepare,
)
from ..core.duplicates import fingerprints_by_key
from ..core.log_state import LogState
from ..core.metadata import case_clashes, check_declared, check_values, parse_columns
from ..core.records import contract_key
from ..core.table_schema import rows_to_table
from ..core.validation import ValidationMode
from ..errors import BatchError, ContractNotFoundError, TableBusyError, UpdateConflictError
from .appender import appendable
from .compatibility import apply_gate, gate_transactions, gated, read_settings, rewrite_settings
from .delta_table import (
    CommitFailedError,
    ContractTable,
    WriteSnapshot,
    arrow_schema,
    table_arrow_schema,
)
from .history import update_summary, write_summary
from .maintenance import DEFAULT_TARGET_FILE_SIZE, compactable
from .queries import lookup
from .reads import TableReads
from .scanning import scan_frame

__all__ = ["TableWriter"]

T = TypeVar("T")
logger = logging.getLogger("dc43_delta_store")


@dataclass(frozen=True)
class OwnInsert(Classified):
    """A put planned on log ``state``, to commit with the store's own commit."""

    state: LogState = field(kw_only=True)
    schema: pa.Schema = field(kw_only=True)
    values: Mapping[str, Any] = field(kw_only=True)


class TableWriter:
    """Writes to one store's table (``declared``: its governance columns)."""

    def __init__(
        self,
        table: ContractTable,
        reads: TableReads,
        *,
        declared: dict[str, Any],
        max_attempts: int,
        auto_compact: int | None,
        compatibility: Policy | None,
    ) -> None:
        self._table = table
        self._reads = reads
        self.declared = declared
        self._max_attempts = max_attempts
        self._auto_compact = auto_compact
        self._compatibility = compatibility

    def new_table_columns(self) -> dict[str, Any]:
        """Column name -> Arrow type of a table this store would create."""
        return {field.name: field.type for field in table_arrow_schema(self.declared)}

    def put_many(
        self,
        contracts: Iterable[Any],
        mode: ValidationMode,
        *,
        on_error: Literal["raise", "skip"],
        metadata: Mapping[str, Any],
        info: Mapping[str, Any],
        dry_run: bool,
    ) -> BatchResult:
        """``DeltaContractStore.put_many`` once its arguments are checked."""
        # metadata is checked before anything is read: nothing given is silently ignored
        if metadata:
            newest = self._reads.newest()
            columns = {  # the table's, and the declared ones the write will add
                **self.new_table_columns(),
                **(newest.columns() if newest is not None else {}),
            }
            check_values(metadata, columns, what="put metadata")
        prepared, problems, total = prepare(contracts, mode)

        def insert(
            held: WriteSnapshot, items: list[Prepared], gated_ids: list[str]
        ) -> tuple[DeltaTable, int]:
            planned_on_no_table = held.dt is None
            dt = held.writable(self.declared)
            if planned_on_no_table and dt.version() > 0:  # another writer created and wrote it
                raise CommitFailedError("the table was written while this write planned")
            values = check_values(metadata, self._reads.columns(dt), what="put")
            rows = [item.row for item in items]
            locks = gate_transactions(gated_ids, dt.version() + 1)
            summary = {**info, **write_summary(rows)}
            return dt, self._table.insert_new(dt, rows, values, summary, locks)

        def attempt(held: WriteSnapshot) -> BatchResult:
            if not dry_run:
                state = self._table.write_state()
                own = None if state is None else self._own_insert(state, prepared, metadata)
                if own is not None:
                    refused = sorted(problems + own.conflicts, key=lambda p: p.index)
                    if refused and on_error == "raise":
                        raise BatchError(refused, total=total)
                    at = self._commit_own(own, info)
                    return batch_result(own.new, own.unchanged, refused, "inserted", at)
            dt = self._evolved(held, info)
            settings = read_settings(dt)
            gated_ids = gated(settings, prepared, self._compatibility)
            if dt is not None and len(prepared) == 1 and not (problems or dry_run or gated_ids):
                # One contract: insert first; only a key already stored needs a read.
                dt, inserted = insert(held, prepared, [])
                if inserted:
                    self._after_write(dt, info)
                    return batch_result(prepared, [], [], "inserted", dt.version())
            plan = classify(prepared, self._stored_fingerprints(dt, prepared))
            columns = {} if dt is None else self._reads.columns(dt)
            plan, notes = apply_gate(
                dt, plan, settings, self._compatibility, self._reads.collect, columns
            )
            refused = sorted(problems + plan.conflicts, key=lambda problem: problem.index)
            if refused and on_error == "raise" and not dry_run:
                raise BatchError(refused, total=total)
            if dry_run:
                version = None if dt is None else dt.version()
                return batch_result(plan.new, plan.unchanged, refused, "new", version, notes)
            if plan.new:
                dt, inserted = insert(held, plan.new, gated_ids)
                if inserted != len(plan.new):  # planned on this very snapshot: cannot happen
                    raise CommitFailedError("keys planned as new were written meanwhile")
                self._after_write(dt, info)
            if dt is None:  # no table and nothing to write
                return BatchResult((), tuple(refused), None)
            return batch_result(plan.new, plan.unchanged, refused, "inserted", dt.version(), notes)

        return self.retrying(f"writing {describe_keys(prepared)}", attempt)

    def _own_insert(
        self, state: LogState, prepared: list[Prepared], metadata: Mapping[str, Any]
    ) -> OwnInsert | None:
        """The plan of a put the store commits itself (see :mod:`.appender`), or None where
        that does not apply (the caller writes with deltalake): a table deltalake must
        write, a compatibility policy, declared columns the table lacks, files the store
        cannot place keys in."""
        if not appendable(state) or not state.schema_string:
            return None
        schema = arrow_schema(state.schema_string)
        columns = {field.name: field.type for field in schema}
        declared = self.declared
        self._forget_clashes(columns)
        check_declared(declared, columns)
        if any(name not in columns for name in self.declared):
            return None
        settings = CompatibilitySettings.from_properties(state.configuration)
        if gated(settings, prepared, self._compatibility):
            return None
        ids = sorted({item.row.contract_id for item in prepared})
        stored = self._reads.stored_rows(state, ids)
        if stored is None:
            return None
        self._table.verify_writable(state)
        values = check_values(metadata, columns, what="put")
        wanted = {item.key for item in prepared}
        rows = [row for row in stored.iter_rows() if (row[0], row[1]) in wanted]
        plan = classify(prepared, dict(fingerprints_by_key(rows)))
        return OwnInsert(
            plan.new, plan.unchanged, plan.conflicts, state=state, schema=schema, values=values
        )

    def _commit_own(self, own: OwnInsert, info: Mapping[str, Any]) -> int:
        """Commit the new items of ``own``; the table version after it."""
        if not own.new:
            return own.state.version
        rows = [item.row for item in own.new]
        table = rows_to_table(rows, datetime.now(UTC), own.schema, own.values)
        committed = self._table.append(own.state, table, {**info, **write_summary(rows)})
        self._compact_if_needed(committed, info)
        return committed.version

    def _compact_if_needed(self, state: LogState, info: Mapping[str, Any]) -> None:
        if not self._auto_compact:
            return
        small = DEFAULT_TARGET_FILE_SIZE // 8
        sizes = [((), data_file.size) for data_file in state.files.values()]
        if compactable(sizes, small) >= self._auto_compact:
            with self._table.writing() as held:
                if held.dt is not None:
                    self._after_write(held.dt, info)

    def update_settings(
        self,
        change: Callable[[CompatibilitySettings], CompatibilitySettings],
        info: Mapping[str, Any],
    ) -> CompatibilitySettings:
        """Apply ``change`` to the table's compatibility settings, in one commit."""

        def attempt(held: WriteSnapshot) -> CompatibilitySettings:
            dt = held.writable(self.declared)
            with self._table.errors("set the compatibility settings of"):
                return rewrite_settings(dt, change, info)

        return self.retrying("setting the compatibility policy", attempt)

    def update_metadata(
        self,
        contract_id: str,
        version: str,
        values: Mapping[str, Any],
        if_match: Mapping[str, Any],
        info: Mapping[str, Any],
    ) -> int:
        """``DeltaContractStore.update_metadata`` once its arguments are checked."""
        label = f"contract {contract_id!r} version {version!r}"

        def attempt(held: WriteSnapshot) -> int:
            if self._evolved(held, info) is None:
                raise ContractNotFoundError(contract_id, version)
            dt = held.writable(self.declared)
            columns = self._reads.columns(dt)
            checked = check_values(values, columns, what=f"update of {label}")
            expected = check_values(if_match, columns, what=f"if_match of {label}")
            row = self._row(dt, contract_id, version, [*expected])
            if row is None:
                raise ContractNotFoundError(contract_id, version)
            stale = {name: row[name] for name, value in expected.items() if row[name] != value}
            if stale:
                raise UpdateConflictError(
                    f"{label} no longer matches if_match: it holds {stale}; nothing was changed"
                )
            if checked:
                summary = update_summary(contract_id, version, checked)
                self._table.update_row(dt, (contract_id, version), checked, {**info, **summary})
            return int(dt.version())

        return self.retrying(f"updating {label}", attempt)

    def add_metadata_columns(self, columns: Mapping[str, str], info: Mapping[str, Any]) -> None:
        """Declare ``columns`` and add them to the table now; declared only once it holds
        them."""

        def attempt(held: WriteSnapshot) -> None:
            dt = held.dt
            present = self._reads.columns(dt) if dt is not None else self.new_table_columns()
            declared = {
                **self.declared,
                **parse_columns(columns, {k: v for k, v in present.items() if k not in columns}),
            }
            self._forget_clashes(present)
            check_declared(declared, present)
            self._evolved(held, info, declared)
            held.writable(declared)
            self.declared = declared

        self.retrying("adding metadata columns", attempt)

    def exclusive(self, what: str, action: str, attempt: Callable[[WriteSnapshot], T]) -> T:
        """``attempt`` under the table's maintenance lock (one upkeep at a time), retried."""
        with self._table.errors(action), self._table.maintenance() as held:
            if not held:
                raise TableBusyError(
                    f"table {self._table.location} is being optimized by another process; "
                    "nothing was done (try again once it is finished)"
                )
            return self.retrying(what, attempt)

    def retrying(self, what: str, attempt: Callable[[WriteSnapshot], T]) -> T:
        """Run ``attempt`` on a snapshot of its own until it commits; backoff with jitter
        between lost races."""
        delay = 0.005
        for number in range(1, self._max_attempts + 1):
            try:
                with self._table.writing() as held:
                    return attempt(held)
            except CommitFailedError:
                logger.info(
                    "concurrent commit on %s while %s (attempt %d of %d)",
                    self._table.location,
                    what,
                    number,
                    self._max_attempts,
                )
                if number < self._max_attempts:
                    time.sleep(delay * (1 + random.random()))
                    delay = min(delay * 2, 0.5)
        raise TableBusyError(
            f"table {self._table.location} is busy: {self._max_attempts} commit attempts lost "
            f"to concurrent writers; nothing was written while {what}"
        )

    def _after_write(self, dt: DeltaTable, info: Mapping[str, Any]) -> None:
        if self._auto_compact:
            self._table.compact_small_files(
                dt, self._auto_compact, DEFAULT_TARGET_FILE_SIZE, {**info, "auto_compact": True}
            )

    def _evolved(
        self,
        held: WriteSnapshot,
        info: Mapping[str, Any],
        declared: Mapping[str, Any] | None = None,
    ) -> DeltaTable | None:
        """The write's snapshot, after adding the declared columns it lacks (a commit of
        its own, which moves the snapshot on)."""
        dt = held.dt
        declared = self.declared if declared is None else declared
        if dt is None or not declared:
            return dt
        present = self._reads.columns(dt)
        self._forget_clashes(present)
        check_declared(declared, present)
        missing = {n: t for n, t in declared.items() if n not in present}
        if missing:
            self._table.add_columns(dt, missing, info)
        return dt

    def _forget_clashes(self, present: Mapping[str, Any]) -> None:
        """Forget declared columns whose names differ from the table's only in case:
        ``check_declared`` refuses them once, naming both; the store goes on without them."""
        clashes = case_clashes(self.declared, present)
        if clashes:
            self.declared = {n: t for n, t in self.declared.items() if n not in clashes}

    def _stored_fingerprints(
        self, dt: DeltaTable | None, prepared: list[Prepared]
    ) -> dict[tuple[str, str], Any]:
        if dt is None or not prepared:
            return {}
        columns = self._reads.columns(dt)
        ids = sorted({item.row.contract_id for item in prepared})
        versions = sorted({item.row.version for item in prepared})
        if len(ids) == len(versions) == 1:
            condition = lookup(ids[0], columns) & (pl.col("version") == versions[0])
        else:
            condition = pl.col("contract_id").is_in(ids) & pl.col("version").is_in(versions)
            if "contract_key" in columns:
                keys = pl.col("contract_key")
                condition &= keys.is_null() | keys.is_in([contract_key(i) for i in ids])
        frame = scan_frame(dt).filter(condition)
        found = self._reads.collect(frame.select("contract_id", "version", "fingerprint", "json"))
        return dict(fingerprints_by_key(found.iter_rows()))  # several rows: a DuplicateKey

    def _row(
        self, dt: DeltaTable, contract_id: str, version: str, columns: list[str]
    ) -> dict[str, Any] | None:
        match = lookup(contract_id, self._reads.columns(dt)) & (pl.col("version") == version)
        frame = scan_frame(dt).filter(match).select("version", *columns)
        rows = self._reads.collect(frame).to_dicts()
        return rows[0] if rows else None
