"""The routes no other contract registry serves, beside dc43's (JSON in, JSON out).

- ``GET /contracts/{id}/resolve?range=^1.2&status=active&explain=true``: see
  :mod:`.answers`.
- ``GET /contracts/{id}/diff?from=1.0.0&to=1.1.0``: what changed between two stored
  versions (``to`` defaults to the latest release) and the bump it needs.
- ``POST /contracts/{id}/diff?against=1.0.0``: the same for a posted document (JSON or
  YAML) against a stored version (default: the latest release).
- ``POST /contracts/{id}/check``: would the table take this document? The table's
  compatibility policy and immutability applied, nothing written: ``verdict`` ``new``,
  ``unchanged``, ``incompatible`` or ``conflict``; ``compatible``; and the diff against
  the latest release, and what breaks the ODCS JSON Schema (``schema_issues``). A read: no
  write token needed.
- ``GET /health``: ``{"status": "ok", "table_version": N}``.

``mode`` (``full``, ``backward``, ``forward``, ``none``) overrides the contract's policy
for a diff. Every id and version is checked by the store; ids and versions are never file
names here.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response

from ..compatibility import MODES, DiffResult
from ..errors import (
    CompatibilityError,
    ContractNotFoundError,
    InvalidRequestError,
    VersionConflictError,
)
from ..store import DeltaContractStore
from .answers import parse_query
from .contracts import posted_document, to_response
from .lane import Runtime

__all__ = ["extra_routes"]

_MODE_HELP = "full, backward, forward or none (default: the contract's policy, else full)"


def extra_routes(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["dc43-delta-store"])
    store = runtime.store

    @router.get("/contracts/{contract_id}/resolve")
    async def resolve(contract_id: str, request: Request) -> Response:
        """The highest version in ``range`` (``1.2.3``, ``^1.2``, ``~1.2``, ``1.x``,
        ``>=1.0,<2``, ``^1 || ^3``; none: any) that passes ``status`` and
        ``filter=COLUMN=VALUE`` (repeatable); ``include_prereleases``, ``as_of`` (a table
        version or a time); ``explain=true``: every candidate with its verdict and
        reasons. ``ETag``, and 304 for ``If-None-Match``."""
        query = parse_query(request.scope.get("query_string", b""))
        answer = await anyio.to_thread.run_sync(runtime.answers.resolve, contract_id, query)
        return to_response(answer)

    @router.get("/contracts/{contract_id}/diff")
    async def diff_stored(
        contract_id: str,
        old: str = Query(alias="from", description="the older stored version"),
        new: str | None = Query(None, alias="to", description="default: the latest release"),
        mode: str | None = Query(None, description=_MODE_HELP),
    ) -> dict[str, Any]:
        """What changed between two stored versions, and the SemVer bump it needs."""

        def compare() -> DiffResult:
            before = store.get(contract_id, old)
            after = store.get(contract_id, new) if new is not None else _latest(store, contract_id)
            return store.diff(before, after, mode=_mode(mode))

        return (await anyio.to_thread.run_sync(compare)).to_dict()

    @router.post("/contracts/{contract_id}/diff")
    async def diff_posted(
        contract_id: str,
        request: Request,
        against: str | None = Query(None, description="stored version; default: the latest"),
        mode: str | None = Query(None, description=_MODE_HELP),
    ) -> dict[str, Any]:
        """What a posted document changes from a stored version, and the bump it needs."""
        candidate = await posted_document(request, contract_id)

        def compare() -> DiffResult:
            if against is None:
                before = _latest(store, contract_id)
            else:
                before = store.get(contract_id, against)
            return store.diff(before, candidate, mode=_mode(mode))

        return (await anyio.to_thread.run_sync(compare)).to_dict()

    @router.post("/contracts/{contract_id}/check")
    async def check(contract_id: str, request: Request) -> dict[str, Any]:
        """Would ``PUT`` store this document? Nothing is written (see the module doc)."""
        candidate = await posted_document(request, contract_id)
        return await anyio.to_thread.run_sync(_check, store, contract_id, candidate)

    @router.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness, and the table version this server last saw."""
        version = runtime.fresh.version
        return {"status": "ok", "table_version": version if isinstance(version, int) else None}

    return router


def _check(
    store: DeltaContractStore, contract_id: str, candidate: dict[str, Any]
) -> dict[str, Any]:
    batch = store.put_many([candidate], dry_run=True, on_error="skip")
    version = str(candidate.get("version"))
    verdict, detail, refusal, issues = "new", None, None, []
    if batch.problems:
        error = batch.problems[0].error
        if isinstance(error, CompatibilityError):
            verdict = "incompatible"
            refusal = {
                "needed_bump": error.needed_bump,
                "suggested_version": error.suggested_version,
            }
        elif isinstance(error, VersionConflictError):
            verdict = "conflict"
        else:
            raise error
        detail = str(error)
    elif batch.results:
        verdict = "unchanged" if batch.results[0].outcome == "unchanged" else "new"
        issues = [str(issue) for issue in batch.results[0].validation_issues]
    latest = store.latest(contract_id)
    diff = None
    if latest is not None and str(latest.get("version")) != version:
        diff = store.diff(latest, candidate).to_dict()
    policy = store.compatibility_settings().policy_for(contract_id)
    return {
        "contract_id": contract_id,
        "version": version,
        "verdict": verdict,
        "compatible": verdict in ("new", "unchanged"),
        "policy": str(policy),
        "detail": detail,
        **(refusal or {}),
        "schema_issues": issues,
        "against": None if latest is None else latest.get("version"),
        "diff": diff,
    }


def _latest(store: DeltaContractStore, contract_id: str) -> dict[str, Any]:
    found = store.latest(contract_id)
    if found is None:
        raise ContractNotFoundError(contract_id, detail=" (no release to compare with)")
    return found


def _mode(mode: str | None) -> Any:
    if mode is not None and mode not in MODES:
        raise InvalidRequestError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    return mode
