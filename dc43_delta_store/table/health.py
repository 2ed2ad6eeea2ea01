"""Reading the facts of a contract table's health (judged in :mod:`..core.health`).

One snapshot: its protocol, schema and configuration (compatibility settings included), its
data files (sizes from the log, and the Arrow schema each file's footer embeds — one small
read per file), the last checkpoint (``_delta_log/_last_checkpoint``), and one streaming scan
of the key columns and the payload for duplicated keys, rows without identity, payloads that
are not JSON objects, rows without derived columns and stale version keys. Only the rows of
duplicated keys and of suspect payloads are read whole.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable
from deltalake.fs import DeltaStorageHandler

from ..compatibility.findings import settings_findings
from ..core.duplicates import DuplicateKey, duplicate_keys
from ..core.health import HealthReport, TableFacts, judge
from ..core.metadata import type_name
from ..core.table_schema import TABLE_SCHEMA
from ..core.versions import is_prerelease, version_sort_key
from .data_files import data_file_problems
from .delta_table import WRITABLE_FEATURES, file_sizes, table_schema
from .maintenance import DEFAULT_TARGET_FILE_SIZE, compactable
from .queries import object_like, payload_document
from .scanning import column_mapping, scan_frame

__all__ = ["check_table", "last_checkpoint"]

DERIVED_COLUMNS = tuple(name for name in TABLE_SCHEMA.names if name not in TABLE_SCHEMA.names[:7])
REQUIRED = ("contract_id", "version", "json", "fingerprint", "created_at")
"""The columns the store creates NOT NULL."""
SHOWN_KEYS = 20
"""Keys listed per finding (the count is exact)."""
_KEYED = ("contract_key", "version_sort_key", "prerelease")
_IDENTITY = ("contract_id", "version", "json")


def check_table(dt: DeltaTable, table: str, storage_options: Mapping[str, str]) -> HealthReport:
    """The health report of snapshot ``dt`` (``table`` names it in the report)."""
    facts = read_facts(dt, table, storage_options)
    findings = judge(facts, writable_features=WRITABLE_FEATURES)
    settings = settings_findings(dt.metadata().configuration)  # compatibility properties
    return HealthReport(facts, (*findings, *settings))


def read_facts(dt: DeltaTable, table: str, storage_options: Mapping[str, str]) -> TableFacts:
    protocol = dt.protocol()
    schema = table_schema(dt)
    columns = {f.name: f.type for f in schema}
    files = file_sizes(dt)
    small = DEFAULT_TARGET_FILE_SIZE // 8
    configuration = dt.metadata().configuration
    interval = int(configuration.get("delta.checkpointInterval") or 100)
    nullable = tuple(name for name in REQUIRED if name in columns and schema.field(name).nullable)
    rows = _scan_rows(dt, columns, nullable)
    odd = () if column_mapping(dt) else _odd_files(dt, storage_options)
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
        rows=rows.rows,
        files=len(files),
        small_files=sum(size < small for _, size in files),
        small_bytes=sum(size for _, size in files if size < small),
        mergeable_files=compactable(files, small),
        last_checkpoint=last_checkpoint(dt, storage_options),
        checkpoint_interval=interval,
        duplicates=tuple(rows.duplicates),
        rows_without_identity=rows.without_identity,
        rows_without_derived=rows.without_derived,
        stale_sort_keys=rows.stale,
        odd_files=odd,
        lone_odd_files=_alone_in_partition(dt, [path for path, _ in odd]),
        keys_without_identity=tuple(rows.identity_keys),
        invalid_payloads=len(rows.invalid_keys),
        invalid_payload_keys=tuple(rows.invalid_keys[:SHOWN_KEYS]),
        nullable_required=nullable,
        required_with_nulls=tuple(name for name in nullable if rows.nulls.get(name)),
        foreign_types=_foreign_types(columns),
    )


def _foreign_types(columns: Mapping[str, object]) -> tuple[tuple[str, str, str], ...]:
    """Columns of the store's schema holding another type (its writes refuse the table)."""
    return tuple(
        (f.name, str(columns[f.name]), type_name(f.type) or str(f.type))
        for f in TABLE_SCHEMA
        if f.name in columns
        and f.name != "created_at"
        and type_name(columns[f.name]) != type_name(f.type)
    )


def _odd_files(
    dt: DeltaTable, storage_options: Mapping[str, str]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Files whose embedded schema differs from the table's (column mapping aside: such
    files name columns by physical names)."""
    found = data_file_problems(dt, storage_options)
    return tuple((path, tuple(problems)) for path, problems in sorted(found.items()) if problems)


def _alone_in_partition(dt: DeltaTable, paths: list[str]) -> tuple[tuple[str, str], ...]:
    """``(path, contract_id)`` of those of ``paths`` that are the only file of a
    ``contract_id`` partition: compaction (``optimize`` on such a table) leaves them."""
    if not paths or "contract_id" not in dt.metadata().partition_columns:
        return ()
    actions = pa.table(dt.get_add_actions(flatten=True))
    files = actions.column("path").to_pylist()
    ids = actions.column("partition.contract_id").to_pylist()
    counts = Counter(ids)
    by_path = dict(zip(files, ids, strict=True))
    return tuple(
        (path, by_path[path])
        for path in paths
        if by_path.get(path) is not None and counts[by_path[path]] == 1
    )


def last_checkpoint(dt: DeltaTable, storage_options: Mapping[str, str]) -> int | None:
    """The table version of the newest checkpoint, or None when there is none."""
    handler = DeltaStorageHandler(dt.table_uri, dict(storage_options) or None)
    try:
        with handler.open_input_file("_delta_log/_last_checkpoint") as file:
            return int(json.loads(file.read())["version"])
    except FileNotFoundError:
        return None


@dataclass
class _Rows:
    rows: int = 0
    without_identity: int = 0
    identity_keys: list[tuple[str | None, str | None]] = field(default_factory=list)
    invalid_keys: list[tuple[str, str]] = field(default_factory=list)
    without_derived: int = 0
    stale: int = 0
    nulls: dict[str, int] = field(default_factory=dict)
    duplicates: list[DuplicateKey] = field(default_factory=list)


def _scan_rows(dt: DeltaTable, columns: Mapping[str, object], nullable: tuple[str, ...]) -> _Rows:
    """One streaming pass over every row, then reads of the few rows it singled out."""
    scan = scan_frame(dt)
    keyed = all(name in columns for name in _KEYED)
    lacking = pl.any_horizontal(pl.col(name).is_null() for name in _IDENTITY)
    keyable = pl.col("contract_id").is_not_null() & pl.col("version").is_not_null()  # adopt keys
    suspect = ~lacking & ~object_like(pl.col("json"))  # then parsed as reads parse them
    counts = scan.select(
        pl.len().alias("rows"),
        lacking.sum().alias("no_identity"),
        suspect.sum().alias("suspect"),
        *(pl.col(name).is_null().sum().alias(f"null {name}") for name in nullable),
        *(
            [
                (keyable & pl.any_horizontal(pl.col(n).is_null() for n in _KEYED))
                .sum()
                .alias("no_keys")
            ]
            if keyed
            else []
        ),
    ).collect(engine="streaming")
    found = _Rows(
        rows=counts["rows"].item(),
        without_identity=counts["no_identity"].item(),
        without_derived=counts["no_keys"].item() if keyed else 0,
        nulls={name: counts[f"null {name}"].item() for name in nullable},
    )
    if found.without_identity:
        sample = scan.filter(lacking).select("contract_id", "version").head(SHOWN_KEYS).collect()
        found.identity_keys = list(sample.iter_rows())
    if counts["suspect"].item():
        rows = scan.filter(suspect).select("contract_id", "version", "json").collect()
        found.invalid_keys = sorted(
            (c, v) for c, v, payload in rows.iter_rows() if payload_document(payload) is None
        )
    found.stale = _stale_keys(scan) if keyed else 0
    found.duplicates = _duplicates(scan, lacking)
    return found


def _duplicates(scan: pl.LazyFrame, lacking: pl.Expr) -> list[DuplicateKey]:
    """Keys held by more than one readable row (rows reads skip are not copies)."""
    duplicated = (
        scan.filter(~lacking)
        .group_by("contract_id", "version")
        .len()
        .filter(pl.col("len") > 1)
        .select("contract_id", "version")
        .collect()
    )
    if not duplicated.height:
        return []
    found = (
        scan.join(duplicated.lazy(), on=["contract_id", "version"], how="semi")
        .select("contract_id", "version", "fingerprint", "json")
        .collect()
    )
    return duplicate_keys(row for row in found.iter_rows() if payload_document(row[3]) is not None)


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
