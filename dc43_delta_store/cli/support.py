"""Shared pieces of the command line: exit codes, options, the table context, conversions."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from click.core import ParameterSource

from ..core.values import from_text
from ..errors import (
    BatchError,
    CompatibilityError,
    ContractNotFoundError,
    ContractStoreError,
    DuplicateVersionError,
    IncompatibleTableError,
    InvalidContractError,
    InvalidLocationError,
    InvalidRequestError,
    StoreUnavailableError,
    TableBusyError,
    TableNotFoundError,
    UnsafeEndpointError,
    UpdateConflictError,
    VersionConflictError,
)
from ..store import DeltaContractStore

__all__ = [
    "ENVIRONMENT",
    "EXIT_CODES",
    "Context",
    "SafePath",
    "StoreGroup",
    "as_of_option",
    "exit_code",
    "fail",
    "output_options",
    "pairs",
    "parse_as_of",
    "pass_context",
    "validation_option",
    "who_why",
]

EXIT_CODES = {
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


F = TypeVar("F", bound=Callable[..., Any])
ONE_COMMAND = 3600.0  # seconds a read command's store trusts what it read first


def exit_code(error: BaseException) -> int:
    """The documented exit code for an error."""
    if isinstance(error, BatchError):
        codes = [exit_code(problem.error) for problem in error.problems]
        for kind in ("conflict", "incompatible", "table"):
            if EXIT_CODES[kind] in codes:
                return EXIT_CODES[kind]
        return EXIT_CODES["invalid"]
    for kinds, code in [
        ((ContractNotFoundError, TableNotFoundError), "not_found"),
        ((CompatibilityError,), "incompatible"),
        ((VersionConflictError, UpdateConflictError), "conflict"),
        ((InvalidContractError,), "invalid"),
        ((IncompatibleTableError, DuplicateVersionError, UnsafeEndpointError), "table"),
        ((StoreUnavailableError, TableBusyError), "unavailable"),
        ((InvalidLocationError, InvalidRequestError), "usage"),
    ]:
        if isinstance(error, kinds):
            return EXIT_CODES[code]
    return EXIT_CODES["error"]


def fail(error: BaseException) -> NoReturn:
    click.echo(f"error: {error}", err=True)
    sys.exit(exit_code(error))


# Option decorators run once, when the commands are defined: mutation testing cannot switch
# a mutant of them on (tests/MUTATION.md).
# pragma: no mutate start
def output_options(function: F) -> F:
    """``--json`` and ``--nl`` for commands that print data."""
    function = click.option("--nl", "fmt", flag_value="nl", help="One JSON object per line.")(
        function
    )
    return click.option("--json", "fmt", flag_value="json", help="JSON output.")(function)


def validation_option(function: F) -> F:
    return click.option(
        "--validation",
        type=click.Choice(["strict", "warn", "off"]),
        default="warn",
        show_default=True,
        help="ODCS JSON-Schema policy.",
    )(function)


def who_why(function: F) -> F:
    function = click.option("--why", help="Reason recorded in the commit (userMetadata).")(function)
    return click.option("--who", help="Author recorded in the commit (userName).")(function)


def as_of_option(function: F) -> F:
    return click.option(
        "--as-of", help="Answer as the table stood at a version number or an RFC 3339 time."
    )(function)


# pragma: no mutate end


def parse_as_of(value: str | None) -> int | str | None:
    """A version number as an int (the store checks its range), anything else as text."""
    if value is not None and re.fullmatch(r"[-+]?[0-9]+", value.strip()):
        return int(value)
    return value


def pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.UsageError(f"{what} must be KEY=VALUE, got {item!r}")
        parsed[key] = value
    return parsed


class SafePath(click.Path):
    """``click.Path`` that refuses a NUL character as a usage error (click's own check
    raises a bare ``ValueError`` on it)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if "\x00" in str(value):
            self.fail(f"{str(value)!r} contains a NUL character", param, ctx)
        return super().convert(value, param, ctx)


ENVIRONMENT = {
    "table": "DC43_DELTA_STORE_TABLE",
    "path": "DC43_DELTA_STORE_PATH",
    "warehouse": "DC43_DELTA_STORE_WAREHOUSE",
}
"""Where each table option comes from when it is not on the command line."""


class Context:
    """Options of the ``dc43-delta-store`` group, and the store they describe."""

    def __init__(
        self,
        table: str | None,
        path: str | None,
        warehouse: str | None,
        storage_options: dict[str, str],
    ) -> None:
        self.table, self.path, self.warehouse = table, path, warehouse
        self.storage_options = storage_options

    @classmethod
    def from_options(cls, ctx: click.Context, storage_options: dict[str, str]) -> Context:
        """The table options as meant: one given on the command line beats the environment
        (with a warning naming the variable set aside), and two that contradict each other
        are a usage error."""
        values = {name: ctx.params.get(name) for name in ENVIRONMENT}
        given = {
            name
            for name in ENVIRONMENT
            if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE
        }
        from_env = {
            name
            for name in ENVIRONMENT
            if ctx.get_parameter_source(name) == ParameterSource.ENVIRONMENT
        }
        if {"table", "path"} <= given:
            raise click.UsageError("give --table or --path, not both")
        if given & {"table", "path"}:
            for name in from_env & {"table", "path"}:
                _warn_ignored(ENVIRONMENT[name], "--" + next(iter(given & {"table", "path"})))
                values[name] = None
        elif {"table", "path"} <= from_env:
            raise click.UsageError(
                "both DC43_DELTA_STORE_TABLE and DC43_DELTA_STORE_PATH are set; unset one, or "
                "give --table or --path"
            )
        if "warehouse" in given and ENVIRONMENT["warehouse"] in os.environ:
            _warn_ignored(ENVIRONMENT["warehouse"], "--warehouse")
        return cls(values["table"], values["path"], values["warehouse"], storage_options)

    def store(self, **options: Any) -> DeltaContractStore:
        if not (self.table or self.path):
            raise click.UsageError(
                "give the table: --table catalog.schema.table or --path PATH_OR_URI "
                "(or DC43_DELTA_STORE_TABLE / DC43_DELTA_STORE_PATH)"
            )
        return DeltaContractStore(
            table=self.table,  # from_options leaves one of them
            path=self.path,
            warehouse=self.warehouse,
            storage_options=self.storage_options,
            **options,
        )

    def reader(self) -> DeltaContractStore:
        """The store of a command that only reads: a table that does not exist is an error
        (exit 3), not an empty answer. A command answers from the table as it found it
        first: one look at the log, not one per call it makes."""
        store = self.store(max_staleness=ONE_COMMAND)
        if store.table_version is None:
            click.echo(
                f"error: no table at {store.location}: nothing has been written there "
                "(check --table, --path, --warehouse and the DC43_DELTA_STORE_* variables)",
                err=True,
            )
            sys.exit(EXIT_CODES["not_found"])
        return store


def _warn_ignored(variable: str, option: str) -> None:
    click.echo(f"warning: {option} given: ignoring {variable} from the environment", err=True)


class StoreGroup(click.Group):
    """The command group: store errors become their message and exit code; anything else
    one line and a hint — never a traceback, unless ``--debug``."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ContractStoreError as error:
            if ctx.params.get("debug"):
                raise
            fail(error)
        except BrokenPipeError:  # `... | head`: the reader has what it wanted
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_CODES["success"])
        except Exception as error:
            if ctx.params.get("debug"):
                raise
            text = " ".join(str(error).split())[:500] or "(no message)"
            click.echo(f"error: unexpected {type(error).__name__}: {text}", err=True)
            click.echo(
                "hint: run again with --debug (before the command) for the traceback, and "
                "report it with the command that caused it",
                err=True,
            )
            sys.exit(EXIT_CODES["error"])


pass_context = click.make_pass_decorator(Context)


def relative_to(source: str | None, root: Path) -> str | None:
    if source is None:
        return None
    try:
        return str(Path(source).resolve().relative_to(root.resolve()))
    except ValueError:
        return source


def put_row(result: Any) -> dict[str, Any]:
    issues = result.validation_issues
    return {
        "outcome": result.outcome,
        "contract_id": result.contract_id,
        "version": result.version,
        "source": result.source,
        "fingerprint": result.fingerprint,
        "message": f"{len(issues)} schema issue(s): {issues[0]}" if issues else None,
        "compatibility": result.compatibility,
        "messages": [str(issue) for issue in issues],  # all of them, for --json and --nl
    }


REFUSED = ("conflict", "invalid", "incompatible")


def problem_kind(error: BaseException) -> str:
    if isinstance(error, CompatibilityError):
        return "incompatible"
    return "conflict" if isinstance(error, VersionConflictError) else "invalid"


def typed_values(values: dict[str, str], columns: Any, what: str) -> dict[str, Any]:
    """Command-line text as the column's type, by the documented spellings only (see
    :mod:`..core.values`); an empty value clears it. Anything else is a usage error."""
    import polars as pl

    kinds = {
        pl.Boolean: "boolean",
        pl.Int64: "long",
        pl.Float64: "double",
        pl.Date: "date",
        pl.String: "string",
    }
    typed: dict[str, Any] = {}
    for name, text in values.items():
        dtype = columns.get(name)
        kind = "timestamp" if isinstance(dtype, pl.Datetime) else kinds.get(dtype, "string")
        try:
            typed[name] = None if text == "" else from_text(kind, text)
        except ValueError as exc:
            raise click.BadParameter(f"{name}={text}: {exc}", param_hint=what) from None
    return typed


def progress(items: list[Path], label: str) -> Iterator[Path]:
    """Items, with a progress bar on stderr when it is a terminal and the run is long."""
    if not sys.stderr.isatty() or len(items) < 20:
        yield from items
        return
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar
