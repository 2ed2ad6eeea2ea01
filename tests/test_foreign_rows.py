"""Rows other tools wrote that no read can answer with — a null ``contract_id``, ``version`` or
``json``, or a ``json`` that holds no JSON object — are skipped by every read: the library,
the dc43 adapter (and dc43's web app over it) and the CLI answer as if the row were not
there, and ``check`` lists them with the keys it knows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, write_deltalake
from hypothesis import given
from hypothesis import strategies as st

from dc43_delta_store import (
    CompatibilityError,
    ContractNotFoundError,
    Dc43ContractStore,
    DeltaContractStore,
)
from dc43_delta_store.cli.commands import cli
from dc43_delta_store.table.queries import object_like, payload_document

from .dc43_tables import dc43_document, dc43_row, dc43_table

GOOD = [
    dc43_document("sales.orders", "1.0.0", status="active"),
    dc43_document("sales.orders", "1.1.0", status="active"),
]
BROKEN = {  # what another tool left in the row of sales.orders 2.0.0 (and ghost 1.0.0)
    "null version": {"version": None},
    "null json": {"json": None},
    "null contract_id": {"contract_id": None},
    "json not JSON": {"json": "{not json"},
    "json truncated": {"json": '{"id": "sales.orders", "version": "2.0.0"'},
    "json an array": {"json": "[1]"},
    "json a string": {"json": '"text"'},
    "json null": {"json": "null"},
    "json empty": {"json": ""},
}
NULLS = {"null version", "null json", "null contract_id"}


def foreign_append(path: Path, contract_id: str, version: str, broken: dict[str, Any]) -> None:
    """Another tool's plain append of one row (deltalake's writer, the table's own schema)."""
    schema = pa.schema(DeltaTable(path).schema().to_arrow())
    row = {**dc43_row(dc43_document(contract_id, version, status="active")), **broken}
    write_deltalake(
        path,
        pa.Table.from_pylist([{f.name: row.get(f.name) for f in schema}], schema),
        mode="append",
    )


@pytest.fixture(params=["dc43", "store"])
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """dc43's seven nullable columns, or the store's own table made nullable by another
    engine (deltalake's ``drop_column_not_null``, as a schema-evolving MERGE leaves it)."""
    path = tmp_path / "t"
    if request.param == "dc43":
        return dc43_table(path, GOOD)
    DeltaContractStore(path=path, validation="off").put_many(GOOD)
    for column in ("contract_id", "version", "json"):
        DeltaTable(path).alter.drop_column_not_null(column)
    return path


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("kind", BROKEN)
def test_every_read_skips_the_row(table: Path, kind: str) -> None:
    foreign_append(table, "sales.orders", "2.0.0", BROKEN[kind])
    foreign_append(table, "ghost", "1.0.0", BROKEN[kind])
    store = DeltaContractStore(path=table)
    version = DeltaTable(table).version()

    assert store.latest("sales.orders") == GOOD[1]
    assert store.latest("sales.orders", status="active") == GOOD[1]
    assert store.latest("sales.orders", as_of=version) == GOOD[1]
    assert store.resolve("sales.orders", "^1") == GOOD[1]
    assert store.resolve("sales.orders", "^2") is None
    explained = store.resolve("sales.orders", explain=True)
    assert explained.chosen == "1.1.0" and explained.document == GOOD[1]
    assert [c.version for c in explained.candidates] in (["1.1.0", "1.0.0"], ["1.0.0", "1.1.0"])
    assert store.list_versions("sales.orders") == ["1.0.0", "1.1.0"]
    assert store.exists("sales.orders") and not store.exists("sales.orders", "2.0.0")
    with pytest.raises(ContractNotFoundError):
        store.get("sales.orders", "2.0.0")
    assert store.get("sales.orders", "1.0.0") == GOOD[0]
    assert store.list_versions("ghost") == [] and store.latest("ghost") is None
    assert not store.exists("ghost")
    # A contract whose every row holds a payload that is not a JSON object is still listed:
    # ruling that out would parse every payload of the table (see table/lookups.py)
    listed = ["sales.orders"] if kind in NULLS else ["ghost", "sales.orders"]
    assert store.list_contracts() == listed
    assert len(store.changes().events) >= 2  # the feed reads commits, not rows

    adapter = Dc43ContractStore(store=store)
    assert adapter.latest("sales.orders").version == "1.1.0"  # type: ignore[union-attr]
    assert adapter.list_versions("sales.orders") == ["1.0.0", "1.1.0"]
    with pytest.raises(ContractNotFoundError):
        adapter.get("sales.orders", "2.0.0")

    latest = run("--path", str(table), "latest", "sales.orders", "--json")
    assert latest.exit_code == 0, latest.output
    assert json.loads(latest.stdout) == GOOD[1]
    got = run("--path", str(table), "get", "sales.orders", "2.0.0")
    assert got.exit_code == 3 and "not found" in got.stderr
    resolved = run("--path", str(table), "resolve", "sales.orders", "^1", "--explain")
    assert resolved.exit_code == 0, resolved.output
    assert run("--path", str(table), "changes").exit_code == 0

    report = store.check()
    (finding,) = [
        f for f in report.findings if f.check in ("rows_without_identity", "invalid_payloads")
    ]
    assert finding.details["rows"] == 2 and finding.severity == "warning"
    keys = {(key["contract_id"], key["version"]) for key in finding.details["keys"]}
    expected = {("sales.orders", "2.0.0"), ("ghost", "1.0.0")}
    if kind == "null version":
        expected = {(c, None) for c, _ in expected}
    elif kind == "null contract_id":
        expected = {(None, v) for _, v in expected}
    assert keys == expected
    assert finding.check == ("rows_without_identity" if kind in NULLS else "invalid_payloads")


def test_a_broken_copy_of_a_stored_version_is_not_a_duplicate(table: Path) -> None:
    """Another tool appended a broken second row of 1.1.0: the good one still answers,
    and check reports the broken row, not a duplicated key."""
    foreign_append(table, "sales.orders", "1.1.0", {"json": "{not json"})
    store = DeltaContractStore(path=table)
    assert store.get("sales.orders", "1.1.0") == GOOD[1]
    assert store.latest("sales.orders") == GOOD[1]
    assert store.list_versions("sales.orders") == ["1.0.0", "1.1.0"]
    checks = {f.check for f in store.check().findings}
    assert "invalid_payloads" in checks and "duplicate_keys" not in checks


def test_the_highest_version_broken_after_it_was_read_is_skipped_from_then_on(
    tmp_path: Path,
) -> None:
    """A long-lived store answered 2.0.0; another tool then broke its payload (an overwrite
    of that row): the store's remembered answers give way to the next readable version."""
    path = dc43_table(tmp_path / "t", [*GOOD, dc43_document("sales.orders", "2.0.0")])
    store = DeltaContractStore(path=path)
    assert store.latest("sales.orders")["version"] == "2.0.0"  # type: ignore[index]
    assert store.list_versions("sales.orders") == ["1.0.0", "1.1.0", "2.0.0"]
    DeltaTable(path).update(
        updates={"json": "'{broken'"},
        predicate="contract_id = 'sales.orders' AND version = '2.0.0'",
    )
    assert store.latest("sales.orders") == GOOD[1]
    assert store.list_versions("sales.orders") == ["1.0.0", "1.1.0"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)
TEXTS = st.one_of(
    JSON_VALUES.map(json.dumps),
    JSON_VALUES.map(json.dumps).flatmap(lambda t: st.integers(0, len(t)).map(lambda i: t[:i])),
    JSON_VALUES.map(json.dumps).flatmap(
        lambda t: st.tuples(st.integers(0, len(t)), st.text(max_size=3)).map(
            lambda cut: t[: cut[0]] + cut[1] + t[cut[0] :]
        )
    ),
    st.text(),
)


@given(st.lists(TEXTS, min_size=1, max_size=20))
def test_checks_vectorised_prefilter_never_passes_a_payload_reads_skip(texts: list[str]) -> None:
    """check counts unreadable payloads by Polars' JSON reader first, then parses those it
    refuses as reads do: it must refuse every text reads skip, or check would miss it."""
    passed = pl.DataFrame({"json": texts}).select(object_like(pl.col("json")))["json"]
    for text, ok in zip(texts, passed.to_list(), strict=True):
        if payload_document(text) is None:
            assert not ok, text
        elif ok:
            assert payload_document(text) == json.loads(text)


def test_the_compatibility_gate_compares_with_the_readable_versions_only(table: Path) -> None:
    """Under a policy, put reads the stored versions of the contract: rows reads skip are
    not among them (a null version, an unreadable json), and the gate still judges."""
    foreign_append(table, "sales.orders", "1.5.0", {"version": None})
    foreign_append(table, "sales.orders", "1.6.0", {"json": "{not json"})
    store = DeltaContractStore(path=table, validation="off")
    store.set_compatibility("full")
    columns = [{"name": "orders", "properties": [{"name": "id", "required": True}]}]
    assert store.put(dc43_document("sales.orders", "2.0.0", schema=columns)).inserted
    with pytest.raises(CompatibilityError, match=r"'sales\.orders' version '2\.1\.0'"):
        store.put(dc43_document("sales.orders", "2.1.0", schema=[{"name": "orders"}]))
    assert store.list_versions("sales.orders") == ["1.0.0", "1.1.0", "2.0.0"]


def test_a_long_lived_store_skips_rows_appended_after_it_answered(table: Path) -> None:
    """Answers remembered before another tool's broken rows arrive: the store follows the
    commits and goes on answering as if they were not there."""
    store = DeltaContractStore(path=table)
    assert store.latest("sales.orders") == GOOD[1] and store.list_contracts() == ["sales.orders"]
    for kind in NULLS | {"json not JSON"}:
        foreign_append(table, "sales.orders", "3.0.0", BROKEN[kind])
        assert store.latest("sales.orders") == GOOD[1], kind
        assert store.list_versions("sales.orders") == ["1.0.0", "1.1.0"], kind
        assert store.list_contracts() == ["sales.orders"], kind
        newest = store.table_version
        assert newest is not None and store.changes(since=newest - 1).events[0].kind == "unknown"
