"""Shared pieces of the command line: exit codes, options, the table context, conversions."""

from __future__ import annotations

import math
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from click.core import ParameterSource

from ..core.terminal import printable
from ..core.values import from_text
from ..errors import (
    BatchError,
    CompatibilityError,
    ContractStoreError,
    DuplicateVersionError,
    IncompatibleTableError,
    InvalidContractError,
    InvalidLocationError,
    InvalidRequestError,
    StoreUnavailableError,
    TableBusyError,
    UnsafeEndpointError,
    UpdateConflictError,
    VersionConflictError,
)
from ..store import DeltaContractStore
from .streams import finish_output, output_failure, say, start_output

__all__ = [
    "ENVIRONMENT",
    "EXIT_CODES",
    "MAX_VERSION",
    "Context",
    "FiniteRange",
    "SafePath",
    "StoreGroup",
    "as_of_option",
    "error_text",
    "exit_code",
    "fail",
    "output_options",
    "pairs",
    "parse_as_of",
    "pass_context",
    "validation_option",
    "who_why",
    "write_report",
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

MAX_VERSION = 2**63 - 1
"""The highest table version (Delta's are signed 64-bit numbers): the top of ranges of
versions and counts of commits."""

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
    if isinstance(error, ContractStoreError) and isinstance(error, LookupError):
        return EXIT_CODES["not_found"]  # a contract, a version, or the table itself
    for kinds, code in [
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


def error_text(error: BaseException) -> str:
    """The message of ``error`` as the command line shows it: stored text quoted in it is
    escaped (:func:`~..core.terminal.printable`), so it cannot add lines of its own; a
    batch's problems one per line."""
    if not isinstance(error, BatchError):
        return printable(str(error))
    lines = [printable(str(error).partition("\n")[0])]
    lines += [printable(str(problem)) for problem in error.problems[:20]]
    if len(error.problems) > 20:
        lines.append(f"(and {len(error.problems) - 20} more)")
    return "\n  ".join(lines)


def fail(error: BaseException) -> NoReturn:
    say(f"error: {error_text(error)}")
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


class FiniteRange(click.FloatRange):
    """``click.FloatRange`` that also refuses NaN (no comparison fails for it, so click's
    range lets it through)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number", param, ctx)
        return number


class SafePath(click.Path):
    """``click.Path`` that refuses a NUL character as a usage error (click's own check
    raises a bare ``ValueError`` on it)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if "\x00" in str(value):
            self.fail(f"{str(value)!r} contains a NUL character", param, ctx)
        return super().convert(value, param, ctx)


def write_report(path: Path, text: str, option: str) -> None:
    """Write a report file; a path that cannot take it is a usage error naming the option."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        shown = printable(str(path))
        raise click.BadParameter(
            f"cannot write {shown}: {exc.strerror}", param_hint=option
        ) from None


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

    def reader(self, *, follow: bool = False) -> DeltaContractStore:
        """The store of a command that reads or tends an existing table: a table that does
        not exist (a mistyped ``--path``) is an error (exit 3), not an empty answer. A
        command answers from the table as it found it first: one look at the log, not one
        per call it makes — unless it ``follow``s the table."""
        store = self.store() if follow else self.store(max_staleness=ONE_COMMAND)
        if store.table_version is None:
            say(
                f"error: no table at {printable(str(store.location))}: nothing has been "
                "written there (check --table, --path, --warehouse and the "
                "DC43_DELTA_STORE_* variables)"
            )
            sys.exit(EXIT_CODES["not_found"])
        return store


def _warn_ignored(variable: str, option: str) -> None:
    click.echo(f"warning: {option} given: ignoring {variable} from the environment", err=True)


class StoreGroup(click.Group):
    """The command group: store errors become their message and exit code; anything else
    one line and a hint — never a traceback, unless ``--debug``, which adds it and keeps the
    code. Output is flushed before the exit, so a full stdout is reported (:mod:`.streams`)."""

    def invoke(self, ctx: click.Context) -> Any:
        start_output()
        try:
            result = self._invoke(ctx)
        except BaseException:  # an exit code, a usage error: what was printed goes out first
            finish_output()
            raise
        finish_output()
        return result

    def _invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ContractStoreError as error:
            _traceback(debug)
            fail(error)
        except Exception as error:
            code = output_failure(error) if isinstance(error, OSError) else None
            if code is not None:  # `... | head`, `>&-`, `> /dev/full`
                sys.exit(code)
            _traceback(debug)
            text = printable(" ".join(str(error).split()))[:500] or "(no message)"
            say(f"error: unexpected {type(error).__name__}: {text}")
            if not debug:
                say(
                    "hint: run again with --debug (before the command) for the traceback, "
                    "and report it with the command that caused it"
                )
            sys.exit(EXIT_CODES["error"])


def _traceback(debug: bool) -> None:
    if debug:
        say("\n".join(printable(line) for line in traceback.format_exc().rstrip("\n").split("\n")))


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
