"""``DeltaContractStore``: ODCS contracts in a Delta table, one row per contract version."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Literal, overload

import polars as pl
from deltalake import DeltaTable

from .compatibility import CompatibilitySettings, DiffResult, Mode, Override, Policy
from .compatibility import diff as diff_documents
from .compatibility.policy import coerce_overrides, parse_overrides
from .compatibility.result import split_reference
from .core.arguments import check_number, contracts_iterable, validation_mode
from .core.batch import BatchResult, PutResult
from .core.documents import load_document
from .core.health import HealthReport
from .core.metadata import parse_columns
from .core.records import check_identity
from .core.table_schema import TABLE_SCHEMA
from .core.validation import ValidationMode
from .errors import (
    BatchError,
    ContractNotFoundError,
    InvalidLocationError,
    InvalidRequestError,
    TableNotFoundError,
)
from .feed.events import Changes
from .feed.reader import read_changes
from .resolution.explain import Resolution, ResolveRequest
from .resolution.ranges import parse_range
from .resolution.reader import Resolver
from .table.adopt import AdoptionResult
from .table.cache import DEFAULT_CACHE_BYTES
from .table.catalog import UnityCatalog
from .table.compatibility import read_settings
from .table.delta_table import AsOf, ContractTable, catalog_location
from .table.health import check_table
from .table.history import Commit, commit_metadata, commits_of
from .table.location import TableLocation, checked_options, resolve_location
from .table.log import DeltaLog
from .table.log_view import Freshness
from .table.lookups import contract_ids, stored_payload, version_list
from .table.maintenance import DEFAULT_TARGET_FILE_SIZE, OptimizeResult, VacuumResult
from .table.queries import FilterValue, checked_filters, decode_document
from .table.reads import TableReads
from .table.scanning import scan_frame
from .table.sql_pool import DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT, SqlPool
from .table.upkeep import TableUpkeep
from .table.writer import TableWriter

__all__ = ["DeltaContractStore"]


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

    Safe to share between threads: every method may be called from any number of threads at
    once. Each write plans and commits on a snapshot of its own, so concurrent writes from
    threads behave as writes from separate processes (see
    :class:`~.table.delta_table.ContractTable`); reads share one snapshot.

    :meth:`sql` queries run in worker processes (at most ``sql_workers`` at once), each
    stopped after ``sql_timeout`` seconds or past ``sql_max_memory`` bytes (see
    :mod:`.table.sql_pool`).
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
        refresh: Literal["on_read", "background"] = "on_read",
        sql_timeout: float = DEFAULT_TIMEOUT,
        sql_max_memory: int = DEFAULT_MAX_MEMORY,
        sql_workers: int = 1,
    ) -> None:
        self._validation: ValidationMode = validation_mode(validation)
        check_number("max_commit_attempts", max_commit_attempts, low=1, whole=True)
        check_number("max_staleness", max_staleness, low=0)
        if refresh not in ("on_read", "background"):
            raise InvalidRequestError(f"refresh must be 'on_read' or 'background', not {refresh!r}")
        if refresh == "background" and not max_staleness:
            raise InvalidRequestError(
                "refresh='background' needs max_staleness > 0 (seconds): how often the "
                "background thread looks at the table is half of it"
            )
        self._refresh = refresh
        check_number("cache_bytes", cache_bytes, low=0, whole=True)
        self._sql_limits = _sql_limits(sql_timeout, sql_max_memory, prefix="sql_")
        check_number("sql_workers", sql_workers, low=1, whole=True)
        if auto_compact is not None:
            check_number("auto_compact", auto_compact, low=1, whole=True)
        policy = None if compatibility is None else Policy.parse(compatibility)
        self._compatibility = policy
        declared = parse_columns(metadata_columns or {})
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
                declared,
            )
        else:
            self._location = resolve_location(
                table=table, path=path, storage_options=storage_options, warehouse=warehouse
            )
        self._table = ContractTable(
            self._location, max_staleness=max_staleness, background=refresh == "background"
        )
        self._log = DeltaLog(self._location, self._table.files)
        self._reads = TableReads(self._table, self._log, cache_bytes=cache_bytes)
        self._resolver = Resolver(self._table, self._log, self._reads)
        self._writer = TableWriter(
            self._table,
            self._reads,
            declared=declared,
            max_attempts=max_commit_attempts,
            auto_compact=auto_compact,
            compatibility=policy,
        )
        self._upkeep = TableUpkeep(self._table, self._reads, self._writer)
        self._sql = SqlPool(workers=sql_workers)
        weakref.finalize(self, self._sql.close)  # its worker processes end with the store

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

    def freshness(self) -> Freshness:
        """Which table version answers come from and when it was last confirmed to be the
        newest; ``max_staleness`` and ``refresh`` as configured.

        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml")
        >>> store.freshness().table_version
        1
        """
        return self._table.freshness(self._refresh)

    def close(self) -> None:
        """Stop the background refresh (``refresh="background"``); the store stays usable,
        refreshing on reads. Also on leaving a ``with`` block."""
        self._table.close()

    def __enter__(self) -> DeltaContractStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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
        return self._writer.put_many(
            contracts_iterable(contracts),
            self._validation if validation is None else validation_mode(validation),
            on_error=on_error,
            metadata=metadata or {},
            info=commit_metadata(who, why, commit_info),
            dry_run=dry_run,
        )

    # -- compatibility -------------------------------------------------------------------

    def compatibility_settings(self) -> CompatibilitySettings:
        """The table's compatibility policy, per-contract policies and rule overrides.

        A property that holds no readable policy (another tool's value) raises
        :class:`~.errors.IncompatibleTableError` naming it, its value and the repair, which
        :meth:`set_compatibility` carries out.

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
        info = commit_metadata(who, why, None)
        return self._writer.update_settings(lambda s: s.with_policy(chosen, contract_id), info)

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
        info = commit_metadata(who, why, None)
        return self._writer.update_settings(lambda s: s.with_overrides(parsed), info)

    def diff(
        self,
        old: Any,
        new: Any,
        *,
        mode: Mode | None = None,
        overrides: Iterable[Override | Mapping[str, Any]] = (),
        as_of: AsOf | None = None,
    ) -> DiffResult:
        """What changed from ``old`` to ``new`` and the SemVer bump it needs.

        Each is what ``put`` takes, or ``"contract_id@version"`` read from the table. The
        table's overrides apply after ``overrides`` (``Override`` objects or their mappings);
        ``mode`` defaults to the contract's policy (``full`` where none is set).

        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml")
        >>> newer = "examples/contracts/sales/orders-1.1.0.odcs.yaml"
        >>> result = store.diff("sales.orders@1.0.0", newer)
        >>> result.required_bump, [change.path for change in result.changes]
        ('major', ['schema.orders.properties.currency'])
        """
        given = coerce_overrides(overrides)
        before, after = self._document_of(old, as_of), self._document_of(new, as_of)
        settings = read_settings(self._snapshot(as_of))
        contract_id = str(after.get("id") or after.get("uuid") or "")
        policy = self._compatibility or settings.policy_for(contract_id)
        chosen: Mode = mode or (policy.mode if policy.mode != "none" else "full")
        rules = [*given, *settings.ordered_overrides()]
        return diff_documents(before, after, mode=chosen, overrides=rules)

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
        info = commit_metadata(who, why, {"contracts": f"{contract_id}@{version}"})
        return self._writer.update_metadata(contract_id, version, values, if_match or {}, info)

    def add_metadata_columns(
        self, columns: Mapping[str, str], *, who: str | None = None, why: str | None = None
    ) -> None:
        """Declare governance columns and add them to the table now (old rows read null).

        A name that is reserved, or differs from an existing column only in case, or a type
        other than the table holds, is refused before anything is written; the store keeps
        working with the columns it had.
        """
        self._writer.add_metadata_columns(columns, commit_metadata(who, why, None))

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

        payload = stored_payload(self._reads, contract_id, version, as_of)
        if payload is None:
            raise ContractNotFoundError(contract_id, version, detail=_where(as_of))
        return decode_document(payload, contract_id, version)

    @overload
    def latest(
        self,
        contract_id: str,
        *,
        include_prereleases: bool = False,
        as_of: AsOf | None = None,
        explain: Literal[False] = False,
        **filters: FilterValue,
    ) -> dict[str, Any] | None: ...

    @overload
    def latest(
        self,
        contract_id: str,
        *,
        include_prereleases: bool = False,
        as_of: AsOf | None = None,
        explain: Literal[True],
        **filters: FilterValue,
    ) -> Resolution: ...

    def latest(
        self,
        contract_id: str,
        *,
        include_prereleases: bool = False,
        as_of: AsOf | None = None,
        explain: bool = False,
        **filters: FilterValue,
    ) -> dict[str, Any] | Resolution | None:
        """The highest version of ``contract_id`` (the order of :mod:`.core.versions`), or None.

        Prereleases (``1.2.0-rc.1``, ``0.32.0.0rc2``) are skipped unless
        ``include_prereleases``. Keyword filters match metadata columns, pushed into the scan:
        ``status="active"``, ``status=["active", "draft"]``, ``owner=None`` (unset).
        ``explain=True`` answers as ``resolve(contract_id, explain=True)`` does.

        >>> for version in ("1.0.0", "1.1.0", "2.0.0"):
        ...     _ = store.put(f"examples/contracts/sales/orders-{version}.odcs.yaml")
        >>> store.latest("sales.orders")["version"]
        '2.0.0'
        >>> store.latest("sales.orders", status="active")["version"]
        '1.1.0'
        >>> store.latest("sales.orders", status="active", explain=True).chosen
        '1.1.0'
        """
        request = self._request(contract_id, None, include_prereleases, as_of, filters)
        if explain:
            return self._explained(contract_id, request)
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
        return self._explained(contract_id, request)

    def _explained(self, contract_id: str, request: ResolveRequest) -> Resolution:
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
            columns = self._writer.new_table_columns() if newest is None else newest.columns()
            wanted = checked_filters(filters, columns)
        return ResolveRequest(version_range, wanted, include_prereleases, as_of)

    def _resolved(self, contract_id: str, request: ResolveRequest) -> dict[str, Any] | None:
        found = self._resolver.choose(contract_id, request)
        return None if found is None else decode_document(found[1], contract_id, found[0])

    def list_contracts(self, *, as_of: AsOf | None = None) -> list[str]:
        """Every contract id in the table, sorted."""
        return list(contract_ids(self._reads, as_of))

    def list_versions(self, contract_id: str, *, as_of: AsOf | None = None) -> list[str]:
        """The versions of ``contract_id``, lowest to highest (see :mod:`.core.versions`)."""
        check_identity(contract_id, "contract_id")
        return list(version_list(self._reads, contract_id, as_of))

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

    def sql(
        self,
        query: str,
        *,
        as_of: AsOf | None = None,
        timeout: float | None = None,
        max_memory: int | None = None,
    ) -> pl.DataFrame:
        """Run a read-only SQL query over the ``contracts`` and ``contracts_latest`` views.

        The query runs in a worker process: past ``timeout`` seconds or ``max_memory`` bytes
        (the store's ``sql_timeout`` and ``sql_max_memory`` when None) it is stopped with
        :class:`~.errors.QueryLimitError`, and this process goes on.

        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml")
        >>> store.sql("SELECT contract_id, version, domain FROM contracts_latest").rows()
        [('sales.orders', '1.0.0', 'sales')]
        """
        default_timeout, default_memory = self._sql_limits
        limit, memory = _sql_limits(
            default_timeout if timeout is None else timeout,
            default_memory if max_memory is None else max_memory,
        )
        version = self._table.newest() if as_of is None else self._table.at(as_of).version()
        return self._sql.run(query, self._location, version, timeout=limit, max_memory=memory)

    def history(self, *, limit: int | None = None) -> list[Commit]:
        """The table's commits, newest first: version, time, operation, who and why, and for
        an ingest the folder, Git commit and source files (``Commit.ingested_from``...)."""
        if limit is not None:
            check_number("limit", limit, low=1, high=2**63 - 1, whole=True)
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
        newest = self._table.newest()
        upto = -1 if newest is None else newest
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
        write a checkpoint and drop expired log files; a lookup then reads one file.

        Raises :class:`~.errors.TableNotFoundError` (creating nothing) where no table is,
        and :class:`~.errors.TableBusyError` while another upkeep of the table runs.
        """
        check_number("target_file_size", target_file_size, low=1, high=2**40, whole=True)
        return self._upkeep.optimize(target_file_size, commit_metadata(who, why, None))

    def vacuum(
        self,
        *,
        retention_hours: int | None = None,
        dry_run: bool = True,
        who: str | None = None,
        why: str | None = None,
    ) -> VacuumResult:
        """List (``dry_run=True``, the default) or delete data files no longer referenced by
        any version within the retention period (the table's, 7 days by default).

        Raises :class:`~.errors.TableNotFoundError` (creating nothing) where no table is.
        """
        if retention_hours is not None:
            check_number("retention_hours", retention_hours, low=0, high=1_000_000, whole=True)
        if not isinstance(dry_run, bool):
            raise InvalidRequestError(f"dry_run must be True or False, not {dry_run!r}")
        return self._upkeep.vacuum(retention_hours, dry_run, commit_metadata(who, why, None))

    def check(self) -> HealthReport:
        """The table's health: duplicated keys, Delta features the store cannot read or write,
        column mapping, columns of other types, required columns left nullable, rows reads
        skip (no identity, a payload that is not a JSON object), rows without derived
        columns, stale version keys, unreadable compatibility settings, a missing
        checkpoint, small files. ``report.healthy``, or ``report.findings`` with the fix for
        each (see :mod:`.core.health`). Where no table is, raises
        :class:`~.errors.TableNotFoundError` (a file or a folder of other files:
        :class:`~.errors.InvalidLocationError`), as upkeep does; nothing is created.

        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml")
        >>> store.check().healthy
        True
        """
        dt = self._table.current()
        if dt is None:
            raise TableNotFoundError(str(self._location), "check")
        with self._reads.reading(), self._table.errors("check"):
            return check_table(dt, str(self._location), self._location.options())

    def adopt(
        self, *, dry_run: bool = True, who: str | None = None, why: str | None = None
    ) -> AdoptionResult:
        """Upgrade a table other tools wrote (dc43's Spark store: seven columns) in place:
        add the derived columns and fill them — and correct stale ``version_sort_key`` and
        ``prerelease`` values — in one commit (see :mod:`.table.adopt`). ``dry_run`` (the
        default) only plans: ``result.plan.describe()`` says what would change. Raises
        :class:`~.errors.TableNotFoundError` (creating nothing) where no table is.

        >>> _ = store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml")
        >>> store.adopt().plan.needed
        False
        """
        if not isinstance(dry_run, bool):
            raise InvalidRequestError(f"dry_run must be True or False, not {dry_run!r}")
        return self._upkeep.adopt(dry_run, commit_metadata(who, why, {"adopt": True}))

    # -- helpers -------------------------------------------------------------------------

    def _snapshot(self, as_of: AsOf | None) -> DeltaTable | None:
        return self._table.current() if as_of is None else self._table.at(as_of)


def _sql_limits(timeout: float, max_memory: int, *, prefix: str = "") -> tuple[float, int]:
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0 < timeout <= 86_400
    ):
        raise InvalidRequestError(
            f"{prefix}timeout must be a number of seconds above 0 and at most 86,400, "
            f"not {timeout!r}"
        )
    check_number(f"{prefix}max_memory", max_memory, low=1 << 20, whole=True)
    return float(timeout), int(max_memory)


def _where(as_of: AsOf | None) -> str:
    return "" if as_of is None else f" (as of {as_of!r})"
