"""Reading the facts of a contract table's health (judged in :mod:`..core.health`).

One snapshot: its protocol and configuration, its data files (sizes from the log, and the
Arrow schema each file's footer embeds — one small read per file), the last checkpoint
(``_delta_log/_last_checkpoint``), and one scan of the key columns for duplicated keys, rows
without identity or derived columns and stale version keys. Only the rows of duplicated keys
are read with their JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import polars as pl
from deltalake import DeltaTable
from deltalake.fs import DeltaStorageHandler

from ..compatibility.findings import settings_findings
from ..core.duplicates import DuplicateKey, duplicate_keys
from ..core.health import HealthReport, TableFacts, judge
from ..core.table_schema import TABLE_SCHEMA
from ..core.versions import is_prerelease, version_sort_key
from .data_files import data_file_problems
from .delta_table import WRITABLE_FEATURES, file_sizes, table_columns
from .maintenance import DEFAULT_TARGET_FILE_SIZE, compactable
from .scanning import column_mapping, scan_frame

__all__ = ["check_table", "last_checkpoint"]

DERIVED_COLUMNS = tuple(name for name in TABLE_SCHEMA.names if name not in TABLE_SCHEMA.names[:7])
_KEYED = ("contract_key", "version_sort_key", "prerelease")


def check_table(dt: DeltaTable, table: str, storage_options: Mapping[str, str]) -> HealthReport:
    """The health report of snapshot ``dt`` (``table`` names it in the report)."""
    facts = read_facts(dt, table, storage_options)
    findings = judge(facts, writable_features=WRITABLE_FEATURES)
    settings = settings_findings(dt.metadata().configuration)  # compatibility properties
    return HealthReport(facts, (*findings, *settings))


def read_facts(dt: DeltaTable, table: str, storage_options: Mapping[str, str]) -> TableFacts:
    protocol = dt.protocol()
    columns = table_columns(dt)
    files = file_sizes(dt)
    small = DEFAULT_TARGET_FILE_SIZE // 8
    interval = int(dt.metadata().configuration.get("delta.checkpointInterval") or 100)
    rows, without_identity, without_derived, stale, duplicates = _scan_rows(dt, columns)
    return TableFacts(
        table=table,
        version=dt.version(),
        reader_version=protocol.min_reader_version,
        writer_version=protocol.min_writer_version,
        reader_features=tuple(sorted(protocol.reader_features or ())),
        writer_features=tuple(sorted(protocol.writer_features or ())),
        column_mapping=column_mapping(dt),
        partition_columns=tuple(dt.metadata().partition_columns),
        missing_columns=tuple(name for name in DERIVED_COLUMNS if name not in columns),
        rows=rows,
        files=len(files),
        small_files=sum(size < small for _, size in files),
        small_bytes=sum(size for _, size in files if size < small),
        mergeable_files=compactable(files, small),
        last_checkpoint=last_checkpoint(dt, storage_options),
        checkpoint_interval=interval,
        duplicates=tuple(duplicates),
        rows_without_identity=without_identity,
        rows_without_derived=without_derived,
        stale_sort_keys=stale,
        odd_files=() if column_mapping(dt) else _odd_files(dt, storage_options),
    )


def _odd_files(
    dt: DeltaTable, storage_options: Mapping[str, str]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Files whose embedded schema differs from the table's (column mapping aside: such
    files name columns by physical names)."""
    found = data_file_problems(dt, storage_options)
    return tuple((path, tuple(problems)) for path, problems in sorted(found.items()) if problems)


def last_checkpoint(dt: DeltaTable, storage_options: Mapping[str, str]) -> int | None:
    """The table version of the newest checkpoint, or None when there is none."""
    handler = DeltaStorageHandler(dt.table_uri, dict(storage_options) or None)
    try:
        with handler.open_input_file("_delta_log/_last_checkpoint") as file:
            return int(json.loads(file.read())["version"])
    except FileNotFoundError:
        return None


def _scan_rows(
    dt: DeltaTable, columns: Mapping[str, object]
) -> tuple[int, int, int, int, list[DuplicateKey]]:
    """Rows; rows without identity; without derived keys; with stale keys; duplicated keys."""
    scan = scan_frame(dt)
    keyed = all(name in columns for name in _KEYED)
    identity = ["contract_id", "version", "json"]
    counts = scan.select(
        pl.len().alias("rows"),
        pl.any_horizontal(pl.col(name).is_null() for name in identity).sum().alias("no_identity"),
        *(
            [pl.any_horizontal(pl.col(name).is_null() for name in _KEYED).sum().alias("no_keys")]
            if keyed
            else []
        ),
    ).collect()
    rows, without_identity = counts["rows"].item(), counts["no_identity"].item()
    without_derived = counts["no_keys"].item() if keyed else 0
    stale = _stale_keys(scan) if keyed else 0
    duplicated = (
        scan.filter(pl.col("contract_id").is_not_null() & pl.col("version").is_not_null())
        .group_by("contract_id", "version")
        .len()
        .filter(pl.col("len") > 1)
        .select("contract_id", "version")
        .collect()
    )
    duplicates: list[DuplicateKey] = []
    if duplicated.height:
        found = (
            scan.join(duplicated.lazy(), on=["contract_id", "version"], how="semi")
            .select("contract_id", "version", "fingerprint", "json")
            .collect()
        )
        duplicates = duplicate_keys(found.iter_rows())
    return rows, without_identity, without_derived, stale, duplicates


def _stale_keys(scan: pl.LazyFrame) -> int:
    """Rows whose stored version_sort_key or prerelease the version no longer gives
    (computed once per distinct triple, not per row)."""
    triples = (
        scan.filter(pl.col("version").is_not_null() & pl.col("version_sort_key").is_not_null())
        .group_by("version", "version_sort_key", "prerelease")
        .len()
        .collect()
    )
    return sum(
        count
        for version, key, prerelease, count in triples.iter_rows()
        if key != version_sort_key(version)
        or (prerelease is not None and prerelease != is_prerelease(version))
    )
