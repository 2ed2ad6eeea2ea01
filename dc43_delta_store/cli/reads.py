"""Commands that read the table: ``get``, ``latest``, ``list``, ``versions``, ``history``,
``sql``."""

from __future__ import annotations

import sys
from typing import Any

import click
import polars as pl

from ..core.versions import version_sort_key
from ..errors import ContractNotFoundError
from ..table.sql import views
from ..table.sql_pool import DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT
from .consumers import answer, filter_options
from .output import Format, emit, print_document
from .support import (
    MAX_VERSION,
    Context,
    as_of_option,
    fail,
    output_options,
    parse_as_of,
    pass_context,
)

__all__ = ["get", "history", "latest", "list_", "sql", "versions"]


@click.command()
@click.argument("contract_id")
@click.argument("version")
@as_of_option
@click.option("--json", "as_json", is_flag=True, help="The document as JSON (default: YAML).")
@pass_context
def get(context: Context, contract_id: str, version: str, as_of: str | None, as_json: bool) -> None:
    """Print one stored contract version."""
    document = context.reader().get(contract_id, version, as_of=parse_as_of(as_of))
    print_document(document, as_json)


@click.command()
@click.argument("contract_id")
@filter_options
@pass_context
def latest(context: Context, /, contract_id: str, **options: Any) -> None:
    """Print the latest version of a contract (version order, as `versions` lists)."""
    answer(context, contract_id, None, **options)


@click.command(name="list")
@as_of_option
@output_options
@pass_context
def list_(context: Context, as_of: str | None, fmt: Format | None) -> None:
    """List contracts with their version count and latest version."""
    scan = context.reader().scan(as_of=parse_as_of(as_of))
    columns = scan.collect_schema()
    frames = views(scan, columns)  # "latest" as latest() picks it: prereleases skipped
    counts = frames["contracts"].group_by("contract_id").agg(pl.len().alias("versions"))
    latest = frames["contracts_latest"].select(
        "contract_id", pl.col("version").alias("latest"), "status"
    )
    listed = counts.join(latest, on="contract_id", how="left").sort("contract_id").collect()
    emit(
        listed.to_dicts(),
        ["contract_id", "versions", "latest", "status"],
        fmt or "table",
        sys.stdout,
    )


@click.command()
@click.argument("contract_id")
@as_of_option
@output_options
@pass_context
def versions(context: Context, contract_id: str, as_of: str | None, fmt: Format | None) -> None:
    """List the versions of a contract, lowest to highest."""
    import polars as pl

    scan = context.reader().scan(as_of=parse_as_of(as_of))
    frame = views(scan, scan.collect_schema())["contracts"]  # status from the JSON if need be
    frame = frame.filter(pl.col("contract_id") == contract_id)
    columns = [
        c for c in ("version", "status", "created_at", "fingerprint") if c in frame.collect_schema()
    ]
    found = frame.select(columns).collect().to_dicts()
    if not found:
        fail(ContractNotFoundError(contract_id))
    found.sort(key=lambda row: version_sort_key(row["version"]))
    emit(found, columns, fmt or "table", sys.stdout)


@click.command()
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=MAX_VERSION),
    help="Only the newest N commits.",
)
@output_options
@pass_context
def history(context: Context, limit: int | None, fmt: Format | None) -> None:
    """List the table's commits: version, time, operation, who, why, contracts, and for an
    ingest the folder, Git commit and (with --json, --nl) each contract's source file."""
    rows = [
        {
            "version": c.version,
            "timestamp": c.timestamp,
            "operation": c.operation,
            "user": c.user,
            "reason": c.reason,
            "contracts": c.contracts,
            "ingested_from": c.ingested_from,
            "git_commit": c.git_commit,
            "git_dirty": c.git_dirty,
            "sources": c.sources,
        }
        for c in context.reader().history(limit=limit)
    ]
    shown = ["version", "timestamp", "operation", "user", "reason", "contracts"]
    if any(row["ingested_from"] for row in rows):
        shown += ["ingested_from", "git_commit", "git_dirty"]
    emit(rows, shown, fmt or "table", sys.stdout)


@click.command()
@click.argument("query")
@as_of_option
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True, max=86_400),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds the query may run.",
)
@click.option(
    "--max-memory",
    type=click.IntRange(min=2**20, max=2**50),
    default=DEFAULT_MAX_MEMORY,
    show_default=True,
    help="Bytes the query may allocate beyond its worker process's own.",
)
@output_options
@pass_context
def sql(
    context: Context,
    query: str,
    as_of: str | None,
    timeout: float,
    max_memory: int,
    fmt: Format | None,
) -> None:
    """Run a read-only SQL query over the contracts and contracts_latest views, in a worker
    process stopped at --timeout or --max-memory."""
    store = context.reader()
    frame = store.sql(query, as_of=parse_as_of(as_of), timeout=timeout, max_memory=max_memory)
    emit(frame.to_dicts(), frame.columns, fmt or "table", sys.stdout)
