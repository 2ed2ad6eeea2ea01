"""Behaviour at the edges: nothing silently dropped or changed, the command line means what it
says, time zones, forked processes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import multiprocessing as mp
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, Field, write_deltalake

from dc43_delta_store import (
    ContractStoreError,
    DeltaContractStore,
    StoreUnavailableError,
)
from dc43_delta_store.cli import EXIT_CODES, cli
from dc43_delta_store.core.documents import load_document
from dc43_delta_store.core.records import build_row, contract_key
from dc43_delta_store.core.table_schema import rows_to_table

from .conftest import minimal


def rows(store: DeltaContractStore) -> list[dict[str, Any]]:
    return pa.table(DeltaTable(store.location.uri).to_pyarrow_table()).to_pylist()


# -- nothing dropped or changed -----------------------------------------------------------------


def test_status_given_at_put_time_is_written_and_wins_over_the_documents(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal(version="1.0.0"), metadata={"status": "Validated"})  # document: active
    store.put({"id": "bare", "version": "1"}, metadata={"status": "Draft"})  # document: none
    by_key = {(row["contract_id"], row["version"]): row for row in rows(store)}
    assert by_key[("sales.orders", "1.0.0")]["status"] == "Validated"
    assert by_key[("bare", "1")]["status"] == "Draft"
    assert store.get("sales.orders", "1.0.0")["status"] == "active"  # the payload is as put
    assert store.latest("sales.orders", status="Validated")["version"] == "1.0.0"


def test_put_metadata_on_the_command_line_is_typed_and_written(tmp_path: Path) -> None:
    table = tmp_path / "t"
    DeltaContractStore(path=table, metadata_columns={"reviews": "long"}).put(minimal("seed"))
    contract = tmp_path / "c.yaml"
    contract.write_text("id: c\nversion: '1'\nstatus: draft\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "--path",
            str(table),
            "put",
            str(contract),
            "--metadata",
            "status=X",
            "--metadata",
            "reviews=3",
        ],
    )
    assert result.exit_code == 0, result.output
    row = next(r for r in rows(DeltaContractStore(path=table)) if r["contract_id"] == "c")
    assert (row["status"], row["reviews"]) == ("X", 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("value: no", "no"),
        ("value: off", "off"),
        ("value: yes", "yes"),
        ("value: 12:30", "12:30"),
        ("value: 0x1F", "0x1F"),
        ("value: 0o17", "0o17"),
        ("value: 1_000", "1_000"),
        ("value: 2024-01-01", "2024-01-01"),
        ("value: 2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"),
        ("value: 007", "007"),
        ("value: true", True),
        ("value: False", False),
        ("value: 42", 42),
        ("value: -1.5", -1.5),
        ("value: 1e3", 1000.0),
        ("value: ~", None),
        ("value: null", None),
    ],
)
def test_yaml_is_read_with_yaml_1_2_core_schema_rules(text: str, expected: object) -> None:
    document = load_document(f"id: a\nversion: '1'\n{text}\n")
    assert document["value"] == expected
    assert type(document["value"]) is type(expected)


def test_a_user_column_named_like_a_view_column_does_not_blank_it(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal(kind="DataContract", tenant="acme"))
    # columns another tool added (this store refuses to add them: they are reserved)
    DeltaTable(str(tmp_path / "t")).alter.add_columns(
        [Field("kind", "string"), Field("_order", "string")]
    )
    reread = DeltaContractStore(path=tmp_path / "t", validation="off")
    assert reread.sql("SELECT kind, tenant FROM contracts").rows() == [("DataContract", "acme")]
    latest = reread.sql("SELECT * FROM contracts_latest")
    assert "_order" in latest.columns and latest["kind"].to_list() == ["DataContract"]


def test_a_tenant_column_another_tool_filled_keeps_its_values(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal(tenant="acme"))
    store.put(minimal(version="2.0.0", tenant="acme"))
    table = DeltaTable(str(tmp_path / "t"))
    table.alter.add_columns([Field("tenant", "string")])
    table.update(updates={"tenant": "'globex'"}, predicate="version = '2.0.0'")
    reread = DeltaContractStore(path=tmp_path / "t", validation="off")
    rows = reread.sql("SELECT version, tenant FROM contracts ORDER BY version").rows()
    assert rows == [("1.0.0", "acme"), ("2.0.0", "globex")]  # the column's value, else the JSON's


def test_a_refused_schema_change_leaves_the_store_usable(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", metadata_columns={"owner": "string"})
    store.put(minimal())
    for columns in ({"OWNER": "string"}, {"owner": "long"}, {"JSON": "string"}):
        with pytest.raises(ContractStoreError):
            store.add_metadata_columns(columns)
    store.update_metadata("sales.orders", "1.0.0", {"owner": "sales"})
    store.add_metadata_columns({"team": "string"})
    assert store.put(minimal(version="2.0.0"), metadata={"team": "t1"}).outcome == "inserted"


def test_ids_stored_before_the_identity_rules_stay_readable(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal())
    nfd = "cafe\u0301"  # refused today; stored by an older version or another tool
    legacy = dataclasses.replace(
        build_row(minimal("x")),
        contract_id=nfd,
        contract_key=contract_key(nfd),
        json=json.dumps(minimal(nfd)),
    )
    schema = pa.schema(DeltaTable(str(tmp_path / "t")).schema().to_arrow())
    write_deltalake(
        str(tmp_path / "t"),
        rows_to_table([legacy], dt.datetime.now(dt.UTC), schema),
        mode="append",
    )
    assert store.get(nfd, "1.0.0")["id"] == nfd
    assert nfd in store.list_contracts()
    store.update_metadata(nfd, "1.0.0", {"status": "retired"})
    assert store.latest(nfd, status="retired") is not None


# -- the command line means what it says --------------------------------------------------------


def test_a_table_given_twice_or_not_at_all_is_a_usage_error(tmp_path: Path) -> None:
    def run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(cli, args, env={"DC43_DELTA_STORE_PATH": None, **(env or {})})
        return result.exit_code, result.stderr

    code, err = run(["--table", "a.b.c", "--path", str(tmp_path), "list"])
    assert code == 2 and "give --table or --path, not both" in err
    both = {"DC43_DELTA_STORE_TABLE": "a.b.c", "DC43_DELTA_STORE_PATH": str(tmp_path)}
    code, err = run(["list"], both)
    assert code == 2
    assert "both DC43_DELTA_STORE_TABLE and DC43_DELTA_STORE_PATH are set; unset one" in err
    code, err = run(["list"], {"DC43_DELTA_STORE_TABLE": None})
    assert code == 2 and "give the table: --table catalog.schema.table or --path" in err
    code, err = run(["--path", str(tmp_path), "--storage-option", "region", "list"])
    assert code == 2 and "--storage-option must be KEY=VALUE, got 'region'" in err
    code, err = run(["--path", str(tmp_path / "none"), "list"])
    assert code == 3
    assert f"error: no table at {tmp_path / 'none'}: nothing has been written there" in err


def test_explicit_table_options_beat_the_environment(tmp_path: Path) -> None:
    wanted, other = tmp_path / "wanted", tmp_path / "other"
    DeltaContractStore(path=wanted).put(minimal("in.wanted"))
    DeltaContractStore(path=other).put(minimal("in.other"))
    env = {"DC43_DELTA_STORE_PATH": str(other)}
    result = CliRunner().invoke(cli, ["--path", str(wanted), "list", "--json"], env=env)
    assert [r["contract_id"] for r in json.loads(result.stdout)] == ["in.wanted"]
    assert result.stderr.count("warning") == 0  # same option: click prefers the flag anyway
    warehouse = tmp_path / "wh"
    DeltaContractStore(table="g.m.c", warehouse=warehouse).put(minimal("in.table"))
    by_name = CliRunner().invoke(
        cli, ["--table", "g.m.c", "--warehouse", str(warehouse), "list", "--json"], env=env
    )
    assert [r["contract_id"] for r in json.loads(by_name.stdout)] == ["in.table"]
    assert "warning: --table given: ignoring DC43_DELTA_STORE_PATH" in by_name.stderr
    (tmp_path / "x.yaml").write_text("id: by.flag\nversion: '1'\n", encoding="utf-8")
    written = CliRunner().invoke(
        cli,
        ["--table", "g.m.c", "--warehouse", str(warehouse), "put", str(tmp_path / "x.yaml")],
        env={**env, "DC43_DELTA_STORE_WAREHOUSE": str(tmp_path / "elsewhere")},
    )
    assert written.exit_code == 0 and "ignoring DC43_DELTA_STORE_WAREHOUSE" in written.stderr
    assert "by.flag" in DeltaContractStore(table="g.m.c", warehouse=warehouse).list_contracts()
    assert DeltaContractStore(path=other).list_contracts() == ["in.other"]  # never touched


def test_unexpected_errors_are_one_line_and_debug_shows_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    DeltaContractStore(path=tmp_path / "t").put(minimal())

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something nobody expected\nsecond line")

    monkeypatch.setattr(DeltaContractStore, "history", broken)
    plain = CliRunner().invoke(cli, ["--path", str(tmp_path / "t"), "history"])
    assert plain.exit_code == EXIT_CODES["error"]
    assert plain.stderr.splitlines() == [
        "error: unexpected RuntimeError: something nobody expected second line",
        "hint: run again with --debug (before the command) for the traceback, and report it "
        "with the command that caused it",
    ]
    debug = CliRunner().invoke(cli, ["--path", str(tmp_path / "t"), "--debug", "history"])
    assert debug.exit_code == EXIT_CODES["error"]
    assert "Traceback" in debug.stderr and "in broken" in debug.stderr


def test_history_shows_where_an_ingest_came_from(tmp_path: Path) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    (folder / "a.yaml").write_text("id: a\nversion: '1'\n", encoding="utf-8")
    table = ["--path", str(tmp_path / "t")]
    assert CliRunner().invoke(cli, [*table, "ingest", str(folder)]).exit_code == 0
    commit = json.loads(CliRunner().invoke(cli, [*table, "history", "--json"]).stdout)[0]
    assert commit["ingested_from"] == str(folder.resolve())
    assert commit["sources"] == {"a@1": "a.yaml"}
    assert "git_commit" in commit and "git_dirty" in commit
    api = DeltaContractStore(path=tmp_path / "t").history(limit=1)[0]
    assert api.ingested_from == str(folder.resolve()) and api.sources == {"a@1": "a.yaml"}


def test_ingest_and_validate_say_what_they_skip(tmp_path: Path) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    (folder / "good.yaml").write_text(
        "apiVersion: v3.1.0\nkind: DataContract\nid: a\nversion: 1.0.0\nstatus: active\n",
        encoding="utf-8",
    )
    os.mkfifo(folder / "pipe.yaml")
    (folder / "gone.yaml").symlink_to(folder / "absent.yaml")
    table = ["--path", str(tmp_path / "t")]
    ingest = CliRunner().invoke(cli, [*table, "ingest", str(folder), "--json"])
    assert ingest.exit_code == 0, ingest.output
    outcomes = {
        Path(r["source"]).name: (r["outcome"], r["message"]) for r in json.loads(ingest.stdout)
    }
    assert outcomes["pipe.yaml"] == ("skipped", "a FIFO")
    assert outcomes["gone.yaml"] == ("skipped", "a dangling symbolic link")
    assert outcomes["good.yaml"][0] == "inserted"
    assert "2 skipped" in ingest.stderr
    validate = CliRunner().invoke(cli, ["validate", str(folder)])
    assert validate.exit_code == 0 and "1 valid, 0 warning, 0 invalid, 2 skipped" in validate.stderr


def test_json_messages_are_whole(tmp_path: Path) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    properties = "\n".join(f"      - name: c{i}\n        logicalType: nonsense" for i in range(12))
    (folder / "bad.yaml").write_text(
        "apiVersion: v3.1.0\nkind: DataContract\nid: a\nversion: '1'\nstatus: active\n"
        f"schema:\n  - name: t\n    properties:\n{properties}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["--path", str(tmp_path / "t"), "ingest", str(folder), "--json"]
    )
    row = json.loads(result.stdout)[0]
    assert len(row["messages"]) >= 12 and not any("…" in m for m in row["messages"])
    strict = CliRunner().invoke(
        cli,
        ["--path", str(tmp_path / "t"), "ingest", str(folder), "--json", "--validation", "strict"],
    )
    assert strict.exit_code == EXIT_CODES["invalid"]
    refused = json.loads(strict.stdout)[0]
    assert len(refused["messages"]) >= 12 and "(and " not in " ".join(refused["messages"])


# -- naive times are local time -----------------------------------------------------------------


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("tz", ["Asia/Tokyo", "America/Los_Angeles"])
def test_created_at_is_the_utc_time_of_the_put_in_any_zone(
    tmp_path: Path, zone: Any, tz: str
) -> None:
    zone(tz)
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    before = dt.datetime.now(dt.UTC)
    store.put(minimal())
    (created,) = store.scan().collect()["created_at"].to_list()
    assert before - dt.timedelta(seconds=1) <= created <= dt.datetime.now(dt.UTC)


@pytest.mark.parametrize("tz", ["Asia/Tokyo", "America/Los_Angeles"])
def test_a_naive_as_of_is_local_time(tmp_path: Path, zone: Any, tz: str) -> None:
    zone(tz)
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal(version="1.0.0"))
    time.sleep(0.05)
    between = dt.datetime.now()  # naive, local: Python's convention
    time.sleep(0.05)
    store.put(minimal(version="2.0.0"))
    assert store.latest("sales.orders", as_of=between)["version"] == "1.0.0"
    assert store.latest("sales.orders", as_of=between.isoformat())["version"] == "1.0.0"
    assert store.latest("sales.orders", as_of=dt.datetime.now())["version"] == "2.0.0"
    utc_text = between.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert store.latest("sales.orders", as_of=utc_text)["version"] == "1.0.0"


# -- forked processes ---------------------------------------------------------------------------


def _in_child(store: DeltaContractStore, path: str, queue: Any) -> None:
    outcome = []
    for call in (
        lambda: store.latest("sales.orders"),
        lambda: DeltaContractStore(path=path).latest("sales.orders"),
    ):
        try:
            call()
            outcome.append("answered")
        except StoreUnavailableError as exc:
            outcome.append(str(exc))
        except BaseException as exc:  # a panic or anything untyped fails the test
            outcome.append(f"untyped {type(exc).__name__}: {exc}")
    queue.put(outcome)


def test_a_store_used_before_fork_says_to_use_spawn_in_the_child(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal())
    assert store.latest("sales.orders") is not None  # the parent uses deltalake
    context = mp.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_in_child, args=(store, str(tmp_path / "t"), queue))
    child.start()
    outcome = queue.get(timeout=60)
    child.join(timeout=60)
    assert len(outcome) == 2
    for message in outcome:
        assert "forked from one that had already used deltalake" in message, message
        assert "'spawn' or 'forkserver'" in message
    # the parent is unaffected
    assert store.latest("sales.orders")["version"] == "1.0.0"


def _spawned(path: str, queue: Any) -> None:
    queue.put(DeltaContractStore(path=path).latest("sales.orders")["version"])


def test_spawned_workers_use_the_table(tmp_path: Path) -> None:
    DeltaContractStore(path=tmp_path / "t", validation="off").put(minimal())
    context = mp.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_spawned, args=(str(tmp_path / "t"), queue))
    child.start()
    assert queue.get(timeout=120) == "1.0.0"
    child.join(timeout=60)


def test_metadata_for_a_declared_column_is_accepted_before_the_table_has_it(
    tmp_path: Path,
) -> None:
    DeltaContractStore(path=tmp_path / "t").put(minimal())
    store = DeltaContractStore(path=tmp_path / "t", metadata_columns={"team": "string"})
    store.put(minimal(version="2.0.0"), metadata={"team": "core"})
    assert store.latest("sales.orders", team="core")["version"] == "2.0.0"


def test_sql_answers_of_any_type_print_as_json(tmp_path: Path) -> None:
    DeltaContractStore(path=tmp_path / "t", validation="off").put({"id": "a", "version": "1"})
    query = (
        "SELECT CAST(1.5 AS DECIMAL(10,2)) AS d, INTERVAL '1 day' AS i, "
        "CAST('12:00:00' AS TIME) AS t, CAST('nan' AS DOUBLE) AS n, "
        "CAST(version AS BLOB) AS b, STRING_TO_ARRAY(version, '.') AS a FROM contracts"
    )
    result = CliRunner().invoke(cli, ["--path", str(tmp_path / "t"), "sql", query, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"d": "1.50", "i": "P1DT0S", "t": "12:00:00", "n": "nan", "b": "MQ==", "a": ["1"]}
    ]
