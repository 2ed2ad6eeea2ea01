"""The stored payload as other readers see it, on a small in-repo contract: text kept as written
(non-ASCII too, so SQL finds it), and dc43's own fingerprint. ``test_corpus.py`` proves the
same for every real contract of the shared corpus; this runs without it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from dc43_core.odcs import fingerprint as dc43_fingerprint
from dc43_core.odcs import to_model
from dc43_service_backends.contracts.backend.stores._sql_common import prepare_contract_row
from deltalake import DeltaTable

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.core.yaml12 import dump_yaml

# Non-ASCII in names, descriptions, enum values and keys; numbers of both kinds; an explicit
# null (dropped, as dc43's model dump drops it).
CONTRACT: dict[str, Any] = {
    "apiVersion": "v3.0.2",
    "kind": "DataContract",
    "id": "vertrieb.bestellungen",
    "version": "1.0.0",
    "status": "active",
    "name": "Bestellungen Straße",
    "domain": "Vertrieb",
    "description": {"usage": "Lieferadressen in München und 東京 — für Analysen 📦"},
    "tags": ["größe", "naïve"],
    "schema": [
        {
            "name": "bestellungen",
            "physicalType": "table",
            "description": None,
            "properties": [
                {"name": "straße", "logicalType": "string", "required": True},
                {
                    "name": "betrag",
                    "logicalType": "number",
                    "quality": [{"type": "library", "metric": "nullValues", "mustBeLessThan": 0.5}],
                },
                {"name": "menge", "logicalType": "integer", "examples": [1, 20, 300]},
            ],
        }
    ],
    "customProperties": [{"property": "Eigentümer", "value": "Jürgen Groß"}],
}
STORED = {**CONTRACT, "schema": [{k: v for k, v in CONTRACT["schema"][0].items() if v is not None}]}


def stored_row(store: DeltaContractStore) -> dict[str, Any]:
    rows = pa.table(DeltaTable(store.location.uri).to_pyarrow_table()).to_pylist()
    (row,) = rows
    return row


def test_the_fingerprint_is_dc43s_for_a_non_ascii_contract(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    theirs = dc43_fingerprint(to_model(STORED))
    assert store.put(CONTRACT).fingerprint == theirs
    assert stored_row(store)["fingerprint"] == theirs
    # the same document as YAML text and as a model is the same version: "unchanged"
    assert store.put(dump_yaml(CONTRACT)).outcome == "unchanged"
    assert store.put(to_model(STORED)).outcome == "unchanged"


def test_the_json_column_holds_non_ascii_text_as_written(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(CONTRACT)
    payload = stored_row(store)["json"]
    for text in ("Straße", "東京", "📦", "Eigentümer", "Jürgen Groß"):
        assert text in payload
    assert "\\u" not in payload
    # compact JSON, keys in the order they were written, explicit nulls dropped
    assert payload == json.dumps(STORED, ensure_ascii=False, separators=(",", ":"))
    found = store.sql("SELECT contract_id FROM contracts WHERE json LIKE '%Straße%'")
    assert found.rows() == [("vertrieb.bestellungen",)]
    assert store.get("vertrieb.bestellungen", "1.0.0") == STORED


def test_dc43_would_write_the_same_columns(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(CONTRACT)
    row = stored_row(store)
    contract_id, version, theirs = prepare_contract_row(to_model(STORED))
    assert (row["contract_id"], row["version"]) == (contract_id, version)
    for column in ("name", "description", "fingerprint"):
        assert row[column] == theirs[column], column
    assert json.loads(row["json"]) == json.loads(theirs["json"])
    assert to_model(json.loads(row["json"])) == to_model(STORED)  # dc43 reads our row
