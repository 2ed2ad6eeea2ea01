"""The choice of a version, with every candidate's verdict and the reasons for it (pure).

Like ``apt-cache policy``, an explanation lists every version of the contract, highest
first, each ``chosen``, ``outranked`` (it qualifies, but a higher version was chosen) or
``skipped``, with reasons that start with what decided them::

    range: outside '^1.2' (>=1.2.0 <2.0.0-0)
    range: '2024-01-01' is not a SemVer version, so no range can place it
    prerelease: skipped unless include_prereleases
    status: 'draft', wanted 'active'
    as_of: published 2026-11-30T21:00:41+00:00, after as_of 2026-11-01T00:00:00+00:00
    as_of: published 2026-11-30T21:00:41+00:00, after table version 12
    outranked: 1.4.0 is higher

The chosen version is the highest (by :func:`~..core.versions.version_sort_key`) with no
reason against it: with no range and no filters, the highest release, as ``latest`` has
always answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .ranges import VersionRange, place

__all__ = ["Candidate", "CandidateRow", "Resolution", "ResolveRequest", "Verdict", "decide"]

Verdict = Literal["chosen", "outranked", "skipped"]


@dataclass(frozen=True)
class ResolveRequest:
    """What the consumer asked: a range (None: any version), metadata filters, prereleases,
    and the ``as_of`` it was asked at (for the reasons' wording)."""

    range: VersionRange | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    include_prereleases: bool = False
    as_of: int | datetime | str | None = None


@dataclass(frozen=True)
class CandidateRow:
    """A stored version as the resolver saw it.

    ``values`` are its metadata columns (at ``as_of``, or now when ``values_now``);
    ``failed_filters`` the filter columns it does not match; ``published_after_as_of`` marks
    a version that did not exist yet at ``as_of``.
    """

    version: str
    created_at: datetime | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    failed_filters: tuple[str, ...] = ()
    published_after_as_of: bool = False


@dataclass(frozen=True)
class Candidate:
    """One version's verdict and the reasons for it (empty for the chosen one)."""

    version: str
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    created_at: datetime | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolution:
    """The answer of ``resolve(..., explain=True)``.

    ``chosen`` is the version picked (None when nothing qualifies) and ``document`` its
    contract; ``candidates`` lists every version, highest first. ``approximate`` is True
    when the answer rests on metadata known only as it is now, not as it was at ``as_of``
    (the log that held it was cleaned up): ``notes`` then says what is known.

    >>> def contract(version, status):
    ...     return {"apiVersion": "v3.1.0", "kind": "DataContract", "id": "sales.orders",
    ...             "version": version, "status": status}
    >>> for version, status in [("1.0.0", "active"), ("1.1.0", "draft"), ("1.2.0-rc.1", "active")]:
    ...     _ = store.put(contract(version, status))
    >>> found = store.resolve("sales.orders", "^1", status="active", explain=True)
    ... # doctest: +ELLIPSIS
    >>> found.chosen, found.document["version"]
    ('1.0.0', '1.0.0')
    >>> for candidate in found.candidates:
    ...     print(candidate.version, candidate.verdict, list(candidate.reasons))
    1.2.0-rc.1 skipped ["prerelease: '^1' names no prerelease of 1.2.0 (include_prereleases...)"]
    1.1.0 skipped ["status: 'draft', wanted 'active'"]
    1.0.0 chosen []
    """

    contract_id: str
    spec: str | None
    chosen: str | None
    candidates: tuple[Candidate, ...]
    document: dict[str, Any] | None = None
    approximate: bool = False
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the command line prints (without the document)."""
        return {
            "contract_id": self.contract_id,
            "spec": self.spec,
            "chosen": self.chosen,
            "approximate": self.approximate,
            "notes": list(self.notes),
            "candidates": [
                {
                    "version": c.version,
                    "verdict": c.verdict,
                    "reasons": list(c.reasons),
                    "created_at": c.created_at,
                    "metadata": dict(c.metadata),
                }
                for c in self.candidates
            ],
        }


def decide(
    contract_id: str,
    rows: Iterable[CandidateRow],
    request: ResolveRequest,
    *,
    values_now: bool = False,
    notes: Sequence[str] = (),
) -> Resolution:
    """Judge every row against ``request``; the highest qualifying version is chosen.

    ``values_now`` says the rows' metadata is today's, not the one at ``as_of``: a choice
    that depended on a filter is then ``approximate``.
    """
    ordered = sorted(rows, key=lambda row: place(row.version).key, reverse=True)
    chosen: str | None = None
    candidates = []
    for row in ordered:
        reasons = _reasons(row, request, values_now)
        if reasons:
            verdict: Verdict = "skipped"
        elif chosen is None:
            chosen, verdict = row.version, "chosen"
        else:
            verdict, reasons = "outranked", [f"outranked: {chosen} is higher"]
        candidates.append(
            Candidate(row.version, verdict, tuple(reasons), row.created_at, row.values)
        )
    return Resolution(
        contract_id,
        None if request.range is None else request.range.text,
        chosen,
        tuple(candidates),
        approximate=values_now and bool(request.filters),
        notes=tuple(notes),
    )


def _reasons(row: CandidateRow, request: ResolveRequest, values_now: bool) -> list[str]:
    reasons = []
    if request.range is not None:
        mismatch = request.range.mismatch(
            row.version, include_prereleases=request.include_prereleases
        )
        if mismatch:
            reasons.append(mismatch)
    elif not request.include_prereleases and place(row.version).parsed.is_prerelease:
        reasons.append("prerelease: skipped unless include_prereleases")
    for column in row.failed_filters:
        held = _shown(row.values.get(column))
        now = " now (its value at as_of is no longer in the log)" if values_now else ""
        reasons.append(f"{column}: {held}{now}, wanted {_wanted(request.filters.get(column))}")
    if row.published_after_as_of:
        when = "" if row.created_at is None else f" {row.created_at.isoformat()}"
        reasons.append(f"as_of: published{when}, after {_shown_as_of(request.as_of)}")
    return reasons


def _shown(value: Any) -> str:
    return "unset" if value is None else repr(value)


def _wanted(wanted: Any) -> str:
    if isinstance(wanted, (list, tuple, set, frozenset)):
        items = [_shown(item) for item in wanted]
        return items[0] if len(items) == 1 else "one of " + ", ".join(items)
    return _shown(wanted)


def _shown_as_of(as_of: object) -> str:
    if isinstance(as_of, int):
        return f"table version {as_of}"
    return "as_of " + (as_of.isoformat() if isinstance(as_of, datetime) else str(as_of))
