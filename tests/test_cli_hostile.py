"""What writers stored reaches people escaped: the command line's tables, reports and
messages, through the console script and in the test's own process (which mutation testing
sees). JSON and YAML output stay exact: the same values read back.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.cli import EXIT_CODES, cli
from dc43_delta_store.core.terminal import is_hidden
from dc43_delta_store.core.yaml12 import load_yaml
from dc43_delta_store.errors import BatchError, BatchProblem, InvalidContractError

from .conftest import minimal
from .test_cli import SCRIPT
from .test_cli_support import unexpected
from .test_terminal import runner_lines, workflow_command

WHO = "alice\x1b[2K\rmallory"  # erases the line, then writes another user over it
WHY = "ok\x07 \u202egnp.exe\u2028::error::INJECTED"
STATUS = "active\x1b]0;title\x07\x9b31m"
NAME = "x\n::error file=a,line=1::INJECTED"


def raw_controls(text: str) -> list[str]:
    """Hidden characters in ``text`` other than its own line breaks."""
    return [c for c in text.replace("\n", "") if is_hidden(c)]


def commands(text: str) -> list[tuple[str, dict[str, str], str]]:
    return [c for c in map(workflow_command, runner_lines(text)) if c is not None]


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "t"
    store = DeltaContractStore(path=path, validation="off")
    schema = [{"name": "orders", "properties": [{"name": "id"}, {"name": NAME}]}]
    store.put(minimal(name=WHY, schema=schema), who=WHO, why=WHY)
    store.update_metadata("sales.orders", "1.0.0", {"status": STATUS}, who=WHO, why=WHY)
    return path


def run(table: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--path", str(table), *args], catch_exceptions=False)


@pytest.mark.parametrize(
    "args",
    [
        ["history"],
        ["changes"],
        ["list"],
        ["versions", "sales.orders"],
        ["sql", "SELECT contract_id, name, status FROM contracts"],
        ["latest", "sales.orders", "--explain"],
        ["latest", "sales.orders"],
        ["get", "sales.orders", "1.0.0"],
    ],
    ids=lambda args: args[0] + ("-explain" if "--explain" in args else ""),
)
def test_tables_and_documents_show_stored_text_escaped(table: Path, args: list[str]) -> None:
    result = run(table, *args)
    assert result.exit_code == 0, result.output
    assert raw_controls(result.stdout) == [] and raw_controls(result.stderr) == []
    assert commands(result.stdout) == [] and commands(result.stderr) == []


def test_the_audit_trail_shows_who_as_written_not_as_overwritten(table: Path) -> None:
    history = run(table, "history").stdout
    assert "alice\\x1b[2K\\rmallory" in history
    assert "ok\\x07 \\u202egnp.exe\\u2028::error::INJECTED" in history
    changes = run(table, "changes").stdout
    assert changes.count("alice\\x1b[2K\\rmallory") == 2  # published, metadata
    assert (
        "active\\x1b]0;title\\x07\\x9b31m"
        in run(table, "sql", "SELECT status FROM contracts").stdout
    )


@pytest.mark.parametrize("fmt", ["--json", "--nl"])
def test_json_output_keeps_the_exact_values(table: Path, fmt: str) -> None:
    history = run(table, "history", fmt).stdout
    assert raw_controls(history) == [] and commands(history) == []
    rows = json.loads(history) if fmt == "--json" else [json.loads(x) for x in history.splitlines()]
    assert {row["user"] for row in rows if row["operation"] != "CREATE TABLE"} == {WHO}
    assert {row["reason"] for row in rows if row["reason"]} == {WHY}
    sql = json.loads(run(table, "sql", "SELECT status, name FROM contracts", "--json").stdout)
    assert sql == [{"status": STATUS, "name": WHY}]


def test_printed_yaml_reads_back_as_the_stored_document(table: Path) -> None:
    printed = run(table, "get", "sales.orders", "1.0.0").stdout
    stored = DeltaContractStore(path=table).get("sales.orders", "1.0.0")
    assert load_yaml(printed, "output", max_depth=64, max_values=1000)[0] == stored


def test_follow_lines_are_escaped(table: Path) -> None:
    # --follow prints each event on its own line as it comes; Ctrl-C stops it
    follow = subprocess.Popen(
        [str(SCRIPT), "--path", str(table), "changes", "--follow", "--interval", "0.01"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout is not None
        lines = [follow.stdout.readline(), follow.stdout.readline()]
        follow.send_signal(signal.SIGINT)
        rest, _ = follow.communicate(timeout=30)
    finally:
        follow.kill()
    assert follow.returncode == 0 and rest == ""
    assert all("alice\\x1b[2K\\rmallory" in line for line in lines)
    assert raw_controls("".join(lines)) == [] and commands("".join(lines)) == []


def _documents(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    schema = [{"name": "orders", "properties": [{"name": "id"}]}]
    old.write_text(json.dumps(minimal(schema=schema)), encoding="utf-8")
    added = [*schema[0]["properties"], {"name": NAME}, {"name": "y ##[error]again"}]
    changed = minimal(version="1.1.0", schema=[{"name": "orders", "properties": added}])
    new.write_text(json.dumps(changed), encoding="utf-8")
    return old, new


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_diff_reports_through_the_console_script_hold_no_injected_command(
    tmp_path: Path, fmt: str
) -> None:
    old, new = _documents(tmp_path)
    result = subprocess.run(
        [str(SCRIPT), "diff", str(old), str(new), "--format", fmt],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = commands(result.stdout)
    if fmt == "text":
        assert found == [] and "properties.x\\n::error file=a,line=1::INJECTED" in result.stdout
    else:  # one annotation per change and one for the version: nothing else
        assert [c[0] for c in found] == ["warning", "warning", "notice"]
        assert len(runner_lines(result.stdout.rstrip("\n"))) == 3
    assert raw_controls(result.stdout) == []


def test_diff_in_process_and_its_junit_report(tmp_path: Path) -> None:
    old, new = _documents(tmp_path)
    report = tmp_path / "junit.xml"
    result = CliRunner().invoke(cli, ["diff", str(old), str(new), "--junit-xml", str(report)])
    assert result.exit_code == 0 and commands(result.stdout) == []
    assert "##\\x5berror]again" in result.stdout
    assert raw_controls(report.read_text(encoding="utf-8")) == []


def test_error_messages_quoting_stored_text_are_escaped() -> None:
    bad = InvalidContractError("version 'x\x1b[2J\n::error::INJECTED' is not valid")
    one = unexpected(bad)
    assert one.exit_code == EXIT_CODES["invalid"]
    assert one.stderr == "error: version 'x\\x1b[2J\\n::error::INJECTED' is not valid\n"
    problems = [BatchProblem(n, f"f{n}.yaml", bad) for n in range(2)]
    batch = unexpected(BatchError(problems, total=3))
    lines = batch.stderr.splitlines()
    assert lines[0] == "error: batch of 3 contracts refused, nothing written; 2 problem(s):"
    assert lines[1:] == [
        f"  [{n}] f{n}.yaml: version 'x\\x1b[2J\\n::error::INJECTED' is not valid" for n in (0, 1)
    ]
    for count, shown in ((20, 21), (21, 22), (25, 22)):
        many = unexpected(
            BatchError([BatchProblem(n, "f", bad) for n in range(count)], total=count)
        )
        lines = many.stderr.splitlines()
        assert len(lines) == shown and ("more)" in lines[-1]) == (count > 20)
        assert lines[-1] == f"  (and {count - 20} more)" or count == 20
    surprise = unexpected(RuntimeError("boom \x1b[31m##[error]x"))
    debug = unexpected(RuntimeError("two\nlines \x1b[31mX"), "--debug")
    lines = debug.stderr.splitlines()  # the traceback, each line escaped, then the message
    assert lines[0] == "Traceback (most recent call last):" and lines[1].startswith('  File "')
    assert lines[-3:] == [
        "RuntimeError: two",
        "lines \\x1b[31mX",
        "error: unexpected RuntimeError: two lines \\x1b[31mX",
    ]
    assert "" not in lines and raw_controls(debug.stderr) == []
    assert (
        surprise.stderr.splitlines()[0]
        == "error: unexpected RuntimeError: boom \\x1b[31m##\\x5berror]x"
    )


def test_validate_lines_and_junit_escape_what_files_say(tmp_path: Path) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    (folder / "bad.yaml").write_text("id: a\nversion: '1'\nname: [\x1b\n", encoding="utf-8")
    report = tmp_path / "junit.xml"
    result = CliRunner().invoke(cli, ["validate", str(folder), "--junit-xml", str(report)])
    assert result.exit_code == EXIT_CODES["invalid"]
    assert raw_controls(result.stdout) == [] and commands(result.stdout) == []
    assert raw_controls(report.read_text(encoding="utf-8")) == []
