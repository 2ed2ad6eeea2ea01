"""Stored documents dc43's ODCS model cannot hold — ODCS v2 documents from the corpus, a v3
one with keys the model forbids — through the adapter and dc43's web app: a 409 naming the
contract, the version and what to do, never a 500 (dc43's own stores answer 500)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from dc43_service_backends.contracts.backend.stores.filesystem import FSContractStore
from dc43_service_backends.web import build_local_app
from fastapi.testclient import TestClient

from dc43_delta_store import (
    Dc43ContractStore,
    DeltaContractStore,
    InvalidContractError,
    ModelConversionError,
)
from dc43_delta_store.core.documents import load_document

from .conftest import corpus_entries, minimal, skip_unless_ci
from .test_dc43_webapp import serving


def v2_documents() -> list[dict[str, Any]]:
    found = []
    for entry in corpus_entries():
        try:
            document = load_document(entry.path)
        except InvalidContractError:  # not one contract (a list, several documents)
            continue
        if str(document.get("apiVersion", "")).startswith("v2") and document.get("uuid"):
            found.append(document)
    unique = {(d["uuid"], d["version"]): d for d in reversed(found)}  # copies of one example
    return list(unique.values())


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Dc43ContractStore, list[dict[str, Any]]]:
    documents = v2_documents()
    if not documents:
        skip_unless_ci("the shared corpus is not beside the repository (DC43_SHARED)")
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    for document in documents:
        store.put(document)
    store.put(minimal("sales.orders"))
    return Dc43ContractStore(store=store), documents


def test_the_adapter_refuses_a_v2_document_naming_it(
    stored: tuple[Dc43ContractStore, list[dict[str, Any]]],
) -> None:
    adapter, documents = stored
    for document in documents:
        uuid, version = document["uuid"], document["version"]
        for read in ("get", "latest"):
            with pytest.raises(ModelConversionError) as caught:
                adapter.get(uuid, version) if read == "get" else adapter.latest(uuid)
            assert str(caught.value) == (
                f"contract {uuid!r} version {version!r} is an ODCS {document['apiVersion']} "
                "document, which dc43's ODCS model (v3) cannot hold (v2 names its id `uuid` "
                "and describes tables under `dataset`): read it with DeltaContractStore.get, "
                "or publish it converted to ODCS v3"
            )
        assert adapter.list_versions(uuid) == [version]
        whole = adapter.store.get(uuid, version)  # the store reads it whole
        assert whole["apiVersion"] == document["apiVersion"] and whole["dataset"]
    assert adapter.get("sales.orders", "1.0.0").id == "sales.orders"


def test_dc43s_app_answers_409_with_the_reason_not_500(
    stored: tuple[Dc43ContractStore, list[dict[str, Any]]],
) -> None:
    adapter, documents = stored
    document = documents[0]
    uuid, version = document["uuid"], document["version"]
    with serving(adapter) as app:
        for path in (f"/contracts/{uuid}/versions/{version}", f"/contracts/{uuid}/latest"):
            answer = httpx.get(app + path)
            assert answer.status_code == 409, answer.text
            assert f"is an ODCS {document['apiVersion']} document" in answer.json()["detail"]
        assert httpx.get(f"{app}/contracts/{uuid}/versions").json() == [version]
        assert uuid in httpx.get(f"{app}/contracts").json()["items"]
        assert httpx.get(f"{app}/contracts/sales.orders/latest").status_code == 200


def test_dc43s_own_store_answers_500_for_the_same_document(tmp_path: Path) -> None:
    """What dc43 0.42's own filesystem store does with a v2 document on disk: its model
    conversion raises TypeError, which its app answers with 500."""
    documents = v2_documents()
    if not documents:
        skip_unless_ci("the shared corpus is not beside the repository (DC43_SHARED)")
    document = documents[0]
    folder = tmp_path / "fs" / document["uuid"]
    folder.mkdir(parents=True)
    (folder / f"{document['version']}.json").write_text(json.dumps(document))
    client = TestClient(
        build_local_app(FSContractStore(str(tmp_path / "fs"))), raise_server_exceptions=False
    )
    answer = client.get(f"/contracts/{document['uuid']}/versions/{document['version']}")
    assert answer.status_code == 500


def test_a_v3_document_the_model_refuses_names_the_first_problem(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal("x", extraTopLevel="kept by the store"))
    adapter = Dc43ContractStore(store=store)
    with pytest.raises(ModelConversionError) as caught:
        adapter.get("x", "1.0.0")
    assert str(caught.value) == (
        "contract 'x' version '1.0.0' does not fit dc43's ODCS model (1 problem, the first: "
        "extraTopLevel: Extra inputs are not permitted); read it with DeltaContractStore.get"
    )
    assert store.get("x", "1.0.0")["extraTopLevel"] == "kept by the store"
