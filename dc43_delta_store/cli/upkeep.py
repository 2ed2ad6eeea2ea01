"""Governance and upkeep commands: ``set-metadata``, ``add-columns``, ``optimize``, ``vacuum``,
``check``, ``adopt``."""

from __future__ import annotations

import sys

import click

from ..core.terminal import printable
from .output import Format, emit, to_json
from .support import (
    EXIT_CODES,
    Context,
    output_options,
    pairs,
    pass_context,
    typed_values,
    who_why,
)

__all__ = ["add_columns", "adopt", "check", "optimize", "set_metadata", "vacuum"]


@click.command(name="set-metadata")
@click.argument("contract_id")
@click.argument("version")
@click.argument("values", nargs=-1, required=True, metavar="COLUMN=VALUE...")
@click.option(
    "--if-match",
    multiple=True,
    metavar="COLUMN=VALUE",
    help="Apply only while the row still holds this value, repeatable.",
)
@who_why
@pass_context
def set_metadata(
    context: Context,
    contract_id: str,
    version: str,
    values: tuple[str, ...],
    if_match: tuple[str, ...],
    who: str | None,
    why: str | None,
) -> None:
    """Set metadata columns (status, owner...) of a stored version; payload untouched."""
    store = context.reader()
    columns = store.scan().collect_schema()
    table_version = store.update_metadata(
        contract_id,
        version,
        typed_values(pairs(values, "COLUMN=VALUE"), columns, "COLUMN=VALUE"),
        if_match=typed_values(pairs(if_match, "--if-match"), columns, "--if-match") or None,
        who=who,
        why=why,
    )
    shown = printable(f"{contract_id} {version}")
    click.echo(f"updated {shown}; table version {table_version}", err=True)


@click.command(name="add-columns")
@click.argument("columns", nargs=-1, required=True, metavar="NAME=TYPE...")
@who_why
@pass_context
def add_columns(
    context: Context, columns: tuple[str, ...], who: str | None, why: str | None
) -> None:
    """Add metadata columns (types: string, boolean, long, double, date, timestamp)."""
    context.store().add_metadata_columns(pairs(columns, "NAME=TYPE"), who=who, why=why)
    click.echo(f"added {printable(', '.join(columns))}", err=True)


@click.command()
@click.option(
    "--target-file-size",
    type=click.IntRange(min=1, max=2**40),
    default=2 * 1024 * 1024,
    show_default=True,
    help="Bytes per data file after compaction.",
)
@who_why
@pass_context
def optimize(context: Context, target_file_size: int, who: str | None, why: str | None) -> None:
    """Compact and cluster the table, write a checkpoint, drop expired logs."""
    result = context.reader().optimize(target_file_size=target_file_size, who=who, why=why)
    how = (
        f"clustered by {printable(', '.join(result.clustered_by))}"
        if result.clustered_by
        else f"compacted within partitions of {printable(', '.join(result.partitioned_by))}"
    )
    click.echo(
        f"{result.files_before} files -> {result.files_after} ({how}); "
        f"table version {result.table_version}",
        err=True,
    )


@click.command()
@click.option(
    "--retention-hours",
    type=click.IntRange(min=0, max=1_000_000),
    help="Keep files newer than this (default: the table's, 168).",
)
@click.option("--apply", is_flag=True, help="Delete the files (default: only list them).")
@who_why
@output_options
@pass_context
def vacuum(
    context: Context,
    retention_hours: int | None,
    apply: bool,
    who: str | None,
    why: str | None,
    fmt: Format | None,
) -> None:
    """List (or with --apply delete) data files no version in the retention period uses."""
    result = context.reader().vacuum(
        retention_hours=retention_hours, dry_run=not apply, who=who, why=why
    )
    emit([{"file": file} for file in result.files], ["file"], fmt or "table", sys.stdout)
    verb = "deleted" if apply else "would delete (dry run; --apply deletes)"
    click.echo(f"{len(result.files)} files {verb}", err=True)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@pass_context
def check(context: Context, as_json: bool) -> None:
    """Report the table's health; exit 8 when it found problems (0 when healthy)."""
    report = context.store().check()
    if as_json:
        click.echo(to_json(report.to_dict(), indent=2))
    else:
        facts = report.facts
        click.echo(
            printable(
                f"table {facts.table}, version {facts.version}: {facts.rows} rows in "
                f"{facts.files} files, protocol {facts.reader_version}/{facts.writer_version}"
                + (
                    f", partitioned by {', '.join(facts.partition_columns)}"
                    if facts.partition_columns
                    else ""
                )
            )
        )
        for finding in report.findings:
            click.echo(printable(f"{finding.severity}: {finding.check}: {finding.message}"))
            if finding.fix:
                click.echo(f"  fix: {printable(finding.fix)}")
        if report.healthy:
            click.echo("healthy: no problems found")
    if not report.healthy:
        sys.exit(EXIT_CODES["table"])


@click.command()
@click.option(
    "--apply", is_flag=True, help="Rewrite the table (default: only say what would change)."
)
@who_why
@click.option("--json", "as_json", is_flag=True, help="The plan and outcome as JSON.")
@pass_context
def adopt(context: Context, apply: bool, who: str | None, why: str | None, as_json: bool) -> None:
    """Add and fill the derived columns of a table other tools wrote, in one commit."""
    result = context.reader().adopt(dry_run=not apply, who=who, why=why)
    plan = result.plan
    if as_json:
        click.echo(
            to_json(
                {
                    "table": plan.table,
                    "table_version": plan.table_version,
                    "rows": plan.rows,
                    "add_columns": list(plan.add_columns),
                    "changes": dict(plan.changes),
                    "needed": plan.needed,
                    "applied": result.applied,
                    "new_table_version": result.table_version,
                },
                indent=2,
            )
        )
    else:
        for line in plan.describe():
            click.echo(printable(line))
    if result.applied:
        click.echo(f"adopted in one commit: table version {result.table_version}", err=True)
    elif plan.needed:
        click.echo("dry run: nothing written (--apply writes it)", err=True)
