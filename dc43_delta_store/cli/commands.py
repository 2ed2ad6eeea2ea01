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

import sys
import warnings
from pathlib import Path
from typing import Any

import click
import polars as pl

from .. import __version__
from ..core.validation import ContractValidationWarning
from ..core.versions import version_sort_key
from ..core.yaml12 import dump_yaml
from ..errors import BatchError, ContractNotFoundError
from ..table.sql import views
from .consumers import changes, print_explanation, resolve
from .diff import compatibility, diff_command, gate_column
from .folders import Verdict, find_contract_files, git_state
from .folders import junit_xml as junit_report
from .output import Format, emit, to_json
from .support import (
    EXIT_CODES,
    REFUSED,
    Context,
    SafePath,
    StoreGroup,
    as_of_option,
    exit_code,
    fail,
    guarded,
    output_options,
    pairs,
    parse_as_of,
    pass_context,
    problem_kind,
    progress,
    put_row,
    relative_to,
    typed_values,
    validation_option,
    who_why,
)

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
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error.")
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


# -- validating and writing ------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=SafePath(path_type=Path))
@click.option(
    "--policy",
    type=click.Choice(["strict", "warn"]),
    default="strict",
    show_default=True,
    help="strict: a schema violation fails the file; warn: reported only.",
)
@click.option(
    "--junit-xml",
    "junit_path",
    type=SafePath(path_type=Path),
    help="Write a JUnit XML report here.",
)
@output_options
def validate(
    paths: tuple[Path, ...], policy: str, junit_path: Path | None, fmt: Format | None
) -> None:
    """Validate contract files or folders (no table needed)."""
    from ..core.batch import prepare

    files, skipped = find_contract_files(list(paths))
    verdicts: list[Verdict] = []
    for file in progress(files, "validating"):
        prepared, problems, _ = prepare([file], "warn")
        if problems:
            verdicts.append(Verdict(str(file), "invalid", _messages(problems[0].error)))
            continue
        issues = [str(issue) for issue in prepared[0].issues]
        outcome = "valid" if not issues else ("invalid" if policy == "strict" else "warning")
        verdicts.append(Verdict(str(file), outcome, issues))
    verdicts += [Verdict(entry.path, "skipped", [entry.reason]) for entry in skipped]
    if junit_path:
        try:
            junit_path.write_text(junit_report(verdicts), encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(
                f"cannot write {junit_path}: {exc.strerror or exc}", param_hint="--junit-xml"
            ) from None
    rows = [{"file": v.file, "outcome": v.outcome, "messages": v.messages} for v in verdicts]
    if fmt:
        emit(rows, ["file", "outcome", "messages"], fmt, sys.stdout)
    else:
        for verdict in verdicts:
            first = f"  {verdict.messages[0]}" if verdict.messages else ""
            click.echo(f"{verdict.outcome:<8} {verdict.file}{first}")
    counts = {
        kind: sum(v.outcome == kind for v in verdicts)
        for kind in ("valid", "warning", "invalid", "skipped")
    }
    click.echo(
        ", ".join(f"{n} {kind}" for kind, n in counts.items() if n or kind != "skipped"), err=True
    )
    if counts["invalid"]:
        sys.exit(EXIT_CODES["invalid"])


def _messages(error: BaseException) -> list[str]:
    """Every message of an error, whole: each schema issue of a validation error."""
    issues = getattr(error, "issues", None)
    if issues:
        label = str(error).split(" breaks the ODCS JSON Schema")[0]
        return [f"{label} breaks the ODCS JSON Schema: {issue}" for issue in issues]
    return [str(error)]


@cli.command()
@click.argument("files", nargs=-1, required=True, type=SafePath(path_type=Path))
@validation_option
@click.option(
    "--metadata",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a metadata column (status too) on the new rows, repeatable.",
)
@who_why
@output_options
@pass_context
@guarded
def put(
    context: Context,
    files: tuple[Path, ...],
    validation: str,
    metadata: tuple[str, ...],
    who: str | None,
    why: str | None,
    fmt: Format | None,
) -> None:
    """Store contract files, all in one commit (or none, if one is refused)."""
    store = context.store(validation=validation)
    columns = store.scan().collect_schema()
    values = typed_values(pairs(metadata, "--metadata"), columns, "--metadata")
    result = store.put_many(list(files), metadata=values, who=who, why=why)
    rows = [put_row(r) for r in result.results]
    shown = ["outcome", "contract_id", "version", "source"]
    emit(rows, shown + gate_column(rows), fmt or "table", sys.stdout)


@cli.command()
@click.argument("folders", nargs=-1, required=True, type=SafePath(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Plan only: report, write nothing.")
@validation_option
@click.option(
    "--skip-bad", is_flag=True, help="Write the good files even if some are invalid or conflict."
)
@who_why
@output_options
@pass_context
@guarded
def ingest(
    context: Context,
    folders: tuple[Path, ...],
    dry_run: bool,
    validation: str,
    skip_bad: bool,
    who: str | None,
    why: str | None,
    fmt: Format | None,
) -> None:
    """Publish a folder tree of *.yaml, *.yml and *.json contracts (a Git checkout)."""
    store = context.store(validation=validation)
    files, skipped = find_contract_files(list(folders))
    plan = store.put_many(progress(files, "reading"), on_error="skip", dry_run=True)
    refused = bool(plan.problems) and not skip_bad
    result = plan
    if not (dry_run or refused) and any(r.outcome == "new" for r in plan.results):
        root = folders[0] if folders[0].is_dir() else folders[0].parent
        info: dict[str, Any] = {"ingested_from": str(root.resolve()), **git_state(root)}
        info["sources"] = {
            f"{r.contract_id}@{r.version}": relative_to(r.source, root)
            for r in plan.results
            if r.outcome == "new"
        }
        result = store.put_many(files, on_error="skip", who=who, why=why, commit_info=info)
    rows = [put_row(r) for r in result.results] + [
        {
            "outcome": problem_kind(p.error),
            "source": p.source,
            "message": str(p.error),
            "messages": _messages(p.error),
        }
        for p in result.problems
    ]
    rows += [
        {"outcome": "skipped", "source": s.path, "message": s.reason, "messages": [s.reason]}
        for s in skipped
    ]
    rows.sort(key=lambda row: str(row.get("source")))
    columns = ["outcome", "contract_id", "version", "source", "message", *gate_column(rows)]
    emit(rows, columns, fmt or "table", sys.stdout)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no files"
    flagged = sum(
        bool(row["message"]) for row in rows if row["outcome"] not in (*REFUSED, "skipped")
    )
    if flagged:
        summary += f" ({flagged} with schema issues: see the message column)"
    written = (
        "nothing written (dry run)"
        if dry_run
        else (f"table version {result.table_version}" if result is not plan else "nothing written")
    )
    click.echo(f"{summary}; {written}", err=True)
    if refused:
        sys.exit(exit_code(BatchError(list(plan.problems), total=len(files))))


# -- reading ---------------------------------------------------------------------------------


@cli.command()
@click.argument("contract_id")
@click.argument("version")
@as_of_option
@click.option("--json", "as_json", is_flag=True, help="The document as JSON (default: YAML).")
@pass_context
@guarded
def get(context: Context, contract_id: str, version: str, as_of: str | None, as_json: bool) -> None:
    """Print one stored contract version."""
    document = context.reader().get(contract_id, version, as_of=parse_as_of(as_of))
    _print_document(document, as_json)


@cli.command()
@click.argument("contract_id")
@click.option("--status", multiple=True, help="Only versions with this status, repeatable.")
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="COLUMN=VALUE",
    help="Only versions whose metadata column equals VALUE, repeatable.",
)
@click.option("--include-prereleases", is_flag=True, help="Consider 1.2.0-rc.1 and the like.")
@as_of_option
@click.option("--explain", is_flag=True, help="Print every candidate's verdict and reasons.")
@click.option("--json", "as_json", is_flag=True, help="The document as JSON (default: YAML).")
@pass_context
@guarded
def latest(
    context: Context,
    contract_id: str,
    status: tuple[str, ...],
    filters: tuple[str, ...],
    include_prereleases: bool,
    as_of: str | None,
    explain: bool,
    as_json: bool,
) -> None:
    """Print the latest version of a contract (version order, as `versions` lists)."""
    wanted: dict[str, Any] = dict(pairs(filters, "--filter"))
    if status:
        wanted["status"] = list(status)
    if explain:
        resolution = context.reader().resolve(
            contract_id,
            include_prereleases=include_prereleases,
            as_of=parse_as_of(as_of),
            explain=True,
            **wanted,
        )
        return print_explanation(resolution, as_json)
    document = context.reader().latest(
        contract_id, include_prereleases=include_prereleases, as_of=parse_as_of(as_of), **wanted
    )
    if document is None:
        fail(ContractNotFoundError(contract_id, detail=" (no version matches)"))
    _print_document(document, as_json)


def _print_document(document: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(to_json(document))
    else:
        click.echo(dump_yaml(document), nl=False)


@cli.command(name="list")
@as_of_option
@output_options
@pass_context
@guarded
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


@cli.command()
@click.argument("contract_id")
@as_of_option
@output_options
@pass_context
@guarded
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


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), help="Only the newest N commits.")
@output_options
@pass_context
@guarded
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


@cli.command()
@click.argument("query")
@as_of_option
@output_options
@pass_context
@guarded
def sql(context: Context, query: str, as_of: str | None, fmt: Format | None) -> None:
    """Run a read-only SQL query over the contracts and contracts_latest views."""
    frame = context.reader().sql(query, as_of=parse_as_of(as_of))
    emit(frame.to_dicts(), frame.columns, fmt or "table", sys.stdout)


# -- governance and upkeep ---------------------------------------------------------------------


@cli.command(name="set-metadata")
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
@guarded
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
    click.echo(f"updated {contract_id} {version}; table version {table_version}", err=True)


@cli.command(name="add-columns")
@click.argument("columns", nargs=-1, required=True, metavar="NAME=TYPE...")
@who_why
@pass_context
@guarded
def add_columns(
    context: Context, columns: tuple[str, ...], who: str | None, why: str | None
) -> None:
    """Add metadata columns (types: string, boolean, long, double, date, timestamp)."""
    context.store().add_metadata_columns(pairs(columns, "NAME=TYPE"), who=who, why=why)
    click.echo(f"added {', '.join(columns)}", err=True)


@cli.command()
@click.option(
    "--target-file-size",
    type=click.IntRange(min=1, max=2**40),
    default=2 * 1024 * 1024,
    show_default=True,
    help="Bytes per data file after compaction.",
)
@who_why
@pass_context
@guarded
def optimize(context: Context, target_file_size: int, who: str | None, why: str | None) -> None:
    """Compact and cluster the table, write a checkpoint, drop expired logs."""
    result = context.store().optimize(target_file_size=target_file_size, who=who, why=why)
    how = (
        f"clustered by {', '.join(result.clustered_by)}"
        if result.clustered_by
        else f"compacted within partitions of {', '.join(result.partitioned_by)}"
    )
    click.echo(
        f"{result.files_before} files -> {result.files_after} ({how}); "
        f"table version {result.table_version}",
        err=True,
    )


@cli.command()
@click.option(
    "--retention-hours",
    type=click.IntRange(min=0, max=1_000_000),
    help="Keep files newer than this (default: the table's, 168).",
)
@click.option("--apply", is_flag=True, help="Delete the files (default: only list them).")
@who_why
@output_options
@pass_context
@guarded
def vacuum(
    context: Context,
    retention_hours: int | None,
    apply: bool,
    who: str | None,
    why: str | None,
    fmt: Format | None,
) -> None:
    """List (or with --apply delete) data files no version in the retention period uses."""
    result = context.store().vacuum(
        retention_hours=retention_hours, dry_run=not apply, who=who, why=why
    )
    emit([{"file": file} for file in result.files], ["file"], fmt or "table", sys.stdout)
    verb = "deleted" if apply else "would delete (dry run; --apply deletes)"
    click.echo(f"{len(result.files)} files {verb}", err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@pass_context
@guarded
def check(context: Context, as_json: bool) -> None:
    """Report the table's health; exit 8 when it found problems (0 when healthy)."""
    report = context.store().check()
    if as_json:
        click.echo(to_json(report.to_dict(), indent=2))
    else:
        facts = report.facts
        click.echo(
            f"table {facts.table}, version {facts.version}: {facts.rows} rows in {facts.files} "
            f"files, protocol {facts.reader_version}/{facts.writer_version}"
            + (
                f", partitioned by {', '.join(facts.partition_columns)}"
                if facts.partition_columns
                else ""
            )
        )
        for finding in report.findings:
            click.echo(f"{finding.severity}: {finding.check}: {finding.message}")
            if finding.fix:
                click.echo(f"  fix: {finding.fix}")
        if report.healthy:
            click.echo("healthy: no problems found")
    if not report.healthy:
        sys.exit(EXIT_CODES["table"])


@cli.command()
@click.option(
    "--apply", is_flag=True, help="Rewrite the table (default: only say what would change)."
)
@who_why
@click.option("--json", "as_json", is_flag=True, help="The plan and outcome as JSON.")
@pass_context
@guarded
def adopt(context: Context, apply: bool, who: str | None, why: str | None, as_json: bool) -> None:
    """Add and fill the derived columns of a table other tools wrote, in one commit."""
    result = context.store().adopt(dry_run=not apply, who=who, why=why)
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
            click.echo(line)
    if result.applied:
        click.echo(f"adopted in one commit: table version {result.table_version}", err=True)
    elif plan.needed:
        click.echo("dry run: nothing written (--apply writes it)", err=True)


cli.add_command(diff_command)
cli.add_command(compatibility)
cli.add_command(resolve)
cli.add_command(changes)


def main() -> None:
    """Console entry point."""
    # schema issues are part of each command's report, not Python warnings
    warnings.simplefilter("ignore", ContractValidationWarning)
    cli(prog_name="dc43-delta-store")
