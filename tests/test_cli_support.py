"""The command line's shared parts, in the test's own process: exit codes, the messages of
errors and of the table options, storage options, the progress bar.

The console-script tests in ``test_cli.py`` run a subprocess, which mutation testing cannot
see into (``tests/MUTATION.md``); these pin the same behaviour where it can.
"""

from __future__ import annotations

import json
import os
import pty
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.cli import EXIT_CODES, cli
from dc43_delta_store.cli.support import StoreGroup, exit_code, progress
from dc43_delta_store.errors import (
    BatchError,
    BatchProblem,
    CompatibilityError,
    ContractNotFoundError,
    DuplicateVersionError,
    IncompatibleTableError,
    InvalidContractError,
    InvalidLocationError,
    InvalidRequestError,
    StoreUnavailableError,
    TableBusyError,
    UpdateConflictError,
    VersionConflictError,
)

from .conftest import minimal
from .servers import MotoS3
from .test_cli import README_EXIT_CODES, drain
from .test_compatibility_gate import version

CODE = {meaning: code for code, meaning in README_EXIT_CODES.items()}
ENV_TABLE, ENV_PATH, ENV_WAREHOUSE = (
    "DC43_DELTA_STORE_TABLE",
    "DC43_DELTA_STORE_PATH",
    "DC43_DELTA_STORE_WAREHOUSE",
)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def ids(listed: Result) -> list[str]:
    return [row["contract_id"] for row in json.loads(listed.stdout)]


def _incompatible() -> CompatibilityError:
    return CompatibilityError(
        "c",
        "1.1.0",
        baseline="1.0.0",
        policy="full",
        given_bump="minor",
        needed_bump="major",
        suggested_version="2.0.0",
        changes=[("property-removed", "schema.t.properties.x", "major")],
    )


def _conflict() -> VersionConflictError:
    return VersionConflictError("c", "1.0.0", stored_fingerprint="a", new_fingerprint="b")


def _batch(*errors: Exception) -> BatchError:
    problems = [BatchProblem(n, f"f{n}.yaml", e) for n, e in enumerate(errors)]  # type: ignore[arg-type]
    return BatchError(problems, total=len(problems))


@pytest.mark.parametrize(
    ("error", "meaning"),
    [
        (ContractNotFoundError("c", "1.0.0"), "not found"),
        (_incompatible(), "incompatible"),
        (_conflict(), "version conflict"),
        (UpdateConflictError("stale"), "version conflict"),
        (InvalidContractError("bad", source="f.yaml"), "invalid contract"),
        (IncompatibleTableError("deletion vectors"), "the table needs attention"),
        (DuplicateVersionError("c", "1.0.0", ["a", "b"], 2), "the table needs attention"),
        (StoreUnavailableError("down"), "store unavailable"),
        (TableBusyError("busy"), "store unavailable"),
        (InvalidLocationError("where"), "usage error"),
        (InvalidRequestError("what"), "usage error"),
        (ValueError("a bug"), "unexpected error"),
        (_batch(InvalidContractError("bad")), "invalid contract"),
        (_batch(InvalidContractError("bad"), _conflict()), "version conflict"),
        (_batch(InvalidContractError("bad"), _incompatible()), "incompatible"),
        (
            _batch(IncompatibleTableError("t"), InvalidContractError("bad")),
            "the table needs attention",
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else value,
)
def test_each_error_exits_with_the_code_the_readme_gives(error: Exception, meaning: str) -> None:
    assert exit_code(error) == CODE[meaning]


def test_a_gated_put_and_ingest_exit_incompatible_and_say_so(tmp_path: Path) -> None:
    table = ["--path", str(tmp_path / "t")]
    assert invoke(*table, "compatibility", "set", "full").exit_code == 0
    folder = tmp_path / "contracts"
    folder.mkdir()
    (folder / "c-1.0.0.json").write_text(json.dumps(version("1.0.0")), encoding="utf-8")
    assert invoke(*table, "ingest", str(folder)).exit_code == 0
    (folder / "c-1.1.0.json").write_text(
        json.dumps(version("1.1.0", drop_email=True)), encoding="utf-8"
    )
    put = invoke(*table, "put", str(folder / "c-1.1.0.json"))
    assert put.exit_code == CODE["incompatible"] and "need a major bump" in put.stderr
    plan = invoke(*table, "ingest", str(folder), "--json")
    assert plan.exit_code == CODE["incompatible"]
    outcomes = {Path(row["source"]).name: row["outcome"] for row in json.loads(plan.stdout)}
    assert outcomes == {"c-1.0.0.json": "unchanged", "c-1.1.0.json": "incompatible"}


# A group like the real one, whose command raises what the test asks for.
@click.group(cls=StoreGroup)
@click.option("--debug", is_flag=True)
def group(debug: bool) -> None:
    pass


RAISED: dict[str, Exception] = {}


@group.command()
def boom() -> None:
    raise RAISED["error"]


def unexpected(error: Exception, *args: str) -> Result:
    RAISED["error"] = error
    return CliRunner().invoke(group, [*args, "boom"])


HINT = (
    "hint: run again with --debug (before the command) for the traceback, and report it with "
    "the command that caused it"
)


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("two\n  lines\tand tabs", "two lines and tabs"),
        ("x" * 600, "x" * 500),
        ("", "(no message)"),
        (" \n ", "(no message)"),
    ],
    ids=["whitespace", "long", "empty", "blank"],
)
def test_an_unexpected_error_is_one_line_and_a_hint(message: str, shown: str) -> None:
    result = unexpected(RuntimeError(message))
    assert result.stderr == f"error: unexpected RuntimeError: {shown}\n{HINT}\n"
    assert isinstance(result.exception, SystemExit) and result.exit_code == EXIT_CODES["error"]


def test_a_store_error_is_its_message_and_code_and_debug_shows_the_traceback() -> None:
    missing = ContractNotFoundError("sales.orders", "9.9.9")
    plain = unexpected(missing)
    assert plain.stderr == "error: contract 'sales.orders' version '9.9.9' not found\n"
    assert isinstance(plain.exception, SystemExit) and plain.exit_code == 3
    # --debug adds the traceback and keeps the documented code
    debug = unexpected(missing, "--debug")
    assert debug.exit_code == 3 and debug.stderr.startswith("Traceback (most recent call last):")
    assert debug.stderr.endswith("\nerror: contract 'sales.orders' version '9.9.9' not found\n")
    assert "raise RAISED" in debug.stderr
    bug = unexpected(RuntimeError("bug"), "--debug")
    assert bug.exit_code == EXIT_CODES["error"] and "Traceback" in bug.stderr
    assert bug.stderr.endswith("\nerror: unexpected RuntimeError: bug\n")  # no hint: it is there


def test_a_store_error_from_a_real_command_is_its_message_and_code(tmp_path: Path) -> None:
    DeltaContractStore(path=tmp_path / "t").put(minimal())
    missing = CliRunner().invoke(cli, ["--path", str(tmp_path / "t"), "get", "nope", "1.0.0"])
    assert missing.stderr == "error: contract 'nope' version '1.0.0' not found\n"
    assert isinstance(missing.exception, SystemExit) and missing.exit_code == 3
    debug = CliRunner().invoke(cli, ["--path", str(tmp_path / "t"), "--debug", "get", "nope", "1"])
    assert debug.exit_code == 3 and "Traceback" in debug.stderr
    assert "ContractNotFoundError: contract 'nope' version '1' not found" in debug.stderr


def test_a_closed_pipe_ends_the_command_quietly_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `get ... | head -1`, with the pipe inside this process: its reader is gone, and the
    # document is more than stdout's buffer holds, so writing it meets the closed pipe
    DeltaContractStore(path=tmp_path / "t").put(minimal(description={"purpose": "x" * 100_000}))
    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        with pytest.raises(SystemExit) as ended:
            cli.main(["--path", str(tmp_path / "t"), "get", "sales.orders", "1.0.0"])
        assert ended.value.code == EXIT_CODES["success"]
        assert os.readlink(f"/proc/self/fd/{write_end}") == os.devnull
        print("more output", file=stdout, flush=True)  # no error: it goes nowhere


def test_table_options_and_the_environment(tmp_path: Path) -> None:
    mine, other = tmp_path / "mine", tmp_path / "other"
    DeltaContractStore(path=mine).put(minimal("in.mine"))
    DeltaContractStore(path=other).put(minimal("in.other"))
    by_path = invoke("--path", str(mine), "list", "--json", env={ENV_TABLE: "g.m.c"})
    assert by_path.stderr == f"warning: --path given: ignoring {ENV_TABLE} from the environment\n"
    assert ids(by_path) == ["in.mine"]
    warehouse = tmp_path / "wh"
    DeltaContractStore(table="g.m.c", warehouse=warehouse).put(minimal("in.table"))
    by_table = invoke(
        "--table",
        "g.m.c",
        "--warehouse",
        str(warehouse),
        "list",
        "--json",
        env={ENV_PATH: str(other)},
    )
    assert by_table.stderr == f"warning: --table given: ignoring {ENV_PATH} from the environment\n"
    assert ids(by_table) == ["in.table"]
    both_env = CliRunner().invoke(cli, ["list"], env={ENV_TABLE: "g.m.c", ENV_PATH: str(other)})
    assert both_env.exit_code == 2 and both_env.stderr.endswith(
        "Error: both DC43_DELTA_STORE_TABLE and DC43_DELTA_STORE_PATH are set; unset one, or "
        "give --table or --path\n"
    )
    both = CliRunner().invoke(cli, ["--table", "g.m.c", "--path", str(other), "list"])
    assert both.exit_code == 2 and both.stderr.endswith("Error: give --table or --path, not both\n")
    neither = CliRunner().invoke(cli, ["list"], env={ENV_TABLE: None, ENV_PATH: None})
    assert neither.exit_code == 2 and neither.stderr.endswith(
        "Error: give the table: --table catalog.schema.table or --path PATH_OR_URI "
        "(or DC43_DELTA_STORE_TABLE / DC43_DELTA_STORE_PATH)\n"
    )


def test_a_warehouse_from_the_environment_alone_is_used_without_a_warning(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    DeltaContractStore(table="g.m.c", warehouse=warehouse).put(minimal("in.table"))
    quiet = invoke("--table", "g.m.c", "list", "--json", env={ENV_WAREHOUSE: str(warehouse)})
    assert quiet.stderr == "" and ids(quiet) == ["in.table"]
    flagged = invoke(
        "--table",
        "g.m.c",
        "--warehouse",
        str(warehouse),
        "list",
        "--json",
        env={ENV_WAREHOUSE: str(tmp_path / "elsewhere")},
    )
    assert flagged.stderr == (
        f"warning: --warehouse given: ignoring {ENV_WAREHOUSE} from the environment\n"
    )
    assert ids(flagged) == ["in.table"]


def test_a_read_of_a_location_without_a_table_says_where_it_looked(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--path", str(tmp_path / "none"), "list"])
    assert result.exit_code == 3
    assert result.stderr == (
        f"error: no table at {tmp_path / 'none'}: nothing has been written there (check "
        "--table, --path, --warehouse and the DC43_DELTA_STORE_* variables)\n"
    )


def test_storage_options_reach_the_object_store(tmp_path: Path, moto_s3: MotoS3) -> None:
    location = f"s3://{moto_s3.bucket()}/contracts"
    options = [f"--storage-option={k}={v}" for k, v in moto_s3.options().items()]
    (tmp_path / "c.json").write_text(json.dumps(minimal("on.s3")), encoding="utf-8")
    assert invoke("--path", location, *options, "put", str(tmp_path / "c.json")).exit_code == 0
    listed = invoke("--path", location, *options, "list", "--json")
    assert ids(listed) == ["on.s3"]
    assert DeltaContractStore(
        path=location, storage_options=moto_s3.options()
    ).list_contracts() == ["on.s3"]


def test_a_nul_in_a_file_argument_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--path", str(tmp_path / "t"), "put", "a\x00b.yaml"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for 'FILES...': 'a\\x00b.yaml' contains a NUL character"
    )
    assert result.stderr.startswith("Usage: ")  # the command's usage line, as click gives it
    assert not (tmp_path / "t").exists()


def test_a_missing_folder_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--path", str(tmp_path / "t"), "ingest", "nowhere"])
    assert result.exit_code == 2 and result.stderr.startswith("Usage: ")
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for 'FOLDERS...': Path 'nowhere' does not exist."
    )


def test_a_value_that_is_not_the_columns_type_names_the_option(tmp_path: Path) -> None:
    table = ["--path", str(tmp_path / "t")]
    DeltaContractStore(path=tmp_path / "t", metadata_columns={"reviewed": "boolean"}).put(minimal())
    result = CliRunner().invoke(
        cli, [*table, "set-metadata", "sales.orders", "1.0.0", "reviewed=maybe"]
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for COLUMN=VALUE: reviewed=maybe: 'maybe' is not a boolean: "
        "write true or false"
    )
    text = invoke(*table, "set-metadata", "sales.orders", "1.0.0", "status=maybe")
    assert text.exit_code == 0
    stored = DeltaContractStore(path=tmp_path / "t").scan().select("status").collect()
    assert stored["status"].to_list() == ["maybe"]
    unknown = CliRunner().invoke(cli, [*table, "set-metadata", "sales.orders", "1.0.0", "nope=1"])
    assert unknown.exit_code == 2, unknown.output
    assert unknown.stderr == (
        "error: update of contract 'sales.orders' version '1.0.0': unknown metadata column "
        "'nope'; the table has reviewed, status (declare new ones with add_metadata_columns)\n"
    )


def _drawn(monkeypatch: pytest.MonkeyPatch, items: list[Path]) -> tuple[list[Path], bytes]:
    """What ``progress`` yields and draws on a real terminal."""
    main, secondary = pty.openpty()
    try:
        with os.fdopen(secondary, "w") as terminal:
            monkeypatch.setattr(sys, "stderr", terminal)
            yielded = list(progress(items, "validating"))
        shown = drain(main)
    finally:
        os.close(main)
    return yielded, shown


@pytest.mark.parametrize(("count", "bar"), [(19, False), (20, True), (25, True)])
def test_a_progress_bar_on_a_terminal_for_twenty_items_or_more(
    monkeypatch: pytest.MonkeyPatch, count: int, bar: bool
) -> None:
    items = [Path(f"c{n}.yaml") for n in range(count)]
    yielded, shown = _drawn(monkeypatch, items)
    assert yielded == items
    assert (b"validating" in shown) is bar


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    items = [Path(f"c{n}.yaml") for n in range(25)]
    with (tmp_path / "log").open("w") as log:
        monkeypatch.setattr(sys, "stderr", log)
        assert list(progress(items, "validating")) == items
    assert (tmp_path / "log").read_text() == ""


def test_table_cells_are_cut_only_beyond_80_characters() -> None:
    import io

    from dc43_delta_store.cli.output import emit

    exact, longer = "x" * 80, "y" * 81
    out = io.StringIO()
    emit([{"v": exact}, {"v": longer}], ["v"], "table", out)
    lines = out.getvalue().splitlines()
    assert lines[2] == exact
    assert lines[3] == "y" * 79 + "…"
    whole = io.StringIO()
    emit([{"v": longer}], ["v"], "nl", whole)
    assert json.loads(whole.getvalue()) == {"v": longer}


@pytest.mark.parametrize("item", ["=string", "owner", ""])
def test_a_pair_without_a_key_or_an_equals_sign_is_a_usage_error(tmp_path: Path, item: str) -> None:
    result = CliRunner().invoke(cli, ["--path", str(tmp_path / "t"), "add-columns", item])
    assert result.exit_code == EXIT_CODES["usage"]
    assert f"NAME=TYPE must be KEY=VALUE, got {item!r}" in result.output
    assert not (tmp_path / "t").exists()
