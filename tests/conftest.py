"""Shared fixtures: a store on a fresh local table, and the shared ODCS corpus."""

from __future__ import annotations

import csv
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from dc43_delta_store import DeltaContractStore

from .servers import AuthenticatingS3, Azurite, MotoS3

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DC43_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "odcs" / "corpus"
EXAMPLES = ROOT / "examples" / "contracts"

# Timing is not what property tests check: a loaded CI machine must not fail them.
settings.register_profile("dc43", deadline=None)
# under `make mutate` every surviving mutant reruns its tests: fewer random examples each
settings.register_profile("mutating", deadline=None, max_examples=25)
settings.load_profile("mutating" if os.environ.get("DC43_MUTATING") else "dc43")


@dataclass(frozen=True)
class CorpusEntry:
    path: Path
    relative: str
    contract_id: str | None
    version: str | None
    pydantic_lossless: bool
    own_schema_ok: bool


def corpus_entries() -> list[CorpusEntry]:
    """Rows of the shared corpus INDEX.tsv (empty when ../shared is not beside the repo)."""
    index = CORPUS / "INDEX.tsv"
    if not index.exists():
        return []
    with index.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        CorpusEntry(
            CORPUS / row["file"],
            row["file"],
            row["id"] if row["id"] not in ("", "None") else None,
            row["version"] if row["version"] not in ("", "None") else None,
            row["pydantic_lossless"] == "True",
            row["own_schema_ok"] == "True",
        )
        for row in rows
    ]


def in_ci() -> bool:
    """Whether the tests run in CI (``CI=true``), where everything they need must be there."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def skip_unless_ci(reason: str) -> None:
    """Skip, saying why — except in CI, where a missing prerequisite fails the run."""
    if in_ci():
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


def need(module: str) -> Any:
    """Import a test dependency; skip without it (fail in CI, where it must be installed)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        skip_unless_ci(f"{module} is not installed ({exc}); `make test` installs the test extra")


def require_corpus() -> list[CorpusEntry]:
    entries = corpus_entries()
    if not entries:
        skip_unless_ci(f"the shared ODCS corpus is not at {CORPUS} (set DC43_SHARED)")
    return entries


def minimal(contract_id: str = "sales.orders", version: str = "1.0.0", **extra: object) -> dict:
    """A small schema-valid ODCS v3.1.0 contract."""
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": contract_id,
        "version": version,
        "status": "active",
        **extra,
    }


@pytest.fixture
def store(tmp_path: Path) -> DeltaContractStore:
    return DeltaContractStore(path=tmp_path / "contracts", validation="off")


@pytest.fixture(autouse=True)
def _no_catalog_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Table names map to the local warehouse unless a test configures a catalog."""
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "UNITY_CATALOG_URL", "UNITY_CATALOG_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    server = MotoS3()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    try:
        server = Azurite()
    except FileNotFoundError as exc:
        skip_unless_ci(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_with_auth() -> Iterator[AuthenticatingS3]:
    """A moto S3 server that refuses wrong credentials (see :class:`AuthenticatingS3`)."""
    server = AuthenticatingS3()
    yield server
    server.stop()


@dataclass
class Backend:
    """Where a test's tables live: a local folder, a moto S3 bucket or an Azurite container."""

    name: str
    root: str
    options: dict[str, str]

    def store(self, table: str = "contracts", **kwargs: Any) -> DeltaContractStore:
        kwargs.setdefault("validation", "off")
        return DeltaContractStore(
            path=f"{self.root}/{table}", storage_options=self.options, **kwargs
        )


@pytest.fixture(params=["local", "s3", "azure"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return Backend("local", str(tmp_path), {})
    if request.param == "s3":
        s3: MotoS3 = request.getfixturevalue("moto_s3")
        return Backend("s3", f"s3://{s3.bucket()}", s3.options())
    blob: Azurite = request.getfixturevalue("azurite")
    return Backend("azure", f"az://{blob.container()}", blob.options())
