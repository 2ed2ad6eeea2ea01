"""A drop-in for dc43's ``ContractStore``: the same store, returning ODCS pydantic models.

dc43's stores hand back ``OpenDataContractStandard`` models. The model drops keys it does
not know, so :class:`~.store.DeltaContractStore` returns the stored document instead; this
adapter converts for code written against dc43's interface, including its service backend
and web app::

    from dc43_delta_store import Dc43ContractStore
    from dc43_service_backends.web import build_local_app
    app = build_local_app(Dc43ContractStore(table="governance.meta.contracts"))

When dc43 is installed, importing this module (or ``dc43_delta_store.Dc43ContractStore``,
which imports it) registers the adapter as a virtual subclass of dc43's ``ContractStore``.

Errors keep their types. ``ContractNotFoundError`` is already the ``FileNotFoundError`` that
dc43's app answers with 404. dc43's app answers every other exception with 500, so when
Starlette (under dc43's FastAPI app) is installed, the adapter's errors are also Starlette
``HTTPException``\\ s with the status they stand for: a changed re-put
(``VersionConflictError``), a version another writer stored twice with different content
(``DuplicateVersionError``) and a stored document dc43's ODCS model cannot hold
(``ModelConversionError``: an ODCS v2 document, which dc43's own stores answer with 500) 409,
a document that cannot be stored (``InvalidContractError``) 400, a busy or unreachable table
(``TableBusyError``, ``StoreUnavailableError``) 503.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from open_data_contract_standard.model import OpenDataContractStandard
from pydantic import ValidationError

from .core.validation import ValidationMode
from .errors import (
    ContractStoreError,
    DuplicateVersionError,
    InvalidContractError,
    ModelConversionError,
    StoreUnavailableError,
    TableBusyError,
    VersionConflictError,
)
from .store import DeltaContractStore

__all__ = ["Dc43ContractStore"]

_HTTP_STATUS: tuple[tuple[type[ContractStoreError], int], ...] = (
    (VersionConflictError, 409),
    (DuplicateVersionError, 409),
    (ModelConversionError, 409),
    (InvalidContractError, 400),
    (TableBusyError, 503),
    (StoreUnavailableError, 503),
)


class Dc43ContractStore:
    """dc43's ``put / get / list_contracts / list_versions / latest`` over a Delta table.

    Safe to share between threads, as its store is (dc43's web app does share it).
    """

    def __init__(
        self,
        *,
        table: str | None = None,
        path: str | os.PathLike[str] | None = None,
        storage_options: Mapping[str, str] | None = None,
        validation: ValidationMode = "warn",
        store: DeltaContractStore | None = None,
    ) -> None:
        self.store = store or DeltaContractStore(
            table=table, path=path, storage_options=storage_options, validation=validation
        )

    def put(self, contract: Any) -> None:
        """Store a contract (model, mapping, text or path); versions stay immutable."""
        with _http_errors():
            self.store.put(contract)

    def get(self, contract_id: str, version: str) -> OpenDataContractStandard:
        """The model of a stored version; ``ContractNotFoundError`` (a ``KeyError`` and a
        ``FileNotFoundError``, as dc43's stores raise) when absent."""
        with _http_errors():
            return _model(self.store.get(contract_id, version), contract_id, version)

    def list_contracts(self) -> list[str]:
        with _http_errors():
            return self.store.list_contracts()

    def list_versions(self, contract_id: str) -> list[str]:
        with _http_errors():
            return self.store.list_versions(contract_id)

    def latest(self, contract_id: str) -> OpenDataContractStandard | None:
        """The highest version that is not a prerelease, or None."""
        with _http_errors():
            document = self.store.latest(contract_id)
            version = None if document is None else str(document.get("version"))
            return None if document is None else _model(document, contract_id, str(version))


_ODCS_V2 = re.compile(r"v?2\.")


def _model(document: dict[str, Any], contract_id: str, version: str) -> OpenDataContractStandard:
    """``document`` as dc43's model; :class:`~.errors.ModelConversionError` when the model
    cannot hold it. dc43's own stores raise a ``TypeError`` there, which its app answers
    with 500 (measured on 0.42 with its filesystem and SQL stores)."""
    try:
        return OpenDataContractStandard.model_validate(document)
    except ValueError as exc:
        what = f"contract {contract_id!r} version {version!r}"
        api = document.get("apiVersion")
        if isinstance(api, str) and _ODCS_V2.match(api):
            raise ModelConversionError(
                f"{what} is an ODCS {api} document, which dc43's ODCS model (v3) cannot hold "
                "(v2 names its id `uuid` and describes tables under `dataset`): read it with "
                "DeltaContractStore.get, or publish it converted to ODCS v3"
            ) from exc
        errors = exc.errors() if isinstance(exc, ValidationError) else []
        first = errors[0] if errors else None
        where = ".".join(str(part) for part in first["loc"]) if first else ""
        problem = f": {where}: {first['msg']}" if first else ""
        plural = "s" if len(errors) != 1 else ""
        count = f" ({len(errors)} problem{plural}, the first{problem})" if errors else ""
        raise ModelConversionError(
            f"{what} does not fit dc43's ODCS model{count}; read it with DeltaContractStore.get"
        ) from exc


@contextmanager
def _http_errors() -> Iterator[None]:
    """Re-raise the store's errors as dc43's web app can answer them (see the module doc)."""
    try:
        yield
    except ContractStoreError as exc:
        status = next((code for kind, code in _HTTP_STATUS if isinstance(exc, kind)), None)
        http_type = _http_type(type(exc)) if status else None
        if http_type is None:
            raise
        error = http_type.__new__(http_type, *exc.args)
        error.__dict__.update(exc.__dict__, status_code=status, detail=str(exc), headers=None)
        raise error from exc


def _http_type(kind: type[ContractStoreError]) -> type[ContractStoreError] | None:
    """``kind`` that is also a Starlette ``HTTPException``, or None without Starlette."""
    if kind not in _HTTP_TYPES:
        try:
            from starlette.exceptions import HTTPException
        except ImportError:
            return None
        # the error's own text and repr, not HTTPException's "409: ..."
        body = {"__str__": kind.__str__, "__repr__": kind.__repr__, "__module__": __name__}
        _HTTP_TYPES[kind] = type(kind.__name__, (kind, HTTPException), body)
    return _HTTP_TYPES[kind]


_HTTP_TYPES: dict[type[ContractStoreError], type[ContractStoreError]] = {}


def _register_with_dc43() -> None:
    try:
        from dc43_service_backends.contracts.backend.stores.interface import ContractStore
    except ImportError:
        return
    ContractStore.register(Dc43ContractStore)


_register_with_dc43()
