"""``dc43-delta-store``: the contract store from the command line, for CI jobs and people.

Data goes to stdout (a table, or ``--json`` / ``--nl`` for scripts), messages to stderr.
Exit codes: 0 success, 1 unexpected error, 2 usage error, 3 not found (a contract, or the
table itself on a read), 4 version conflict, 5 invalid contract, 6 store unavailable
(unreachable or busy), 7 incompatible (a version bump too small for its changes), 8 the
table needs attention (a Delta feature or schema the store cannot use, a version stored
twice with different content, or problems ``check`` found). Nothing prints a traceback
unless ``--debug``.
"""

from __future__ import annotations

import importlib
import warnings

import click

from .. import __version__
from ..core.validation import ContractValidationWarning
from .consumers import changes, resolve
from .diff import compatibility, diff_command
from .publish import ingest, put, validate
from .reads import get, history, latest, list_, sql, versions
from .support import (
    EXIT_CODES,
    Context,
    StoreGroup,
    pairs,
)
from .upkeep import add_columns, adopt, check, optimize, set_metadata, vacuum

__all__ = ["EXIT_CODES", "main"]


@click.group(cls=StoreGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dc43-delta-store")
@click.option(
    "--table",
    envvar="DC43_DELTA_STORE_TABLE",
    help="Table name catalog.schema.table (env DC43_DELTA_STORE_TABLE).",
)
@click.option(
    "--path",
    envvar="DC43_DELTA_STORE_PATH",
    help="Table path or URI, instead of --table (env DC43_DELTA_STORE_PATH).",
)
@click.option(
    "--warehouse",
    envvar="DC43_DELTA_STORE_WAREHOUSE",
    help="Folder or URI that table names map into (env DC43_DELTA_STORE_WAREHOUSE).",
)
@click.option(
    "--storage-option",
    "storage_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="deltalake storage option, repeatable (credentials also come from the "
    "usual environment variables).",
)
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.pass_context
def cli(
    ctx: click.Context,
    table: str | None,
    path: str | None,
    warehouse: str | None,
    storage_option: tuple[str, ...],
    debug: bool,
) -> None:
    """ODCS data contracts in a Delta Lake table, without Spark.

    --table, --path and --warehouse on the command line beat the DC43_DELTA_STORE_*
    variables (a warning names the one set aside).
    """
    ctx.obj = Context.from_options(ctx, pairs(storage_option, "--storage-option"))


cli.add_command(validate)
cli.add_command(put)
cli.add_command(ingest)
cli.add_command(get)
cli.add_command(latest)
cli.add_command(list_)
cli.add_command(versions)
cli.add_command(history)
cli.add_command(sql)
cli.add_command(set_metadata)
cli.add_command(add_columns)
cli.add_command(optimize)
cli.add_command(vacuum)
cli.add_command(check)
cli.add_command(adopt)
cli.add_command(diff_command)
cli.add_command(compatibility)
cli.add_command(resolve)
cli.add_command(changes)
# `serve` sits a layer above the command line (dc43_delta_store.serve): loaded by name
cli.add_command(importlib.import_module("dc43_delta_store.serve.command").serve)


def main() -> None:
    """Console entry point."""
    # schema issues are part of each command's report, not Python warnings
    warnings.simplefilter("ignore", ContractValidationWarning)
    cli(prog_name="dc43-delta-store")
