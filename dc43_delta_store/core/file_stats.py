"""Delta file statistics: reading them, and writing them for the files the store adds (pure).

A data file's ``add`` action carries its statistics as JSON text: ``numRecords``, and per
column ``minValues``, ``maxValues`` and ``nullCount``. Every row of the file lies between its
minimum and maximum, which lets a reader skip files and a writer tell whether a concurrent
commit could hold a key it is writing.

>>> stats = file_stats(pa.table({"k": ["b", "a", None]}), ["k"])
>>> stats
'{"numRecords":3,"minValues":{"k":"a"},"maxValues":{"k":"b"},"nullCount":{"k":1}}'
>>> bounds(parse_stats(stats), "k")
('a', 'b')
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["MAX_EXACT", "Stats", "bounds", "file_stats", "parse_stats", "stats_columns"]

Stats = Mapping[str, Any]
"""A file's statistics as the log writes them: ``numRecords``, ``minValues``,
``maxValues``, ``nullCount``."""
MAX_EXACT = 256
"""Longer text keeps a truncated minimum and no maximum (other writers truncate at 32)."""
_DEFAULT_INDEXED = 32


def bounds(stats: Stats, column: str) -> tuple[str, str] | None:
    """``(min, max)`` of ``column`` when they bound every row of the file."""
    low = _get(stats, "minValues", column)
    high = _get(stats, "maxValues", column)
    nulls = _get(stats, "nullCount", column)
    if not isinstance(low, str) or not isinstance(high, str) or low > high:
        return None
    if column == "contract_key" and nulls != 0:
        return None  # rows without a key: placed by contract_id instead
    return low, high


def _get(stats: Stats, section: str, column: str) -> Any:
    values = stats.get(section)
    return values.get(column) if isinstance(values, Mapping) else None


def parse_stats(raw: Any) -> Stats | None:
    """A file's statistics from its action (JSON text, or already a mapping); None when
    absent or unreadable."""
    if isinstance(raw, Mapping):
        return raw
    if not isinstance(raw, str):
        return None
    try:
        stats = json.loads(raw)
    except ValueError:
        return None
    return stats if isinstance(stats, Mapping) else None


def stats_columns(configuration: Mapping[str, str], schema: pa.Schema) -> list[str]:
    """The columns whose statistics the table asks for: ``delta.dataSkippingStatsColumns``,
    else the first ``delta.dataSkippingNumIndexedCols`` (32) columns.

    >>> schema = pa.schema([("a", pa.string()), ("b", pa.int64())])
    >>> stats_columns({"delta.dataSkippingStatsColumns": "b, c"}, schema)
    ['b']
    >>> stats_columns({"delta.dataSkippingNumIndexedCols": "1"}, schema)
    ['a']
    """
    listed = configuration.get("delta.dataSkippingStatsColumns")
    if listed:
        wanted = {name.strip().strip("`") for name in listed.split(",")}
        return [name for name in schema.names if name in wanted]
    try:
        count = int(configuration.get("delta.dataSkippingNumIndexedCols", _DEFAULT_INDEXED))
    except ValueError:
        count = _DEFAULT_INDEXED
    return list(schema.names if count < 0 else schema.names[:count])


def file_stats(table: pa.Table, columns: Sequence[str]) -> str:
    """The statistics of a file holding ``table``, for ``columns``, as the log's JSON text.

    Text up to :data:`MAX_EXACT` characters is exact; longer text keeps a 32-character
    minimum (a lower bound) and no maximum. Timestamps are written to the millisecond as
    Delta does: the minimum rounded down, the maximum up, so both stay bounds. Booleans and
    nested columns get null counts only.
    """
    low: dict[str, Any] = {}
    high: dict[str, Any] = {}
    nulls: dict[str, int] = {}
    for name in columns:
        column = table.column(name)
        nulls[name] = column.null_count
        kind = column.type
        if column.null_count == len(column) or not _ordered(kind):
            continue
        found = pc.min_max(column)
        smallest, largest = found["min"].as_py(), found["max"].as_py()
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            low[name] = smallest if len(smallest) <= MAX_EXACT else smallest[:32]
            if len(largest) <= MAX_EXACT:
                high[name] = largest
        elif pa.types.is_timestamp(kind):
            low[name] = _millis(smallest, up=False)
            high[name] = _millis(largest, up=True)
        elif pa.types.is_date(kind):
            low[name], high[name] = smallest.isoformat(), largest.isoformat()
        elif pa.types.is_floating(kind) and not (
            math.isfinite(smallest) and math.isfinite(largest)
        ):
            continue
        else:
            low[name], high[name] = smallest, largest
    stats = {"numRecords": table.num_rows, "minValues": low, "maxValues": high, "nullCount": nulls}
    return json.dumps(stats, separators=(",", ":"), ensure_ascii=False)


def _ordered(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_timestamp(kind)
        or pa.types.is_date(kind)
    )


def _millis(value: datetime, *, up: bool) -> str:
    """``value`` (UTC, or naive for timestamp_ntz) to the millisecond, as Delta writes it."""
    aware = value.tzinfo is not None
    moment = value.astimezone(UTC) if aware else value
    floor = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    if up and floor != moment:
        floor += timedelta(milliseconds=1)
    text = floor.strftime("%Y-%m-%dT%H:%M:%S.") + f"{floor.microsecond // 1000:03d}"
    return text + ("Z" if aware else "")
