"""The ASGI app ``serve`` runs: dc43's app or this store's contract routes, this server's own
routes beside them, and the front (:mod:`.lane`) before all of them."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .. import __version__
from ..errors import ContractStoreError
from ..store import DeltaContractStore
from .answers import Answers
from .auth import Guard, Tokens
from .contracts import contract_routes
from .dc43_config import Dc43Service, build_dc43_service, read_dc43_config
from .feed import feed_routes
from .freshness import Freshness
from .lane import Runtime, ServeApp
from .responses import error_of
from .routes import extra_routes
from .settings import Limits, ServeSettings

__all__ = ["app_from_settings", "create_app"]

log = logging.getLogger("dc43_delta_store.serve")


def create_app(
    store: DeltaContractStore,
    *,
    tokens: Tokens | None = None,
    read_only: bool = False,
    dc43: Dc43Service | None = None,
    limits: Limits | None = None,
    poll_interval: float | None = None,
    access_log: bool = True,
) -> ServeApp:
    """An ASGI app serving ``store``: dc43's contract routes (or ``dc43``'s whole app) and
    ``resolve``, ``diff``, ``check``, ``changes`` (see :mod:`dc43_delta_store.serve`).

    >>> import uvicorn  # doctest: +SKIP
    >>> uvicorn.run(create_app(DeltaContractStore(path="contracts")))  # doctest: +SKIP
    """
    limits = limits or Limits()
    interval = poll_interval if poll_interval is not None else default_interval(store)
    runtime = Runtime(
        Answers(store, dc43_bodies=dc43 is not None), Freshness(store, interval), limits
    )
    if dc43 is None:
        inner = FastAPI(
            title="dc43-delta-store",
            version=__version__,
            description="ODCS data contracts in a Delta table: dc43's contract routes and more.",
        )
        inner.include_router(contract_routes(runtime))
    else:
        inner = dc43.app
    inner.include_router(extra_routes(runtime))
    inner.include_router(feed_routes(runtime))
    _answer_errors_as_json(inner)
    full_access = dc43 is not None and dc43.token is not None
    # dc43's service without [auth] token takes writes from anyone: so does its config here
    open_writes = dc43 is not None and dc43.token is None and not (tokens and tokens.writers)
    guard = Guard(
        tokens or Tokens(),
        read_only,
        reads_need_token=True if full_access else None,
        open_writes=open_writes,
    )
    return ServeApp(inner, runtime, guard, access_log=access_log)


def app_from_settings(settings: ServeSettings) -> tuple[ServeApp, str]:
    """The app ``settings`` describe, and one line saying what it serves and who may write."""
    from ..dc43_compat import Dc43ContractStore

    options = dict(settings.storage_options)
    if settings.dc43_config is None:
        store = DeltaContractStore(
            table=settings.table,
            path=settings.path,
            warehouse=settings.warehouse,
            storage_options=options,
            validation=settings.validation,
        )
        tokens = Tokens.load(settings.tokens_file)
        service = None
        what = f"contracts of {store.location}"
    else:
        config, spec = read_dc43_config(settings.dc43_config)
        store = DeltaContractStore(
            table=spec.table,
            path=spec.path,
            warehouse=settings.warehouse,
            storage_options={**spec.storage_options, **options},
            validation=spec.validation or settings.validation,  # type: ignore[arg-type]
            catalog=spec.catalog,
        )
        tokens = Tokens.load(settings.tokens_file, full_access=config.auth.token or None)
        service = build_dc43_service(
            config, Dc43ContractStore(store=store), lambda token: bool(tokens.scopes(token))
        )
        what = f"dc43's service ({settings.dc43_config}) on {store.location}"
    app = create_app(
        store,
        tokens=tokens,
        read_only=settings.read_only,
        dc43=service,
        limits=settings.limits,
        poll_interval=settings.poll_interval,
        access_log=settings.access_log,
    )
    return app, f"{what}; {app.guard.describe()}"


def default_interval(store: DeltaContractStore) -> float:
    """How often to look for other writers' commits: 0.05 s on a local table (a ``stat``),
    1 s on an object store (a listing, which costs money)."""
    uri = store.location.uri
    return 1.0 if "://" in uri and not uri.startswith("file://") else 0.05


def _answer_errors_as_json(app: FastAPI) -> None:
    async def store_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ContractStoreError)
        answer = error_of(exc)
        return JSONResponse(_loads(answer.body), status_code=answer.status)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        detail = "internal error; the server log has the details"
        return JSONResponse({"detail": detail}, status_code=500)

    app.add_exception_handler(ContractStoreError, store_error)
    app.add_exception_handler(Exception, unexpected)


def _loads(body: bytes) -> Any:
    import json

    return json.loads(body)
