"""The row a document becomes: identity checks, the columns lifted from it, the keys other
engines sort and cluster by. Pure: no table here (``test_store.py`` puts them)."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dc43_delta_store import InvalidContractError
from dc43_delta_store.core.canonical import canonical_json, fingerprint
from dc43_delta_store.core.records import (
    MAX_IDENTITY_LENGTH,
    build_row,
    check_identity,
    contract_key,
    document_fields,
)
from dc43_delta_store.core.versions import version_sort_key

from .conftest import minimal


def test_a_row_holds_the_documents_identity_fields_payload_and_keys() -> None:
    document = minimal(
        "sales.orders",
        "1.2.0-rc.1",
        name="Orders",
        description={"usage": "for reporting", "purpose": "x"},
        domain="sales",
        dataProduct="orders-dp",
        tags=None,
    )
    row = build_row(document)
    assert (row.contract_id, row.version, row.name) == ("sales.orders", "1.2.0-rc.1", "Orders")
    assert (row.description, row.status, row.api_version) == ("for reporting", "active", "v3.1.0")
    assert (row.domain, row.data_product) == ("sales", "orders-dp")
    assert row.json == canonical_json(document) and row.fingerprint == fingerprint(document)
    assert row.contract_key == hashlib.sha256(b"sales.orders").hexdigest()[:16]
    assert row.version_sort_key == version_sort_key("1.2.0-rc.1")
    assert row.prerelease is True
    assert build_row(minimal(version="1.2.0")).prerelease is False
    assert row.label == "contract 'sales.orders' version '1.2.0-rc.1'"


def test_optional_fields_fall_back_or_stay_unset() -> None:
    row = build_row({"id": "a", "version": "1"})
    assert row.name == "a"  # the id, as dc43 stores it
    assert (row.description, row.status, row.api_version, row.domain, row.data_product) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert build_row({"id": "a", "version": "1", "description": "plain text"}).description == (
        "plain text"
    )
    assert (
        build_row({"id": "a", "version": "1", "description": {"purpose": "p"}}).description is None
    )
    # domain and dataProduct are lifted for SQL only when they are text
    lifted = build_row({"id": "a", "version": "1", "domain": {"x": 1}, "dataProduct": 5})
    assert (lifted.domain, lifted.data_product) == (None, None)


def test_a_v2_document_is_identified_by_its_uuid() -> None:
    row = build_row({"uuid": "0a1b-2c3d", "version": "2.0.0"})
    assert row.contract_id == "0a1b-2c3d" and row.name == "0a1b-2c3d"
    assert build_row({"id": "v3", "uuid": "v2", "version": "1"}).contract_id == "v3"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"version": "1"}, "c.yaml: contract has no id (ODCS v3 'id', v2 'uuid')"),
        ({"id": None, "uuid": None, "version": "1"}, "contract has no id"),
        ({"id": "a"}, "contract 'a': version is missing"),
        ({"id": "a", "version": 1}, "contract 'a': version must be a string, got int 1"),
        ({"id": 5, "version": "1"}, "id must be a string, got int 5"),
        ({"uuid": 5, "version": "1"}, "uuid must be a string, got int 5"),
        (
            {"id": "a", "version": "1", "name": 3},
            "contract 'a' version '1': name must be a string, got int 3",
        ),
        (
            {"id": "a", "version": "1", "status": True},
            "contract 'a' version '1': status must be a string, got bool True",
        ),
        (
            {"id": "a", "version": "1", "apiVersion": 3.1},
            "contract 'a' version '1': apiVersion must be a string, got float 3.1",
        ),
        pytest.param(
            {"id": "sales\u200borders", "version": "1"},
            "id 'sales\\u200borders' contains U+200B ZERO WIDTH SPACE at position 6",
            id="zero-width-space-in-id",
        ),
        pytest.param(
            {"id": "a", "version": "1.0\u202e"},
            "contract 'a': version '1.0\\u202e' contains U+202E RIGHT-TO-LEFT OVERRIDE at position 4",
            id="right-to-left-override-in-version",
        ),
        (
            {"id": "a", "version": "1", "description": ["x"]},
            "contract 'a' version '1': description must be an object, got list",
        ),
        (
            {"id": "a", "version": "1", "description": {"usage": 1}},
            "contract 'a' version '1': description: usage must be a string, got int 1",
        ),
    ],
    ids=lambda value: (
        None if isinstance(value, dict) else value.encode("ascii", "backslashreplace").decode()
    ),
)
def test_documents_without_a_usable_identity_or_field_are_refused(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidContractError) as caught:
        build_row(document, label="c.yaml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("c.yaml: ")  # the file it came from


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "id is missing"),
        (7, "id must be a string, got int 7"),
        ("", "id is empty"),
        ("   ", "id is empty"),
        (" a", "id ' a' has leading or trailing whitespace"),
        ("a\t", "id 'a\\t' has leading or trailing whitespace"),
        ("a\nb", "id 'a\\nb' contains control characters"),
        ("a\x1fb", "id 'a\\x1fb' contains control characters"),
        ("a\x7fb", "id 'a\\x7fb' contains control characters"),
        ("x" * (MAX_IDENTITY_LENGTH + 1), "id is 1001 characters long, above 1000"),
        (
            "a\ud800",
            "id 'a\\ud800' holds an unpaired surrogate (U+D800) at position 2: not valid Unicode",
        ),
    ],
)
def test_identity_checks_name_the_field_and_the_problem(value: Any, message: str) -> None:
    with pytest.raises(InvalidContractError) as caught:
        check_identity(value, "id")
    assert str(caught.value).startswith(message)
    with pytest.raises(InvalidContractError) as labelled:
        check_identity(value, "id", label="dir/c.yaml", new=True)
    assert str(labelled.value) == f"dir/c.yaml: {caught.value}"  # the file it came from
    assert check_identity("x" * MAX_IDENTITY_LENGTH, "id") == "x" * MAX_IDENTITY_LENGTH


def test_identity_context_and_label_prefix_the_message() -> None:
    with pytest.raises(InvalidContractError) as caught:
        check_identity("", "version", context="contract 'a': ", label="a.yaml")
    assert str(caught.value) == "a.yaml: contract 'a': version is empty"
    with pytest.raises(InvalidContractError) as bare:
        check_identity(" ", "version")
    assert str(bare.value) == "version is empty"


# Unicode's Default_Ignorable_Code_Point characters (and bidirectional controls): they render
# as nothing, so ids holding them look like other ids
INVISIBLE = [
    0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180F, 0x200B, 0x200F,
    0x202A, 0x202E, 0x2060, 0x206F, 0x3164, 0xFE00, 0xFE0F, 0xFEFF, 0xFFA0, 0xFFF0, 0xFFF8,
    0x1BCA0, 0x1BCA3, 0x1D173, 0x1D17A, 0xE0000, 0xE0001, 0xE0FFF,
]  # fmt: skip
SPACES = [0x00A0, 0x2007, 0x3000, 0x2028, 0x2029]


@pytest.mark.parametrize("code", INVISIBLE + SPACES, ids=lambda code: f"U+{code:04X}")
def test_new_ids_refuse_invisible_characters_and_odd_spaces(code: int) -> None:
    value = f"sales{chr(code)}orders"
    with pytest.raises(InvalidContractError) as caught:
        check_identity(value, "id", new=True, label="c.yaml")
    name = unicodedata.name(chr(code), "") or f"unnamed, category {unicodedata.category(chr(code))}"
    assert str(caught.value) == (
        f"c.yaml: id {value!r} contains U+{code:04X} {name} at position 6: an invisible, "
        "bidirectional-control or non-ASCII space character"
    )
    assert check_identity(value, "id") == value  # a lookup still finds what older releases stored


@pytest.mark.parametrize("text", ["Straße", "東京.注文", "naïve", "Straße Nord", "ÅngströM-1", "ч"])
def test_visible_non_ascii_ids_are_taken(text: str) -> None:
    assert check_identity(text, "id", new=True) == text


def test_new_ids_must_be_in_nfc_and_the_message_says_how_to_write_them() -> None:
    decomposed = unicodedata.normalize("NFD", "café")
    with pytest.raises(InvalidContractError) as caught:
        check_identity(decomposed, "id", new=True)
    assert "is not in Unicode NFC form (U+0301 COMBINING ACUTE ACCENT at position 5)" in str(
        caught.value
    )
    assert "write it as 'café'" in str(caught.value)
    assert check_identity(decomposed, "id") == decomposed
    # a character NFC replaces, not a combining one: the first position that changes
    angstrom = "unit.\u212b"
    with pytest.raises(InvalidContractError) as replaced:
        check_identity(angstrom, "id", new=True, label="u.yaml")
    assert str(replaced.value) == (
        "u.yaml: id 'unit.\\u212b' is not in Unicode NFC form (U+212B ANGSTROM SIGN at "
        "position 6); write it as 'unit.Å'"
    )


def test_an_unassigned_code_point_is_described_by_its_category() -> None:
    with pytest.raises(InvalidContractError, match=r"contains U\+0378 unnamed, category Cn at"):
        check_identity("a\u0378", "id", new=True)


@given(st.text(min_size=1, max_size=40))
def test_contract_key_is_the_documented_sha256_prefix(contract_id: str) -> None:
    try:
        encoded = contract_id.encode("utf-8")
    except UnicodeEncodeError:
        return
    assert contract_key(contract_id) == hashlib.sha256(encoded).hexdigest()[:16]


def test_document_fields_read_text_fields_of_a_stored_payload() -> None:
    payload = '{"status": "active", "apiVersion": "v3.1.0", "domain": "sales", "dataProduct": "dp"}'
    assert document_fields(payload) == {
        "status": "active",
        "api_version": "v3.1.0",
        "domain": "sales",
        "data_product": "dp",
    }
    empty = {"status": None, "api_version": None, "domain": None, "data_product": None}
    for odd in (None, "not json", "[1, 2]", '"text"', '{"status": 5, "domain": ["x"]}'):
        assert document_fields(odd) == empty
