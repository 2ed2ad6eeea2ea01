"""Commands that check and publish contract files: ``validate``, ``put``, ``ingest``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..core.terminal import printable
from ..errors import BatchError
from .diff import gate_column
from .folders import Verdict, find_contract_files, git_state
from .folders import junit_xml as junit_report
from .output import Format, emit
from .support import (
    EXIT_CODES,
    REFUSED,
    Context,
    SafePath,
    exit_code,
    output_options,
    pairs,
    pass_context,
    problem_kind,
    progress,
    put_row,
    relative_to,
    typed_values,
    validation_option,
    who_why,
    write_report,
)

__all__ = ["ingest", "put", "validate"]


@click.command()
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
        write_report(junit_path, junit_report(verdicts), "--junit-xml")
    rows = [{"file": v.file, "outcome": v.outcome, "messages": v.messages} for v in verdicts]
    if fmt:
        emit(rows, ["file", "outcome", "messages"], fmt, sys.stdout)
    else:
        for verdict in verdicts:
            first = f"  {verdict.messages[0]}" if verdict.messages else ""
            click.echo(printable(f"{verdict.outcome:<8} {verdict.file}{first}"))
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


@click.command()
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


@click.command()
@click.argument("folders", nargs=-1, required=True, type=SafePath(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Plan only: report, write nothing.")
@validation_option
@click.option(
    "--skip-bad", is_flag=True, help="Write the good files even if some are invalid or conflict."
)
@who_why
@output_options
@pass_context
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
