"""The command line, in-process and as the installed console script, as a CI job uses it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import click
import pyarrow as pa
import pytest
from click.testing import CliRunner, Result
from deltalake import DeltaTable, write_deltalake

from dc43_delta_store import ContractNotFoundError, DeltaContractStore
from dc43_delta_store.cli import EXIT_CODES, cli
from dc43_delta_store.core.canonical import fingerprint
from dc43_delta_store.core.documents import load_document

from .conftest import EXAMPLES, ROOT, minimal, skip_unless_ci

SCRIPT = Path(sys.executable).parent / "dc43-delta-store"


def run(*args: str, table: Path | None = None) -> Result:
    prefix = ["--path", str(table)] if table is not None else []
    return CliRunner().invoke(cli, [*prefix, *args], catch_exceptions=False)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "contracts"
    shutil.copytree(EXAMPLES, target)
    return target


def test_hidden_folders_and_files_are_not_contracts(tmp_path: Path, folder: Path) -> None:
    (folder / ".github" / "workflows").mkdir(parents=True)
    (folder / ".github" / "workflows" / "ci.yaml").write_text("on: [push]\njobs: {}\n")
    (folder / "sales" / ".draft.yaml").write_text("id: [\n")
    listed = json.loads(run("validate", str(folder), "--json").stdout)
    assert len(listed) == 6 and not any("/." in row["file"] for row in listed)
    table = tmp_path / "table"
    ingested = run("ingest", str(folder), "--json", table=table)
    assert ingested.exit_code == 0, ingested.output
    assert [row["outcome"] for row in json.loads(ingested.stdout)] == ["inserted"] * 6


def test_validate_reports_each_file_and_writes_junit(tmp_path: Path, folder: Path) -> None:
    (folder / "broken.yaml").write_text("id: x\nversion: 1.10\n", encoding="utf-8")
    (folder / "schema-violation.json").write_text(
        '{"id": "y", "version": "1.0.0", "apiVersion": "v3.1.0", "kind": "Nope"}', encoding="utf-8"
    )
    report = tmp_path / "junit.xml"
    result = run("validate", str(folder), "--junit-xml", str(report))
    assert result.exit_code == EXIT_CODES["invalid"]
    assert "6 valid, 0 warning, 2 invalid" in result.stderr
    assert re.search(r"invalid\s+\S+broken.yaml\s+.*quote it", result.stdout)
    suite = ElementTree.parse(report).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("8", "2")
    failed = [case.get("name") for case in suite if case.find("failure") is not None]
    assert sorted(Path(name).name for name in failed) == ["broken.yaml", "schema-violation.json"]
    warn = run("validate", str(folder / "schema-violation.json"), "--policy", "warn", "--json")
    assert warn.exit_code == 0 and json.loads(warn.stdout)[0]["outcome"] == "warning"


def test_ingest_plans_writes_once_and_reruns_as_unchanged(tmp_path: Path, folder: Path) -> None:
    table = tmp_path / "table"
    planned = run("ingest", str(folder), "--dry-run", "--nl", table=table)
    assert planned.exit_code == 0
    assert {json.loads(line)["outcome"] for line in planned.stdout.splitlines()} == {"new"}
    assert not table.exists()
    first = run(
        "ingest", str(folder), "--json", "--who", "ci", "--why", "merge to main", table=table
    )
    assert first.exit_code == 0, first.stderr
    assert [row["outcome"] for row in json.loads(first.stdout)] == ["inserted"] * 6
    assert "6 inserted; table version 1" in first.stderr
    second = run("ingest", str(folder), "--json", table=table)
    assert [row["outcome"] for row in json.loads(second.stdout)] == ["unchanged"] * 6
    assert "nothing written" in second.stderr
    (commit,) = json.loads(run("history", "--json", "--limit", "1", table=table).stdout)
    assert (commit["operation"], commit["user"], commit["reason"]) == (
        "WRITE",
        "ci",
        "merge to main",
    )


def committed(folder: Path) -> str:
    """``folder`` made a Git repository with everything committed; the commit's hash."""
    if shutil.which("git") is None:
        skip_unless_ci("git is not installed")
    git = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "contracts"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    return head.stdout.strip()


def test_ingest_records_the_files_and_the_git_commit(tmp_path: Path, folder: Path) -> None:
    head = committed(folder)
    table = tmp_path / "table"
    assert run("ingest", str(folder), table=table).exit_code == 0
    from deltalake import DeltaTable

    info = DeltaTable(str(table)).history(1)[0]
    assert info["git_commit"] == head and info["git_dirty"] is False
    assert info["sources"]["sales.orders@1.0.0"] == "sales/orders-1.0.0.odcs.yaml"
    (folder / "new.yaml").write_text(  # an uncommitted file: the work tree is dirty
        "apiVersion: v3.1.0\nkind: DataContract\nid: new.one\nversion: 1.0.0\nstatus: active\n"
    )
    assert run("ingest", str(folder), table=table).exit_code == 0
    header, _, dirty, clean, _ = run("history", table=table).stdout.splitlines()
    assert header.split()[-2:] == ["git_commit", "git_dirty"]
    assert dirty.split()[-2:] == [head, "yes"] and clean.split()[-2:] == [head, "no"]


def test_ingest_refuses_a_folder_with_problems_unless_told_to_skip(
    tmp_path: Path, folder: Path
) -> None:
    table = tmp_path / "table"
    assert run("ingest", str(folder), table=table).exit_code == 0
    changed = folder / "sales" / "orders-1.0.0.odcs.yaml"
    changed.write_text(changed.read_text().replace("name: Orders", "name: Orders v2"))
    (folder / "new.yaml").write_text(
        "apiVersion: v3.1.0\nkind: DataContract\nid: new.one\nversion: 1.0.0\nstatus: active\n"
    )
    (folder / "broken.yaml").write_text("id: [\n")
    refused = run("ingest", str(folder), "--json", table=table)
    assert refused.exit_code == EXIT_CODES["conflict"]  # a conflict outranks an invalid file
    outcomes = {
        row["source"].rsplit("/", 1)[-1]: row["outcome"] for row in json.loads(refused.stdout)
    }
    assert outcomes["orders-1.0.0.odcs.yaml"] == "conflict" and outcomes["new.yaml"] == "new"
    assert outcomes["broken.yaml"] == "invalid"
    assert "nothing written" in refused.stderr
    assert run("latest", "new.one", table=table).exit_code == EXIT_CODES["not_found"]
    skipped = run("ingest", str(folder), "--skip-bad", table=table)
    assert skipped.exit_code == 0
    assert run("latest", "new.one", table=table).exit_code == 0


def test_reads_and_governance_commands(tmp_path: Path, folder: Path) -> None:
    table = tmp_path / "table"
    run("ingest", str(folder), table=table)
    latest = run("latest", "sales.orders", "--status", "active", "--json", table=table)
    assert json.loads(latest.stdout)["version"] == "1.1.0"
    assert (
        "version: 1.1.0" in run("latest", "sales.orders", "--status", "active", table=table).stdout
    )
    rc = run(
        "latest", "sales.orders", "--include-prereleases", "--filter", "status=active", table=table
    )
    assert "version: 1.2.0-rc.1" in rc.stdout
    assert (
        json.loads(run("get", "sales.orders", "1.0.0", "--json", table=table).stdout)["id"]
        == "sales.orders"
    )
    listed = json.loads(run("list", "--json", table=table).stdout)
    assert [(r["contract_id"], r["versions"], r["latest"]) for r in listed] == [
        ("finance.invoices", 1, "1.0.0"),
        ("sales.customers", 1, "1.0.0"),
        ("sales.orders", 4, "2.0.0"),
    ]
    rc = tmp_path / "orders-3.0.0-rc.1.yaml"
    source = (folder / "sales" / "orders-2.0.0.odcs.yaml").read_text()
    rc.write_text(source.replace("version: 2.0.0", "version: 3.0.0-rc.1"))
    assert run("put", str(rc), table=table).exit_code == 0
    listed = json.loads(run("list", "--json", table=table).stdout)
    assert (listed[-1]["versions"], listed[-1]["latest"]) == (5, "2.0.0")  # as latest() answers
    versions = [
        json.loads(line)["version"]
        for line in run("versions", "sales.orders", "--nl", table=table).stdout.splitlines()
    ]
    assert versions == ["1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0", "3.0.0-rc.1"]
    assert run("add-columns", "owner=string", "--who", "steward", table=table).exit_code == 0
    assert (
        run(
            "set-metadata",
            "sales.orders",
            "2.0.0",
            "status=Validated",
            "owner=sales",
            "--if-match",
            "status=draft",
            "--why",
            "approved",
            table=table,
        ).exit_code
        == 0
    )
    approved = json.loads(
        run("latest", "sales.orders", "--status", "Validated", "--json", table=table).stdout
    )
    assert approved["version"] == "2.0.0" and approved["status"] == "draft"  # the document as put
    stale = run(
        "set-metadata",
        "sales.orders",
        "2.0.0",
        "status=x",
        "--if-match",
        "status=draft",
        table=table,
    )
    assert stale.exit_code == EXIT_CODES["conflict"]
    query = "SELECT contract_id, version, owner FROM contracts_latest ORDER BY contract_id"
    assert json.loads(run("sql", query, "--json", table=table).stdout)[-1] == {
        "contract_id": "sales.orders",
        "version": "2.0.0",
        "owner": "sales",
    }
    assert run("add-columns", "ratio=double", table=table).exit_code == 0
    ratio = run("set-metadata", "sales.orders", "2.0.0", "ratio=1.5", table=table)
    assert ratio.exit_code == 0, ratio.output
    bad = run("set-metadata", "sales.orders", "2.0.0", "ratio=abc", table=table)
    assert bad.exit_code == EXIT_CODES["usage"]
    assert "ratio=abc: 'abc' is not a double: write a decimal number such as 1.5" in bad.stderr
    ratios = "SELECT ratio FROM contracts WHERE version = '2.0.0'"
    assert json.loads(run("sql", ratios, "--json", table=table).stdout) == [{"ratio": 1.5}]
    assert run("set-metadata", "sales.orders", "2.0.0", "owner=a=b", table=table).exit_code == 0
    assert json.loads(run("sql", query, "--json", table=table).stdout)[-1]["owner"] == "a=b"
    cleared = run("set-metadata", "sales.orders", "2.0.0", "owner=", table=table)  # unset it
    assert cleared.exit_code == 0, cleared.output
    assert json.loads(run("sql", query, "--json", table=table).stdout)[-1]["owner"] is None
    assert run("sql", "DELETE FROM contracts", table=table).exit_code == EXIT_CODES["usage"]
    assert run("optimize", table=table).exit_code == 0
    vacuum = run("vacuum", "--json", table=table)
    assert vacuum.exit_code == 0 and json.loads(vacuum.stdout) == []
    as_of = run("versions", "sales.orders", "--as-of", "1", "--json", table=table)
    assert [row["version"] for row in json.loads(as_of.stdout)] == [
        "1.0.0",
        "1.1.0",
        "1.2.0-rc.1",
        "2.0.0",
    ]


def test_versions_prints_each_versions_status_time_and_fingerprint(tmp_path: Path) -> None:
    table = tmp_path / "table"
    store = DeltaContractStore(path=table, validation="off")
    put = {
        v: store.put(minimal("x", v, status=s))
        for v, s in [("1.10.0", "draft"), ("1.9.0", "active")]
    }
    store.update_metadata("x", "1.9.0", {"status": "Validated"})
    rows = json.loads(run("versions", "x", "--json", table=table).stdout)
    assert [set(row) for row in rows] == [{"version", "status", "created_at", "fingerprint"}] * 2
    assert [(r["version"], r["status"], r["fingerprint"]) for r in rows] == [
        ("1.9.0", "Validated", put["1.9.0"].fingerprint),
        ("1.10.0", "draft", put["1.10.0"].fingerprint),
    ]
    created = datetime.fromisoformat(rows[0]["created_at"])
    assert abs((datetime.now(UTC) - created).total_seconds()) < 600
    text = run("versions", "x", table=table).stdout
    assert put["1.9.0"].fingerprint in text and "Validated" in text
    assert run("versions", "nope", table=table).exit_code == 3


# The README's exit codes, written out here: a test must not read the CLI's own table.
README_EXIT_CODES = {
    0: "success",
    1: "unexpected error",
    2: "usage error",
    3: "not found",
    4: "version conflict",
    5: "invalid contract",
    6: "store unavailable",
    7: "incompatible",
    8: "the table needs attention",
}


def test_the_readme_states_the_exit_codes() -> None:
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    paragraph = text[text.index("Exit codes:") :].split("Typed values")[0]
    for code, meaning in README_EXIT_CODES.items():
        assert f"**{code}** {meaning}" in paragraph, (code, meaning)


def test_exit_codes(tmp_path: Path, folder: Path) -> None:
    table = tmp_path / "table"
    assert run("list").exit_code == 2  # no table given
    assert run("list", "--bogus", table=table).exit_code == 2
    assert run("get", "nope", "1.0.0", table=table).exit_code == 3
    orders = folder / "sales" / "orders-1.0.0.odcs.yaml"
    assert run("put", str(orders), table=table).exit_code == 0
    assert run("get", "nope", "1.0.0", table=table).exit_code == 3
    changed = tmp_path / "changed.yaml"
    changed.write_text(orders.read_text().replace("Orders", "Other"))
    conflict = run("put", str(changed), table=table)
    assert conflict.exit_code == 4
    assert "already exists with fingerprint" in conflict.stderr and conflict.stdout == ""
    stale = run(
        "set-metadata", "sales.orders", "1.0.0", "status=x", "--if-match", "status=y", table=table
    )
    assert stale.exit_code == 4
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: a\n")
    assert run("put", str(bad), table=table).exit_code == 5
    assert run("sql", "DELETE FROM contracts", table=table).exit_code == 2
    bigger = run("diff", str(orders), str(changed), "--fail-on", "patch")
    assert bigger.exit_code == 7, bigger.output
    unreachable = CliRunner().invoke(
        cli,
        [
            "--path",
            "s3://bucket/contracts",
            "--storage-option",
            "AWS_ENDPOINT_URL=http://127.0.0.1:9",
            "--storage-option",
            "AWS_ALLOW_HTTP=true",
            "--storage-option",
            "AWS_REGION=us-east-1",
            "--storage-option",
            "max_retries=0",
            "list",
        ],
    )
    assert unreachable.exit_code == 6
    assert "cannot read table s3://bucket/contracts" in unreachable.stderr
    twice = dict(pa.table(DeltaTable(str(table)).to_pyarrow_table()).to_pylist()[0])
    twice["fingerprint"] = "0" * 64  # another writer stored the version again, differently
    write_deltalake(str(table), pa.Table.from_pylist([twice], schema=_schema(table)), mode="append")
    duplicated = run("get", "sales.orders", "1.0.0", table=table)
    assert duplicated.exit_code == 8 and "sales.orders" in duplicated.stderr
    assert EXIT_CODES == {
        "success": 0,
        "error": 1,
        "usage": 2,
        "not_found": 3,
        "conflict": 4,
        "invalid": 5,
        "unavailable": 6,
        "incompatible": 7,
        "table": 8,
    }


def _schema(table: Path) -> pa.Schema:
    return pa.schema(DeltaTable(str(table)).schema().to_arrow())


def test_the_console_script_pipes_json(tmp_path: Path, folder: Path) -> None:
    env = dict(os.environ, DC43_DELTA_STORE_PATH=str(tmp_path / "table"))
    ingest = subprocess.run(
        [str(SCRIPT), "ingest", str(folder)], env=env, capture_output=True, text=True
    )
    assert ingest.returncode == 0, ingest.stderr
    latest = subprocess.run(
        [str(SCRIPT), "latest", "sales.orders", "--status", "active", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    version = subprocess.run(
        [sys.executable, "-c", "import json, sys; print(json.load(sys.stdin)['version'])"],
        input=latest.stdout,
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "1.1.0"
    module = subprocess.run(
        [sys.executable, "-m", "dc43_delta_store", "get", "nope", "1"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert module.returncode == EXIT_CODES["not_found"] and "not found" in module.stderr


def test_every_command_and_option_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    cli_part = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    sections = {
        match.group(1): match.group(2)
        for match in re.finditer(
            r"### `dc43-delta-store ([a-z-]+)[^\n]*\n(.*?)(?=\n### |\Z)", cli_part, re.S
        )
    }
    ctx = click.Context(cli)
    missing = [opt for param in cli.params for opt in param.opts if f"`{opt}" not in cli_part]
    for name, command in cli.commands.items():  # type: ignore[attr-defined]
        if name not in sections:
            missing.append(f"section for {name}")
            continue
        for param in command.get_params(ctx):
            missing += [
                f"{name} {opt}"
                for opt in param.opts
                if opt.startswith("--") and opt != "--help" and f"`{opt}" not in sections[name]
            ]
    assert missing == []


def drain(terminal: int) -> bytes:
    """All a pseudo-terminal's other end wrote, once it is closed."""
    shown = b""
    while True:
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # EIO: the other end is closed and everything was read
            return shown
        if not chunk:
            return shown
        shown += chunk


def test_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    import pty

    for n in range(25):
        (tmp_path / f"c{n}.yaml").write_text(
            f"apiVersion: v3.1.0\nkind: DataContract\nid: c{n}\nversion: 1.0.0\nstatus: active\n"
        )
    command = [str(SCRIPT), "validate", str(tmp_path)]
    main, secondary = pty.openpty()
    try:
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=secondary) as proc:
            proc.wait(timeout=60)
        os.close(secondary)
        shown = drain(main)
    finally:
        os.close(main)
    assert b"validating" in shown and b"25 valid" in shown
    piped = subprocess.run(command, capture_output=True, text=True)
    assert "validating" not in piped.stderr and "25 valid" in piped.stderr


def test_put_json_reports_each_schema_issue_of_a_warned_contract(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "y", "version": "1.0.0", "apiVersion": "v3.1.0", "kind": "Nope"}')
    good = tmp_path / "good.json"
    good.write_text(json.dumps(minimal("z")), encoding="utf-8")
    result = run("put", str(bad), str(good), "--json", table=tmp_path / "t")
    assert result.exit_code == 0, result.output
    warned, clean = json.loads(result.stdout)
    issues = ['$: "status" is a required property', '$.kind: "Nope" is not one of "DataContract"']
    assert warned == {
        "outcome": "inserted",
        "contract_id": "y",
        "version": "1.0.0",
        "source": str(bad),
        "fingerprint": fingerprint(load_document(bad)),
        "message": f"2 schema issue(s): {issues[0]}",
        "compatibility": None,
        "messages": issues,
    }
    assert (clean["contract_id"], clean["message"], clean["messages"]) == ("z", None, [])


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path) -> None:
    # `dc43-delta-store list --nl | head -1`: the pipe breaks once head has its line; the
    # command exits 0 without a traceback or Python's "Exception ignored" about stdout.
    table = tmp_path / "table"
    DeltaContractStore(path=table, validation="off").put_many(
        [minimal(id=f"domain.contract_{n:05d}_{'x' * 40}") for n in range(3000)]
    )  # ~180 KB of ids: more than a pipe holds
    command = subprocess.Popen(
        [str(SCRIPT), "--path", str(table), "list", "--nl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert command.stdout is not None and command.stderr is not None
    first = command.stdout.readline()
    command.stdout.close()  # what head does after its line
    errors = command.stderr.read().decode()
    assert command.wait(timeout=60) == EXIT_CODES["success"], errors
    assert json.loads(first)["contract_id"] == "domain.contract_00000_" + "x" * 40
    assert errors == ""


def test_contract_files_are_found_whatever_the_case_of_their_suffix(
    tmp_path: Path, folder: Path
) -> None:
    """``ORDERS.YAML`` and ``Customers.Json`` (written on Windows, say) are contracts too."""
    (folder / "sales" / "orders-1.0.0.odcs.yaml").rename(folder / "sales" / "ORDERS-1.0.0.YAML")
    (folder / "sales" / "customers-1.0.0.odcs.json").rename(
        folder / "sales" / "Customers-1.0.0.Json"
    )
    listed = json.loads(run("validate", str(folder), "--json").stdout)
    names = {Path(row["file"]).name for row in listed}
    assert {"ORDERS-1.0.0.YAML", "Customers-1.0.0.Json"} <= names and len(listed) == 6
    ingested = run("ingest", str(folder), "--json", table=tmp_path / "table")
    assert ingested.exit_code == 0, ingested.output
    assert [row["outcome"] for row in json.loads(ingested.stdout)] == ["inserted"] * 6


def test_junit_counts_only_invalid_files_as_failures_and_shows_warnings(
    tmp_path: Path, folder: Path
) -> None:
    """Under ``--policy warn`` a schema violation is a warning: the JUnit report shows its
    messages as output of a passing test case, and counts no failure."""
    (folder / "schema-violation.json").write_text(
        '{"id": "y", "version": "1.0.0", "apiVersion": "v3.1.0", "kind": "Nope"}', encoding="utf-8"
    )
    report = tmp_path / "junit.xml"
    result = run("validate", str(folder), "--policy", "warn", "--junit-xml", str(report))
    assert result.exit_code == 0 and "6 valid, 1 warning, 0 invalid" in result.stderr
    suite = ElementTree.parse(report).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("7", "0", "0")
    (warned,) = [case for case in suite if case.get("name", "").endswith("schema-violation.json")]
    assert warned.find("failure") is None
    output = warned.find("system-out")
    assert output is not None and "kind" in (output.text or "")


def test_list_shows_a_contract_that_has_only_prereleases(tmp_path: Path) -> None:
    """``list`` names every contract; one with no release yet has no latest (``-``)."""
    table = tmp_path / "table"
    store = DeltaContractStore(path=table, validation="off")
    store.put_many([minimal("sales.orders", "1.0.0"), minimal("sales.preview", "0.1.0-rc.1")])
    listed = json.loads(run("list", "--json", table=table).stdout)
    assert listed == [
        {"contract_id": "sales.orders", "versions": 1, "latest": "1.0.0", "status": "active"},
        {"contract_id": "sales.preview", "versions": 1, "latest": None, "status": None},
    ]
    text = run("list", table=table).stdout.splitlines()
    assert text[-1].split() == ["sales.preview", "1", "-", "-"]


def test_junit_failures_say_what_is_wrong_with_each_file(tmp_path: Path) -> None:
    """CI shows a failure's message attribute in its summary: it is the first problem, and
    the failure's text lists all of them."""
    folder = tmp_path / "contracts"
    folder.mkdir()
    (folder / "broken.yaml").write_text("id: x\nversion: 1.10\n", encoding="utf-8")
    report = tmp_path / "junit.xml"
    run("validate", str(folder), "--junit-xml", str(report))
    (case,) = ElementTree.parse(report).getroot()
    failure = case.find("failure")
    assert failure is not None
    assert "version must be a string" in (failure.get("message") or "")
    assert "quote it" in (failure.text or "")


def test_ingest_of_one_file_records_its_folder_and_git_commit(tmp_path: Path, folder: Path) -> None:
    head = committed(folder)
    file = folder / "sales" / "orders-1.0.0.odcs.yaml"
    table = tmp_path / "table"
    assert run("ingest", str(file), table=table).exit_code == 0
    from deltalake import DeltaTable

    info = DeltaTable(str(table)).history(1)[0]
    assert info["ingested_from"] == str(file.parent.resolve())
    assert info["sources"] == {"sales.orders@1.0.0": "orders-1.0.0.odcs.yaml"}
    assert info["git_commit"] == head and info["git_dirty"] is False


def test_validate_exits_5_for_a_single_invalid_file(tmp_path: Path, folder: Path) -> None:
    (folder / "broken.yaml").write_text("id: x\nversion: 1.10\n", encoding="utf-8")
    assert run("validate", str(folder)).exit_code == EXIT_CODES["invalid"] == 5
    assert run("validate", str(folder / "broken.yaml")).exit_code == 5
    (folder / "broken.yaml").unlink()
    assert run("validate", str(folder)).exit_code == 0


def test_not_found_reads_as_a_sentence_not_a_quoted_key(tmp_path: Path, folder: Path) -> None:
    table = tmp_path / "table"
    run("put", str(folder / "sales" / "orders-1.0.0.odcs.yaml"), table=table)
    missing = run("get", "sales.orders", "9.9.9", table=table)
    assert missing.stderr == "error: contract 'sales.orders' version '9.9.9' not found\n"
    with pytest.raises(ContractNotFoundError) as caught:
        DeltaContractStore(path=table).get("sales.orders", "9.9.9", as_of=1)
    assert str(caught.value) == "contract 'sales.orders' version '9.9.9' not found (as of 1)"
