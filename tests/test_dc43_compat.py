"""dc43 code runs unchanged on the adapter: models in, models out, dc43's own backend on top."""

from __future__ import annotations

from pathlib import Path

import pytest
from dc43_service_backends.contracts.backend.local import LocalContractServiceBackend
from dc43_service_backends.contracts.backend.stores.interface import ContractStore
from open_data_contract_standard.model import OpenDataContractStandard

from dc43_delta_store.dc43_compat import Dc43ContractStore

from .conftest import minimal


def test_dc43_backend_on_the_adapter(tmp_path: Path) -> None:
    adapter = Dc43ContractStore(path=tmp_path / "t", validation="off")
    assert isinstance(adapter, ContractStore)
    backend = LocalContractServiceBackend(adapter)
    for version in ("1.0.0", "1.10.0", "1.9.0", "2.0.0-rc1"):
        backend.put(OpenDataContractStandard.model_validate(minimal(version=version)))
    got = backend.get("sales.orders", "1.9.0")
    assert isinstance(got, OpenDataContractStandard) and got.version == "1.9.0"
    latest = backend.latest("sales.orders")
    assert latest is not None and latest.version == "1.10.0"  # dc43's own key crashes on rc1
    assert list(backend.list_versions("sales.orders")) == ["1.0.0", "1.9.0", "1.10.0", "2.0.0-rc1"]
    assert adapter.list_contracts() == ["sales.orders"]
    assert adapter.latest("other") is None
    with pytest.raises(KeyError):
        backend.get("sales.orders", "3.0.0")
