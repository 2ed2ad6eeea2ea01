"""Judging a contract table's health from facts read elsewhere (pure: no table access).

:mod:`..table.health` reads the :class:`TableFacts` of a snapshot — protocol, files, log,
duplicated keys, rows without the derived columns — and :func:`judge` turns them into
:class:`Finding` s, each with what it costs and the command that fixes it. ``error`` findings
make reads refuse or writes impossible; ``warning`` ones make answers slower or SQL users'
answers wrong. A healthy table has none.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .duplicates import DuplicateKey

__all__ = [
    "DELTA_RS_READER_FEATURES",
    "POLARS_READER_FEATURES",
    "Finding",
    "HealthReport",
    "TableFacts",
    "implied_features",
    "judge",
]

POLARS_READER_FEATURES = frozenset(
    {"deletionVectors", "timestampNtz", "variantType", "variantType-preview"}
)
"""Reader features ``polars.scan_delta`` (2.1) reads; it refuses column mapping."""
DELTA_RS_READER_FEATURES = POLARS_READER_FEATURES | {"columnMapping"}
"""Reader features the store reads: Polars', and column mapping through deltalake's own
DataFusion reader (1.6)."""
SMALL_FILES_LIMIT = 100
"""Mergeable small files from which lookups slow down: ``optimize`` (and auto-compaction)."""

# Legacy protocol versions imply features (Delta protocol, "Table Features").
_LEGACY_WRITER = {
    2: ("appendOnly", "invariants"),
    3: ("checkConstraints",),
    4: ("changeDataFeed", "generatedColumns"),
    5: ("columnMapping",),
    6: ("identityColumns",),
}

Severity = Literal["error", "warning"]


def implied_features(
    reader_version: int,
    writer_version: int,
    reader_features: Collection[str] | None,
    writer_features: Collection[str] | None,
) -> tuple[frozenset[str], frozenset[str]]:
    """The reader and writer features a protocol asks for, legacy versions included.

    >>> sorted(implied_features(2, 5, None, None)[0])
    ['columnMapping']
    >>> sorted(implied_features(1, 2, None, None)[1])
    ['appendOnly', 'invariants']
    """
    readers = set(reader_features or ())
    if reader_version == 2:
        readers.add("columnMapping")
    writers = set(writer_features or ())
    if writer_version < 7:
        for version, features in _LEGACY_WRITER.items():
            if writer_version >= version:
                writers.update(features)
    return frozenset(readers), frozenset(writers)


@dataclass(frozen=True)
class TableFacts:
    """What :mod:`..table.health` read of one snapshot."""

    table: str
    version: int
    reader_version: int
    writer_version: int
    reader_features: tuple[str, ...]
    writer_features: tuple[str, ...]
    column_mapping: str | None
    partition_columns: tuple[str, ...]
    missing_columns: tuple[str, ...]
    """Derived columns (``status``, ``contract_key``…) the table does not have."""
    rows: int
    files: int
    small_files: int
    small_bytes: int
    mergeable_files: int
    """Small files compaction can merge (two or more in one partition)."""
    last_checkpoint: int | None
    checkpoint_interval: int
    duplicates: tuple[DuplicateKey, ...] = ()
    rows_without_identity: int = 0
    """Rows lacking contract_id, version or json: no lookup finds them."""
    rows_without_derived: int = 0
    """Rows other writers added without ``contract_key``/``version_sort_key``/``prerelease``."""
    stale_sort_keys: int = 0
    """Rows whose ``version_sort_key`` or ``prerelease`` is not what the version gives now."""
    odd_files: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Data files whose embedded Arrow schema differs from the table's, with the problems."""
    keys_without_identity: tuple[tuple[str | None, str | None], ...] = ()
    """``(contract_id, version)`` of some rows without identity (None where unset)."""
    invalid_payloads: int = 0
    """Rows whose ``json`` holds no JSON object: every read skips them."""
    invalid_payload_keys: tuple[tuple[str, str], ...] = ()
    """``(contract_id, version)`` of some of them."""
    nullable_required: tuple[str, ...] = ()
    """Of ``contract_id``, ``version``, ``json``, ``fingerprint``, ``created_at``: those the
    schema lets be null (the store creates them NOT NULL)."""
    required_with_nulls: tuple[str, ...] = ()
    """Of those, the ones some row leaves null (NOT NULL cannot be restored over them)."""
    foreign_types: tuple[tuple[str, str, str], ...] = ()
    """``(column, its type, the type the store writes)`` of columns of another type."""
    lone_odd_files: tuple[tuple[str, str], ...] = ()
    """``(path, contract_id)`` of odd files alone in a ``contract_id`` partition, which
    compaction never rewrites."""

    @property
    def commits_since_checkpoint(self) -> int:
        return self.version - (-1 if self.last_checkpoint is None else self.last_checkpoint)


@dataclass(frozen=True)
class Finding:
    """One problem: which ``check`` found it, how bad, what it means, how to fix it."""

    check: str
    severity: Severity
    message: str
    fix: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    """The facts of a snapshot and what :func:`judge` found in them."""

    facts: TableFacts
    findings: tuple[Finding, ...]

    @property
    def healthy(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: ``healthy``, ``facts`` and ``findings``."""
        facts = asdict(self.facts)
        facts["commits_since_checkpoint"] = self.facts.commits_since_checkpoint
        return {
            "table": self.facts.table,
            "version": self.facts.version,
            "healthy": self.healthy,
            "findings": [asdict(finding) for finding in self.findings],
            "facts": facts,
        }


def judge(facts: TableFacts, *, writable_features: Collection[str]) -> tuple[Finding, ...]:
    """The findings of ``facts``; ``writable_features`` are those the store's writes honour.

    >>> facts = TableFacts("t", 250, 1, 2, (), (), None, (), (), 10, 1, 0, 0, 0, 99, 100)
    >>> [f.check for f in judge(facts, writable_features={"appendOnly", "invariants"})]
    ['checkpoint']
    """
    findings = [
        *_protocol(facts, writable_features),
        *_schema(facts),
        *_duplicates(facts),
        *_identity(facts),
        *_rows(facts),
        *_upkeep(facts),
    ]
    return tuple(findings)


def _protocol(facts: TableFacts, writable: Collection[str]) -> list[Finding]:
    readers, writers = implied_features(
        facts.reader_version, facts.writer_version, facts.reader_features, facts.writer_features
    )
    protocol = f"protocol {facts.reader_version}/{facts.writer_version}"
    findings = []
    unreadable = sorted(readers - DELTA_RS_READER_FEATURES)
    if unreadable:
        findings.append(
            Finding(
                "unreadable_features",
                "error",
                f"the table needs reader features {', '.join(unreadable)} ({protocol}), which "
                "neither Polars nor deltalake reads: every read is refused",
                details={"features": unreadable},
            )
        )
    if facts.column_mapping not in (None, "none"):
        findings.append(
            Finding(
                "column_mapping",
                "error",
                f"the table uses column mapping (mode {facts.column_mapping}, {protocol}): "
                "Polars cannot read it, so reads go through deltalake's DataFusion reader, "
                "which reads every row a lookup could match; writes are refused (delta-rs "
                "cannot add columns to such a table)",
                fix="copy the rows into a table without column mapping (CREATE TABLE ... AS "
                "SELECT in Spark), or keep writing it with Spark",
                details={"mode": facts.column_mapping},
            )
        )
    elif "columnMapping" in readers:
        findings.append(
            Finding(
                "column_mapping",
                "warning",
                f"the table's {protocol} allows column mapping (not enabled): Polars cannot "
                "read it, so reads go through deltalake's DataFusion reader, which reads every "
                "row a lookup could match",
                details={"mode": None},
            )
        )
    unwritable = sorted(writers - set(writable) - {"columnMapping"})
    if unwritable:
        findings.append(
            Finding(
                "unwritable_features",
                "error",
                f"the table uses writer features {', '.join(unwritable)} ({protocol}), which "
                "this store cannot honour: every write is refused",
                details={"features": unwritable},
            )
        )
    return findings


def _duplicates(facts: TableFacts) -> list[Finding]:
    if not facts.duplicates:
        return []
    differing = [key for key in facts.duplicates if not key.identical]
    listed = [
        {
            "contract_id": key.contract_id,
            "version": key.version,
            "rows": key.rows,
            "fingerprints": list(key.fingerprints),
            "identical": key.identical,
        }
        for key in sorted(facts.duplicates, key=lambda key: key.identical)
    ]
    shown = ", ".join(f"{key.contract_id}@{key.version}" for key in facts.duplicates[:5])
    more = f" and {len(facts.duplicates) - 5} more" if len(facts.duplicates) > 5 else ""
    if differing:
        message = (
            f"{len(facts.duplicates)} key(s) stored more than once, {len(differing)} with "
            f"different content ({shown}{more}): reads of those versions refuse to pick one"
        )
    else:
        message = (
            f"{len(facts.duplicates)} key(s) stored more than once with identical content "
            f"({shown}{more}): reads answer once, but SQL queries count them twice"
        )
    return [
        Finding(
            "duplicate_keys",
            "error" if differing else "warning",
            message,
            fix="keep one copy per key: delete the wrong one with the engine that wrote it "
            "(DELETE FROM <table> WHERE contract_id = '<id>' AND version = '<version>' AND "
            "fingerprint = '<wrong one>'); identical copies cannot be told apart: delete "
            "them all, then put the version again",
            details={"keys": listed},
        )
    ]


def _identity(facts: TableFacts) -> list[Finding]:
    """Rows every read skips: no identity, or a payload that is not a JSON object."""
    findings = []
    if facts.rows_without_identity:
        keys = [
            {"contract_id": contract_id, "version": version}
            for contract_id, version in facts.keys_without_identity
        ]
        findings.append(
            Finding(
                "rows_without_identity",
                "warning",
                f"{facts.rows_without_identity} row(s) lack contract_id, version or json "
                f"(e.g. {_shown(facts.keys_without_identity)}): every read skips them",
                fix="delete them with the engine that wrote them, e.g. DELETE FROM <table> "
                f"WHERE {WITHOUT_IDENTITY} (or set the missing values)",
                details={"rows": facts.rows_without_identity, "keys": keys},
            )
        )
    if facts.invalid_payloads:
        keys = [{"contract_id": c, "version": v} for c, v in facts.invalid_payload_keys]
        findings.append(
            Finding(
                "invalid_payloads",
                "warning",
                f"{facts.invalid_payloads} row(s) hold json that is not a JSON object (e.g. "
                f"{_shown(facts.invalid_payload_keys)}): every read skips them",
                fix="delete them with the engine that wrote them (DELETE FROM <table> WHERE "
                "contract_id = '<id>' AND version = '<version>' for each key in details), "
                "or set their json to the document; then put the version again if needed",
                details={"rows": facts.invalid_payloads, "keys": keys},
            )
        )
    return findings


WITHOUT_IDENTITY = "contract_id IS NULL OR version IS NULL OR json IS NULL"
"""The rows ``rows_without_identity`` counts, as a SQL predicate (Spark, deltalake's
``DeltaTable.delete``)."""


def _shown(keys: Sequence[tuple[str | None, str | None]]) -> str:
    return ", ".join(f"{c or '<null>'}@{v or '<null>'}" for c, v in keys[:3]) or "none listed"


def _schema(facts: TableFacts) -> list[Finding]:
    """Columns of other types than the store writes; required columns left nullable."""
    findings = []
    if facts.foreign_types:
        listed = ", ".join(
            f"{name} ({found}, not {wanted})" for name, found, wanted in facts.foreign_types
        )
        findings.append(
            Finding(
                "foreign_column_types",
                "error",
                f"the table holds columns of other types than the store writes: {listed}; "
                "every write is refused",
                fix="rewrite the table with those columns cast (Delta changes a column's type "
                "only by rewriting the table): see README, Tables other tools wrote",
                details={
                    "columns": {
                        name: [found, wanted] for name, found, wanted in facts.foreign_types
                    }
                },
            )
        )
    if facts.nullable_required:
        columns = ", ".join(facts.nullable_required)
        blocked = facts.required_with_nulls
        fix = _after_types(facts, ADOPT)
        if blocked:
            fix = (
                f"set or delete the rows holding nulls in {', '.join(blocked)} (see "
                f"rows_without_identity), then {fix}"
            )
        findings.append(
            Finding(
                "nullable_required_columns",
                "warning",
                f"the required columns {columns} are nullable (another engine's schema "
                "evolution, such as a MERGE ... WITH SCHEMA EVOLUTION, or a table created "
                "without NOT NULL): writers may add rows without identity, which reads skip",
                fix=fix,
                details={
                    "columns": list(facts.nullable_required),
                    "with_nulls": list(blocked),
                },
            )
        )
    return findings


ADOPT = "dc43-delta-store adopt --apply"


def _after_types(facts: TableFacts, fix: str) -> str:
    """``fix``, after the column types are fixed where ``adopt`` would refuse the table."""
    return f"{fix}, once foreign_column_types is fixed" if facts.foreign_types else fix


def _rows(facts: TableFacts) -> list[Finding]:
    findings = []
    adopt = _after_types(facts, ADOPT)
    if facts.missing_columns:
        findings.append(
            Finding(
                "missing_derived_columns",
                "warning",
                f"the table lacks the derived columns {', '.join(facts.missing_columns)}: "
                "reads take status, domain and the like from the JSON of every row, and SQL "
                "users have no version_sort_key to order by",
                fix=adopt,
                details={"columns": list(facts.missing_columns), "rows": facts.rows},
            )
        )
    if facts.rows_without_derived:
        findings.append(
            Finding(
                "rows_without_derived_columns",
                "warning",
                f"{facts.rows_without_derived} row(s) written by other tools lack contract_key, "
                "version_sort_key or prerelease: SQL ordering by version_sort_key misses them",
                fix=adopt,
                details={"rows": facts.rows_without_derived},
            )
        )
    if facts.stale_sort_keys:
        findings.append(
            Finding(
                "stale_version_keys",
                "warning",
                f"{facts.stale_sort_keys} row(s) hold a version_sort_key or prerelease that "
                "the current version order does not give (written by an older release or "
                "another tool): SQL ordering by version_sort_key is wrong for them",
                fix=adopt,
                details={"rows": facts.stale_sort_keys},
            )
        )
    return findings


def _upkeep(facts: TableFacts) -> list[Finding]:
    findings = []
    since = facts.commits_since_checkpoint
    if since >= facts.checkpoint_interval:
        last = "no checkpoint" if facts.last_checkpoint is None else "no checkpoint since"
        at = "" if facts.last_checkpoint is None else f" version {facts.last_checkpoint}"
        findings.append(
            Finding(
                "checkpoint",
                "warning",
                f"{last}{at}: opening the table replays {since} commit files "
                f"(checkpoint interval {facts.checkpoint_interval})",
                fix="dc43-delta-store optimize",
                details={"last_checkpoint": facts.last_checkpoint, "commits_since": since},
            )
        )
    if facts.odd_files:
        path, problems = facts.odd_files[0]
        findings.append(
            Finding(
                "file_schemas",
                "warning",
                f"{len(facts.odd_files)} data file(s) embed an Arrow schema other than the "
                f"table's (e.g. {path}: {'; '.join(problems)}): Daft refuses view types, Sail "
                "(Spark) refuses them in NOT NULL columns",
                fix="dc43-delta-store optimize (rewrites them when it compacts them)"
                + (
                    "; a file alone in its contract_id partition it leaves as it is: rewrite "
                    "it with deltalake, DeltaTable(<table>).optimize.z_order(['version'], "
                    "partition_filters=[('contract_id', '=', '<id>')]) for each id listed"
                    if facts.lone_odd_files
                    else ""
                ),
                details={
                    "files": {path: list(found) for path, found in facts.odd_files},
                    "alone_in_partition": {path: id_ for path, id_ in facts.lone_odd_files},
                },
            )
        )
    if facts.mergeable_files >= SMALL_FILES_LIMIT:
        findings.append(
            Finding(
                "small_files",
                "warning",
                f"{facts.small_files} small data files ({facts.small_bytes} bytes), "
                f"{facts.mergeable_files} of them mergeable: every lookup and write pays for "
                "each",
                fix="dc43-delta-store optimize",
                details={
                    "small_files": facts.small_files,
                    "small_bytes": facts.small_bytes,
                    "mergeable": facts.mergeable_files,
                    "files": facts.files,
                },
            )
        )
    return findings
