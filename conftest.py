"""Doctests in the package run against a real store on a temporary table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent


@pytest.fixture(autouse=True)
def _doctest_namespace(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if type(request.node).__name__ != "DoctestItem":
        return
    from dc43_delta_store import DeltaContractStore

    monkeypatch.setenv("DC43_DELTA_STORE_WAREHOUSE", str(tmp_path / "warehouse"))
    monkeypatch.chdir(ROOT)  # example paths are relative to the repository
    namespace: dict[str, Any] = request.getfixturevalue("doctest_namespace")
    namespace["tmp_path"] = tmp_path
    namespace["store"] = DeltaContractStore(path=tmp_path / "contracts", validation="off")
