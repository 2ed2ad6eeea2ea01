"""The consumers' command line: latest/resolve --explain as one JSON object, resolve ranges,
changes with a cursor, and changes --follow stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.cli import EXIT_CODES, cli

from .conftest import ROOT, minimal


def run(table: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--path", str(table), *args], catch_exceptions=False)


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "contracts"
    store = DeltaContractStore(path=path, validation="off")
    versions = [
        ("0.3.1", "active"),
        ("0.4.0", "active"),
        ("1.0.0", "active"),
        ("1.1.0", "active"),
        ("1.2.0-rc.1", "active"),
        ("1.2.0", "draft"),
        ("2.0.0", "active"),
    ]
    store.put_many([minimal("sales.orders", v, status=s) for v, s in versions])
    return path


def test_latest_explain_names_the_skipped_draft_and_prerelease(table: Path) -> None:
    result = run(table, "latest", "sales.orders", "--status", "active", "--explain", "--json")
    assert result.exit_code == 0, result.stderr
    explained = json.loads(result.stdout)
    assert explained["chosen"] == "2.0.0"
    by_version = {c["version"]: c for c in explained["candidates"]}
    assert list(by_version) == ["2.0.0", "1.2.0", "1.2.0-rc.1", "1.1.0", "1.0.0", "0.4.0", "0.3.1"]
    assert by_version["1.2.0"]["verdict"] == "skipped"
    assert by_version["1.2.0"]["reasons"] == ["status: 'draft', wanted 'active'"]
    assert by_version["1.2.0-rc.1"]["verdict"] == "skipped"
    assert by_version["1.2.0-rc.1"]["reasons"] == ["prerelease: skipped unless include_prereleases"]
    text = run(table, "latest", "sales.orders", "--status", "active", "--explain")
    assert text.stdout.splitlines()[0] == "sales.orders any version: 2.0.0"
    assert "1.2.0       skipped    status: 'draft', wanted 'active'" in text.stdout


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("^1.0", "1.2.0"),
        ("^0.3", "0.3.1"),
        ("~1.1", "1.1.0"),
        ("1.x", "1.2.0"),
        ("0.*", "0.4.0"),
        (">=1.0,<1.2", "1.1.0"),
        (">=0.4 <1", "0.4.0"),
        ("1.0.0", "1.0.0"),
        ("^3", None),
    ],
)
def test_resolve_answers_each_range(table: Path, spec: str, expected: str | None) -> None:
    result = run(table, "resolve", "sales.orders", spec, "--explain", "--json")
    assert json.loads(result.stdout)["chosen"] == expected
    assert result.exit_code == (EXIT_CODES["not_found"] if expected is None else 0)


def test_resolve_takes_the_filters_of_latest_and_prints_the_document(table: Path) -> None:
    active = run(table, "resolve", "sales.orders", "^1", "--status", "active", "--json")
    assert active.exit_code == 0 and json.loads(active.stdout)["version"] == "1.1.0"
    prerelease = run(
        table, "resolve", "sales.orders", "^1.1", "--filter", "status=active",
        "--include-prereleases",
    )  # fmt: skip
    assert "version: 1.2.0-rc.1" in prerelease.stdout
    missing = run(table, "resolve", "sales.orders", "^9")
    assert missing.exit_code == EXIT_CODES["not_found"]
    assert "no version matches '^9'" in missing.stderr and missing.stdout == ""
    bad = run(table, "resolve", "sales.orders", "^^1")
    assert bad.exit_code == EXIT_CODES["usage"] and "character 2" in bad.stderr


def test_changes_lists_a_publish_then_a_metadata_update_with_a_cursor(table: Path) -> None:
    start = json.loads(run(table, "changes", "--json").stdout)["cursor"]
    (table.parent / "new.yaml").write_text(
        "apiVersion: v3.1.0\nkind: DataContract\nid: sales.orders\nversion: 2.1.0\nstatus: draft\n",
        encoding="utf-8",
    )
    assert run(table, "put", str(table.parent / "new.yaml"), "--who", "alice").exit_code == 0
    updated = run(table, "set-metadata", "sales.orders", "2.1.0", "status=active", "--why", "ok")
    assert updated.exit_code == 0
    feed = json.loads(run(table, "changes", "--since", str(start), "--json").stdout)
    assert [(e["kind"], e["contract_id"], e["version"]) for e in feed["events"]] == [
        ("published", "sales.orders", "2.1.0"),
        ("metadata", "sales.orders", "2.1.0"),
    ]
    assert feed["events"][0]["who"] == "alice" and len(feed["events"][0]["fingerprint"]) == 64
    assert feed["events"][1]["values"] == {"status": "active"} and feed["events"][1]["why"] == "ok"
    assert feed["events"][0]["table_version"] < feed["events"][1]["table_version"]
    after = json.loads(run(table, "changes", "--since", str(feed["cursor"]), "--json").stdout)
    assert after == {"events": [], "cursor": feed["cursor"]}
    lines = run(table, "changes", "--since", str(start), "--nl").stdout.splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["published", "metadata"]
    text = run(table, "changes", "--since", str(start))
    assert "set status='active' (ok)" in text.stdout
    assert f"pass --since {feed['cursor']} next time" in text.stderr


def test_changes_follow_prints_events_as_they_come_and_stops_on_ctrl_c(table: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = DeltaContractStore(path=table).table_version
    command = [sys.executable, "-m", "dc43_delta_store", "--path", str(table), "changes"]
    follow = subprocess.Popen(
        [*command, "--since", str(start), "--follow", "--interval", "0.05", "--nl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        time.sleep(1.5)  # it is polling an unchanged table
        DeltaContractStore(path=table, validation="off").put(minimal("sales.orders", "3.0.0"))
        assert follow.stdout is not None
        event = json.loads(follow.stdout.readline())
        assert (event["kind"], event["version"]) == ("published", "3.0.0")
        follow.send_signal(signal.SIGINT)
        _, stderr = follow.communicate(timeout=30)
    finally:
        follow.kill()
    assert follow.returncode == 0
    assert "Traceback" not in stderr
    assert f"stopped; resume with --since {event['table_version']}" in stderr


@pytest.mark.parametrize("command", [["latest", "odd.text"], ["resolve", "odd.text", "^1"]])
def test_printed_yaml_reads_back_as_the_stored_document(tmp_path: Path, command: list[str]) -> None:
    # "1e3" is a number in YAML 1.2 (the store's reader) though not in PyYAML's 1.1
    from dc43_delta_store.core.yaml12 import load_yaml

    store = DeltaContractStore(path=tmp_path / "t")
    store.put(minimal("odd.text", description="1e3", tags=["0o17", "line\x85break"]))
    result = run(tmp_path / "t", *command)
    assert result.exit_code == 0, result.output
    assert load_yaml(result.stdout, "output", max_depth=64, max_values=1000)[0] == store.get(
        "odd.text", "1.0.0"
    )


def test_each_repeated_status_is_one_of_the_wanted_values(table: Path) -> None:
    """``--status active --status draft`` wants either: the draft 1.2.0 is the highest of ^1."""
    both = run(table, "resolve", "sales.orders", "^1", "--status", "active", "--status", "draft")
    assert both.exit_code == 0 and "version: 1.2.0\n" in both.stdout
    explained = json.loads(
        run(
            table, "latest", "sales.orders", "--status", "draft", "--status", "retired",
            "--explain", "--json",
        ).stdout
    )  # fmt: skip
    assert explained["chosen"] == "1.2.0"
    reasons = {c["version"]: c["reasons"] for c in explained["candidates"]}
    assert reasons["2.0.0"] == ["status: 'active', wanted one of 'draft', 'retired'"]


def test_explain_text_says_when_the_answer_is_approximate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The first line of ``--explain`` warns that the answer rests on today's metadata."""
    from dc43_delta_store.cli.consumers import print_explanation
    from dc43_delta_store.resolution.explain import Candidate, Resolution

    note = "metadata is as it is now: the log of that time has been cleaned up"
    found = Resolution(
        "sales.orders",
        "^1",
        "1.1.0",
        (Candidate("1.1.0", "chosen"), Candidate("1.0.0", "outranked", ("outranked",))),
        approximate=True,
        notes=(note,),
    )
    print_explanation(found, as_json=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "sales.orders ^1: 1.1.0 (approximate)"
    assert lines[-1] == f"note: {note}"
