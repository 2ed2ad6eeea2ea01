"""Commands for consumers: ``resolve`` a version range (with ``--explain``), follow ``changes``.

``resolve ID SPEC`` prints the chosen document like ``latest``; with ``--explain`` it prints
every candidate with its verdict and reasons (``--json``: one object, see
:meth:`~..resolution.explain.Resolution.to_dict`) and exits 3 when nothing matches.
``changes`` prints the change feed after ``--since``; ``--follow`` keeps polling until
Ctrl-C, which stops it cleanly (exit 0, the cursor to resume from on stderr).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..core.terminal import printable
from ..errors import ContractNotFoundError
from ..feed.events import ChangeEvent
from ..resolution.explain import Resolution
from .output import Format, cell, emit, print_document, to_json
from .support import (
    EXIT_CODES,
    MAX_VERSION,
    Context,
    FiniteRange,
    as_of_option,
    fail,
    output_options,
    pairs,
    parse_as_of,
    pass_context,
)

__all__ = ["answer", "changes", "filter_options", "print_explanation", "resolve"]

F = TypeVar("F", bound=Callable[..., Any])
MIN_INTERVAL, MAX_INTERVAL = 0.01, 86_400  # seconds: not a busy loop, at most a day
EVENT_COLUMNS = ["table_version", "timestamp", "kind", "contract_id", "version", "who", "detail"]


def print_explanation(resolution: Resolution, as_json: bool) -> None:
    """Print every candidate with its verdict and reasons; exit 3 when nothing was chosen."""
    if as_json:
        click.echo(to_json(resolution.to_dict(), indent=2))
    else:
        asked = resolution.spec or "any version"
        chosen = resolution.chosen or "no version matches"
        approximate = " (approximate)" if resolution.approximate else ""
        click.echo(printable(f"{resolution.contract_id} {asked}: {chosen}{approximate}"))
        rows = [
            {"version": c.version, "verdict": c.verdict, "reasons": "; ".join(c.reasons)}
            for c in resolution.candidates
        ]
        emit(rows, ["version", "verdict", "reasons"], "table", sys.stdout)
        for note in resolution.notes:
            click.echo(f"note: {printable(note)}")
    if resolution.chosen is None:
        sys.exit(EXIT_CODES["not_found"])


def filter_options(function: F) -> F:
    """The options ``latest`` and ``resolve`` share."""
    for option in reversed(
        [
            click.option(
                "--status", multiple=True, help="Only versions with this status, repeatable."
            ),
            click.option(
                "--filter",
                "filters",
                multiple=True,
                metavar="COLUMN=VALUE",
                help="Only versions whose metadata column equals VALUE, repeatable.",
            ),
            click.option(
                "--include-prereleases", is_flag=True, help="Consider 1.2.0-rc.1 and the like."
            ),
            as_of_option,
            click.option(
                "--explain",
                is_flag=True,
                help="Print every candidate with its verdict and reasons, not the document.",
            ),
            click.option(
                "--json", "as_json", is_flag=True, help="The document as JSON (default: YAML)."
            ),
        ]
    ):
        function = option(function)
    return function


@click.command()
@click.argument("contract_id")
@click.argument("spec")
@filter_options
@pass_context
def resolve(context: Context, /, contract_id: str, spec: str, **options: Any) -> None:
    """Print the highest version in a range: 1.2.3, ^1.2, ~1.2, 1.x, '>=1.0,<2', '^1 || ^3'."""
    answer(context, contract_id, spec, **options)


def answer(
    context: Context,
    contract_id: str,
    spec: str | None,
    status: tuple[str, ...],
    filters: tuple[str, ...],
    include_prereleases: bool,
    as_of: str | None,
    explain: bool,
    as_json: bool,
) -> None:
    """Print what ``resolve`` (``latest`` without ``spec``) answers, or its explanation;
    exit 3 when no version matches."""
    wanted: dict[str, Any] = dict(pairs(filters, "--filter"))
    if status:
        wanted["status"] = list(status)
    store = context.reader()
    options: dict[str, Any] = {"include_prereleases": include_prereleases}
    options["as_of"] = parse_as_of(as_of)
    if explain:
        print_explanation(
            store.resolve(contract_id, spec, explain=True, **options, **wanted), as_json
        )
        return
    document = store.resolve(contract_id, spec, **options, **wanted)
    if document is None:
        asked = "" if spec is None else f" {spec!r}"
        fail(ContractNotFoundError(contract_id, detail=f" (no version matches{asked})"))
    print_document(document, as_json)


@click.command()
@click.option(
    "--since",
    type=click.IntRange(min=-1, max=MAX_VERSION),
    default=-1,
    show_default=True,
    help="The cursor of the last read: list what happened after this table version.",
)
@click.option("--follow", is_flag=True, help="Keep polling and print events as they come.")
@click.option(
    "--interval",
    type=FiniteRange(min=MIN_INTERVAL, max=MAX_INTERVAL),
    default=2.0,
    show_default=True,
    help="Seconds between polls.",
)
@output_options
@pass_context
def changes(
    context: Context, since: int, follow: bool, interval: float, fmt: Format | None
) -> None:
    """List what happened after a table version: published, metadata, columns-added."""
    store = context.reader(follow=follow)
    if not follow:
        result = store.changes(since=since)
        if fmt == "json":
            click.echo(to_json(result.to_dict(), indent=2))
        else:
            rows = [_row(event, fmt) for event in result.events]
            emit(rows, EVENT_COLUMNS, fmt or "table", sys.stdout)
            click.echo(f"cursor {result.cursor} (pass --since {result.cursor} next time)", err=True)
        return
    # Ctrl-C stops after the events of the current poll are printed, so the cursor shown
    # covers exactly what was printed; a second Ctrl-C interrupts at once.
    stop = threading.Event()

    def on_interrupt(signum: int, frame: object) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    cursor = since
    try:
        while not stop.is_set():
            result = store.changes(since=cursor)
            for event in result.events:
                row = _row(event, fmt)
                line = (
                    to_json(row) if fmt else "  ".join(cell(row[c], 10**6) for c in EVENT_COLUMNS)
                )
                click.echo(line)
            cursor = result.cursor
            stop.wait(interval)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, previous)
    click.echo(f"stopped; resume with --since {cursor}", err=True)


def _row(event: ChangeEvent, fmt: Format | None) -> dict[str, Any]:
    if fmt:
        return event.to_dict()
    return {
        "table_version": event.table_version,
        "timestamp": event.timestamp,
        "kind": event.kind,
        "contract_id": event.contract_id,
        "version": event.version,
        "who": event.who,
        "detail": _detail(event),
    }


def _detail(event: ChangeEvent) -> str:
    why = f" ({event.why})" if event.why else ""
    if event.kind == "published":
        return f"fingerprint {(event.fingerprint or '?')[:12]}{why}"
    if event.kind == "metadata":
        values = event.values
        shown = "?" if values is None else ", ".join(f"{k}={v!r}" for k, v in values.items())
        return f"set {shown}{why}"
    if event.kind == "columns-added":
        return ", ".join(f"{k} {v}" for k, v in (event.columns or {}).items()) + why
    return (event.description or event.operation) + why
