"""Shared pieces of the command line: exit codes, options, the table context, conversions."""

from __future__ import annotations

import datetime as _dt
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

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
    UpdateConflictError,
    VersionConflictError,
)
from ..store import DeltaContractStore

__all__ = [
    "EXIT_CODES",
    "Context",
    "as_of_option",
    "exit_code",
    "fail",
    "guarded",
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


def exit_code(error: BaseException) -> int:
    """The documented exit code for an error."""
    if isinstance(error, BatchError):
        codes = [exit_code(problem.error) for problem in error.problems]
        for kind in ("conflict", "incompatible", "table"):
            if EXIT_CODES[kind] in codes:
                return EXIT_CODES[kind]
        return EXIT_CODES["invalid"]
    for kinds, code in [
        ((ContractNotFoundError,), "not_found"),
        ((CompatibilityError,), "incompatible"),
        ((VersionConflictError, UpdateConflictError), "conflict"),
        ((InvalidContractError,), "invalid"),
        ((IncompatibleTableError, DuplicateVersionError), "table"),
        ((StoreUnavailableError, TableBusyError), "unavailable"),
        ((InvalidLocationError, InvalidRequestError), "usage"),
    ]:
        if isinstance(error, kinds):
            return EXIT_CODES[code]
    return EXIT_CODES["error"]


def fail(error: BaseException) -> NoReturn:
    click.echo(f"error: {error}", err=True)
    sys.exit(exit_code(error))


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


def parse_as_of(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


def pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.UsageError(f"{what} must be KEY=VALUE, got {item!r}")
        parsed[key] = value
    return parsed


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

    def store(self, **options: Any) -> DeltaContractStore:
        if not (self.table or self.path):
            raise click.UsageError(
                "give the table: --table catalog.schema.table or --path PATH_OR_URI "
                "(or DC43_DELTA_STORE_TABLE / DC43_DELTA_STORE_PATH)"
            )
        return DeltaContractStore(
            table=None if self.path else self.table,
            path=self.path,
            warehouse=self.warehouse,
            storage_options=self.storage_options,
            **options,
        )


pass_context = click.make_pass_decorator(Context)


def guarded(function: F) -> F:
    """Run a command, turning store errors into a message and a documented exit code."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ContractStoreError as error:
            fail(error)

    return run  # type: ignore[return-value]


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
    }


REFUSED = ("conflict", "invalid", "incompatible")


def problem_kind(error: BaseException) -> str:
    if isinstance(error, CompatibilityError):
        return "incompatible"
    return "conflict" if isinstance(error, VersionConflictError) else "invalid"


def typed_values(values: dict[str, str], columns: Any) -> dict[str, Any]:
    """Command-line text as the column's type; an empty value clears it."""
    import polars as pl

    typed: dict[str, Any] = {}
    for name, text in values.items():
        dtype = columns.get(name)
        if text == "":
            typed[name] = None
        elif dtype == pl.Boolean:
            typed[name] = text.lower() in ("true", "yes", "1")
        elif dtype == pl.Int64:
            typed[name] = int(text)
        elif dtype == pl.Float64:
            typed[name] = float(text)
        elif dtype == pl.Date:
            typed[name] = _dt.date.fromisoformat(text)
        elif isinstance(dtype, pl.Datetime):
            typed[name] = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            typed[name] = text
    return typed


def progress(items: list[Path], label: str) -> Iterator[Path]:
    """Items, with a progress bar on stderr when it is a terminal and the run is long."""
    if not sys.stderr.isatty() or len(items) < 20:
        yield from items
        return
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar
