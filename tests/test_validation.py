"""ODCS JSON-Schema validation as a policy: strict, warn (default) and off."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from deltalake import DeltaTable

from dc43_delta_store import (
    ContractValidationError,
    ContractValidationWarning,
    DeltaContractStore,
    InvalidContractError,
)
from dc43_delta_store.core.documents import load_document
from dc43_delta_store.core.validation import validate_document

from .conftest import EXAMPLES, minimal, require_corpus

BROKEN = minimal(schema=[{"name": "orders", "properties": [{"name": "id", "logicalType": "uuid"}]}])


def test_strict_refuses_with_json_paths_and_writes_nothing(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="strict")
    with pytest.raises(ContractValidationError) as caught:
        store.put(BROKEN)
    message = str(caught.value)
    assert "contract 'sales.orders' version '1.0.0' breaks the ODCS JSON Schema" in message
    paths = [issue.path for issue in caught.value.issues]
    assert "$.schema[0].properties[0].logicalType" in paths
    assert isinstance(caught.value, InvalidContractError)
    assert not (tmp_path / "t").exists()


def test_strict_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"id": "a", "version": "1.0.0", "apiVersion": "v3.1.0"}', encoding="utf-8")
    with pytest.raises(ContractValidationError, match=rf"^{path}: contract 'a' version '1.0.0'"):
        DeltaContractStore(path=tmp_path / "t", validation="strict").put(path)


def test_warn_stores_the_contract_and_warns(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t")  # warn is the default
    path = r"\$\.schema\[0\]\.properties\[0\]\.logicalType"
    with pytest.warns(ContractValidationWarning, match=path):
        result = store.put(BROKEN)
    assert result.inserted and result.validation_issues
    assert store.get("sales.orders", "1.0.0") == BROKEN


def test_off_stores_silently_and_a_call_can_override_the_store(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.put(BROKEN).validation_issues == ()
    with pytest.raises(ContractValidationError):
        store.put(minimal(version="2.0.0", kind="Nope"), validation="strict")
    assert DeltaTable(str(tmp_path / "t")).version() == 1


def test_unknown_or_missing_api_version_is_a_validation_issue() -> None:
    unknown = validate_document(minimal(apiVersion="v9.9.9"))
    assert "no ODCS JSON Schema for 'v9.9.9'" in str(unknown.issues[0])
    assert str(validate_document({"id": "a"}).issues[0]) == "$.apiVersion: is missing"


def test_identity_is_checked_even_with_validation_off(tmp_path: Path) -> None:
    with pytest.raises(InvalidContractError, match="version is missing"):
        DeltaContractStore(path=tmp_path / "t", validation="off").put({"id": "a"})


def test_the_examples_are_valid() -> None:
    for path in EXAMPLES.rglob("*.odcs.*"):
        assert validate_document(load_document(path)).ok, path


def test_verdicts_agree_with_the_corpus_index() -> None:
    checked = 0
    for entry in require_corpus():
        try:
            document = load_document(entry.path)
        except InvalidContractError:
            continue
        report = validate_document(document)
        if report.schema is not None:
            assert report.ok == entry.own_schema_ok, entry.relative
            checked += 1
    assert checked >= 270


def test_a_capital_v_api_version_is_checked_against_its_schema() -> None:
    """``V3.1.0`` is read as 3.1.0: the report names what is wrong with the document (the
    spelling, and a missing id) rather than "no schema"."""
    report = validate_document({"apiVersion": "V3.1.0", "kind": "DataContract", "version": "1"})
    assert report.schema == "3.1.0"
    messages = [f"{issue.path}: {issue.message}" for issue in report.issues]
    assert '$: "id" is a required property' in messages
    assert any(m.startswith('$.apiVersion: "V3.1.0" is not one of') for m in messages)


def test_the_dc43_dialect_allows_a_missing_status_not_a_wrong_one() -> None:
    dc43 = {"apiVersion": "3.0.2", "kind": "DatasetContract", "id": "a", "version": "1"}
    assert validate_document(dc43).ok
    report = validate_document({**dc43, "status": 5})
    assert report.dialect == "dc43"
    assert [issue.path for issue in report.issues] == ["$.status"]


def test_the_warning_for_a_file_names_the_file(tmp_path: Path) -> None:
    """put_many over a folder warns once per broken file; each warning says which file."""
    path = tmp_path / "broken.json"
    path.write_text('{"id": "a", "version": "1.0.0", "apiVersion": "v3.1.0"}', encoding="utf-8")
    store = DeltaContractStore(path=tmp_path / "t")
    with pytest.warns(ContractValidationWarning) as caught:
        store.put_many([path])
    (warning,) = [w for w in caught if issubclass(w.category, ContractValidationWarning)]
    assert str(warning.message).startswith(f"{path}: contract 'a' version '1.0.0'")
