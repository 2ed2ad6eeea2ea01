"""The catalogue of bad input: each case raises one exact error type whose message names the
field, version, path or file, and the table's version does not move."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from deltalake import DeltaTable, TableFeatures, write_deltalake

from dc43_delta_store import (
    BatchError,
    ContractValidationError,
    DeltaContractStore,
    IncompatibleTableError,
    InvalidContractError,
    InvalidLocationError,
    StoreUnavailableError,
)

from .conftest import minimal

FIFTY_MB = 50 * 1024 * 1024

ALIAS_BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "id: bomb\nversion: '1'\n"
)


def deep(levels: int) -> dict[str, Any]:
    document: dict[str, Any] = minimal()
    node = document
    for _ in range(levels):
        node["x"] = {}
        node = node["x"]
    return document


# (case id, input or a function of tmp_path giving it, error type, text the message contains)
DOCUMENT_CASES: list[tuple[str, Any, type[Exception], str]] = [
    (
        "missing id",
        {"version": "1.0.0"},
        InvalidContractError,
        "contract has no id (ODCS v3 'id', v2 'uuid')",
    ),
    ("missing version", {"id": "a"}, InvalidContractError, "contract 'a': version is missing"),
    (
        "null version",
        {"id": "a", "version": None},
        InvalidContractError,
        "contract 'a': version is missing",
    ),
    ("empty id", {"id": "", "version": "1"}, InvalidContractError, "id is empty"),
    (
        "empty version",
        {"id": "a", "version": ""},
        InvalidContractError,
        "contract 'a': version is empty",
    ),
    (
        "blank version",
        {"id": "a", "version": "   "},
        InvalidContractError,
        "contract 'a': version is empty",
    ),
    (
        "padded id",
        {"id": " a", "version": "1"},
        InvalidContractError,
        "id ' a' has leading or trailing whitespace",
    ),
    (
        "control character in version",
        {"id": "a", "version": "1.0\t1"},
        InvalidContractError,
        "version '1.0\\t1' contains control characters",
    ),
    (
        "id too long",
        {"id": "x" * 1001, "version": "1"},
        InvalidContractError,
        "id is 1001 characters long, above 1000",
    ),
    (
        "integer id",
        {"id": 7, "version": "1"},
        InvalidContractError,
        "id must be a string, got int 7",
    ),
    (
        "integer version",
        {"id": "a", "version": 2},
        InvalidContractError,
        "contract 'a': version must be a string, got int 2",
    ),
    (
        "float version",
        {"id": "a", "version": 1.1},
        InvalidContractError,
        "contract 'a': version must be a string, got float 1.1",
    ),
    (
        "list version",
        {"id": "a", "version": ["1"]},
        InvalidContractError,
        "version must be a string, got list",
    ),
    (
        "unquoted YAML 1.10",
        "id: a\nversion: 1.10\n",
        InvalidContractError,
        'YAML reads the unquoted 1.10 at line 2 as a number; quote it: version: "1.10"',
    ),
    (
        "unquoted YAML integer version",
        "id: a\nversion: 3\n",
        InvalidContractError,
        'quote it: version: "3"',
    ),
    (
        "unquoted YAML integer id",
        "id: 12\nversion: '1'\n",
        InvalidContractError,
        'quote it: id: "12"',
    ),
    (
        "unquoted YAML boolean version",
        "id: a\nversion: true\n",
        InvalidContractError,
        "reads the unquoted true at line 2 as a boolean",
    ),
    (
        "YAML date as version via safe_load",
        yaml.safe_load("id: a\nversion: 2024-01-05\n"),
        InvalidContractError,
        "version is a date (2024-01-05), as YAML reads an unquoted date",
    ),
    (
        "datetime id in a mapping",
        {"id": dt.datetime(2024, 1, 1), "version": "1"},
        InvalidContractError,
        "id is a datetime",
    ),
    (
        "duplicate YAML key",
        "id: a\nversion: '1'\nversion: '2'\n",
        InvalidContractError,
        "duplicate key 'version' at line 3 (first at line 2)",
    ),
    (
        "duplicate JSON key",
        '{"id": "a", "version": "1", "id": "b"}',
        InvalidContractError,
        "duplicate key 'id' in a JSON object",
    ),
    (
        "multi-document YAML",
        "id: a\nversion: '1'\n---\nid: b\n",
        InvalidContractError,
        "holds more than one YAML document (the second starts at line 3)",
    ),
    (
        "YAML list",
        "- id: a\n  version: '1'\n",
        InvalidContractError,
        "a contract must be a mapping at the top level, got list",
    ),
    (
        "YAML scalar",
        "sales.orders",
        InvalidContractError,
        "a contract must be a mapping at the top level, got str",
    ),
    ("JSON array", '[{"id": "a"}]', InvalidContractError, "got list"),
    ("empty text", "", InvalidContractError, "empty document"),
    ("comments only", "# nothing here\n", InvalidContractError, "empty document"),
    ("invalid YAML", "id: [a\nversion: '1'\n", InvalidContractError, "invalid YAML"),
    (
        "invalid JSON",
        '{"id": "a", "version": "1",}',
        InvalidContractError,
        "invalid JSON at line 1 column 28",
    ),
    ("binary garbage", bytes(range(256)) * 4, InvalidContractError, "not valid UTF-8 (byte 128"),
    ("NUL bytes", b"id: a\x00\x01\x02", InvalidContractError, "contains NUL characters"),
    (
        "invalid UTF-8",
        b"id: caf\xe9\nversion: '1'\n",
        InvalidContractError,
        "not valid UTF-8 (byte 7",
    ),
    (
        "NaN in JSON",
        '{"id": "a", "version": "1", "x": NaN}',
        InvalidContractError,
        "NaN is not a JSON value",
    ),
    (
        "Infinity in JSON",
        '{"id": "a", "version": "1", "x": Infinity}',
        InvalidContractError,
        "Infinity is not a JSON value",
    ),
    (
        "NaN in YAML",
        "id: a\nversion: '1'\nx: .nan\n",
        InvalidContractError,
        "$.x is nan, which JSON cannot hold",
    ),
    (
        "infinity in YAML",
        "id: a\nversion: '1'\nsla: [{value: -.inf}]\n",
        InvalidContractError,
        "$.sla[0].value is -inf",
    ),
    (
        "NaN in a mapping",
        {"id": "a", "version": "1", "x": float("nan")},
        InvalidContractError,
        "$.x is nan",
    ),
    (
        "integer key",
        "id: a\nversion: '1'\n200: ok\n",
        InvalidContractError,
        "key 200 at $ is a int, not a string (quote it in YAML)",
    ),
    (
        "boolean key",
        "id: a\nversion: '1'\nx:\n  true: push\n",
        InvalidContractError,
        "key True at $.x is a bool",
    ),
    (
        "binary value",
        "id: a\nversion: '1'\nlogo: !!binary aGk=\n",
        InvalidContractError,
        "the YAML tag !!binary at line 3 is not supported",
    ),
    (
        "python object tag",
        "id: a\nversion: '1'\nx: !!python/object:os.system {}\n",
        InvalidContractError,
        "the YAML tag !!python/object:os.system at line 3 is not supported",
    ),
    (
        "set value",
        {"id": "a", "version": "1", "tags": {"x"}},
        InvalidContractError,
        "$.tags holds a set",
    ),
    (
        "unpaired surrogate",
        {"id": "a", "version": "1", "x": "\udc00"},
        InvalidContractError,
        "$.x holds an unpaired surrogate (\\udc00)",
    ),
    (
        "status not a string",
        {"id": "a", "version": "1", "status": 1},
        InvalidContractError,
        "contract 'a' version '1': status must be a string, got int 1",
    ),
    (
        "name not a string",
        {"id": "a", "version": "1", "name": ["x"]},
        InvalidContractError,
        "contract 'a' version '1': name must be a string, got list",
    ),
    (
        "apiVersion not a string",
        {"id": "a", "version": "1", "apiVersion": {"v": 3}},
        InvalidContractError,
        "apiVersion must be a string, got dict",
    ),
    (
        "description not an object",
        {"id": "a", "version": "1", "description": [1]},
        InvalidContractError,
        "description must be an object, got list",
    ),
    (
        "description.usage not a string",
        {"id": "a", "version": "1", "description": {"usage": 5}},
        InvalidContractError,
        "description: usage must be a string, got int 5",
    ),
    (
        "nested 100 levels",
        deep(100),
        InvalidContractError,
        "nested deeper than 64 levels at $.x.x.x",
    ),
    ("nested 100k brackets", "[" * 100_000, InvalidContractError, "nested deeper than 64 levels"),
    ("YAML alias bomb", ALIAS_BOMB, InvalidContractError, "holds more than 1000000 values"),
    (
        "50 MB mapping",
        minimal(description={"usage": "x" * FIFTY_MB}),
        InvalidContractError,
        "bytes as JSON, above the 8388608-byte limit",
    ),
    (
        "50 MB text",
        "id: a\nversion: '1'\nx: " + "y" * FIFTY_MB,
        InvalidContractError,
        "document is above the 8388608-byte limit",
    ),
    ("not a contract at all", 3.14, InvalidContractError, "cannot read a contract from float"),
    (
        "strict schema violation",
        None,
        ContractValidationError,
        "contract 'sales.orders' version '9.0.0' breaks the ODCS JSON Schema: $.kind",
    ),
]

FILE_CASES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("missing file", lambda tmp: tmp / "absent.odcs.yaml", "absent.odcs.yaml: file does not exist"),
    (
        "folder named like a file",
        lambda tmp: _mkdir(tmp / "folder.yaml"),
        "folder.yaml: is a directory",
    ),
    (
        "invalid UTF-8 file",
        lambda tmp: _write(tmp / "latin1.yaml", "id: café\nversion: '1'\n".encode("latin-1")),
        "latin1.yaml: not valid UTF-8",
    ),
    (
        "50 MB file",
        lambda tmp: _write(tmp / "huge.json", b" " * FIFTY_MB + b"{}"),
        "huge.json: file is 52428802 bytes, above the 8388608-byte limit",
    ),
    (
        "broken JSON file",
        lambda tmp: _write(tmp / "broken.json", b'{"id": '),
        "broken.json: invalid JSON at line 1 column 8",
    ),
    (
        "YAML file with two documents",
        lambda tmp: _write(tmp / "two.yml", b"id: a\n---\nid: b\n"),
        "two.yml: holds more than one YAML document",
    ),
]


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture
def filled(tmp_path: Path) -> DeltaContractStore:
    store = DeltaContractStore(path=tmp_path / "table", validation="off")
    store.put(minimal())
    return store


def version_of(store: DeltaContractStore) -> int:
    return DeltaTable(store.location.uri).version()


@pytest.mark.parametrize(
    ("source", "error", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in DOCUMENT_CASES],
)
def test_bad_document(
    filled: DeltaContractStore, source: Any, error: type[Exception], message: str
) -> None:
    before = version_of(filled)
    if source is None:  # the strict case: a schema violation under validation="strict"
        source, mode = minimal(version="9.0.0", kind="Nonsense"), "strict"
    else:
        mode = None
    with pytest.raises(InvalidContractError) as caught:
        filled.put(source, validation=mode)
    assert type(caught.value) is error
    assert message in str(caught.value)
    assert version_of(filled) == before


@pytest.mark.parametrize(
    ("make", "message"), [pytest.param(*case[1:], id=case[0]) for case in FILE_CASES]
)
def test_bad_file(
    filled: DeltaContractStore, tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    before = version_of(filled)
    path = make(tmp_path)
    with pytest.raises(InvalidContractError) as caught:
        filled.put(path)
    assert type(caught.value) is InvalidContractError
    assert str(caught.value).startswith(str(tmp_path)) and message in str(caught.value)
    assert version_of(filled) == before


def test_bad_documents_in_a_batch_are_all_reported(filled: DeltaContractStore) -> None:
    before = version_of(filled)
    sources = [case[1] for case in DOCUMENT_CASES if case[1] is not None]
    with pytest.raises(BatchError) as caught:
        filled.put_many([minimal(version="5.0.0"), *sources])
    assert [problem.index for problem in caught.value.problems] == list(range(1, len(sources) + 1))
    assert version_of(filled) == before


# -- tables and locations that cannot be written --------------------------------------------


def test_table_path_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "contracts").write_text("not a table")
    with pytest.raises(InvalidLocationError, match=r"table path .*contracts is a file"):
        DeltaContractStore(path=tmp_path / "contracts").put(minimal())
    assert (tmp_path / "contracts").read_text() == "not a table"


def test_foreign_schema(tmp_path: Path) -> None:
    write_deltalake(
        tmp_path / "t", pa.table({"contract_id": ["a"], "version": [1], "json": ["{}"]})
    )
    with pytest.raises(IncompatibleTableError, match="lacks string columns version, fingerprint"):
        DeltaContractStore(path=tmp_path / "t").put(minimal())
    assert DeltaTable(str(tmp_path / "t")).version() == 0


def test_protocol_with_deletion_vectors(filled: DeltaContractStore) -> None:
    DeltaTable(filled.location.uri).alter.add_feature(
        TableFeatures.DeletionVectors, allow_protocol_versions_increase=True
    )
    before = version_of(filled)
    with pytest.raises(IncompatibleTableError, match="uses Delta writer features deletionVectors"):
        filled.put(minimal(version="2.0.0"))
    assert version_of(filled) == before
    assert filled.latest("sales.orders")["version"] == "1.0.0"  # still readable


def test_read_only_location(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root: use sysfs, which nobody can write
        folder = Path("/sys/dc43-delta-store-test")
    try:
        with pytest.raises(StoreUnavailableError, match=f"cannot create table {folder}/t"):
            DeltaContractStore(path=folder / "t").put(minimal())
        assert not (folder / "t").exists()
    finally:
        (tmp_path / "ro").chmod(0o755)


def test_table_name_outside_the_warehouse(tmp_path: Path) -> None:
    with pytest.raises(InvalidLocationError, match=r"table name '\.\./etc'"):
        DeltaContractStore(table="../etc", warehouse=tmp_path)
