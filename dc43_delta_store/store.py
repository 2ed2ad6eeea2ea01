"""``DeltaContractStore``: ODCS contracts in a Delta table, one row per contract version."""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import polars as pl
from deltalake import DeltaTable

from . import __version__
from .batch import BatchResult, Prepared, PutResult, classify, prepare
from .delta_table import AsOf, CommitFailedError, ContractTable, table_columns
from .errors import (
    BatchError,
    ContractNotFoundError,
    ContractStoreError,
    InvalidQueryError,
    StoreUnavailableError,
    TableBusyError,
)
from .location import TableLocation, describe, resolve_location
from .records import ContractRow, check_identity
from .table_schema import rows_to_table
from .validation import ValidationMode
from .versions import is_prerelease, sort_versions, version_sort_key

__all__ = ["DeltaContractStore"]

logger = logging.getLogger("dc43_delta_store")

FilterValue = str | bool | None | Sequence[str]


class DeltaContractStore:
    """ODCS data contracts in a Delta Lake table, without Spark.

    >>> store = DeltaContractStore(path=tmp_path / "contracts")
    >>> store.put("examples/contracts/sales/orders-1.1.0.odcs.yaml").outcome
    'inserted'
    >>> store.latest("sales.orders", status="active")["version"]
    '1.1.0'

    Give ``table`` (``catalog.schema.table``, mapped into a local warehouse folder, see
    :mod:`.location`) or ``path`` (a local folder or an ``s3://``, ``az://``, ``abfss://``,
    ``gs://`` URI, with ``storage_options`` as deltalake takes them). ``validation`` is the
    ODCS JSON-Schema policy for ``put`` (see :mod:`.validation`). The table is created on the
    first ``put``; an existing table is used as it is.
    """

    def __init__(
        self,
        *,
        table: str | None = None,
        path: str | os.PathLike[str] | None = None,
        storage_options: Mapping[str, str] | None = None,
        warehouse: str | os.PathLike[str] | None = None,
        validation: ValidationMode = "warn",
        max_commit_attempts: int = 12,
    ) -> None:
        if validation not in ("strict", "warn", "off"):
            raise ValueError(f"validation must be 'strict', 'warn' or 'off', not {validation!r}")
        if max_commit_attempts < 1:
            raise ValueError("max_commit_attempts must be at least 1")
        self._location = resolve_location(
            table=table, path=path, storage_options=storage_options, warehouse=warehouse
        )
        self._table = ContractTable(self._location)
        self._validation: ValidationMode = validation
        self._max_attempts = max_commit_attempts

    @property
    def location(self) -> TableLocation:
        """Where the table lives (``uri``, ``name``); its repr hides storage option values."""
        return self._location

    def __repr__(self) -> str:
        return f"DeltaContractStore({self._location.name or self._location.uri!r})"

    # -- writing -------------------------------------------------------------------------

    def put(
        self,
        contract: Any,
        *,
        validation: ValidationMode | None = None,
        commit_info: Mapping[str, Any] | None = None,
    ) -> PutResult:
        """Store one contract version; re-putting identical content is a no-op.

        ``contract`` is an ``OpenDataContractStandard`` model, a mapping, YAML or JSON text,
        or a path to a ``.yaml``/``.yml``/``.json`` file. Raises
        :class:`~.errors.VersionConflictError` if the version exists with other content,
        :class:`~.errors.InvalidContractError` for bad input; either way nothing is written.
        ``commit_info`` is added to the Delta commit (who, why, where from).

        >>> store.put({"id": "sales.orders", "version": "1.0.0", "apiVersion": "v3.1.0",
        ...            "kind": "DataContract", "status": "active"}).outcome
        'inserted'
        >>> store.put({"id": "sales.orders", "version": "1.0.0", "apiVersion": "v3.1.0",
        ...            "kind": "DataContract", "status": "active"}).outcome
        'unchanged'
        """
        try:
            batch = self.put_many([contract], validation=validation, commit_info=commit_info)
        except BatchError as exc:
            raise exc.problems[0].error from None  # a batch of one: its own error
        return batch.results[0]

    def put_many(
        self,
        contracts: Iterable[Any],
        *,
        validation: ValidationMode | None = None,
        on_error: Literal["raise", "skip"] = "raise",
        commit_info: Mapping[str, Any] | None = None,
    ) -> BatchResult:
        """Store many contracts in one Delta commit: all new versions, or none.

        Every item is checked first. With ``on_error="raise"`` (the default) one invalid or
        conflicting item refuses the whole batch: :class:`~.errors.BatchError` lists every
        problem and nothing is written. With ``on_error="skip"`` the good items are written
        and ``BatchResult.problems`` lists the others.

        >>> from pathlib import Path
        >>> batch = store.put_many(sorted(Path("examples/contracts").rglob("*.odcs.*")))
        >>> batch.inserted, batch.unchanged, len(batch.problems)
        (6, 0, 0)
        """
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
        prepared, problems, total = prepare(contracts, validation or self._validation)
        delay = 0.005
        for attempt in range(1, self._max_attempts + 1):
            dt = self._table.current()
            plan = classify(prepared, self._stored_fingerprints(dt, prepared))
            refused = sorted(problems + plan.conflicts, key=lambda problem: problem.index)
            if refused and on_error == "raise":
                raise BatchError(refused, total=total)
            if plan.new:
                dt = self._table.writable(dt)
                rows = [item.row for item in plan.new]
                metadata = {**(commit_info or {}), **_commit_summary(rows)}
                try:
                    self._table.insert_new(dt, rows_to_table(rows, datetime.now(UTC)), metadata)
                except CommitFailedError:
                    logger.info(
                        "concurrent commit on %s while writing %d contract(s) (attempt %d of %d)",
                        self._location, len(rows), attempt, self._max_attempts,
                    )
                    if attempt < self._max_attempts:
                        time.sleep(delay * (1 + random.random()))  # backoff with jitter
                        delay = min(delay * 2, 0.5)
                    continue
            if dt is None:  # no table and nothing to write
                return BatchResult((), tuple(refused), None)
            version = dt.version()
            results = sorted(
                [_result(item, "inserted", version) for item in plan.new]
                + [_result(item, "unchanged", version) for item in plan.unchanged],
                key=lambda pair: pair[0],
            )
            return BatchResult(tuple(r for _, r in results), tuple(refused), version)
        raise TableBusyError(
            f"table {self._location} is busy: {self._max_attempts} commit attempts lost to "
            f"concurrent writers; nothing was written for {_keys(prepared)}"
        )

    def _stored_fingerprints(
        self, dt: DeltaTable | None, prepared: list[Prepared]
    ) -> dict[tuple[str, str], str]:
        if dt is None or not prepared:
            return {}
        ids = sorted({item.row.contract_id for item in prepared})
        versions = sorted({item.row.version for item in prepared})
        condition = (
            (pl.col("contract_id") == ids[0]) & (pl.col("version") == versions[0])
            if len(ids) == len(versions) == 1
            else pl.col("contract_id").is_in(ids) & pl.col("version").is_in(versions)
        )
        frame = pl.scan_delta(dt).filter(condition).select("contract_id", "version", "fingerprint")
        return {(cid, ver): fp for cid, ver, fp in self._collect(frame).iter_rows()}

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
        frame = self._scan(as_of)
        if frame is not None:
            found = self._collect(
                frame.filter(
                    (pl.col("contract_id") == contract_id) & (pl.col("version") == version)
                ).select("json")
            )
            if found.height:
                return self._decode(found["json"][0], contract_id, version)
        raise ContractNotFoundError(contract_id, version, detail=self._where(as_of))

    def latest(
        self,
        contract_id: str,
        *,
        include_prereleases: bool = False,
        as_of: AsOf | None = None,
        **filters: FilterValue,
    ) -> dict[str, Any] | None:
        """The highest version of ``contract_id`` (SemVer precedence), or None.

        Prereleases (``1.2.0-rc.1``) are skipped unless ``include_prereleases``. Keyword
        filters match metadata columns: ``status="active"`` or ``status=["active", "draft"]``.

        >>> for version in ("1.0.0", "1.1.0", "2.0.0"):
        ...     _ = store.put(f"examples/contracts/sales/orders-{version}.odcs.yaml")
        >>> store.latest("sales.orders")["version"]
        '2.0.0'
        >>> store.latest("sales.orders", status="active")["version"]
        '1.1.0'
        """
        check_identity(contract_id, "contract_id")
        dt = self._snapshot(as_of)
        if dt is None:
            return None
        columns = table_columns(dt)
        frame = pl.scan_delta(dt).filter(pl.col("contract_id") == contract_id)
        for column, wanted in filters.items():
            frame = frame.filter(_filter(column, wanted, columns))
        rows = self._collect(frame.select("version", "json"))
        candidates = [
            (version, payload)
            for version, payload in rows.iter_rows()
            if include_prereleases or not is_prerelease(version)
        ]
        if not candidates:
            return None
        version, payload = max(candidates, key=lambda pair: version_sort_key(pair[0]))
        return self._decode(payload, contract_id, version)

    def list_contracts(self, *, as_of: AsOf | None = None) -> list[str]:
        """Every contract id in the table, sorted."""
        frame = self._scan(as_of)
        if frame is None:
            return []
        ids = self._collect(frame.select("contract_id").unique())["contract_id"].to_list()
        return sorted(ids)

    def list_versions(self, contract_id: str, *, as_of: AsOf | None = None) -> list[str]:
        """The versions of ``contract_id``, lowest to highest (SemVer precedence)."""
        check_identity(contract_id, "contract_id")
        frame = self._scan(as_of)
        if frame is None:
            return []
        rows = self._collect(frame.filter(pl.col("contract_id") == contract_id).select("version"))
        return sort_versions(rows["version"].to_list())

    def exists(
        self, contract_id: str, version: str | None = None, *, as_of: AsOf | None = None
    ) -> bool:
        """True if the contract (at ``version``, when given) is in the table."""
        check_identity(contract_id, "contract_id")
        frame = self._scan(as_of)
        if frame is None:
            return False
        condition = pl.col("contract_id") == contract_id
        if version is not None:
            condition &= pl.col("version") == check_identity(version, "version")
        return self._collect(frame.filter(condition).select("version").head(1)).height > 0

    # -- helpers -------------------------------------------------------------------------

    def _snapshot(self, as_of: AsOf | None) -> DeltaTable | None:
        return self._table.current() if as_of is None else self._table.at(as_of)

    def _scan(self, as_of: AsOf | None) -> pl.LazyFrame | None:
        dt = self._snapshot(as_of)
        return None if dt is None else pl.scan_delta(dt)

    def _collect(self, frame: pl.LazyFrame) -> pl.DataFrame:
        try:
            return frame.collect()
        except ContractStoreError:
            raise
        except Exception as exc:  # polars raises its own exception tree for I/O failures
            message = describe(exc, self._location.storage_options)
            raise StoreUnavailableError(f"cannot read table {self._location}: {message}") from None

    def _decode(self, payload: str, contract_id: str, version: str) -> dict[str, Any]:
        try:
            document = json.loads(payload)
        except ValueError as exc:
            raise ContractStoreError(
                f"contract {contract_id!r} version {version!r}: the stored json column is not "
                f"valid JSON ({exc})"
            ) from exc
        if not isinstance(document, dict):
            raise ContractStoreError(
                f"contract {contract_id!r} version {version!r}: the stored json is not an object"
            )
        return document

    @staticmethod
    def _where(as_of: AsOf | None) -> str:
        return "" if as_of is None else f" (as of {as_of!r})"


def _filter(column: str, wanted: FilterValue, columns: Mapping[str, Any]) -> pl.Expr:
    if column not in columns:
        raise InvalidQueryError(
            f"unknown filter column {column!r}; the table has " + ", ".join(sorted(columns))
        )
    if wanted is None:
        return pl.col(column).is_null()
    if isinstance(wanted, (str, bool)):
        return pl.col(column) == wanted
    return pl.col(column).is_in(list(wanted))


def _result(
    item: Prepared, outcome: Literal["inserted", "unchanged"], version: int
) -> tuple[int, PutResult]:
    row = item.row
    result = PutResult(
        row.contract_id, row.version, row.fingerprint, outcome, version, item.issues, item.source
    )
    return item.index, result


def _keys(prepared: list[Prepared], shown: int = 5) -> str:
    keys = ", ".join(f"{item.row.contract_id}@{item.row.version}" for item in prepared[:shown])
    return keys + (f" and {len(prepared) - shown} more" if len(prepared) > shown else "")


def _commit_summary(rows: list[ContractRow]) -> dict[str, Any]:
    """What the Delta commit info says about a write (the first 100 keys, and the count)."""
    return {
        "dc43_delta_store": __version__,
        "contract_count": len(rows),
        "contracts": ", ".join(f"{row.contract_id}@{row.version}" for row in rows[:100]),
    }
