"""The command line's values, streams and codes: numbers within documented ranges, report
paths that cannot be written, stdout closed or full, ``--debug`` keeping the exit code, and a
mistyped ``--path`` failing every command that needs the table. In-process (what mutation
testing sees) and through the console script.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.cli import EXIT_CODES, cli

from .conftest import EXAMPLES, minimal
from .test_cli import SCRIPT
from .test_cli_support import unexpected

EXAMPLE = EXAMPLES / "sales" / "orders-1.0.0.odcs.yaml"


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "t"
    DeltaContractStore(path=path).put(minimal(description={"purpose": "x" * 20_000}))
    return path


def run(table: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--path", str(table), *args])


def script(
    *args: str, timeout: float = 60, stdout: Any = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    """The console script; ``stdout`` may be a file (stderr is always captured)."""
    return subprocess.run(
        [str(SCRIPT), *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["changes", "--interval", "0"], "--interval"),
        (["changes", "--interval", "-1"], "--interval"),
        (["changes", "--interval", "nan"], "--interval"),
        (["changes", "--interval", "inf"], "--interval"),
        (["changes", "--interval", "1e999"], "--interval"),
        (["changes", "--interval", "86401"], "--interval"),
        (["changes", "--since", "99999999999999999999999"], "--since"),
        (["changes", "--since", "-2"], "--since"),
        (["history", "--limit", "99999999999999999999999"], "--limit"),
        (["history", "--limit", "0"], "--limit"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_numbers_out_of_their_range_are_usage_errors_naming_the_option(
    table: Path, args: list[str], option: str
) -> None:
    result = run(table, *args)
    assert result.exit_code == EXIT_CODES["usage"], result.output
    assert result.stderr.splitlines()[-1].startswith(f"Error: Invalid value for '{option}': ")
    if args[-1] == "nan":  # click's range lets NaN through: the message is the store's own
        assert result.stderr.splitlines()[-1].endswith(": 'nan' is not a number")
    assert "Traceback" not in result.output and not result.stdout


def test_numbers_at_the_ends_of_their_range_work(table: Path) -> None:
    assert run(table, "history", "--limit", str(2**63 - 1), "--json").exit_code == 0
    assert run(table, "changes", "--since", str(2**63 - 1)).exit_code == EXIT_CODES["usage"]
    assert run(table, "changes", "--interval", "0.01", "--since", "-1").exit_code == 0
    assert run(table, "changes", "--interval", "86400").exit_code == 0


def test_a_follow_with_a_busy_interval_never_starts(table: Path) -> None:
    # 0, negative or NaN polled without pause; inf crashed the wait: all refused up front
    for interval in ("0", "-5", "nan", "inf"):
        result = script("--path", str(table), "changes", "--follow", "--interval", interval)
        assert result.returncode == EXIT_CODES["usage"], result.stderr
        assert "Invalid value for '--interval'" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("where", ["/proc/x", "{tmp}", "/proc/self/report.xml"])
def test_a_report_path_that_cannot_be_written_is_a_usage_error(tmp_path: Path, where: str) -> None:
    old = tmp_path / "a.yaml"
    old.write_text("id: a\nversion: 1.0.0\nkind: DataContract\napiVersion: v3.0.2\n")
    target = where.replace("{tmp}", str(tmp_path))
    result = CliRunner().invoke(cli, ["diff", str(old), str(old), "--junit-xml", target])
    assert result.exit_code == EXIT_CODES["usage"], result.output
    assert "--junit-xml" in result.stderr.splitlines()[-1]
    assert "unexpected" not in result.stderr
    validated = CliRunner().invoke(cli, ["validate", str(old), "--junit-xml", target])
    assert validated.exit_code == EXIT_CODES["usage"] and "--junit-xml" in validated.stderr


def test_a_full_stdout_is_one_line_and_exit_1(table: Path) -> None:
    with open("/dev/full", "w") as full:
        for args in (["history"], ["get", "sales.orders", "1.0.0"], ["list", "--json"]):
            result = script("--path", str(table), *args, stdout=full)
            assert result.returncode == EXIT_CODES["error"], (args, result.stderr)
            assert result.stderr == "error: cannot write the output: No space left on device\n"
        # a failing read keeps its own code and message: nothing was printed
        missing = script("--path", str(table), "get", "x", "1", stdout=full)
        assert missing.returncode == EXIT_CODES["not_found"]
        assert missing.stderr == "error: contract 'x' version '1' not found\n"


def test_a_full_stdout_in_process(
    table: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with open("/dev/full", "w") as full:
        monkeypatch.setattr(sys, "stdout", full)
        with pytest.raises(SystemExit) as ended:
            cli.main(["--path", str(table), "history"], prog_name="dc43-delta-store")
        assert ended.value.code == EXIT_CODES["error"]
        assert os.readlink(f"/proc/self/fd/{full.fileno()}") == os.devnull  # nothing more lost
    assert capsys.readouterr().err == "error: cannot write the output: No space left on device\n"


def test_a_closed_stdout_runs_the_command_quietly(table: Path, tmp_path: Path) -> None:
    shell = f"'{SCRIPT}' --path '{table}' history >&-; echo $? >&2"
    result = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, timeout=60)
    assert result.stderr == "0\n"
    new = tmp_path / "new.json"
    new.write_text('{"id": "b", "version": "1.0.0"}', encoding="utf-8")
    shell = f"'{SCRIPT}' --path '{table}' put '{new}' --validation off >&-; echo $? >&2"
    put = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, timeout=60)
    assert put.stderr == "0\n" and DeltaContractStore(path=table).list_contracts() == [
        "b",
        "sales.orders",
    ]
    shell = f"'{SCRIPT}' --path '{table}' get x 1 >&-; echo $? >&2"
    missing = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, timeout=60)
    assert missing.stderr.splitlines() == ["error: contract 'x' version '1' not found", "3"]


def test_a_closed_stdout_in_process(
    table: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    with pytest.raises(SystemExit) as ended:
        cli.main(["--path", str(table), "history"], prog_name="dc43-delta-store")
    assert ended.value.code == EXIT_CODES["success"]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("args", "code"),
    [(["get", "nope", "1.0.0"], "not_found"), (["put", "{bad}"], "invalid")],
)
def test_debug_adds_the_traceback_and_keeps_the_code(
    table: Path, tmp_path: Path, args: list[str], code: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [\n", encoding="utf-8")
    argv = ["--path", str(table), *(a.replace("{bad}", str(bad)) for a in args)]
    plain = script(*argv)
    debug = script("--debug", *argv)
    assert plain.returncode == debug.returncode == EXIT_CODES[code]
    assert "Traceback" not in plain.stderr
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert debug.stderr.endswith("\n" + plain.stderr)


@pytest.mark.parametrize(
    "args",
    [
        ["changes"],
        ["vacuum"],
        ["vacuum", "--apply"],
        ["optimize"],
        ["adopt"],
        ["compatibility", "show"],
        ["diff", "a@1.0.0", "a@latest"],
    ],
    ids=" ".join,
)
def test_a_mistyped_path_fails_every_command_that_needs_the_table(
    tmp_path: Path, args: list[str]
) -> None:
    mistyped = tmp_path / "contarcts"
    result = run(mistyped, *args)
    assert result.exit_code == EXIT_CODES["not_found"], result.output
    assert result.stderr.splitlines() == [
        f"error: no table at {mistyped}: nothing has been written there (check --table, "
        "--path, --warehouse and the DC43_DELTA_STORE_* variables)"
    ]
    assert not mistyped.exists()  # and nothing was created there


def test_a_mistyped_path_through_the_console_script(tmp_path: Path) -> None:
    for args in (["changes", "--follow"], ["vacuum"], ["compatibility", "show"]):
        result = script("--path", str(tmp_path / "nowhere"), *args, timeout=30)
        assert result.returncode == EXIT_CODES["not_found"]
        assert result.stderr.startswith(f"error: no table at {tmp_path / 'nowhere'}: ")
        assert result.stdout == ""


def test_a_read_only_stdout_is_quiet_and_keeps_the_code(
    table: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `1</dev/null`: stdout is open, but not for writing (EBADF), as if closed
    with os.fdopen(os.open(os.devnull, os.O_RDONLY), "w") as read_only:
        monkeypatch.setattr(sys, "stdout", read_only)
        for args, code in ((["history"], "success"), (["get", "x", "1"], "not_found")):
            with pytest.raises(SystemExit) as ended:
                cli.main(["--path", str(table), *args], prog_name="dc43-delta-store")
            assert ended.value.code in (EXIT_CODES[code], None)  # None: click's own success
    err = capsys.readouterr().err
    assert err == "error: contract 'x' version '1' not found\n"


@pytest.mark.parametrize("broken", ["full", "closed"])
def test_a_broken_stderr_keeps_the_exit_code(
    table: Path, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    stderr = open("/dev/full", "w")  # noqa: SIM115
    if broken == "closed":
        stderr.close()
    monkeypatch.setattr(sys, "stderr", stderr)
    with pytest.raises(SystemExit) as ended:
        cli.main(["--path", str(table), "get", "x", "1"], prog_name="dc43-delta-store")
    assert ended.value.code == EXIT_CODES["not_found"]
    with pytest.raises(SystemExit) as missing:
        cli.main(["--path", str(table / "nowhere"), "changes"], prog_name="dc43-delta-store")
    assert missing.value.code == EXIT_CODES["not_found"]
    with contextlib.suppress(OSError):  # what the messages left in its buffer
        stderr.close()


def test_only_writes_to_stdout_count_as_output_failures() -> None:
    # a file the command opened carries its name: an unexpected error, not lost output
    named = unexpected(OSError(errno.ENOSPC, "No space left on device", "/data/report.xml"))
    assert named.exit_code == EXIT_CODES["error"]
    assert named.stderr.startswith("error: unexpected OSError: [Errno 28] No space left")
    other = unexpected(OSError(errno.EACCES, "Permission denied"))
    assert other.exit_code == EXIT_CODES["error"] and "unexpected PermissionError" in other.stderr
    lost = unexpected(OSError(errno.ENOSPC, "No space left on device"))
    assert lost.exit_code == EXIT_CODES["error"]
    assert lost.stderr == "error: cannot write the output: No space left on device\n"
    gone = unexpected(BrokenPipeError(errno.EPIPE, "Broken pipe"))
    assert gone.exit_code == EXIT_CODES["success"] and gone.stderr == ""


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2024-01-01T24:00:00Z", "as_of='2024-01-01T24:00:00Z' is not a time (hour must be in"),
        ("0001-01-01T00:00:00+14:00", "as_of='0001-01-01T00:00:00+14:00' is out of range"),
        ("99999999999999999999999", "as_of=99999999999999999999999 is not a table version"),
        ("tomorrow", "as_of='tomorrow' is neither a table version nor an RFC 3339 time"),
    ],
)
def test_a_bad_as_of_is_one_line_naming_what_was_given(
    table: Path, as_of: str, message: str
) -> None:
    for args in (["latest", "sales.orders"], ["list"], ["sql", "SELECT 1 FROM contracts"]):
        result = run(table, *args, "--as-of", as_of)
        assert result.exit_code == EXIT_CODES["usage"]
        assert result.stderr.startswith(f"error: {message}")
        assert len(result.stderr.splitlines()) == 1


def test_a_path_in_another_encoding_is_a_usage_error(tmp_path: Path) -> None:
    where = os.fsencode(tmp_path) + b"/t\xff"
    for args in ([b"put", os.fsencode(EXAMPLE)], [b"list"]):
        result = subprocess.run(
            [os.fsencode(SCRIPT), b"--path", where, *args], capture_output=True, timeout=60
        )
        assert result.returncode == EXIT_CODES["usage"]
        assert result.stderr.endswith(b"\\udcff' is not valid UTF-8, which Delta tables need\n")
    assert list(tmp_path.iterdir()) == []
