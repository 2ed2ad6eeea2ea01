"""Preparing and classifying the contracts of a write (pure: no table access here).

A write is a batch: ``put`` is a batch of one. Each item is parsed, identified and validated
(:func:`prepare`); items repeating a key of the batch are merged when identical and refused
when not; then the stored fingerprints decide, per key, new / unchanged / conflict
(:func:`classify`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import (
    BatchProblem,
    ContractStoreError,
    DuplicateVersionError,
    ValidationIssue,
    VersionConflictError,
)
from .documents import file_path, load_document
from .duplicates import DuplicateKey
from .records import ContractRow, build_row
from .validation import ValidationMode, apply_policy

__all__ = [
    "BatchResult",
    "Classified",
    "Prepared",
    "PutResult",
    "batch_result",
    "classify",
    "describe_keys",
    "prepare",
]

Key = tuple[str, str]


@dataclass(frozen=True)
class PutResult:
    """What happened to one contract: ``"inserted"``, ``"unchanged"``, or ``"new"`` (a dry run:
    it would be inserted)."""

    contract_id: str
    version: str
    fingerprint: str
    outcome: Literal["inserted", "unchanged", "new"]
    table_version: int | None
    validation_issues: tuple[ValidationIssue, ...] = ()
    source: str | None = None
    compatibility: str | None = None  # the compatibility gate's verdict, when a policy applies

    @property
    def inserted(self) -> bool:
        return self.outcome == "inserted"


@dataclass(frozen=True)
class BatchResult:
    """What ``put_many`` did: ``results`` in input order; ``problems`` are the skipped items."""

    results: tuple[PutResult, ...]
    problems: tuple[BatchProblem, ...]
    table_version: int | None

    @property
    def inserted(self) -> int:
        return sum(result.inserted for result in self.results)

    @property
    def unchanged(self) -> int:
        return sum(not result.inserted for result in self.results)


@dataclass(frozen=True)
class Prepared:
    """One storable item of a batch."""

    index: int
    source: str
    row: ContractRow
    issues: tuple[ValidationIssue, ...]

    @property
    def key(self) -> Key:
        return (self.row.contract_id, self.row.version)


def prepare(
    items: Iterable[Any], validation: ValidationMode
) -> tuple[list[Prepared], list[BatchProblem], int]:
    """Parse, identify and validate every item; return ``(prepared, problems, item_count)``."""
    prepared: list[Prepared] = []
    problems: list[BatchProblem] = []
    count = 0
    for index, item in enumerate(items):
        count += 1
        named = file_path(item)
        path = None if named is None else str(named)
        source = path or f"item {index}"
        try:
            document = load_document(item)
            row = build_row(document, label=path)
            report = apply_policy(document, validation, label=row.label, source=path)
        except ContractStoreError as exc:
            problems.append(BatchProblem(index, source, exc))
            continue
        prepared.append(Prepared(index, source, row, report.issues if report else ()))
    prepared, problems = _merge_repeats(prepared, problems)
    return prepared, problems, count


def _merge_repeats(
    prepared: list[Prepared], problems: list[BatchProblem]
) -> tuple[list[Prepared], list[BatchProblem]]:
    """Repeats of a key with identical content are fine; with other content, all are refused."""
    by_key: dict[Key, list[Prepared]] = {}
    for item in prepared:
        by_key.setdefault(item.key, []).append(item)
    kept: list[Prepared] = []
    for items in by_key.values():
        if len({item.row.fingerprint for item in items}) == 1:
            kept.extend(items)
            continue
        for item in items:
            other = next(o for o in items if o.row.fingerprint != item.row.fingerprint)
            error = VersionConflictError(
                item.row.contract_id,
                item.row.version,
                stored_fingerprint=other.row.fingerprint,
                new_fingerprint=item.row.fingerprint,
                message=f"{item.row.label} appears in the batch with other content "
                f"(fingerprint {item.row.fingerprint}, and {other.row.fingerprint} in "
                f"{other.source}); a version can hold only one",
            )
            problems.append(BatchProblem(item.index, item.source, error))
    kept.sort(key=lambda item: item.index)
    problems.sort(key=lambda problem: problem.index)
    return kept, problems


@dataclass(frozen=True)
class Classified:
    """Items of a batch against one table snapshot."""

    new: list[Prepared]
    unchanged: list[Prepared]
    conflicts: list[BatchProblem]


def classify(prepared: list[Prepared], stored: Mapping[Key, str | DuplicateKey]) -> Classified:
    """Split by what the table holds: absent keys are new, equal fingerprints unchanged.

    A key other writers stored several times with different content is a conflict
    (:class:`~..errors.DuplicateVersionError`), whatever the new content is.
    """
    new: list[Prepared] = []
    unchanged: list[Prepared] = []
    conflicts: list[BatchProblem] = []
    written: set[Key] = set()
    for item in prepared:
        fingerprint = stored.get(item.key)
        if isinstance(fingerprint, DuplicateKey):
            if not fingerprint.identical:
                error: ContractStoreError = DuplicateVersionError(
                    *item.key, fingerprint.fingerprints, fingerprint.rows
                )
                conflicts.append(BatchProblem(item.index, item.source, error))
                continue
            fingerprint = fingerprint.fingerprints[0]
        if fingerprint is None:
            (unchanged if item.key in written else new).append(item)
            written.add(item.key)
        elif fingerprint == item.row.fingerprint:
            unchanged.append(item)
        else:
            error = VersionConflictError(
                item.row.contract_id,
                item.row.version,
                stored_fingerprint=fingerprint,
                new_fingerprint=item.row.fingerprint,
            )
            conflicts.append(BatchProblem(item.index, item.source, error))
    return Classified(new, unchanged, conflicts)


def batch_result(
    written: list[Prepared],
    unchanged: list[Prepared],
    refused: list[BatchProblem],
    outcome: Literal["inserted", "new"],
    version: int | None,
    notes: Mapping[int, str] | None = None,
) -> BatchResult:
    """Results in input order: ``written`` with ``outcome``, the others unchanged; ``notes``
    are the compatibility verdicts by item index."""
    unchanged_kind: Literal["unchanged"] = "unchanged"
    labelled = [(item, outcome) for item in written] + [(i, unchanged_kind) for i in unchanged]
    results = tuple(
        PutResult(
            item.row.contract_id,
            item.row.version,
            item.row.fingerprint,
            kind,
            version,
            item.issues,
            item.source,
            (notes or {}).get(item.index),
        )
        for item, kind in sorted(labelled, key=lambda pair: pair[0].index)
    )
    return BatchResult(results, tuple(refused), version)


def describe_keys(prepared: list[Prepared], shown: int = 5) -> str:
    keys = ", ".join(f"{item.row.contract_id}@{item.row.version}" for item in prepared[:shown])
    return keys + (f" and {len(prepared) - shown} more" if len(prepared) > shown else "")
