"""Reading the candidates of a resolution from the table, at the snapshot ``as_of`` asks for.

``as_of`` a time, when the history it refers to is gone: Delta's time travel loads the
oldest snapshot it still has even for earlier times (measured on deltalake 1.6.6: no error),
and a snapshot whose data files ``vacuum`` deleted cannot be read. Versions are immutable
and never deleted, so which ones existed at that time follows from ``created_at`` in the
current table; their metadata (``status``…) is known only as it is now. The resolver then
answers from the current table, says so in the notes, and marks a choice that depended on
metadata ``approximate``. A table version number (``as_of=12``) never falls back.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar

import polars as pl
from deltalake import DeltaTable

from ..core.values import as_of_value
from ..errors import StoreUnavailableError
from ..table.delta_table import AsOf, ContractTable
from ..table.log import DeltaLog
from ..table.queries import (
    document_column,
    filter_expr,
    frozen_filters,
    one_copy,
    payload_document,
)
from ..table.reads import Snapshot, TableReads
from .explain import CandidateRow, Resolution, ResolveRequest, decide

__all__ = ["Resolver"]

T = TypeVar("T")


@dataclass(frozen=True)
class _View:
    """Where to read: ``snapshot``; with ``cutoff``, the current table where rows created
    after the cutoff did not exist yet and metadata is today's (``notes`` say why)."""

    snapshot: Snapshot | None
    cutoff: datetime | None = None
    values_now: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Gone:
    """The history ``as_of`` refers to is gone: what the answer then rests on."""

    note: str
    values_now: bool


class Resolver:
    """Answers ``resolve`` and ``latest`` on a :class:`~..table.delta_table.ContractTable`,
    remembering answers in the store's cache (see :mod:`..table.reads`): an answer about a
    contract stays until a commit touches that contract."""

    def __init__(self, table: ContractTable, log: DeltaLog, reads: TableReads) -> None:
        self._table = table
        self._log = log
        self._reads = reads
        self._cache = reads.cache
        self._collect = reads.collect

    def choose(self, contract_id: str, request: ResolveRequest) -> tuple[str, str] | None:
        """``(version, json)`` of the chosen version, or None. Filters are a column, not a
        scan filter: copies of the chosen version they skip still count (a version other
        writers stored twice with different content raises DuplicateVersionError)."""
        query = ("resolve", contract_id, *_request_key(request))

        def compute(view: _View) -> tuple[str, str] | None:
            if view.snapshot is None:
                return None
            columns = view.snapshot.columns()
            cutoff = view.cutoff is not None and "created_at" in columns
            needed = ["version", "json", *request.filters, *(["created_at"] if cutoff else [])]
            frame = view.snapshot.frame(contract_id, [c for c in needed if c in columns])
            if cutoff:
                created = pl.col("created_at")  # null: written by a tool that did not say
                frame = frame.filter(created.is_null() | (created <= view.cutoff))
            filters = request.filters.items()
            matches = [filter_expr(c, w, columns).fill_null(False) for c, w in filters]
            passed = [pl.all_horizontal(matches).alias("\0passed")] if matches else []
            found = self._collect(frame.select("version", "json", *passed))
            payloads = {r[0]: r[1] for r in found.iter_rows() if not matches or r[2]}
            while True:  # a chosen version whose json holds no document is skipped
                chosen = decide(contract_id, map(CandidateRow, payloads), request).chosen
                if chosen is None:
                    return None
                payload = self._payload(view.snapshot, contract_id, chosen, found, payloads)
                if payload is not None:
                    return chosen, payload
                del payloads[chosen]

        return self._answer(request.as_of, query, compute, contract_id)

    def explain(self, contract_id: str, request: ResolveRequest) -> tuple[Resolution, str | None]:
        """The resolution with every candidate judged, and the chosen version's json."""
        current = self._table.current() if request.as_of is not None else None
        query = (
            "explain",
            contract_id,
            *_request_key(request),
            None if current is None else current.version(),
        )

        def compute(view: _View) -> tuple[Resolution, str | None]:
            if view.snapshot is None:
                return decide(contract_id, [], request, notes=view.notes), None
            rows, payloads = self._rows(contract_id, view, request)
            if request.as_of is not None and view.cutoff is None and current is not None:
                rows += self._published_later(contract_id, current, {r.version for r in rows})
            resolution = decide(
                contract_id, rows, request, values_now=view.values_now, notes=view.notes
            )
            chosen = resolution.chosen
            if chosen is None:
                return resolution, None
            versions = pl.DataFrame({"version": [r.version for r in rows]})
            return resolution, self._payload(view.snapshot, contract_id, chosen, versions, payloads)

        return self._answer(request.as_of, query, compute, contract_id)

    # -- rows ----------------------------------------------------------------------------

    def _rows(
        self, contract_id: str, view: _View, request: ResolveRequest
    ) -> tuple[list[CandidateRow], dict[str, str]]:
        assert view.snapshot is not None
        columns = view.snapshot.columns()
        wanted = dict.fromkeys([*request.filters, "status"])
        lifted = {c: document_column(c, columns) for c in wanted}  # dc43's tables: from JSON
        shown = [c for c, expr in lifted.items() if expr is not None]
        checks = [
            filter_expr(column, wanted, columns).fill_null(False).alias(f"\0{index}")
            for index, (column, wanted) in enumerate(request.filters.items())
        ]
        needed = ["version", "json", "created_at", *request.filters, "status"]
        frame = view.snapshot.frame(contract_id, [c for c in needed if c in columns]).select(
            "version", _created(columns), "json", *(lifted[c] for c in shown), *checks
        )
        data = self._collect(frame)
        readable = [payload_document(payload) is not None for payload in data["json"]]
        data = data.filter(pl.Series(readable, dtype=pl.Boolean))
        values = zip(*(data[column].to_list() for column in shown), strict=True)
        passed = zip(*(data[f"\0{i}"].to_list() for i in range(len(checks))), strict=True)
        filters = list(request.filters)
        rows = []
        versions = data["version"].to_list()
        for version, when in zip(versions, data["created_at"].to_list(), strict=True):
            held = MappingProxyType(dict(zip(shown, next(values, ()), strict=True)))
            later = view.cutoff is not None and when is not None and when > view.cutoff
            ok = next(passed, ())
            failed = (
                () if later else tuple(c for c, hit in zip(filters, ok, strict=True) if not hit)
            )
            rows.append(CandidateRow(version, when, held, failed, later))
        return rows, dict(zip(versions, data["json"].to_list(), strict=True))

    def _published_later(
        self, contract_id: str, current: DeltaTable, known: set[str]
    ) -> list[CandidateRow]:
        """Versions in the current table that the ``as_of`` snapshot does not have yet."""
        snapshot = self._reads.snapshot(current)
        columns = snapshot.columns()
        needed = [c for c in ("version", "json", "created_at") if c in columns]
        data = self._collect(
            snapshot.frame(contract_id, needed).select("version", _created(columns), "json")
        )
        return [
            CandidateRow(version, created, published_after_as_of=True)
            for version, created, payload in data.iter_rows()
            if version not in known and payload_document(payload) is not None
        ]

    def _payload(
        self,
        snapshot: Snapshot,
        contract_id: str,
        chosen: str,
        found: pl.DataFrame,
        payloads: Mapping[str, str],
    ) -> str | None:
        """The chosen version's json; where ``found`` holds it more than once (copies other
        writers made), the one content they share, else DuplicateVersionError. None when
        it holds no document (see :func:`~..table.queries.payload_document`)."""
        if (found["version"] == chosen).sum() > 1:
            dt = snapshot.table()
            return one_copy(dt, contract_id, chosen, self._reads.columns(dt), self._collect)
        payload = payloads[chosen]
        return payload if payload_document(payload) is not None else None

    # -- snapshots -----------------------------------------------------------------------

    def _answer(
        self, as_of: AsOf | None, query: Hashable, compute: Callable[[_View], T], contract_id: str
    ) -> T:
        """``compute`` on the snapshot ``as_of`` names: on the newest snapshot, remembered
        until a commit touches ``contract_id``; on an older one, per table version."""
        if as_of is None:
            newest = self._reads.newest()
            if newest is None:
                return compute(_View(None))
            return self._cache.live(
                newest.version, query, lambda: compute(_View(newest)), scope=contract_id
            )
        if isinstance(as_of, int) and not isinstance(as_of, bool):
            with self._reads.time_travel(as_of):
                return self._cache.pinned(
                    as_of,
                    query,
                    lambda: compute(_View(self._reads.snapshot(self._table.at(as_of)))),
                )
        snapshot = self._table.at(as_of, before_creation=True)
        instant = _instant(as_of)
        gone = None if instant is None else self._not_reached(snapshot, instant)
        if gone is None:
            try:
                return self._cache.pinned(
                    snapshot.version(),
                    query,
                    lambda: compute(_View(self._reads.snapshot(snapshot))),
                )
            except StoreUnavailableError:
                gone = None if instant is None else self._vacuumed(snapshot, instant)
                if gone is None:
                    raise
        assert instant is not None
        dt = self._table.current()
        current = None if dt is None else self._reads.snapshot(dt)
        view = _View(current, instant, gone.values_now, (gone.note,))
        if dt is None:
            return compute(view)
        return self._cache.live(
            dt.version(),
            (query, "created_at <=", instant),
            lambda: compute(view),
            scope=contract_id,
        )

    def _not_reached(self, snapshot: DeltaTable, instant: datetime) -> _Gone | None:
        """Why ``snapshot`` (time travel's answer for ``instant``) is not the table then: time
        travel answers a time before the oldest commit left with the oldest snapshot left."""
        version = snapshot.version()
        with self._table.errors("read the log of"):
            committed = self._log.modified(version)
        if committed is not None and committed <= instant:
            return None
        if version == 0:
            return _Gone(f"the table did not exist yet at {instant.isoformat()}", False)
        since = "" if committed is None else f" ({committed.isoformat()})"
        return _Gone(
            f"the log before table version {version}{since} has been cleaned up: which "
            f"versions existed at {instant.isoformat()} follows from created_at, and metadata "
            "is as it is now, not as it was then",
            True,
        )

    def _vacuumed(self, snapshot: DeltaTable, instant: datetime) -> _Gone | None:
        """Why ``snapshot`` cannot be read if a vacuum since deleted its data files, else None."""
        current = self._table.current()
        if current is None:
            return None
        with self._table.errors("read the history of"):
            vacuums = [
                int(entry["version"])
                for entry in current.history()
                if int(entry["version"]) > snapshot.version()
                and str(entry.get("operation", "")).startswith("VACUUM")
            ]
        if not vacuums:
            return None
        return _Gone(
            f"the data files of table version {snapshot.version()} (the table at "
            f"{instant.isoformat()}) were deleted by vacuum at table version {min(vacuums)}: "
            "which versions existed then follows from created_at, and metadata is as it is "
            "now, not as it was then",
            True,
        )


def _created(columns: Mapping[str, Any]) -> pl.Expr:
    """``created_at``; null in a foreign table without it (every version then counts as
    published before any ``as_of``)."""
    if "created_at" in columns:
        return pl.col("created_at")
    return pl.lit(None, pl.Datetime("us", "UTC")).alias("created_at")


def _request_key(request: ResolveRequest) -> tuple[Hashable, ...]:
    spec = None if request.range is None else request.range.text
    return (spec, request.include_prereleases, frozen_filters(request.filters))


def _instant(as_of: AsOf) -> datetime | None:
    """``as_of`` as an aware time (naive means local time, as everywhere), or None for a
    table version."""
    point = as_of_value(as_of)
    return None if isinstance(point, int) else point
