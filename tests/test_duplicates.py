"""Keys other writers stored twice are never hidden: identical copies answer once, different
ones refuse with DuplicateVersionError naming the key and the fingerprints."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from dc43_delta_store import DeltaContractStore, DuplicateVersionError
from dc43_delta_store.cli.commands import cli
from dc43_delta_store.core.duplicates import StoredRow, duplicate_keys, one_row, versions_of
from dc43_delta_store.core.records import build_row

from .conftest import need
from .dc43_tables import DC43_SCHEMA, append, dc43_document, dc43_rows, dc43_table

ORIGINAL = dc43_document("sales.orders", "1.0.0", status="active", description={"usage": "a"})
CHANGED = dc43_document("sales.orders", "1.0.0", status="draft", description={"usage": "b"})


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return dc43_table(
        tmp_path / "t",
        [ORIGINAL, dc43_document("sales.orders", "0.9.0", status="active")],
    )


def store_of(path: Path) -> DeltaContractStore:
    return DeltaContractStore(path=path, validation="off")


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_identical_copies_answer_once(path: Path) -> None:
    append(path, dc43_rows([ORIGINAL]))
    store = store_of(path)
    assert store.list_versions("sales.orders") == ["0.9.0", "1.0.0"]
    assert store.get("sales.orders", "1.0.0") == ORIGINAL
    assert store.latest("sales.orders") == ORIGINAL
    assert store.put(ORIGINAL).outcome == "unchanged"
    report = store.check()
    upgrades = ("missing_derived_columns", "nullable_required_columns")  # adopt: dc43 table
    (finding,) = [f for f in report.findings if f.check not in upgrades]
    assert (finding.check, finding.severity) == ("duplicate_keys", "warning")
    assert finding.details["keys"][0]["rows"] == 2


def without_fingerprint(document: dict[str, Any], payload: str | None = None) -> Any:
    """A row another writer added without a fingerprint, its JSON spelled ``payload``."""
    row = dc43_rows([document]).to_pylist()[0]
    row["fingerprint"] = None
    if payload is not None:
        row["json"] = payload
    return pa.Table.from_pylist([row], schema=DC43_SCHEMA)


def test_a_copy_without_fingerprint_counts_by_its_json(path: Path) -> None:
    # the same document, spelled otherwise (spaces, key order): the same content, read once
    spelled = json.dumps(dict(reversed(list(ORIGINAL.items()))), indent=1)
    append(path, without_fingerprint(ORIGINAL, spelled))
    store = store_of(path)
    assert store.get("sales.orders", "1.0.0") == ORIGINAL
    assert store.list_versions("sales.orders") == ["0.9.0", "1.0.0"]
    # other content without a fingerprint is a different copy, never hidden
    append(path, without_fingerprint(CHANGED))
    with pytest.raises(DuplicateVersionError, match="is stored 3 times"):
        store_of(path).get("sales.orders", "1.0.0")


def test_different_copies_refuse_every_read_of_the_key(path: Path) -> None:
    append(path, dc43_rows([CHANGED]))
    store = store_of(path)
    fingerprints = sorted([build_row(ORIGINAL).fingerprint, build_row(CHANGED).fingerprint])
    with pytest.raises(DuplicateVersionError) as caught:
        store.get("sales.orders", "1.0.0")
    error = caught.value
    assert (error.contract_id, error.version, error.rows) == ("sales.orders", "1.0.0", 2)
    assert list(error.fingerprints) == fingerprints
    assert "'sales.orders' version '1.0.0' is stored 2 times" in str(error)
    assert all(fp in str(error) for fp in fingerprints)
    with pytest.raises(DuplicateVersionError):
        store.latest("sales.orders")
    with pytest.raises(DuplicateVersionError):  # one copy matches: the other is not hidden
        store.latest("sales.orders", status="active")
    with pytest.raises(DuplicateVersionError):
        store.list_versions("sales.orders")
    with pytest.raises(DuplicateVersionError):
        store.resolve("sales.orders", "^1")
    with pytest.raises(DuplicateVersionError):
        store.resolve("sales.orders", explain=True)
    assert store.resolve("sales.orders", "<1")["version"] == "0.9.0"
    assert store.get("sales.orders", "0.9.0")["version"] == "0.9.0"


def test_a_lower_duplicated_version_does_not_block_latest(path: Path) -> None:
    append(path, dc43_rows([dc43_document("sales.orders", "0.9.0", status="draft")]))
    assert store_of(path).latest("sales.orders") == ORIGINAL


def test_re_putting_under_a_duplicated_key_is_not_unchanged(path: Path) -> None:
    append(path, dc43_rows([CHANGED]))
    store = store_of(path)
    before = store.table_version
    for document in (ORIGINAL, CHANGED, {**ORIGINAL, "status": "retired"}):
        with pytest.raises(DuplicateVersionError):
            store.put(document)
    batch = store.put_many([ORIGINAL, dc43_document("sales.orders", "2.0.0")], on_error="skip")
    assert [r.version for r in batch.results] == ["2.0.0"]
    assert isinstance(batch.problems[0].error, DuplicateVersionError)
    assert store.table_version == before + 1  # only 2.0.0 was written


def test_the_cli_exits_8_naming_the_key(path: Path, tmp_path: Path) -> None:
    append(path, dc43_rows([CHANGED]))
    got = run("--path", str(path), "get", "sales.orders", "1.0.0")
    assert got.exit_code == 8
    assert "'sales.orders' version '1.0.0' is stored 2 times" in got.stderr
    file = tmp_path / "c.json"
    file.write_text(json.dumps(ORIGINAL))
    assert run("--path", str(path), "put", str(file)).exit_code == 8
    checked = run("--path", str(path), "check", "--json")
    assert checked.exit_code == 8
    report = json.loads(checked.stdout)
    (finding,) = [f for f in report["findings"] if f["check"] == "duplicate_keys"]
    assert finding["severity"] == "error"
    assert finding["details"]["keys"][0]["fingerprints"] == sorted(
        [build_row(ORIGINAL).fingerprint, build_row(CHANGED).fingerprint]
    )
    text = run("--path", str(path), "check")
    assert text.exit_code == 8 and "error: duplicate_keys: 1 key(s)" in text.output


# -- the pure core -------------------------------------------------------------------------

fingerprint = st.sampled_from(["f1", "f2", "f3", None])
rows = st.lists(st.tuples(st.sampled_from(["1.0.0", "2.0.0"]), fingerprint), max_size=8)


@given(rows)
def test_versions_of_refuses_exactly_when_copies_differ(found: list[tuple[str, Any]]) -> None:
    stored = [StoredRow(version, fp, json.dumps({"fp": fp})) for version, fp in found]
    contents: dict[str, set[Any]] = {}
    for row in stored:
        contents.setdefault(row.version, set()).add(row.content)
    if any(len(c) > 1 for c in contents.values()):
        with pytest.raises(DuplicateVersionError):
            versions_of("a", stored)
    else:
        assert sorted(versions_of("a", stored)) == sorted(contents)


@given(rows)
def test_duplicate_keys_lists_every_key_held_twice(found: list[tuple[str, Any]]) -> None:
    keyed = [("a", version, fp, json.dumps({"fp": fp})) for version, fp in found]
    listed = {key.version: key for key in duplicate_keys(keyed)}
    for version in {v for v, _ in found}:
        group = [StoredRow(v, fp, p) for _, v, fp, p in keyed if v == version]
        if len(group) < 2:
            assert version not in listed
            continue
        assert listed[version].rows == len(group)
        assert listed[version].identical == (len({r.content for r in group}) == 1)
        if listed[version].identical:
            assert one_row("a", version, group) == group[0]


def test_a_row_without_fingerprint_counts_by_its_json() -> None:
    payload = json.dumps(ORIGINAL)
    twin = StoredRow("1.0.0", None, json.dumps(ORIGINAL, indent=2))
    assert one_row(
        "a", "1.0.0", [StoredRow("1.0.0", build_row(ORIGINAL).fingerprint, payload), twin]
    )


def test_dc43s_web_app_gets_a_409_for_a_duplicated_key(path: Path) -> None:
    starlette = need("starlette.exceptions")
    from dc43_delta_store import Dc43ContractStore

    append(path, dc43_rows([CHANGED]))
    with pytest.raises(DuplicateVersionError) as caught:
        Dc43ContractStore(path=path, validation="off").get("sales.orders", "1.0.0")
    assert isinstance(caught.value, starlette.HTTPException)
    assert caught.value.status_code == 409


def test_the_error_crosses_process_boundaries_whole(path: Path) -> None:
    """multiprocessing pickles a worker's exception: it arrives with its type, message and
    fields (a worker pool checking tables reports which key and which fingerprints)."""
    append(path, dc43_rows([CHANGED]))
    with pytest.raises(DuplicateVersionError) as caught:
        store_of(path).get("sales.orders", "1.0.0")
    arrived = pickle.loads(pickle.dumps(caught.value))
    assert type(arrived) is DuplicateVersionError and str(arrived) == str(caught.value)
    assert (arrived.contract_id, arrived.version, arrived.rows) == ("sales.orders", "1.0.0", 2)
    assert arrived.fingerprints == caught.value.fingerprints and len(arrived.fingerprints) == 2
