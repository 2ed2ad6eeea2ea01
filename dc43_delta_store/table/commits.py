"""How the store commits rows: replace-where writes on the snapshot it read.

Inserts and metadata updates are replace-where writes (``write_deltalake(mode="overwrite",
predicate=…)``) on the snapshot the store read, with the exact predicate of the keys they
write (:mod:`..core.key_filter`). That predicate is the commit's conflict predicate: two
writers of the same key conflict (the loser gets ``CommitFailedError`` and re-reads),
writers of different keys both commit. An insert first reads, on the same snapshot, which
keys are there already and writes only the others, so it replaces nothing. A plain append
would duplicate the key.

Why not ``MERGE``: delta-rs 1.6's MERGE (like its UPDATE and DELETE) writes Parquet files
whose embedded Arrow schema says ``string_view`` and every column nullable — its DataFusion
session forces view types, with no option to turn it off — and Daft and Sail (Spark) refuse
those files. ``write_deltalake`` and ``optimize`` write plain ``string``, NOT NULL where the
table declares it. Tables with ``delta.appendOnly`` refuse replace-where writes, so inserts
into them stay insert-only MERGEs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
from deltalake import (
    CommitProperties,
    DeltaTable,
    PostCommitHookProperties,
    Transaction,
    write_deltalake,
)
from deltalake.table import TableMerger

from ..core.key_filter import key_predicate

__all__ = [
    "POST_COMMIT",
    "append_only",
    "commit_properties",
    "key_match",
    "merge_on_key",
    "read_keys",
    "replace_keys",
]

_KEY_MATCH = "t.contract_id = s.contract_id AND t.version = s.version"
# Rows written by other tools may lack contract_key: they still match, and files without
# nulls in it are skipped by its statistics.
_HASHED_KEY_MATCH = _KEY_MATCH + " AND (t.contract_key = s.contract_key OR t.contract_key IS NULL)"
# Checkpoints as configured (every 100 commits); expired-log cleanup lists the whole log, which
# grows with every put, so it runs in optimize() rather than after each commit.
POST_COMMIT = PostCommitHookProperties(create_checkpoint=True, cleanup_expired_logs=False)


def commit_properties(
    commit_info: Mapping[str, Any], app_transactions: Sequence[tuple[str, int]] = ()
) -> CommitProperties:
    transactions = [Transaction(app, version) for app, version in app_transactions]
    return CommitProperties(
        custom_metadata=dict(commit_info), app_transactions=transactions or None
    )


def read_keys(dt: DeltaTable, predicate: str) -> set[tuple[str, str]]:
    """The (contract_id, version) keys of snapshot ``dt`` whose rows match ``predicate``."""
    found = pa.table(dt.scan(columns=["contract_id", "version"], predicate=predicate))
    return set(zip(*(found.column(name).to_pylist() for name in found.column_names), strict=True))


def replace_keys(
    dt: DeltaTable,
    source: pa.Table,
    hashed: bool,
    commit_info: Mapping[str, Any],
    app_transactions: Sequence[tuple[str, int]] = (),
) -> None:
    """One commit on snapshot ``dt``: the rows of ``source``'s keys become ``source``.

    The key predicate is also the commit's conflict predicate (see the module docstring).
    """
    keys = zip(
        source.column("contract_id").to_pylist(), source.column("version").to_pylist(), strict=True
    )
    write_deltalake(
        dt,
        source,
        mode="overwrite",
        predicate=key_predicate(keys, hashed=hashed),
        commit_properties=commit_properties(commit_info, app_transactions),
        post_commithook_properties=POST_COMMIT,
    )


def append_only(dt: DeltaTable) -> bool:
    return str(dt.metadata().configuration.get("delta.appendOnly", "")).lower() == "true"


def merge_on_key(
    dt: DeltaTable,
    schema: pa.Schema,
    source: pa.Table,
    commit_info: Mapping[str, Any],
    app_transactions: Sequence[tuple[str, int]] = (),
) -> TableMerger:
    """An insert-only MERGE of ``source`` into snapshot ``dt`` on (contract_id, version).

    Only for append-only tables. ``streamed_exec=False`` makes the commit carry a conflict
    predicate built from the source keys.
    """
    return dt.merge(
        source,
        predicate=key_match(schema),
        source_alias="s",
        target_alias="t",
        streamed_exec=False,
        commit_properties=commit_properties(commit_info, app_transactions),
        post_commithook_properties=POST_COMMIT,
    )


def key_match(schema: pa.Schema) -> str:
    """The MERGE condition on (contract_id, version), using contract_key when the table has it."""
    return _HASHED_KEY_MATCH if "contract_key" in schema.names else _KEY_MATCH
