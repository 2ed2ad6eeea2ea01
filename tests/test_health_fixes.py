"""Every fix ``check`` gives works: on tables broken as other tools break them, the fixes are
followed as a user would read them — the CLI command it names, the SQL DELETE it spells (run
with deltalake's own ``DeltaTable.delete``), the README's rewrite — one at a time, until
``check`` says healthy; every readable contract version reads the same before and after."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, write_deltalake

from dc43_delta_store import DeltaContractStore, DuplicateVersionError
from dc43_delta_store.cli.commands import cli
from dc43_delta_store.core.health import WITHOUT_IDENTITY, Finding

from .conftest import ROOT
from .dc43_tables import DC43_SCHEMA, append, dc43_document, dc43_row, dc43_rows, dc43_table

README = (ROOT / "README.md").read_text(encoding="utf-8")
REWRITE = next(
    block
    for block in re.findall(r"```python\n(.*?)```", README, re.S)
    if 'schema_mode="overwrite"' in block
)
"""The README's rewrite of columns of another type (Tables other tools wrote)."""
DOCUMENTS = [dc43_document("sales.orders", v, status="active") for v in ("1.0.0", "1.1.0")]


def follow(path: Path, finding: Finding) -> None:
    """Do what ``finding.fix`` says, as written."""
    fix = finding.fix
    assert fix, finding
    if fix.startswith("set or delete the rows holding nulls in "):
        columns = finding.details["with_nulls"]
        DeltaTable(path).delete(" OR ".join(f"{column} IS NULL" for column in columns))
        fix = fix.split(", then ", 1)[1]
    if finding.check == "file_schemas" and finding.details["alone_in_partition"]:
        assert "DeltaTable(<table>).optimize.z_order(['version'], partition_filters=" in fix
        for contract_id in finding.details["alone_in_partition"].values():
            DeltaTable(path).optimize.z_order(
                ["version"], partition_filters=[("contract_id", "=", contract_id)]
            )
    if fix.startswith("dc43-delta-store "):
        command = re.split(r" \(|, ", fix)[0].split()[1:]
        modes = ("<mode>", "none|backward|forward|full")
        command = ["full" if word in modes else word for word in command if word[0] != "["]
        result = CliRunner().invoke(cli, ["--path", str(path), *command])
        assert result.exit_code == 0, (fix, result.output)
    elif finding.check == "rows_without_identity":
        assert f"DELETE FROM <table> WHERE {WITHOUT_IDENTITY}" in fix
        DeltaTable(path).delete(WITHOUT_IDENTITY)
    elif finding.check == "invalid_payloads":
        assert "DELETE FROM <table> WHERE contract_id = '<id>' AND version = '<version>'" in fix
        assert finding.details["rows"] == len(finding.details["keys"])  # all of them shown
        for key in finding.details["keys"]:
            where = f"contract_id = '{key['contract_id']}' AND version = '{key['version']}'"
            DeltaTable(path).delete(where)
    elif finding.check == "duplicate_keys":
        assert "AND fingerprint = '<wrong one>'" in fix and "put the version again" in fix
        store = DeltaContractStore(path=path, validation="off")
        for key in finding.details["keys"]:
            where = f"contract_id = '{key['contract_id']}' AND version = '{key['version']}'"
            if key["identical"]:  # delete them all, then put the version again
                document = store.get(key["contract_id"], key["version"])
                DeltaTable(path).delete(where)
                store.put(document)
            else:  # the wrong one: here, the one that is not the document's fingerprint
                wrong = next(f for f in key["fingerprints"] if f != "f-right")
                DeltaTable(path).delete(f"{where} AND fingerprint = '{wrong}'")
    elif finding.check == "foreign_column_types":
        assert "see README, Tables other tools wrote" in fix
        wanted = {"string": "pa.string()", "boolean": "pa.bool_()"}
        columns = ", ".join(
            f"{name!r}: {wanted[to]}" for name, (_, to) in finding.details["columns"].items()
        )
        code = REWRITE.replace('"/data/contracts"', repr(str(path)))
        code = code.replace('{"status": pa.string()}', "{" + columns + "}")
        exec(code, {})
    else:
        raise AssertionError(f"no way to follow {finding.check}: {fix}")


def heal(path: Path, *, last_first: bool = False) -> list[str]:
    """Follow the first finding's fix (``last_first``: the last one's) until the table is
    healthy; the checks followed."""
    store = DeltaContractStore(path=path)
    readable = {}
    for contract_id in store.list_contracts():
        try:
            versions = store.list_versions(contract_id)
        except DuplicateVersionError:  # the copy check's fix deletes: not compared
            continue
        readable.update({(contract_id, v): store.get(contract_id, v) for v in versions})
    followed: list[str] = []
    for _ in range(12):
        findings = DeltaContractStore(path=path).check().findings
        if not findings:
            break
        finding = findings[-1] if last_first else findings[0]
        followed.append(finding.check)
        follow(path, finding)
    else:
        raise AssertionError(f"still unhealthy after following {followed}: {findings}")
    store = DeltaContractStore(path=path)
    assert {k: store.get(*k) for k in readable} == readable
    assert CliRunner().invoke(cli, ["--path", str(path), "check"]).exit_code == 0
    return followed


def foreign_append(path: Path, key: tuple[str, str], **broken: Any) -> None:
    """Another tool's plain append of one row, in the table's own schema."""
    schema = pa.schema(DeltaTable(path).schema().to_arrow())
    row = {**dc43_row(dc43_document(*key, status="active")), **broken}
    table = pa.Table.from_pylist([{f.name: row.get(f.name) for f in schema}], schema)
    write_deltalake(path, table, mode="append")


def test_a_dc43_table_other_tools_broke_heals_by_its_fixes(tmp_path: Path) -> None:
    path = dc43_table(tmp_path / "t", DOCUMENTS)
    foreign_append(path, ("sales.orders", "2.0.0"), version=None)
    foreign_append(path, ("sales.orders", "2.1.0"), json=None)
    foreign_append(path, ("ghost", "1.0.0"), contract_id=None)
    foreign_append(path, ("sales.orders", "3.0.0"), json="{not json")
    foreign_append(path, ("sales.orders", "3.1.0"), json="[1]")
    append(path, dc43_rows(DOCUMENTS[:1]))  # an identical copy of 1.0.0
    row = dc43_row(dc43_document("finance.ledger", "1.0.0"))
    append(path, pa.Table.from_pylist([{**row, "fingerprint": "f-right"}], DC43_SCHEMA))
    append(
        path, pa.Table.from_pylist([{**row, "fingerprint": "f-wrong", "name": "x"}], DC43_SCHEMA)
    )
    assert set(heal(path)) >= {"nullable_required_columns", "duplicate_keys", "invalid_payloads"}
    store = DeltaContractStore(path=path)
    assert store.list_versions("sales.orders") == ["1.0.0", "1.1.0"]
    assert store.get("finance.ledger", "1.0.0")["id"] == "finance.ledger"
    assert all(not f.nullable for f in DeltaTable(path).schema().fields if f.name == "version")


def test_rows_without_identity_heal_by_their_delete_then_adopt(tmp_path: Path) -> None:
    """Followed from the last finding: adopt first (it fills the derived columns and leaves
    the columns holding nulls nullable), then the DELETE, then adopt makes them NOT NULL."""
    path = dc43_table(tmp_path / "t", DOCUMENTS)
    foreign_append(path, ("sales.orders", "2.0.0"), version=None)
    foreign_append(path, ("ghost", "1.0.0"), contract_id=None)
    foreign_append(path, ("sales.orders", "2.1.0"), json=None)
    nullable = DeltaContractStore(path=path).check().findings[0]
    assert nullable.details["with_nulls"] == ["contract_id", "version", "json"]
    followed = heal(path, last_first=True)
    assert "nullable_required_columns" in followed[followed.index("rows_without_identity") :]
    assert "missing_derived_columns" in followed


def test_required_columns_another_engine_made_nullable_heal_by_adopt(tmp_path: Path) -> None:
    path = tmp_path / "t"
    store = DeltaContractStore(path=path, validation="off")
    store.put_many(DOCUMENTS)
    for column in ("contract_id", "json"):
        DeltaTable(path).alter.drop_column_not_null(column)
    # (the data files still say NOT NULL: file_schemas, which adopt's rewrite clears too)
    findings = {f.check: f for f in store.check().findings}
    assert set(findings) == {"nullable_required_columns", "file_schemas"}
    finding = findings["nullable_required_columns"]
    assert finding.details == {"columns": ["contract_id", "json"], "with_nulls": []}
    assert finding.fix == "dc43-delta-store adopt --apply"
    assert heal(path) == ["nullable_required_columns"]
    nullable = {f.name: f.nullable for f in DeltaTable(path).schema().fields}
    assert not nullable["contract_id"] and not nullable["json"]


def test_a_column_of_another_type_heals_by_the_readmes_rewrite(tmp_path: Path) -> None:
    """Another tool rewrote the table with ``status`` as a long: writes and adopt refuse
    it; check's fix (the README's rewrite) makes it writable, then healthy."""
    path = tmp_path / "t"
    DeltaContractStore(path=path, validation="off").put_many(DOCUMENTS)
    data = DeltaTable(path).to_pyarrow_table()
    at = data.schema.get_field_index("status")
    data = data.set_column(at, pa.field("status", pa.int64()), pa.array([1, 2], pa.int64()))
    write_deltalake(path, data, mode="overwrite", schema_mode="overwrite")
    store = DeltaContractStore(path=path, validation="off")
    findings = {f.check: f for f in store.check().findings}
    assert set(findings) == {"foreign_column_types"}
    assert findings["foreign_column_types"].details == {"columns": {"status": ["int64", "string"]}}
    assert heal(path) == ["foreign_column_types"]
    assert store.put(dc43_document("sales.orders", "1.2.0", status="active")).inserted
    assert store.latest("sales.orders", status="2")["version"] == "1.1.0"  # type: ignore[index]


def test_a_seven_column_table_with_a_long_status_waits_for_the_types_before_adopt(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t"
    rows = dc43_rows(DOCUMENTS).append_column("status", pa.array([1, 2], pa.int64()))
    write_deltalake(path, rows)
    findings = DeltaContractStore(path=path).check().findings
    assert [f.check for f in findings] == [
        "foreign_column_types",
        "nullable_required_columns",
        "missing_derived_columns",
    ]
    assert findings[2].fix == "dc43-delta-store adopt --apply, once foreign_column_types is fixed"
    assert heal(path) == [
        "foreign_column_types",
        "nullable_required_columns",
    ]  # adopt fixed the derived columns too


@pytest.mark.parametrize("value", ["none_transitive", "strict"])
def test_a_policy_the_store_cannot_read_heals_by_its_fix(tmp_path: Path, value: str) -> None:
    path = tmp_path / "t"
    DeltaContractStore(path=path, validation="off").put_many(DOCUMENTS)
    DeltaTable(path).alter.set_table_properties(
        {"dc43.compatibility": value}, raise_if_not_exists=False
    )
    assert heal(path) == ["compatibility_settings"]
    assert DeltaContractStore(path=path).compatibility_settings().policy.mode == "full"


def test_a_column_mapped_table_heals_by_its_copy(tmp_path: Path) -> None:
    """column_mapping's fix: copy the rows into a table without it (here with deltalake, the
    rows as the store reads them); the copy then heals by its own fixes."""
    mapped = tmp_path / "mapped"
    write_deltalake(
        mapped,
        dc43_rows(DOCUMENTS),
        partition_by=["contract_id"],
        configuration={"delta.columnMapping.mode": "name"},
    )
    store = DeltaContractStore(path=mapped)
    (finding,) = [f for f in store.check().findings if f.check == "column_mapping"]
    assert finding.fix is not None and "copy the rows into a table without column mapping" in (
        finding.fix
    )
    copy = tmp_path / "copy"
    write_deltalake(copy, store.scan().collect().to_arrow(), partition_by=["contract_id"])
    heal(copy)
    assert DeltaContractStore(path=copy).list_versions("sales.orders") == ["1.0.0", "1.1.0"]
