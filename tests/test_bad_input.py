"""The catalogue of bad input: each case raises one exact error type whose message names the
field, version, path or file, and the table's version does not move."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from click.testing import CliRunner
from deltalake import DeltaTable, TableFeatures, write_deltalake

from dc43_delta_store import (
    BatchError,
    ContractStoreError,
    ContractValidationError,
    DeltaContractStore,
    IncompatibleTableError,
    InvalidContractError,
    InvalidLocationError,
    InvalidRequestError,
    StoreUnavailableError,
)
from dc43_delta_store.cli import EXIT_CODES, cli

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
        "id in NFD",
        {"id": "cafe\u0301", "version": "1"},
        InvalidContractError,
        "is not in Unicode NFC form (U+0301 COMBINING ACUTE ACCENT at position 5); write it as 'café'",
    ),
    (
        "zero-width space in the id",
        {"id": "h.\u200bbase", "version": "1"},
        InvalidContractError,
        "id 'h.\\u200bbase' contains U+200B ZERO WIDTH SPACE at position 3",
    ),
    (
        "right-to-left override in the version",
        {"id": "a", "version": "1.0\u202e"},
        InvalidContractError,
        "version '1.0\\u202e' contains U+202E RIGHT-TO-LEFT OVERRIDE at position 4",
    ),
    (
        "no-break space in the id",
        "id: \"sales\u00a0orders\"\nversion: '1'\n",
        InvalidContractError,
        "contains U+00A0 NO-BREAK SPACE at position 6",
    ),
    (
        "Hangul filler in the id",
        {"id": "a\u3164", "version": "1"},
        InvalidContractError,
        "U+3164 HANGUL FILLER at position 2",
    ),
    (
        "JSON number that underflows",
        '{"id": "a", "version": "1", "sla": {"p": 1e-400}}',
        InvalidContractError,
        "$.sla.p is 1e-400 is too small for a 64-bit float and would be stored as 0",
    ),
    (
        "JSON number that overflows",
        '{"id": "a", "version": "1", "x": [1, 1e400]}',
        InvalidContractError,
        "$.x[1] is 1e400 is beyond the largest 64-bit float",
    ),
    (
        "JSON integer of 5000 digits",
        '{"id": "a", "version": "1", "x": ' + "9" * 5000 + "}",
        InvalidContractError,
        "$.x is a 5000-character number is an integer of 5000 digits, above the 4300 allowed",
    ),
    (
        "integer of 5000 digits in a mapping",
        {"id": "a", "version": "1", "x": {"y": 10**4999}},
        InvalidContractError,
        "$.x.y is an integer of more than 4300 digits",
    ),
    (
        "YAML number that underflows",
        "id: a\nversion: '1'\nx: 1e-400\n",
        InvalidContractError,
        "$.x is 1e-400 at line 3 is too small for a 64-bit float",
    ),
    (
        "YAML explicit int tag on hex",
        "id: a\nversion: '1'\nx: !!int 0x1F\n",
        InvalidContractError,
        "!!int '0x1F' at line 3 is not a decimal integer",
    ),
    (
        "YAML explicit bool tag on yes",
        "id: a\nversion: '1'\nx: !!bool yes\n",
        InvalidContractError,
        "!!bool 'yes' at line 3 is not true or false",
    ),
    (
        "YAML set",
        "id: a\nversion: '1'\nx: !!set {a, b}\n",
        InvalidContractError,
        "the YAML tag !!set at line 3 is not supported",
    ),
    (
        "YAML mapping as a key",
        "id: a\nversion: '1'\n? {k: v}\n: x\n",
        InvalidContractError,
        "the key at line 3 is a mapping, not a string",
    ),
    (
        "YAML undefined alias",
        "id: a\nversion: '1'\nx: *nowhere\n",
        InvalidContractError,
        "alias *nowhere at line 3 names no anchor defined before it",
    ),
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
    ("FIFO", lambda tmp: _fifo(tmp / "pipe.yaml"), "pipe.yaml: is not a regular file (a FIFO)"),
    (
        "dangling symbolic link",
        lambda tmp: _symlink(tmp / "gone.yaml", tmp / "absent"),
        "gone.yaml: a dangling symbolic link",
    ),
    ("NUL in the file name", lambda tmp: tmp / "a\x00.yaml", "a file name cannot contain a NUL"),
]


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _symlink(path: Path, target: Path) -> Path:
    path.symlink_to(target)
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


# -- bad requests: arguments of the public API ----------------------------------------------


@pytest.fixture
def governed(tmp_path: Path) -> DeltaContractStore:
    store = DeltaContractStore(
        path=tmp_path / "governed",
        validation="off",
        metadata_columns={
            "owner": "string",
            "score": "long",
            "ratio": "double",
            "flag": "boolean",
            "due": "date",
            "reviewed": "timestamp",
        },
    )
    store.put(minimal())
    return store


UTC_PLUS_2 = dt.timezone(dt.timedelta(hours=2))

# (case id, call on the store, error type, text the message contains)
REQUEST_CASES: list[tuple[str, Callable[[DeltaContractStore], Any], type[Exception], str]] = [
    (
        "filter: int for a string column",
        lambda s: s.latest("sales.orders", status=5),
        InvalidRequestError,
        "filter on 'status' (a string column): got int 5",
    ),
    (
        "filter: text that is not a long",
        lambda s: s.latest("sales.orders", score="five"),
        InvalidRequestError,
        "filter on 'score' (a long column): 'five' is not a long",
    ),
    (
        "filter: float for a long column",
        lambda s: s.latest("sales.orders", score=5.5),
        InvalidRequestError,
        "filter on 'score' (a long column): got float 5.5",
    ),
    (
        "filter: a long beyond 64 bits",
        lambda s: s.latest("sales.orders", score=2**64),
        InvalidRequestError,
        "18446744073709551616 is outside a long's range",
    ),
    (
        "filter: yes for a boolean column",
        lambda s: s.latest("sales.orders", flag="yes"),
        InvalidRequestError,
        "'yes' is not a boolean: write true or false",
    ),
    (
        "filter: datetime for a date column",
        lambda s: s.latest("sales.orders", due=dt.datetime(2024, 1, 1)),
        InvalidRequestError,
        "filter on 'due' (a date column): got datetime",
    ),
    (
        "filter: naive datetime for a timestamp column",
        lambda s: s.latest("sales.orders", reviewed=dt.datetime(2024, 1, 1)),
        InvalidRequestError,
        "2024-01-01T00:00:00 has no time zone",
    ),
    (
        "filter: a dict",
        lambda s: s.latest("sales.orders", owner={"a": 1}),
        InvalidRequestError,
        "a dict is not a filter value",
    ),
    (
        "filter: NaN text for a double",
        lambda s: s.latest("sales.orders", ratio="nan"),
        InvalidRequestError,
        "'nan' is not a double",
    ),
    (
        "filter: unknown column",
        lambda s: s.latest("sales.orders", team="x"),
        InvalidRequestError,
        "unknown filter column 'team'",
    ),
    (
        "include_prereleases as text",
        lambda s: s.latest("sales.orders", include_prereleases="yes"),
        InvalidRequestError,
        "include_prereleases must be True or False",
    ),
    (
        "as_of negative",
        lambda s: s.latest("sales.orders", as_of=-1),
        InvalidRequestError,
        "as_of=-1 is not a table version",
    ),
    (
        "as_of above 2**63",
        lambda s: s.get("sales.orders", "1.0.0", as_of=2**70),
        InvalidRequestError,
        "as_of=1180591620717411303424 is not a table version",
    ),
    (
        "scan as_of negative",
        lambda s: s.scan(as_of=-3),
        InvalidRequestError,
        "as_of=-3 is not a table version",
    ),
    (
        "as_of past the head",
        lambda s: s.list_versions("sales.orders", as_of=99),
        InvalidRequestError,
        "as_of=99 is past the newest version of table",
    ),
    (
        "as_of a float",
        lambda s: s.list_contracts(as_of=1.5),
        InvalidRequestError,
        "as_of must be a table version (int) or a time",
    ),
    (
        "as_of text",
        lambda s: s.sql("SELECT 1 FROM contracts", as_of="yesterday"),
        InvalidRequestError,
        "as_of='yesterday' is neither a table version nor an RFC 3339 time",
    ),
    (
        "as_of year 1",
        lambda s: s.latest("sales.orders", as_of=dt.datetime(1, 1, 1)),
        InvalidRequestError,
        "is out of range",
    ),
    (
        "as_of before the table existed",  # latest() answers None then: nothing existed
        lambda s: s.get("sales.orders", "1.0.0", as_of=dt.datetime(1990, 1, 1, tzinfo=dt.UTC)),
        InvalidRequestError,
        "did not exist yet at 1990-01-01T00:00:00+00:00",
    ),
    (
        "update: a long beyond 64 bits",
        lambda s: s.update_metadata("sales.orders", "1.0.0", {"score": 2**63}),
        InvalidRequestError,
        "'score' is a long column: 9223372036854775808 is outside a long's range",
    ),
    (
        "update: lone surrogate",
        lambda s: s.update_metadata("sales.orders", "1.0.0", {"owner": "a\udc00"}),
        InvalidRequestError,
        "'owner' is a string column: 'a\\udc00' holds an unpaired surrogate at position 2",
    ),
    (
        "update: an int a double cannot hold",
        lambda s: s.update_metadata("sales.orders", "1.0.0", {"ratio": 2**60 + 1}),
        InvalidRequestError,
        "cannot be held exactly by a double",
    ),
    (
        "update: infinity for a double",
        lambda s: s.update_metadata("sales.orders", "1.0.0", {"ratio": float("inf")}),
        InvalidRequestError,
        "inf is not a finite number",
    ),
    (
        "update: True for a double",  # not stored as 1.0
        lambda s: s.update_metadata("sales.orders", "1.0.0", {"ratio": True}),
        InvalidRequestError,
        "'ratio' is a double column: got bool True",
    ),
    (
        "update: True for a long",  # not stored as 1
        lambda s: s.update_metadata("sales.orders", "1.0.0", {"score": True}),
        InvalidRequestError,
        "'score' is a long column: got bool True",
    ),
    (
        "update: values not a mapping",
        lambda s: s.update_metadata("sales.orders", "1.0.0", [("owner", "x")]),
        InvalidRequestError,
        "metadata values are a mapping of column to value, not list",
    ),
    (
        "update: id with a lone surrogate",
        lambda s: s.update_metadata("a\udc00", "1", {"owner": "x"}),
        InvalidContractError,
        "holds an unpaired surrogate (U+DC00) at position 2",
    ),
    (
        "put: unknown metadata column",
        lambda s: s.put(minimal(version="2.0.0"), metadata={"team": "x"}),
        InvalidRequestError,
        "put metadata: unknown metadata column 'team'",
    ),
    (
        "put: metadata of the wrong type",
        lambda s: s.put(minimal(version="2.0.0"), metadata={"score": "5"}),
        InvalidRequestError,
        "put metadata: 'score' is a long column: got str '5'",
    ),
    (
        "put: metadata for an unchanged version",
        lambda s: s.put(minimal(), metadata={"flag": "no"}),
        InvalidRequestError,
        "'flag' is a boolean column: got str 'no'",
    ),
    (
        "put: on_error bogus",
        lambda s: s.put_many([minimal(version="2.0.0")], on_error="bogus"),
        InvalidRequestError,
        "on_error must be 'raise' or 'skip', not 'bogus'",
    ),
    (
        "put: validation bogus",
        lambda s: s.put(minimal(version="2.0.0"), validation="bogus"),
        InvalidRequestError,
        "validation must be 'strict', 'warn' or 'off', not 'bogus'",
    ),
    (
        "put_many of one text",
        lambda s: s.put_many("a.yaml"),
        InvalidRequestError,
        "put_many takes an iterable of contracts",
    ),
    (
        "who not text",
        lambda s: s.put(minimal(version="2.0.0"), who=5),
        InvalidRequestError,
        "who must be text, not int",
    ),
    (
        "why with a lone surrogate",
        lambda s: s.put(minimal(version="2.0.0"), why="x\udc00"),
        InvalidRequestError,
        "why cannot be recorded in a commit",
    ),
    (
        "commit_info not JSON",
        lambda s: s.put(minimal(version="2.0.0"), commit_info={"x": object()}),
        InvalidRequestError,
        "commit_info 'x' cannot be recorded in a commit",
    ),
    (
        "add column: differs only in case",
        lambda s: s.add_metadata_columns({"OWNER": "string"}),
        InvalidRequestError,
        "metadata column 'OWNER' differs from the column 'owner' only in case",
    ),
    (
        "add column: reserved name Status",
        lambda s: s.add_metadata_columns({"Status": "string"}),
        InvalidRequestError,
        "'Status' is reserved",
    ),
    (
        "add column: reserved name JSON",
        lambda s: s.add_metadata_columns({"JSON": "string"}),
        InvalidRequestError,
        "'JSON' is reserved",
    ),
    (
        "add column: view column kind",
        lambda s: s.add_metadata_columns({"kind": "string"}),
        InvalidRequestError,
        "'kind' is reserved",
    ),
    (
        "add column: two names differing in case",
        lambda s: s.add_metadata_columns({"team": "string", "Team": "string"}),
        InvalidRequestError,
        "'Team' differs from the column 'team' only in case",
    ),
    (
        "add column: another type",
        lambda s: s.add_metadata_columns({"owner": "long"}),
        IncompatibleTableError,
        "metadata column 'owner' is declared long but the table holds it as string",
    ),
    (
        "history limit -1",
        lambda s: s.history(limit=-1),
        InvalidRequestError,
        "limit must be a whole number of at least 1 and at most 9,223,372,036,854,775,807, not -1",
    ),
    (
        "history limit past Delta's versions",
        lambda s: s.history(limit=10**23),
        InvalidRequestError,
        "at most 9,223,372,036,854,775,807, not 100000000000000000000000",
    ),
    (
        "optimize target size 0",
        lambda s: s.optimize(target_file_size=0),
        InvalidRequestError,
        "target_file_size must be a whole number of at least 1",
    ),
    (
        "vacuum retention -5",
        lambda s: s.vacuum(retention_hours=-5),
        InvalidRequestError,
        "retention_hours must be a whole number of at least 0",
    ),
    (
        "vacuum retention 1e20",
        lambda s: s.vacuum(retention_hours=10**20),
        InvalidRequestError,
        "not 100000000000000000000",
    ),
    (
        "sql not text",
        lambda s: s.sql(5),
        InvalidRequestError,
        "store.sql takes the query as text, not int",
    ),
    (
        "sql reading a file",
        lambda s: s.sql("SELECT * FROM read_csv('/etc/passwd')"),
        InvalidRequestError,
        "refused: table function READ_CSV('/etc/passwd')",
    ),
    (
        "path with a NUL",
        lambda s: DeltaContractStore(path="a\x00b"),
        InvalidLocationError,
        "the path 'a\\x00b' contains a NUL character",
    ),
    (
        "max_staleness negative",
        lambda s: DeltaContractStore(path="x", max_staleness=-1),
        InvalidRequestError,
        "max_staleness must be a number of at least 0",
    ),
    (
        "table name not text",
        lambda s: DeltaContractStore(table=5),
        InvalidLocationError,
        "table must be text, not int",
    ),
    (
        "storage option values not text",
        lambda s: DeltaContractStore(path="x", storage_options={"timeout": 5}),
        InvalidRequestError,
        "storage_options must map option names to text values",
    ),
    (
        "catalog not a UnityCatalog",
        lambda s: DeltaContractStore(table="a.b.c", catalog="https://uc"),
        InvalidRequestError,
        "catalog must be a UnityCatalog, not str",
    ),
    (
        "exists with a number for a version",
        lambda s: s.exists("sales.orders", 1),
        InvalidContractError,
        "version must be a string, got int 1",
    ),
    (
        "metadata_columns a list",
        lambda s: DeltaContractStore(path="x", metadata_columns=["owner"]),
        InvalidRequestError,
        "metadata columns are a mapping of name to type, not list",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "message"), [pytest.param(*case[1:], id=case[0]) for case in REQUEST_CASES]
)
def test_bad_request(
    governed: DeltaContractStore,
    call: Callable[[DeltaContractStore], Any],
    error: type[Exception],
    message: str,
) -> None:
    before = version_of(governed)
    with pytest.raises(ContractStoreError) as caught:
        call(governed)
    assert type(caught.value) is error
    assert message in str(caught.value)
    assert version_of(governed) == before
    # the store is still usable: a refused request never poisons it
    assert governed.put(minimal(version="7.0.0")).outcome == "inserted"


def test_a_status_column_of_another_type_is_refused_before_writing(tmp_path: Path) -> None:
    write_deltalake(
        tmp_path / "t",
        pa.table(
            {
                "contract_id": ["a"],
                "version": ["1"],
                "json": ['{"id": "a", "version": "1"}'],
                "fingerprint": ["f"],
                "status": pa.array([1], pa.int64()),
            }
        ),
    )
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    with pytest.raises(IncompatibleTableError, match=r"status \(int64, not string\)"):
        store.put(minimal())
    assert DeltaTable(str(tmp_path / "t")).version() == 0
    assert store.latest("a", status="1") == {"id": "a", "version": "1"}  # "1" read as a long


# -- bad command lines ----------------------------------------------------------------------

# (case id, arguments after --path TABLE, exit code, text stderr contains)
CLI_CASES: list[tuple[str, list[str], int, str]] = [
    (
        "long column given text",
        ["set-metadata", "sales.orders", "1.0.0", "score=abc"],
        2,
        "'abc' is not a long",
    ),
    (
        "date column given a word",
        ["set-metadata", "sales.orders", "1.0.0", "due=yesterday"],
        2,
        "'yesterday' is not a date: write YYYY-MM-DD",
    ),
    (
        "boolean column given maybe",
        ["set-metadata", "sales.orders", "1.0.0", "flag=maybe"],
        2,
        "'maybe' is not a boolean: write true or false",
    ),
    (
        "timestamp without a zone",
        ["set-metadata", "sales.orders", "1.0.0", "reviewed=2024-01-01T00:00:00"],
        2,
        "is not a timestamp: write RFC 3339 with a time zone",
    ),
    (
        "long beyond 64 bits",
        ["set-metadata", "sales.orders", "1.0.0", "score=99999999999999999999"],
        2,
        "outside a long's range",
    ),
    (
        "if-match of the wrong type",
        ["set-metadata", "sales.orders", "1.0.0", "owner=x", "--if-match", "flag=1"],
        2,
        "'1' is not a boolean",
    ),
    (
        "put metadata of the wrong type",
        ["put", "{contract}", "--metadata", "score=seven"],
        2,
        "'seven' is not a long",
    ),
    (
        "put metadata unknown column",
        ["put", "{contract}", "--metadata", "team=x"],
        2,
        "unknown metadata column 'team'",
    ),
    (
        "filter of the wrong type",
        ["latest", "sales.orders", "--filter", "score=abc"],
        2,
        "filter on 'score' (a long column)",
    ),
    ("history limit -1", ["history", "--limit", "-1"], 2, "-1 is not in the range 1<=x<="),
    ("vacuum retention -5", ["vacuum", "--retention-hours", "-5"], 2, "-5 is not in the range"),
    (
        "vacuum retention 1e20",
        ["vacuum", "--retention-hours", "1e20"],
        2,
        "'1e20' is not a valid integer range",
    ),
    ("optimize target size 0", ["optimize", "--target-file-size", "0"], 2, "0 is not in the range"),
    (
        "as-of beyond 2**63",
        ["get", "sales.orders", "1.0.0", "--as-of", "99999999999999999999"],
        2,
        "as_of=99999999999999999999 is not a table version",
    ),
    (
        "as-of negative",
        ["latest", "sales.orders", "--as-of", "-1"],
        2,
        "as_of=-1 is not a table version",
    ),
    ("as-of past the head", ["list", "--as-of", "999"], 2, "as_of=999 is past the newest version"),
    (
        "as-of a word",
        ["versions", "sales.orders", "--as-of", "yesterday"],
        2,
        "as_of='yesterday' is neither",
    ),
    (
        "sql reading a file",
        ["sql", "SELECT * FROM read_csv('/etc/passwd')"],
        2,
        "refused: table function READ_CSV",
    ),
    ("sql that writes", ["sql", "COPY contracts TO '/tmp/x.csv'"], 2, "only queries run, not COPY"),
    (
        "column differing in case",
        ["add-columns", "OWNER=string"],
        2,
        "differs from the column 'owner' only in case",
    ),
    ("reserved column", ["add-columns", "Status=string"], 2, "'Status' is reserved"),
    (
        "junit report where it cannot be written",
        ["validate", "{contract}", "--junit-xml", "/proc/x.xml"],
        2,
        "cannot write /proc/x.xml",
    ),
    (
        "table and path both given",
        ["--table", "a.b", "list"],
        2,
        "give --table or --path, not both",
    ),
]


@pytest.mark.parametrize(
    ("args", "code", "message"), [pytest.param(*case[1:], id=case[0]) for case in CLI_CASES]
)
def test_bad_command_line(
    governed: DeltaContractStore, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    contract = tmp_path / "new.yaml"
    contract.write_text("id: new.one\nversion: '1.0.0'\n", encoding="utf-8")
    before = version_of(governed)
    argv = [
        "--path",
        governed.location.uri,
        *(a.replace("{contract}", str(contract)) for a in args),
    ]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output and not isinstance(result.exception, Exception)
    assert version_of(governed) == before


def test_a_missing_table_on_a_read_is_not_an_empty_answer(tmp_path: Path) -> None:
    for args in (["list"], ["latest", "x"], ["history"], ["sql", "SELECT 1"], ["get", "x", "1"]):
        result = CliRunner().invoke(cli, ["--path", str(tmp_path / "nowhere"), *args])
        assert result.exit_code == EXIT_CODES["not_found"], args
        assert f"no table at {tmp_path / 'nowhere'}" in result.stderr
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_data_file_is_store_unavailable_naming_the_table(
    tmp_path: Path, damage: str
) -> None:
    """A data file another tool overwrote or left half-written: every read is a
    StoreUnavailableError naming the table (polars raises its own errors, and panics on a
    truncated file), not a raw engine error."""
    path = tmp_path / "t"
    DeltaContractStore(path=path, validation="off").put_many([minimal(), minimal("a.b")])
    for file in path.glob("*.parquet"):
        data = file.read_bytes()
        if damage == "garbage":
            file.write_bytes(b"PAR1" + bytes(len(data) - 8) + b"PAR1")
        else:
            file.write_bytes(data[: len(data) // 2])
    store = DeltaContractStore(path=path, validation="off")
    reads: list[Callable[[], Any]] = [
        lambda: store.get("sales.orders", "1.0.0"),
        lambda: store.latest("sales.orders"),
        store.list_contracts,
        lambda: store.list_versions("a.b"),
    ]
    for read in reads:
        with pytest.raises(StoreUnavailableError, match=f"cannot read table {path}"):
            read()
