"""A drop-in for dc43's ``ContractStore``: the same store, returning ODCS pydantic models.

dc43's stores hand back ``OpenDataContractStandard`` models. The model drops keys it does
not know, so :class:`~.store.DeltaContractStore` returns the stored document instead; this
adapter converts for code written against dc43's interface::

    from dc43_service_backends.contracts.backend.local import LocalContractServiceBackend
    backend = LocalContractServiceBackend(Dc43ContractStore(table="governance.meta.contracts"))

When dc43 is installed, the adapter is registered as a virtual subclass of its
``ContractStore``, so ``isinstance`` checks pass.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from open_data_contract_standard.model import OpenDataContractStandard

from .core.validation import ValidationMode
from .errors import ContractStoreError
from .store import DeltaContractStore

__all__ = ["Dc43ContractStore"]


class Dc43ContractStore:
    """dc43's ``put / get / list_contracts / list_versions / latest`` over a Delta table."""

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
        self.store.put(contract)

    def get(self, contract_id: str, version: str) -> OpenDataContractStandard:
        """The model of a stored version; raises ``KeyError`` when absent, as dc43 does."""
        return _model(self.store.get(contract_id, version), contract_id, version)

    def list_contracts(self) -> list[str]:
        return self.store.list_contracts()

    def list_versions(self, contract_id: str) -> list[str]:
        return self.store.list_versions(contract_id)

    def latest(self, contract_id: str) -> OpenDataContractStandard | None:
        """The highest non-prerelease version, or None."""
        document = self.store.latest(contract_id)
        return None if document is None else _model(document, contract_id, document["version"])


def _model(document: dict[str, Any], contract_id: str, version: str) -> OpenDataContractStandard:
    try:
        return OpenDataContractStandard.model_validate(document)
    except ValueError as exc:
        raise ContractStoreError(
            f"contract {contract_id!r} version {version!r} does not fit the ODCS pydantic "
            f"model; read it with DeltaContractStore.get instead: {exc}"
        ) from exc


def _register_with_dc43() -> None:
    try:
        from dc43_service_backends.contracts.backend.stores.interface import ContractStore
    except ImportError:
        return
    ContractStore.register(Dc43ContractStore)


_register_with_dc43()
