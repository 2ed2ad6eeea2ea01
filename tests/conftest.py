"""Shared fixtures: a store on a fresh local table, and the shared ODCS corpus."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from dc43_delta_store import DeltaContractStore

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DC43_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "odcs" / "corpus"
EXAMPLES = ROOT / "examples" / "contracts"


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


def require_corpus() -> list[CorpusEntry]:
    entries = corpus_entries()
    if not entries:
        pytest.skip(f"the shared ODCS corpus is not at {CORPUS} (set DC43_SHARED)")
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
