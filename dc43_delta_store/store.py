"""``DeltaContractStore``: ODCS contracts in a Delta table, one row per contract version."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, Literal, TypeVar, overload

import polars as pl
from deltalake import DeltaTable

from .compatibility import CompatibilitySettings, DiffResult, Mode, Override, Policy
from .compatibility import diff as diff_documents
from .compatibility.policy import parse_overrides
from .compatibility.result import split_reference
from .core.arguments import check_number, contracts_iterable, validation_mode
from .core.batch import (
    BatchResult,
    Prepared,
    PutResult,
    batch_result,
    classify,
    describe_keys,
    prepare,
)
from .core.documents import load_document
from .core.duplicates import StoredRow, fingerprints_by_key, versions_of
from .core.health import HealthReport
from .core.metadata import check_declared, check_values, parse_columns
from .core.records import check_identity, contract_key
from .core.table_schema import TABLE_SCHEMA
from .core.validation import ValidationMode
from .core.versions import sort_versions
from .errors import (
    BatchError,
    ContractNotFoundError,
    InvalidLocationError,
    InvalidRequestError,
    TableBusyError,
    UpdateConflictError,
)
from .feed.events import Changes
from .feed.reader import read_changes
from .resolution.explain import Resolution, ResolveRequest
from .resolution.ranges import parse_range
from .resolution.reader import Resolver
from .table.adopt import AdoptionResult, adopt
from .table.cache import DEFAULT_CACHE_BYTES, TABLE
from .table.catalog import UnityCatalog
from .table.compatibility import (
    apply_gate,
    gate_transactions,
    gated,
    read_settings,
    write_settings,
)
from .table.delta_table import (
    AsOf,
    CommitFailedError,
    ContractTable,
    catalog_location,
    table_arrow_schema,
)
from .table.health import check_table
from .table.history import Commit, commit_metadata, commits_of, update_summary, write_summary
from .table.location import TableLocation, checked_options, resolve_location
from .table.log import DeltaLog
from .table.maintenance import (
    DEFAULT_TARGET_FILE_SIZE,
    OptimizeResult,
    VacuumResult,
    optimize,
    vacuum,
)
from .table.queries import FilterValue, checked_filters, decode_document, lookup, one_copy
from .table.reads import Snapshot, TableReads
from .table.scanning import scan_frame
from .table.sql import run_sql, views

__all__ = ["DeltaContractStore"]

logger = logging.getLogger("dc43_delta_store")

T = TypeVar("T")


class DeltaContractStore:
    """ODCS data contracts in a Delta Lake table, without Spark.

    >>> store = DeltaContractStore(path=tmp_path / "contracts")
    >>> store.put("examples/contracts/sales/orders-1.1.0.odcs.yaml").outcome
    'inserted'
    >>> store.latest("sales.orders", status="active")["version"]
    '1.1.0'

    Give ``table`` (``catalog.schema.table``: in Unity Catalog when ``catalog`` is given or
    ``DATABRICKS_HOST``/``UNITY_CATALOG_URL`` is set and no ``warehouse``, see
    :mod:`.table.catalog`; else a folder of the local warehouse, see :mod:`.table.location`)
    or ``path`` (a local folder
    or an ``s3://``, ``az://``, ``abfss://``, ``gs://`` URI, with ``storage_options`` as
    deltalake takes them). ``validation`` is the ODCS JSON-Schema policy for ``put`` (see
    :mod:`.core.validation`). ``metadata_columns`` declares governance columns
    (``{"owner": "string"}``), added to the table on the next write. The table is created on
    the first write (in Unity Catalog: when missing and ``catalog_storage_root`` is given, at
    ``<root>/<catalog>/<schema>/<table>``); an existing table is used as it is.

    Every put adds a small file; once ``auto_compact`` (100) of them exist, the writer that
    notices bin-packs them into one (``None`` turns this off; ``optimize`` does more).

    ``compatibility`` (``"full"``, ``"backward_transitive"``...) replaces the table's
    compatibility policy for this store object's writes (see :meth:`set_compatibility`).

    Reads check the table for new commits on every call (a ``stat`` of the next commit file
    on a local table; a log listing on object stores, at most every ``max_staleness``
    seconds) and answer from memory while nothing changed; after a commit, answers about
    the contracts it did not touch stay (see :mod:`.table.reads`). ``cache_bytes`` bounds
    what is remembered.
    """

    def __init__(
        self,
        *,
        table: str | None = None,
        path: str | os.PathLike[str] | None = None,
        storage_options: Mapping[str, str] | None = None,
        warehouse: str | os.PathLike[str] | None = None,
        validation: ValidationMode = "warn",
        metadata_columns: Mapping[str, str] | None = None,
        max_commit_attempts: int = 12,
        max_staleness: float = 0.0,
        auto_compact: int | None = 100,
        catalog: UnityCatalog | None = None,
        catalog_storage_root: str | None = None,
        compatibility: str | Policy | None = None,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        self._validation: ValidationMode = validation_mode(validation)
        check_number("max_commit_attempts", max_commit_attempts, low=1, whole=True)
        check_number("max_staleness", max_staleness, low=0)
        check_number("cache_bytes", cache_bytes, low=0, whole=True)
        if auto_compact is not None:
            check_number("auto_compact", auto_compact, low=1, whole=True)
        self._compatibility = None if compatibility is None else Policy.parse(compatibility)
        self._declared = parse_columns(metadata_columns or {})
        if catalog is not None and not isinstance(catalog, UnityCatalog):
            raise InvalidRequestError(
                f"catalog must be a UnityCatalog, not {type(catalog).__name__}"
            )
        if table is not None and catalog is None and warehouse is None:
            catalog = UnityCatalog.from_env()
        if table is not None and catalog is not None:
            if not isinstance(table, str):
                raise InvalidLocationError(f"table must be text, not {type(table).__name__}")
            self._location = catalog_location(
                catalog,
                table,
                checked_options(storage_options),
                catalog_storage_root,
                self._declared,
            )
        else:
            self._location = resolve_location(
                table=table, path=path, storage_options=storage_options, warehouse=warehouse
            )
        self._table = ContractTable(self._location, max_staleness=max_staleness)
        self._max_attempts = max_commit_attempts
        self._auto_compact = auto_compact
        self._log = DeltaLog(self._location)
        self._reads = TableReads(self._table, self._log, cache_bytes=cache_bytes)
        self._resolver = Resolver(self._table, self._log, self._reads)

    @property
    def location(self) -> TableLocation:
        """Where the table lives (``uri``, ``name``); its repr hides storage option values."""
        return self._location

    @property
    def table_version(self) -> int | None:
        """The table's newest version, or None before the first write."""
        return self._table.newest()

    def __repr__(self) -> str:
        return f"DeltaContractStore({self._location.name or self._location.uri!r})"

    # -- writing -------------------------------------------------------------------------

    def put(
        self,
        contract: Any,
        *,
        validation: ValidationMode | None = None,
        metadata: Mapping[str, Any] | None = None,
        who: str | None = None,
        why: str | None = None,
        commit_info: Mapping[str, Any] | None = None,
    ) -> PutResult:
        """Store one contract version; re-putting identical content is a no-op.

        ``contract`` is an ``OpenDataContractStandard`` model, a mapping, YAML or JSON text,
        or a path to a ``.yaml``/``.yml``/``.json`` file. Raises
        :class:`~.errors.VersionConflictError` if the version exists with other content,
        :class:`~.errors.InvalidContractError` for bad input; either way nothing is written.
        ``metadata`` sets governance columns of the new row; ``who``, ``why`` (Delta's
        ``userName`` and ``userMetadata``) and ``commit_info`` go into the commit.

        >>> store.put({"id": "sales.orders", "version": "1.0.0", "apiVersion": "v3.1.0",
        ...            "kind": "DataContract", "status": "active"}).outcome
        'inserted'
        >>> store.put({"id": "sales.orders", "version": "1.0.0", "apiVersion": "v3.1.0",
        ...            "kind": "DataContract", "status": "active"}).outcome
        'unchanged'
        """
        try:
            batch = self.put_many(
                [contract],
                validation=validation,
                metadata=metadata,
                who=who,
                why=why,
                commit_info=commit_info,
            )
        except BatchError as exc:
            raise exc.problems[0].error from None  # a batch of one: its own error
        return batch.results[0]

    def put_many(
        self,
        contracts: Iterable[Any],
        *,
        validation: ValidationMode | None = None,
        on_error: Literal["raise", "skip"] = "raise",
        metadata: Mapping[str, Any] | None = None,
        who: str | None = None,
        why: str | None = None,
        commit_info: Mapping[str, Any] | None = None,
        dry_run: bool = False,
    ) -> BatchResult:
        """Store many contracts in one Delta commit: all new versions, or none.

        Every item is checked first. With ``on_error="raise"`` (the default) one invalid or
        conflicting item refuses the whole batch: :class:`~.errors.BatchError` lists every
        problem and nothing is written. With ``on_error="skip"`` the good items are written
        and ``BatchResult.problems`` lists the others. ``dry_run`` plans without writing:
        outcomes are ``"new"`` or ``"unchanged"``, problems as they would be.

        >>> from pathlib import Path
        >>> batch = store.put_many(sorted(Path("examples/contracts").rglob("*.odcs.*")))
        >>> batch.inserted, batch.unchanged, len(batch.problems)
        (6, 0, 0)
        """
        if on_error not in ("raise", "skip"):
            raise InvalidRequestError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
        mode = self._validation if validation is None else validation_mode(validation)
        info = commit_metadata(who, why, commit_info)
        # metadata is checked before anything is read: nothing given is silently ignored
        current = self._table.current()
        columns = {  # the table's, and the declared ones the write will add
            **self._new_table_columns(),
            **(self._columns(current) if current is not None else {}),
        }
        check_values(metadata or {}, columns, what="put metadata")
        prepared, problems, total = prepare(contracts_iterable(contracts), mode)

        def insert(
            dt: DeltaTable | None, items: list[Prepared], gated_ids: list[str]
        ) -> tuple[DeltaTable, int]:
            dt = self._table.writable(dt, self._declared)
            values = check_values(metadata or {}, self._columns(dt), what="put")
            rows = [item.row for item in items]
            locks = gate_transactions(gated_ids, dt.version() + 1)
            summary = {**info, **write_summary(rows)}
            return dt, self._table.insert_new(dt, rows, values, summary, locks)

        def attempt() -> BatchResult:
            dt = self._evolved(self._table.current(), info)
            settings = read_settings(dt)
            gated_ids = gated(settings, prepared, self._compatibility)
            if dt is not None and len(prepared) == 1 and not (problems or dry_run or gated_ids):
                # One contract: insert first; only a key already stored needs a read.
                dt, inserted = insert(dt, prepared, [])
                if inserted:
                    self._after_write(dt, info)
                    return batch_result(prepared, [], [], "inserted", dt.version())
            plan = classify(prepared, self._stored_fingerprints(dt, prepared))
            columns = {} if dt is None else self._columns(dt)
            plan, notes = apply_gate(
                dt, plan, settings, self._compatibility, self._collect, columns
            )
            refused = sorted(problems + plan.conflicts, key=lambda problem: problem.index)
            if refused and on_error == "raise" and not dry_run:
                raise BatchError(refused, total=total)
            if dry_run:
                version = None if dt is None else dt.version()
                return batch_result(plan.new, plan.unchanged, refused, "new", version, notes)
            if plan.new:
                dt, _ = insert(dt, plan.new, gated_ids)
                self._after_write(dt, info)
            if dt is None:  # no table and nothing to write
                return BatchResult((), tuple(refused), None)
            return batch_result(plan.new, plan.unchanged, refused, "inserted", dt.version(), notes)

        return self._retrying(f"writing {describe_keys(prepared)}", attempt)

    def _new_table_columns(self) -> dict[str, Any]:
        return {field.name: field.type for field in table_arrow_schema(self._declared)}

    def _after_write(self, dt: DeltaTable, info: Mapping[str, Any]) -> None:
        if self._auto_compact:
            self._table.compact_small_files(
                dt, self._auto_compact, DEFAULT_TARGET_FILE_SIZE, {**info, "auto_compact": True}
            )

    # -- compatibility -------------------------------------------------------------------

    def compatibility_settings(self) -> CompatibilitySettings:
        """The table's compatibility policy, per-contract policies and rule overrides.

        >>> store.compatibility_settings().policy
        Policy(mode='none', transitive=False)
        """
        return read_settings(self._table.current())

    def set_compatibility(
        self,
        policy: str | Policy | None,
        *,
        contract_id: str | None = None,
        who: str | None = None,
        why: str | None = None,
    ) -> CompatibilitySettings:
        """Set the table's compatibility policy, or one contract's (``None`` drops it), in
        one commit; every writer of the table then enforces it. Returns the new settings.

        From then on ``put``, ``put_many`` and ``ingest`` refuse a version whose bump is
        smaller than its changes need with :class:`~.errors.CompatibilityError`.

        >>> store.set_compatibility("full").policy
        Policy(mode='full', transitive=False)
        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml")
        >>> store.put("examples/contracts/sales/orders-1.1.0.odcs.yaml")
        Traceback (most recent call last):
        ...
        dc43_delta_store.errors.CompatibilityError: contract 'sales.orders' version '1.1.0' ...
        """
        chosen = None if policy is None else Policy.parse(policy)
        if contract_id is not None:
            check_identity(contract_id, "contract_id")
        return self._update_settings(lambda s: s.with_policy(chosen, contract_id), who, why)

    def set_compatibility_overrides(
        self,
        overrides: Iterable[Override | Mapping[str, Any]],
        *,
        who: str | None = None,
        why: str | None = None,
    ) -> CompatibilitySettings:
        """Replace the table's rule overrides (``Override`` objects or their mappings).

        >>> settings = store.set_compatibility_overrides(
        ...     [{"rule": "sla-weakened", "bump": "minor", "reason": "agreed in GOV-12"}])
        >>> settings.overrides[0].bump
        'minor'
        """
        parsed = parse_overrides(list(overrides), "overrides")
        return self._update_settings(lambda s: replace(s, overrides=parsed), who, why)

    def _update_settings(
        self,
        change: Callable[[CompatibilitySettings], CompatibilitySettings],
        who: str | None,
        why: str | None,
    ) -> CompatibilitySettings:
        info = commit_metadata(who, why, None)

        def attempt() -> CompatibilitySettings:
            dt = self._table.writable(self._table.current(), self._declared)
            settings = change(read_settings(dt))
            with self._table.errors("set the compatibility settings of"):
                write_settings(dt, settings, info)
            return settings

        return self._retrying("setting the compatibility policy", attempt)

    def diff(
        self, old: Any, new: Any, *, mode: Mode | None = None, as_of: AsOf | None = None
    ) -> DiffResult:
        """What changed from ``old`` to ``new`` and the SemVer bump it needs.

        Each is what ``put`` takes, or ``"contract_id@version"`` read from the table. The
        table's overrides apply; ``mode`` defaults to the contract's policy (``full`` where
        none is set).

        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml")
        >>> newer = "examples/contracts/sales/orders-1.1.0.odcs.yaml"
        >>> result = store.diff("sales.orders@1.0.0", newer)
        >>> result.required_bump, [change.path for change in result.changes]
        ('major', ['schema.orders.properties.currency'])
        """
        before, after = self._document_of(old, as_of), self._document_of(new, as_of)
        settings = read_settings(self._snapshot(as_of))
        contract_id = str(after.get("id") or after.get("uuid") or "")
        policy = self._compatibility or settings.policy_for(contract_id)
        chosen: Mode = mode or (policy.mode if policy.mode != "none" else "full")
        overrides = settings.ordered_overrides()
        return diff_documents(before, after, mode=chosen, overrides=overrides)

    def _document_of(self, value: Any, as_of: AsOf | None) -> dict[str, Any]:
        reference = split_reference(value)
        return load_document(value) if reference is None else self.get(*reference, as_of=as_of)

    def update_metadata(
        self,
        contract_id: str,
        version: str,
        values: Mapping[str, Any],
        *,
        if_match: Mapping[str, Any] | None = None,
        who: str | None = None,
        why: str | None = None,
    ) -> int:
        """Set governance columns of one stored version; its payload and fingerprint stay.

        Each call is one commit carrying ``who`` and ``why``. A concurrent change of the same
        row makes the commit fail and the update is applied again on top of it, so both
        survive; with ``if_match`` (``{"status": "Draft"}``) the update applies only while the
        row still holds those values, else :class:`~.errors.UpdateConflictError` names what
        the row holds now. Returns the new table version.

        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml")
        >>> _ = store.update_metadata("sales.orders", "1.0.0", {"status": "Validated"},
        ...                           who="collibra-sync", why="approved in Collibra")
        >>> store.latest("sales.orders", status="Validated")["version"]
        '1.0.0'
        """
        check_identity(contract_id, "contract_id")
        check_identity(version, "version")
        label = f"contract {contract_id!r} version {version!r}"
        info = commit_metadata(who, why, {"contracts": f"{contract_id}@{version}"})

        def attempt() -> int:
            dt = self._evolved(self._table.current(), info)
            if dt is None:
                raise ContractNotFoundError(contract_id, version)
            dt = self._table.writable(dt, self._declared)
            columns = self._columns(dt)
            checked = check_values(values, columns, what=f"update of {label}")
            expected = check_values(if_match or {}, columns, what=f"if_match of {label}")
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

        return self._retrying(f"updating {label}", attempt)

    def add_metadata_columns(
        self, columns: Mapping[str, str], *, who: str | None = None, why: str | None = None
    ) -> None:
        """Declare governance columns and add them to the table now (old rows read null).

        A name that is reserved, or differs from an existing column only in case, or a type
        other than the table holds, is refused before anything is written; the store keeps
        working with the columns it had.
        """
        info = commit_metadata(who, why, None)

        def attempt() -> None:
            dt = self._table.current()
            present = self._columns(dt) if dt is not None else self._new_table_columns()
            declared = {
                **self._declared,
                **parse_columns(columns, {k: v for k, v in present.items() if k not in columns}),
            }
            check_declared(declared, present)
            self._table.writable(self._evolved(dt, info, declared), declared)
            self._declared = declared  # only once the table holds them

        self._retrying("adding metadata columns", attempt)

    def _evolved(
        self,
        dt: DeltaTable | None,
        info: Mapping[str, Any],
        declared: Mapping[str, Any] | None = None,
    ) -> DeltaTable | None:
        """``dt``, after adding the declared columns it lacks (a commit of its own)."""
        declared = self._declared if declared is None else declared
        if dt is None or not declared:
            return dt
        present = self._columns(dt)
        check_declared(declared, present)
        missing = {n: t for n, t in declared.items() if n not in present}
        if not missing:
            return dt
        self._table.add_columns(dt, missing, info)
        return self._table.current()

    def _retrying(self, what: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until it commits; backoff with jitter between lost races."""
        delay = 0.005
        for number in range(1, self._max_attempts + 1):
            try:
                return attempt()
            except CommitFailedError:
                logger.info(
                    "concurrent commit on %s while %s (attempt %d of %d)",
                    self._location,
                    what,
                    number,
                    self._max_attempts,
                )
                if number < self._max_attempts:
                    time.sleep(delay * (1 + random.random()))
                    delay = min(delay * 2, 0.5)
        raise TableBusyError(
            f"table {self._location} is busy: {self._max_attempts} commit attempts lost to "
            f"concurrent writers; nothing was written while {what}"
        )

    def _stored_fingerprints(
        self, dt: DeltaTable | None, prepared: list[Prepared]
    ) -> dict[tuple[str, str], Any]:
        if dt is None or not prepared:
            return {}
        ids = sorted({item.row.contract_id for item in prepared})
        versions = sorted({item.row.version for item in prepared})
        if len(ids) == len(versions) == 1:
            condition = lookup(ids[0], self._columns(dt)) & (pl.col("version") == versions[0])
        else:
            condition = pl.col("contract_id").is_in(ids) & pl.col("version").is_in(versions)
            if "contract_key" in self._columns(dt):
                keys = pl.col("contract_key")
                condition &= keys.is_null() | keys.is_in([contract_key(i) for i in ids])
        frame = scan_frame(dt).filter(condition)
        found = self._collect(frame.select("contract_id", "version", "fingerprint", "json"))
        return dict(fingerprints_by_key(found.iter_rows()))  # several rows: a DuplicateKey

    def _row(
        self, dt: DeltaTable, contract_id: str, version: str, columns: list[str]
    ) -> dict[str, Any] | None:
        match = lookup(contract_id, self._columns(dt)) & (pl.col("version") == version)
        rows = self._collect(scan_frame(dt).filter(match).select("version", *columns)).to_dicts()
        return rows[0] if rows else None

    # -- reading -------------------------------------------------------------------------

    def get(self, contract_id: str, version: str, *, as_of: AsOf | None = None) -> dict[str, Any]:
        """The document stored for ``contract_id`` at ``version``, exactly as it was put.

        Raises :class:`~.errors.ContractNotFoundError` (a ``KeyError``) when absent.

        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml")
        >>> store.get("sales.orders", "1.0.0")["status"]
        'active'
        """
        check_identity(contract_id, "contract_id")
        check_identity(version, "version")

        def compute(snapshot: Snapshot | None) -> str | None:
            if snapshot is None:
                return None
            frame = snapshot.frame(contract_id, ["version", "json"])
            found = self._collect(frame.filter(pl.col("version") == version).select("json"))["json"]
            if len(found) > 1:  # copies another writer made: one content, or refuse
                dt = snapshot.table()
                return one_copy(dt, contract_id, version, self._columns(dt), self._collect)
            return found[0] if len(found) else None

        payload = self._answer(as_of, ("get", contract_id, version), compute, contract_id)
        if payload is None:
            raise ContractNotFoundError(contract_id, version, detail=_where(as_of))
        return decode_document(payload, contract_id, version)

    def latest(
        self,
        contract_id: str,
        *,
        include_prereleases: bool = False,
        as_of: AsOf | None = None,
        **filters: FilterValue,
    ) -> dict[str, Any] | None:
        """The highest version of ``contract_id`` (the order of :mod:`.core.versions`), or None.

        Prereleases (``1.2.0-rc.1``, ``0.32.0.0rc2``) are skipped unless
        ``include_prereleases``. Keyword filters match metadata columns, pushed into the scan:
        ``status="active"``, ``status=["active", "draft"]``, ``owner=None`` (unset).

        >>> for version in ("1.0.0", "1.1.0", "2.0.0"):
        ...     _ = store.put(f"examples/contracts/sales/orders-{version}.odcs.yaml")
        >>> store.latest("sales.orders")["version"]
        '2.0.0'
        >>> store.latest("sales.orders", status="active")["version"]
        '1.1.0'
        """
        request = self._request(contract_id, None, include_prereleases, as_of, filters)
        return self._resolved(contract_id, request)

    @overload
    def resolve(
        self,
        contract_id: str,
        spec: str | None = None,
        *,
        include_prereleases: bool = False,
        as_of: AsOf | None = None,
        explain: Literal[False] = False,
        **filters: FilterValue,
    ) -> dict[str, Any] | None: ...

    @overload
    def resolve(
        self,
        contract_id: str,
        spec: str | None = None,
        *,
        include_prereleases: bool = False,
        as_of: AsOf | None = None,
        explain: Literal[True],
        **filters: FilterValue,
    ) -> Resolution: ...

    def resolve(
        self,
        contract_id: str,
        spec: str | None = None,
        *,
        include_prereleases: bool = False,
        as_of: AsOf | None = None,
        explain: bool = False,
        **filters: FilterValue,
    ) -> dict[str, Any] | Resolution | None:
        """The highest version of ``contract_id`` in the range ``spec`` that passes the
        filters, or None; ``latest`` is ``resolve`` without a range.

        ``spec``: ``1.2.3``, ``^1.2``, ``~1.2``, ``1.x``, ``>=1.0,<2``, ``^1 || ^3`` (the
        grammar is in :mod:`.resolution.ranges`; anything else raises
        :class:`~.errors.InvalidRequestError` naming the position). Prereleases match when
        ``include_prereleases`` or when the range names one of the same major.minor.patch.
        With ``explain=True`` the answer is a :class:`~.resolution.explain.Resolution`:
        the chosen version, its document, and every candidate with its verdict and reasons.
        ``as_of`` a time keeps working after log cleanup and vacuum (see
        :mod:`.resolution.reader`).

        >>> for version in ("1.0.0", "1.1.0", "2.0.0"):
        ...     _ = store.put(f"examples/contracts/sales/orders-{version}.odcs.yaml")
        >>> store.resolve("sales.orders", "^1")["version"]
        '1.1.0'
        >>> store.resolve("sales.orders", ">=2", status="active") is None
        True
        """
        request = self._request(contract_id, spec, include_prereleases, as_of, filters)
        if not explain:
            return self._resolved(contract_id, request)
        resolution, payload = self._resolver.explain(contract_id, request)
        if resolution.chosen is None or payload is None:
            return resolution
        document = decode_document(payload, contract_id, resolution.chosen)
        return replace(resolution, document=document)

    def _request(
        self,
        contract_id: str,
        spec: str | None,
        include_prereleases: bool,
        as_of: AsOf | None,
        filters: Mapping[str, FilterValue],
    ) -> ResolveRequest:
        check_identity(contract_id, "contract_id")
        if not isinstance(include_prereleases, bool):
            raise InvalidRequestError(
                f"include_prereleases must be True or False, not {include_prereleases!r}"
            )
        version_range = None if spec is None else parse_range(spec)
        wanted: dict[str, Any] = {}
        if filters:  # converted, or refused before any scan
            newest = self._reads.newest()
            columns = self._new_table_columns() if newest is None else newest.columns()
            wanted = checked_filters(filters, columns)
        return ResolveRequest(version_range, wanted, include_prereleases, as_of)

    def _resolved(self, contract_id: str, request: ResolveRequest) -> dict[str, Any] | None:
        found = self._resolver.choose(contract_id, request)
        return None if found is None else decode_document(found[1], contract_id, found[0])

    def list_contracts(self, *, as_of: AsOf | None = None) -> list[str]:
        """Every contract id in the table, sorted."""

        def compute(snapshot: Snapshot | None) -> tuple[str, ...]:
            if snapshot is None:
                return ()
            frame = scan_frame(snapshot.table())
            ids = self._collect(frame.select("contract_id").unique().drop_nulls())
            return tuple(sorted(ids["contract_id"].to_list()))

        return list(self._answer(as_of, ("contracts",), compute))

    def list_versions(self, contract_id: str, *, as_of: AsOf | None = None) -> list[str]:
        """The versions of ``contract_id``, lowest to highest (see :mod:`.core.versions`)."""
        check_identity(contract_id, "contract_id")

        def compute(snapshot: Snapshot | None) -> tuple[str, ...]:
            if snapshot is None:
                return ()
            frame = snapshot.frame(contract_id, ["version"])
            versions = self._collect(frame.select("version"))["version"]
            if not versions.is_duplicated().any():
                return tuple(sort_versions(versions.to_list()))
            frame = snapshot.frame(contract_id, _ROW_COLUMNS)  # copies: one content, or refuse
            rows = [
                StoredRow(*row) for row in self._collect(frame.select(*_ROW_COLUMNS)).iter_rows()
            ]
            return tuple(sort_versions(versions_of(contract_id, rows)))

        return list(self._answer(as_of, ("versions", contract_id), compute, contract_id))

    def exists(
        self, contract_id: str, version: str | None = None, *, as_of: AsOf | None = None
    ) -> bool:
        """True if the contract (at ``version``, when given) is in the table."""
        if version is not None:
            check_identity(version, "version")
        versions = self.list_versions(contract_id, as_of=as_of)
        return bool(versions) if version is None else version in versions

    def scan(self, *, as_of: AsOf | None = None) -> pl.LazyFrame:
        """The table as a Polars ``LazyFrame`` (empty with the table's columns before any write).

        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml")
        >>> store.scan().filter(pl.col("status") == "active").select("version").collect().item()
        '1.0.0'
        """
        dt = self._snapshot(as_of)
        if dt is None:
            return pl.LazyFrame(pl.from_arrow(TABLE_SCHEMA.empty_table()))
        return scan_frame(dt)

    def sql(self, query: str, *, as_of: AsOf | None = None) -> pl.DataFrame:
        """Run a read-only SQL query over the ``contracts`` and ``contracts_latest`` views.

        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml")
        >>> store.sql("SELECT contract_id, version, domain FROM contracts_latest").rows()
        [('sales.orders', '1.0.0', 'sales')]
        """
        scan = self.scan(as_of=as_of)
        with self._reading():
            return run_sql(query, views(scan, scan.collect_schema()))

    def history(self, *, limit: int | None = None) -> list[Commit]:
        """The table's commits, newest first: version, time, operation, who and why, and for
        an ingest the folder, Git commit and source files (``Commit.ingested_from``...)."""
        if limit is not None:
            check_number("limit", limit, low=1, whole=True)
        dt = self._table.current()
        if dt is None:
            return []
        with self._table.errors("read the history of"):
            return commits_of(dt.history(limit))

    def changes(self, since: int | None = None) -> Changes:
        """What happened after table version ``since``, oldest first, and the cursor to pass
        as ``since`` next time (None or -1: from the table's first commit).

        Events: ``published``, ``metadata``, ``columns-added``, and ``unknown`` for data
        changes by other writers; upkeep commits give none (see :mod:`.feed.events`). A
        poll with nothing new costs one ``stat`` on a local table. Raises
        :class:`~.errors.CursorExpiredError` when log cleanup removed commits after ``since``.

        >>> cursor = store.changes().cursor
        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml", who="ci")
        >>> _ = store.update_metadata("sales.orders", "1.0.0", {"status": "Validated"})
        >>> feed = store.changes(since=cursor)
        >>> [(event.kind, event.version, event.who) for event in feed.events][0]
        ('published', '1.0.0', 'ci')
        >>> dict(feed.events[1].values), store.changes(since=feed.cursor).events
        ({'status': 'Validated'}, ())
        """
        dt = self._table.current()
        upto = -1 if dt is None else dt.version()
        since = -1 if since is None else since
        with self._table.errors("read the log of"):
            events = read_changes(self._log, since, upto, str(self._location))
        return Changes(tuple(events), upto)

    # -- upkeep --------------------------------------------------------------------------

    def optimize(
        self,
        *,
        target_file_size: int = DEFAULT_TARGET_FILE_SIZE,
        who: str | None = None,
        why: str | None = None,
    ) -> OptimizeResult:
        """Compact small files into ~``target_file_size`` files clustered by contract id,
        write a checkpoint and drop expired log files; a lookup then reads one file."""
        check_number("target_file_size", target_file_size, low=1, high=2**40, whole=True)
        info = commit_metadata(who, why, None)

        def attempt() -> OptimizeResult:
            dt = self._table.writable(self._table.current(), self._declared)
            rows = self._reads.row_group_rows(dt)
            with self._table.errors("optimize"):
                return optimize(
                    dt, target_file_size=target_file_size, commit_info=info, row_group_rows=rows
                )

        with self._table.errors("optimize"), self._table.maintenance() as held:
            if not held:
                raise TableBusyError(
                    f"table {self._location} is being optimized by another process; "
                    "nothing was done (try again once it is finished)"
                )
            return self._retrying("optimizing", attempt)

    def vacuum(
        self,
        *,
        retention_hours: int | None = None,
        dry_run: bool = True,
        who: str | None = None,
        why: str | None = None,
    ) -> VacuumResult:
        """List (``dry_run=True``, the default) or delete data files no longer referenced by
        any version within the retention period (the table's, 7 days by default)."""
        if retention_hours is not None:
            check_number("retention_hours", retention_hours, low=0, high=1_000_000, whole=True)
        if not isinstance(dry_run, bool):
            raise InvalidRequestError(f"dry_run must be True or False, not {dry_run!r}")
        dt = self._table.current()
        if dt is None:
            return VacuumResult((), dry_run)
        dt = self._table.writable(dt, {})
        with self._table.errors("vacuum"):
            return vacuum(
                dt,
                retention_hours=retention_hours,
                dry_run=dry_run,
                commit_info=commit_metadata(who, why, None),
            )

    def check(self) -> HealthReport:
        """The table's health: duplicated keys, Delta features the store cannot read or write,
        column mapping, rows without identity or derived columns, stale version keys, a
        missing checkpoint, small files. ``report.healthy``, or ``report.findings`` with the
        fix for each (see :mod:`.core.health`). A table that does not exist yet is healthy.

        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml")
        >>> store.check().healthy
        True
        """
        dt = self._table.current()
        if dt is None:
            return HealthReport.missing(str(self._location))
        with self._reading(), self._table.errors("check"):
            return check_table(dt, str(self._location), self._location.options())

    def adopt(
        self, *, dry_run: bool = True, who: str | None = None, why: str | None = None
    ) -> AdoptionResult:
        """Upgrade a table other tools wrote (dc43's Spark store: seven columns) in place:
        add the derived columns and fill them — and correct stale ``version_sort_key`` and
        ``prerelease`` values — in one commit (see :mod:`.table.adopt`). ``dry_run`` (the
        default) only plans: ``result.plan.describe()`` says what would change.

        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml")
        >>> store.adopt().plan.needed
        False
        """
        info = commit_metadata(who, why, {"adopt": True})
        name = str(self._location)

        def attempt() -> AdoptionResult:
            dt = self._table.current()
            if dt is None:
                raise InvalidRequestError(f"table {name} does not exist: nothing to adopt")
            if not dry_run:
                dt = self._table.writable(dt, {})
            with self._reading(), self._table.errors("adopt"):
                return adopt(dt, name, dry_run=dry_run, commit_info=info)

        if dry_run:
            return attempt()
        with self._table.errors("adopt"), self._table.maintenance() as held:
            if not held:
                raise TableBusyError(
                    f"table {self._location} is being optimized by another process; "
                    "nothing was done (try again once it is finished)"
                )
            return self._retrying("adopting", attempt)

    # -- helpers -------------------------------------------------------------------------

    def _snapshot(self, as_of: AsOf | None) -> DeltaTable | None:
        return self._table.current() if as_of is None else self._table.at(as_of)

    def _answer(
        self,
        as_of: AsOf | None,
        query: tuple[Any, ...],
        compute: Callable[[Snapshot | None], T],
        scope: str | None = None,
    ) -> T:
        """``compute`` on the right snapshot, remembered (see :mod:`.table.reads`); ``scope``
        is the contract the answer is about (None: the whole table)."""
        return self._reads.answer(as_of, query, compute, scope=TABLE if scope is None else scope)

    def _columns(self, dt: DeltaTable) -> dict[str, Any]:
        """The columns of snapshot ``dt`` (remembered per version: schemas change by commit)."""
        return self._reads.columns(dt)

    def _collect(self, frame: pl.LazyFrame) -> pl.DataFrame:
        return self._reads.collect(frame)

    def _reading(self) -> contextlib.AbstractContextManager[None]:
        """Polars raises its own exceptions for I/O failures: make them store errors."""
        return self._reads.reading()


_ROW_COLUMNS = ("version", "fingerprint", "json")


def _where(as_of: AsOf | None) -> str:
    return "" if as_of is None else f" (as of {as_of!r})"
