"""How the command line prints data: aligned tables for people, JSON or JSON lines for scripts.

Stored text is shown through :func:`~..core.terminal.printable` in tables and messages and
escaped by JSON and YAML themselves otherwise: nothing a writer put in the table reaches a
terminal or a CI log raw (see :mod:`..core.terminal`).
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TextIO

import click

from ..core.terminal import json_text, printable
from ..core.yaml12 import dump_yaml

__all__ = ["Format", "cell", "emit", "print_document", "to_json"]

Format = Literal["table", "json", "nl"]


def _plain(value: Any) -> Any:
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf": JSON has no such numbers
    if isinstance(value, decimal.Decimal):
        return str(value)  # exactly as computed
    if isinstance(value, _dt.timedelta):
        return _duration(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _duration(value: _dt.timedelta) -> str:
    """ISO 8601: ``P1DT30S``; negative as ``-P...``."""
    sign, value = ("-", -value) if value < _dt.timedelta(0) else ("", value)
    seconds = value.seconds + value.microseconds / 1_000_000
    return f"{sign}P{value.days}DT{seconds:g}S"


def to_json(value: Any, *, indent: int | None = None) -> str:
    r"""JSON text of ``value``: dates, times and durations as ISO 8601, decimals as exact text,
    bytes as base64, NaN and infinities as text (JSON has no such numbers); control and
    other hidden characters as ``\u`` escapes (:func:`~..core.terminal.json_text`).

    >>> to_json({"who": "alice\x1b[2K", "at": _dt.date(2024, 5, 1)})
    '{"who": "alice\\u001b[2K", "at": "2024-05-01"}'
    """
    return json_text(json.dumps(_plain(value), ensure_ascii=False, indent=indent))


def emit(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: Format,
    out: TextIO,
) -> None:
    """Print ``rows``: a JSON array, one JSON object per line, or an aligned table."""
    if fmt == "json":
        out.write(to_json(list(rows), indent=2) + "\n")
    elif fmt == "nl":
        for row in rows:
            out.write(to_json(row) + "\n")
    else:
        out.write(_table(rows, columns))


def cell(value: Any, width: int = 80) -> str:
    r"""Table text, escaped (:func:`~..core.terminal.printable`); long values are cut
    (``--json`` prints them whole).

    >>> cell("alice\rmallory"), cell(None), cell(True), cell("x" * 100, width=5)
    ('alice\\rmallory', '-', 'yes', 'xxxx…')
    """
    if value is None:
        return "-"
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = printable(str(value))
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    cells = [[cell(row.get(column)) for column in columns] for row in rows]
    widths = [
        max([len(column), *(len(line[i]) for line in cells)]) for i, column in enumerate(columns)
    ]
    lines = [columns, ["-" * width for width in widths], *cells]
    return "".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in lines
    )


def print_document(document: Mapping[str, Any], as_json: bool) -> None:
    """A stored contract as JSON, or as YAML that reads back as the same document."""
    if as_json:
        click.echo(to_json(document))
    else:
        click.echo(dump_yaml(document), nl=False)
