"""dc43's contract routes, served by this store without dc43 (``serve`` without
``--dc43-config``): the same paths, status codes and JSON as dc43's app, so that dc43's
``RemoteContractServiceClient`` works unchanged; documents come back exactly as stored.

- ``PUT /contracts/{id}/versions/{version}``: 204; 400 when the body's ``id`` or
  ``version`` differs from the path (missing ones are taken from it) or the document
  cannot be stored; 409 when the version exists with other content.
- ``GET /contracts``: ``{"items", "total", "limit", "offset"}``, ids sorted.
- ``GET /contracts/{id}/versions``: the versions, lowest first (``[]`` for an unknown id).
- ``GET /contracts/{id}/versions/{version}``, ``GET /contracts/{id}/latest``: see
  :mod:`.answers` (answered by the front, :mod:`.lane`, before these routes).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response

from ..core.documents import load_document
from ..errors import InvalidContractError
from .answers import parse_query
from .lane import Runtime
from .responses import Answer

__all__ = ["contract_routes", "posted_document", "to_response"]


def contract_routes(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["contracts (dc43's routes)"])
    store, answers = runtime.store, runtime.answers

    @router.put("/contracts/{contract_id}/versions/{contract_version}", status_code=204)
    async def put_contract(contract_id: str, contract_version: str, request: Request) -> Response:
        """Store a version (needs a write token); re-putting identical content is a no-op."""
        document = await posted_document(request, contract_id, contract_version)
        await anyio.to_thread.run_sync(lambda: store.put(document))
        return Response(status_code=204)

    @router.get("/contracts")
    async def list_contracts(
        limit: int | None = Query(None, ge=0), offset: int = Query(0, ge=0)
    ) -> dict[str, Any]:
        """Contract ids, sorted, a page at a time."""
        ids = await anyio.to_thread.run_sync(store.list_contracts)
        end = len(ids) if limit is None else min(offset + limit, len(ids))
        return {"items": ids[offset:end], "total": len(ids), "limit": limit, "offset": offset}

    @router.get("/contracts/{contract_id}/versions")
    async def list_versions(contract_id: str) -> list[str]:
        """The versions of a contract, lowest to highest."""
        return await anyio.to_thread.run_sync(lambda: store.list_versions(contract_id))

    @router.get("/contracts/{contract_id}/versions/{contract_version}")
    async def get_contract(contract_id: str, contract_version: str) -> Response:
        """A stored version; ``ETag`` its fingerprint, ``Cache-Control: immutable``."""
        answer = await anyio.to_thread.run_sync(answers.version, contract_id, contract_version)
        return to_response(answer)

    @router.get("/contracts/{contract_id}/latest")
    async def latest_contract(contract_id: str, request: Request) -> Response:
        """The highest release; ``status``, ``filter``, ``include_prereleases``, ``as_of``
        narrow it as for ``resolve``. ``ETag``, and 304 for ``If-None-Match``."""
        query = parse_query(request.scope.get("query_string", b""))
        answer = await anyio.to_thread.run_sync(answers.latest, contract_id, query)
        return to_response(answer)

    return router


async def posted_document(
    request: Request, contract_id: str, version: str | None = None
) -> dict[str, Any]:
    """The body as an ODCS document (JSON or YAML), its ``id`` (and ``version``) checked
    against the path and filled in from it when missing, as dc43's app does."""
    body = await request.body()
    if not body.strip():
        raise InvalidContractError("the request has no body: send the contract as JSON or YAML")
    document = load_document(body)  # bytes are always content, never a file name
    given = document.get("id", document.get("uuid"))  # ODCS v2 documents: uuid
    if given is not None and str(given) != contract_id:
        raise InvalidContractError("contract.id does not match request path")
    if given is None:
        document["id"] = contract_id
    if version is not None:
        if document.get("version") is not None and str(document["version"]) != version:
            raise InvalidContractError("contract.version does not match request path")
        document.setdefault("version", version)
    return document


def to_response(answer: Answer) -> Response:
    headers = {name.decode(): value.decode("latin-1") for name, value in answer.headers}
    if answer.etag is not None:
        headers["etag"] = answer.etag
    return Response(answer.body, answer.status, headers, media_type=answer.media_type.decode())
