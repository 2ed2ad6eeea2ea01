"""The compatibility gate at the table: its settings in Delta table properties, and the
earlier versions a write is checked against, read from the snapshot the write commits on.

Settings are table properties (``dc43.compatibility``...; see
:mod:`..compatibility.policy`): custom keys that keep the protocol at reader 1 / writer 2,
and whose change makes a concurrent write fail ("metadata changed") and retry under the
new policy. A gated write also records a Delta ``SetTransaction`` per contract bucket
(:func:`gate_transactions`): two writers gating the same contract at once conflict, so the
loser re-reads and is checked against the winner's version. Buckets (the first three hex
digits of ``contract_key``) bound what every snapshot carries to 4,096 entries, at the cost
of a rare needless retry between two contracts sharing a bucket.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl
from deltalake import DeltaTable

from ..compatibility.gate import Candidate, check
from ..compatibility.policy import CompatibilitySettings, Policy
from ..core.batch import Classified, Prepared
from ..core.records import contract_key
from ..errors import BatchProblem
from .commits import commit_properties
from .queries import lookup, payload_document, readable_rows
from .scanning import scan_frame

__all__ = [
    "apply_gate",
    "gate_transactions",
    "gated",
    "read_settings",
    "rewrite_settings",
    "write_settings",
]

Collect = Callable[[pl.LazyFrame], pl.DataFrame]


def read_settings(dt: DeltaTable | None) -> CompatibilitySettings:
    """The compatibility settings stored in snapshot ``dt`` (no table: no policy); a value
    that cannot be read raises :class:`~..errors.IncompatibleTableError` naming its repair."""
    if dt is None:
        return CompatibilitySettings()
    return CompatibilitySettings.from_properties(dt.metadata().configuration)


def write_settings(
    dt: DeltaTable, settings: CompatibilitySettings, commit_info: Mapping[str, Any]
) -> None:
    """Store ``settings`` as table properties, in one commit."""
    dt.alter.set_table_properties(
        settings.to_properties(),
        raise_if_not_exists=False,
        commit_properties=commit_properties(commit_info),
    )


def rewrite_settings(
    dt: DeltaTable,
    change: Callable[[CompatibilitySettings], CompatibilitySettings],
    commit_info: Mapping[str, Any],
) -> CompatibilitySettings:
    """Apply ``change`` to the settings of snapshot ``dt`` and store them, in one commit.

    The settings are read leniently, so a property no policy can be read from (another
    tool's value) never blocks its own repair: ``change`` replaces what it sets, and every
    other value, readable or not, is written back as it was.
    """
    settings = change(
        CompatibilitySettings.from_properties(dt.metadata().configuration, strict=False)
    )
    write_settings(dt, settings, commit_info)
    return settings


def gated(
    settings: CompatibilitySettings, items: Sequence[Prepared], policy: Policy | None
) -> list[str]:
    """The contract ids among ``items`` that a policy other than ``none`` covers."""
    ids = sorted({item.row.contract_id for item in items})
    return [cid for cid in ids if (policy or settings.policy_for(cid)).mode != "none"]


def gate_transactions(contract_ids: Sequence[str], table_version: int) -> list[tuple[str, int]]:
    """One Delta application transaction per bucket of gated contracts (see the module
    docstring)."""
    buckets = sorted({contract_key(cid)[:3] for cid in contract_ids})
    return [(f"dc43.compatibility.{bucket}", table_version) for bucket in buckets]


def apply_gate(
    dt: DeltaTable | None,
    plan: Classified,
    settings: CompatibilitySettings,
    policy: Policy | None,
    collect: Collect,
    columns: Mapping[str, Any],
) -> tuple[Classified, dict[int, str]]:
    """``plan`` with the versions the policy refuses moved to its conflicts, and a verdict
    line per checked item (by batch index)."""
    ids = gated(settings, plan.new, policy)
    if not ids:
        return plan, {}
    candidates = [
        Candidate(
            item.index,
            item.source,
            item.row.contract_id,
            item.row.version,
            json.loads(item.row.json),
        )
        for item in plan.new
        if item.row.contract_id in ids
    ]
    stored: dict[str, list[str]] = {}
    if dt is not None:
        frame = scan_frame(dt).filter(pl.col("contract_id").is_in(ids))
        frame = readable_rows(frame.select("contract_id", "version", "json"), ["json"])
        for contract_id, version, text in collect(frame).iter_rows():
            if payload_document(text) is not None:  # rows reads skip are no versions
                stored.setdefault(contract_id, []).append(version)

    def load(contract_id: str, versions: Sequence[str]) -> dict[str, dict[str, Any]]:
        assert dt is not None  # only stored versions are loaded
        match = lookup(contract_id, columns) & pl.col("version").is_in(list(versions))
        rows = collect(scan_frame(dt).filter(match).select("version", "json")).iter_rows()
        documents = ((version, payload_document(text)) for version, text in rows)
        return {version: document for version, document in documents if document is not None}

    outcomes = check(candidates, settings, stored_versions=stored, load=load, policy=policy)
    refused = {outcome.index: outcome.error for outcome in outcomes if outcome.error}
    new = [item for item in plan.new if item.index not in refused]
    conflicts = plan.conflicts + [
        BatchProblem(item.index, item.source, error)
        for item in plan.new
        if (error := refused.get(item.index)) is not None
    ]
    notes = {outcome.index: outcome.note for outcome in outcomes if outcome.note}
    return Classified(new, plan.unchanged, conflicts), notes
