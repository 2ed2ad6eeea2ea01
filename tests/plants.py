"""Planted bugs: realistic single-point mistakes, each of which some test must catch.

    python -m tests.plants                 # every plant, each against its related tests
    python -m tests.plants lease_reversed  # some of them, by name
    python -m tests.plants --list

Each plant replaces one snippet of one module (the snippet must occur exactly once) in a
scratch copy of the repository, runs the tests named for it there, and counts it *caught*
when they fail. A plant whose snippet is gone (the code moved on) is reported ``stale``:
rewrite it against the current code. ``tests/MUTATION.md`` holds the table of results; mutmut
(``make mutate``) does the same mechanically, for the pure modules.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Plant:
    name: str
    path: str  # module, relative to the package
    old: str
    new: str
    tests: tuple[str, ...]  # pytest arguments: files, node ids, -k expressions
    effect: str  # what a user would see


P = Plant
FAST = ("tests/test_store.py", "tests/test_api.py", "tests/test_documents.py")
PLANTS: list[Plant] = [
    # -- the 13 of issue 14 (in today's code) --------------------------------------------
    P(
        "ascii_json_column",
        "core/canonical.py",
        "json.dumps(stripped, ensure_ascii=False, separators",
        "json.dumps(stripped, separators",
        ("tests/test_payload.py", "tests/test_store.py"),
        "the json column stores \\u00df escapes: json LIKE '%Straße%' finds nothing",
    ),
    P(
        "prerelease_by_dash",
        "core/records.py",
        "prerelease=is_prerelease(version),",
        'prerelease="-" in version,',
        ("tests/test_store.py",),
        "2024-01-01 and 1.0.0+b-1 flagged prerelease: contracts_latest and list disagree",
    ),
    P(
        "depth_limit_off_by_one",
        "core/documents.py",
        "if depth > MAX_DEPTH:",
        "if depth >= MAX_DEPTH:",
        ("tests/test_documents.py", "tests/test_bad_input.py"),
        "a 64-level document (the documented maximum) is refused",
    ),
    P(
        "size_limit_off_by_one",
        "core/documents.py",
        "    if size > max_bytes:",
        "    if size >= max_bytes:",
        ("tests/test_documents.py", "tests/test_bad_input.py"),
        "a document of exactly the limit is refused",
    ),
    P(
        "text_size_limit_off_by_one",
        "core/documents.py",
        'if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:',
        'if len(text) >= max_bytes or len(text.encode("utf-8", "surrogatepass")) >= max_bytes:',
        ("tests/test_documents.py", "tests/test_bad_input.py"),
        "a YAML text of exactly the limit is refused",
    ),
    P(
        "key_predicate_without_version",
        "core/key_filter.py",
        "f\"{_member('version', [v])} AND {_member('contract_id', ids)}\"",
        "f\"{_member('contract_id', ids)}\"",
        ("tests/test_write_commits.py", "tests/test_store.py"),
        "a too broad key predicate: writers of different keys conflict (and rows are replaced)",
    ),
    P(
        "key_predicate_hash_only",
        "core/key_filter.py",
        'return f"(contract_key = {hashed_key} OR contract_key IS NULL) AND {exact}"',
        'return f"(contract_key = {hashed_key} OR contract_key IS NULL)"',
        ("tests/test_write_commits.py", "tests/test_store.py"),
        "the predicate covers every version of the id: writers of other versions conflict",
    ),
    P(
        "key_predicate_no_null_branch",
        "core/key_filter.py",
        'return f"(contract_key = {hashed_key} OR contract_key IS NULL) AND {exact}"',
        'return f"contract_key = {hashed_key} AND {exact}"',
        ("tests/test_write_commits.py", "tests/test_foreign.py", "tests/test_duplicates.py"),
        "an identical re-put of a row another tool wrote without a key is inserted: a duplicate",
    ),
    P(
        "raw_engine_error",
        "table/delta_table.py",
        'raise StoreUnavailableError(\n                f"cannot {action} table {self.location}: '
        '{self._redact(exc)}"',
        'raise StoreUnavailableError(\n                f"cannot {action} table {self.location}: '
        '{exc}"',
        ("tests/test_secrets.py",),
        "a credential inside an engine error reaches the user's message",
    ),
    P(
        "if_match_ignores_none",
        "table/writer.py",
        "for name, value in expected.items() if row[name] != value}",
        "for name, value in expected.items() if value is not None and row[name] != value}",
        ("tests/test_governance.py",),
        'if_match={"owner": None} applies although owner is set',
    ),
    P(
        "bool_as_double",
        "core/values.py",
        'if kind == "double" and isinstance(value, (int, float)) and not isinstance(value, bool):',
        'if kind == "double" and isinstance(value, (int, float)):',
        ("tests/test_governance.py", "tests/test_bad_input.py"),
        "True stored as 1.0 in a double column",
    ),
    P(
        "bool_as_long",
        "core/values.py",
        'if kind == "long" and isinstance(value, int) and not isinstance(value, bool):',
        'if kind == "long" and isinstance(value, int):',
        ("tests/test_governance.py", "tests/test_bad_input.py"),
        "True stored as 1 in a long column",
    ),
    P(
        "sql_table_case",
        "core/sql_guard.py",
        "if extra or table.name.lower() not in allowed:",
        "if extra or table.name not in allowed:",
        ("tests/test_governance.py",),
        'store.sql("select … from Contracts") refused',
    ),
    P(
        "sql_function_case",
        "core/sql_guard.py",
        "return {node.name.upper()}",
        "return {node.name}",
        ("tests/test_governance.py",),
        "a lower-case function name (regexp_like) refused",
    ),
    P(
        "conflict_exit_5",
        "cli/support.py",
        '"conflict": 4,',
        '"conflict": 5,',
        ("tests/test_cli.py",),
        "a conflict exits like an invalid contract",
    ),
    P(
        "versions_without_fingerprint",
        "cli/reads.py",
        'c for c in ("version", "status", "created_at", "fingerprint") if c in',
        'c for c in ("version", "status", "created_at") if c in',
        ("tests/test_cli.py",),
        "versions --json loses a documented field",
    ),
    P(
        "lease_expiry_reversed",
        "table/locking.py",
        "if any(expires_at > now for expires_at in held):",
        "if any(expires_at < now for expires_at in held):",
        ("tests/test_backends.py",),
        "a live maintenance lease on S3/Azure is taken over: two compactions at once",
    ),
    P(
        "lease_always_granted",
        "table/locking.py",
        "    held = _take(uri, options, owner)",
        "    held = _take(uri, options, owner) or True",
        ("tests/test_backends.py",),
        "two maintenance jobs on S3/Azure at once: rows duplicated",
    ),
    # -- beyond the issue: realistic single-point bugs across the package -------------------
    P(
        "dry_run_swaps_new_and_unchanged",
        "table/writer.py",
        'return batch_result(plan.new, plan.unchanged, refused, "new", version, notes)',
        'return batch_result(plan.unchanged, plan.new, refused, "new", version, notes)',
        ("tests/test_put_many.py", "tests/test_cli.py"),
        "ingest --dry-run reports stored files as new and new ones as unchanged",
    ),
    P(
        "dry_run_raises",
        "table/writer.py",
        'if refused and on_error == "raise" and not dry_run:',
        'if refused and on_error == "raise":',
        ("tests/test_put_many.py", "tests/test_cli.py"),
        "a dry run with one bad item raises instead of reporting the plan",
    ),
    P(
        "one_attempt_fewer",
        "table/writer.py",
        "for number in range(1, self._max_attempts + 1):",
        "for number in range(1, self._max_attempts):",
        ("tests/test_busy.py", "tests/test_store.py"),
        "max_commit_attempts=1 never tries; every limit one short",
    ),
    P(
        "exists_ignores_version",
        "store.py",
        "return bool(versions) if version is None else version in versions",
        "return bool(versions)",
        ("tests/test_store.py", "tests/test_api.py"),
        'exists("sales.orders", "9.9.9") is True',
    ),
    P(
        "latest_includes_prereleases",
        "store.py",
        "request = self._request(contract_id, None, include_prereleases, as_of, filters)\n        return self._resolved",
        "request = self._request(contract_id, None, True, as_of, filters)\n        return self._resolved",
        ("tests/test_store.py",),
        "latest() returns 2.0.0-rc.1 over 1.11.0",
    ),
    P(
        "history_ignores_limit",
        "store.py",
        "return commits_of(dt.history(limit))",
        "return commits_of(dt.history())",
        ("tests/test_governance.py", "tests/test_cli.py"),
        "history(limit=1) and history --limit 1 list every commit",
    ),
    P(
        "list_contracts_unsorted",
        "table/lookups.py",
        'return tuple(sorted(ids["contract_id"].to_list()))',
        'return tuple(ids["contract_id"].to_list())',
        ("tests/test_store.py", "tests/test_api.py"),
        "list_contracts() in no particular order",
    ),
    P(
        "stale_reads_off_by_one",
        "table/delta_table.py",
        'return os.path.exists(f"{self._log_folder}{dt.version() + 1:020d}.json")',
        'return os.path.exists(f"{self._log_folder}{dt.version() + 2:020d}.json")',
        ("tests/test_governance.py", "tests/test_store.py", "tests/test_backends.py"),
        "a reused store misses the next commit: stale reads",
    ),
    P(
        "as_of_newest_refused",
        "table/delta_table.py",
        "if isinstance(point, int) and point > head.version():",
        "if isinstance(point, int) and point >= head.version():",
        ("tests/test_governance.py", "tests/test_bad_input.py"),
        "as_of=<the newest version> is refused",
    ),
    P(
        "deletion_vectors_writable",
        "table/delta_table.py",
        '        "appendOnly",\n        "changeDataFeed",',
        '        "appendOnly",\n        "deletionVectors",\n        "changeDataFeed",',
        ("tests/test_store.py", "tests/test_health.py", "tests/test_foreign.py"),
        "a table with deletion vectors is written, which delta-rs cannot honour",
    ),
    P(
        "auto_compact_never",
        "table/delta_table.py",
        "if compactable(file_sizes(dt), target_size // 8) < threshold:\n            return False\n        try:",
        "if compactable(file_sizes(dt), target_size // 8) > threshold:\n            return False\n        try:",
        ("tests/test_governance.py",),
        "puts never compact small files: every lookup reads more files",
    ),
    P(
        "compaction_without_reread",
        "table/delta_table.py",
        "                dt.update_incremental()\n",
        "",
        ("tests/test_governance.py",),
        "a writer whose snapshot missed another's compaction compacts the same files: rows twice",
    ),
    P(
        "append_only_merge_streamed",
        "table/commits.py",
        "        streamed_exec=False,\n",
        "        streamed_exec=True,\n",
        ("tests/test_write_commits.py",),
        "on an append-only table, writers of different keys conflict (issue 14's streamed_exec)",
    ),
    P(
        "os_error_unconverted",
        "table/delta_table.py",
        "        except (DeltaError, OSError) as exc:\n            raise StoreUnavailableError(",
        "        except DeltaError as exc:\n            raise StoreUnavailableError(",
        ("tests/test_secrets.py", "tests/test_backends.py"),
        "an unreachable store raises a raw OSError, not StoreUnavailableError (exit 1, not 6)",
    ),
    P(
        "insert_counts_stored_rows",
        "table/delta_table.py",
        "            return len(new)\n",
        "            return len(rows)\n",
        ("tests/test_store.py",),
        'an identical re-put reports "inserted" instead of "unchanged"',
    ),
    P(
        "token_not_secret",
        "table/location.py",
        'r"key|secret|token|password|sas|credential|session"',
        'r"key|secret|password|sas|credential|session"',
        ("tests/test_secrets.py",),
        "a session token in an engine error is shown",
    ),
    P(
        "shared_maintenance_lock",
        "table/locking.py",
        "fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)",
        "fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)",
        ("tests/test_governance.py",),
        "two local compactions at once: rows duplicated",
    ),
    P(
        "lease_never_released",
        "table/locking.py",
        "delete(predicate=f\"owner = '{owner}'\")",
        "delete(predicate=f\"owner != '{owner}'\")",
        ("tests/test_backends.py",),
        "after one optimize on S3, every other one is busy for 15 minutes",
    ),
    P(
        "who_ignored",
        "table/history.py",
        "user = who or os_user()",
        "user = os_user()",
        ("tests/test_governance.py", "tests/test_cli.py"),
        "history shows the OS user instead of who=",
    ),
    P(
        "history_reason_is_user",
        "table/history.py",
        'reason=entry.get("userMetadata"),',
        'reason=entry.get("userName"),',
        ("tests/test_governance.py", "tests/test_cli.py"),
        "history's reason shows who, not why",
    ),
    P(
        "published_without_fingerprint",
        "table/history.py",
        '"published": [[row.contract_id, row.version, row.fingerprint] for row in rows],',
        '"published": [[row.contract_id, row.version] for row in rows],',
        ("tests/test_changes.py",),
        "change-feed events lose the fingerprint",
    ),
    P(
        "feed_misses_newest_commit",
        "feed/reader.py",
        "events: list[ChangeEvent] = []\n    for version in range(since + 1, upto + 1):",
        "events: list[ChangeEvent] = []\n    for version in range(since + 1, upto):",
        ("tests/test_changes.py",),
        "changes() misses the newest commit",
    ),
    P(
        "single_small_files_compacted",
        "table/maintenance.py",
        "return sum(count for count in counts.values() if count > 1)",
        "return sum(count for count in counts.values() if count >= 1)",
        ("tests/test_foreign.py", "tests/test_health.py", "tests/test_governance.py"),
        "one small file per partition counts: a dc43 table is auto-compacted and check nags",
    ),
    P(
        "greater_than_admits_equal_minor",
        "resolution/ranges.py",
        '        return [Comparator(">=", _text(_next(given)))]',
        '        return [Comparator(">=", low)]',
        ("tests/test_ranges.py", "tests/test_resolve.py"),
        "resolve('>1.2') returns 1.2.5",
    ),
    P(
        "explain_picks_lowest",
        "resolution/explain.py",
        "ordered = sorted(rows, key=lambda row: place(row.version).key, reverse=True)",
        "ordered = sorted(rows, key=lambda row: place(row.version).key)",
        ("tests/test_resolve.py", "tests/test_consumers_cli.py"),
        "resolve(explain=True) chooses the lowest matching version",
    ),
    P(
        "equal_bump_not_enough",
        "compatibility/policy.py",
        "return given is not None and bump_rank(given) >= bump_rank(needed)",
        "return given is not None and bump_rank(given) > bump_rank(needed)",
        ("tests/test_compatibility_gate.py", "tests/test_compatibility.py"),
        "a minor bump for a minor change is refused as incompatible",
    ),
    P(
        "gate_against_first_release",
        "compatibility/gate.py",
        "        return [earlier[-1]]\n",
        "        return [earlier[0]]\n",
        ("tests/test_compatibility_gate.py",),
        "a new version is checked against the first release, not the latest",
    ),
    P(
        "zero_major_not_relaxed",
        "compatibility/policy.py",
        'if parsed.ordered and parsed.major == 0 and required != "none":',
        'if parsed.ordered and parsed.major == 1 and required != "none":',
        ("tests/test_compatibility_gate.py", "tests/test_compatibility.py"),
        "0.y.z contracts need a major bump for breaking changes",
    ),
    P(
        "usage_errors_exit_5",
        "cli/support.py",
        '((InvalidLocationError, InvalidRequestError), "usage"),',
        '((InvalidLocationError, InvalidRequestError), "invalid"),',
        ("tests/test_cli.py", "tests/test_bad_input.py"),
        "a refused request exits 5 (invalid contract) instead of 2",
    ),
    P(
        "empty_value_sets_empty_text",
        "cli/support.py",
        'typed[name] = None if text == "" else from_text(kind, text)',
        "typed[name] = from_text(kind, text)",
        ("tests/test_cli.py", "tests/test_edges.py", "tests/test_bad_input.py"),
        "set-metadata owner= stores '' instead of clearing the column",
    ),
    P(
        "ingest_sources_empty",
        "cli/publish.py",
        '            if r.outcome == "new"\n        }',
        '            if r.outcome == "unchanged"\n        }',
        ("tests/test_cli.py",),
        "history --json lacks the file each ingested contract came from",
    ),
    P(
        "ingest_skip_bad_inverted",
        "cli/publish.py",
        "refused = bool(plan.problems) and not skip_bad",
        "refused = bool(plan.problems) and skip_bad",
        ("tests/test_cli.py",),
        "ingest of a folder with a bad file writes the good ones and exits 0",
    ),
    P(
        "table_booleans_reversed",
        "cli/output.py",
        'return "yes" if value else "no"',
        'return "no" if value else "yes"',
        ("tests/test_cli.py", "tests/test_consumers_cli.py", "tests/test_health.py"),
        "tables print yes for false",
    ),
    P(
        "hidden_folders_read",
        "cli/folders.py",
        'if candidate.suffix.lower() not in CONTRACT_SUFFIXES or any(\n                part.startswith(".") for part in relative\n            ):',
        "if candidate.suffix.lower() not in CONTRACT_SUFFIXES:",
        ("tests/test_cli.py", "tests/test_edges.py"),
        "ingest reads .github/ workflows as contracts",
    ),
    P(
        "metadata_ignored_at_put",
        "core/table_schema.py",
        "        **{name: [value] * len(rows) for name, value in (metadata or {}).items()},\n",
        "",
        ("tests/test_governance.py", "tests/test_edges.py"),
        "put(metadata={'owner': ...}) writes nothing into the column",
    ),
    P(
        "warn_policy_raises",
        "core/validation.py",
        '    if mode == "strict":\n        raise ContractValidationError',
        '    if mode in ("strict", "warn"):\n        raise ContractValidationError',
        ("tests/test_validation.py",),
        "validation='warn' refuses a contract with schema issues",
    ),
    P(
        "identical_copies_refused",
        "core/duplicates.py",
        "    if len(contents) > 1:\n        raise DuplicateVersionError",
        "    if len(rows) > 1:\n        raise DuplicateVersionError",
        ("tests/test_duplicates.py",),
        "identical copies of a version (another writer's append) make get() fail",
    ),
    P(
        "batch_repeat_refused",
        "core/batch.py",
        "if len({item.row.fingerprint for item in items}) == 1:",
        "if len(items) == 1:",
        ("tests/test_put_many.py",),
        "a batch naming the same file twice is refused as a conflict",
    ),
    P(
        "check_small_files_threshold",
        "core/health.py",
        "if facts.mergeable_files >= SMALL_FILES_LIMIT:",
        "if facts.mergeable_files > SMALL_FILES_LIMIT:",
        ("tests/test_health.py",),
        "check is silent at exactly 100 small files, which the README says it reports",
    ),
    P(
        "adopt_keeps_stale_prerelease",
        "table/adopt.py",
        '_mapped(present["version"], is_prerelease, pl.Boolean).alias("prerelease"),',
        'present["prerelease"].alias("prerelease"),',
        ("tests/test_foreign.py", "tests/test_health.py"),
        "adopt leaves prerelease unset on dc43's rows: SQL's NOT prerelease drops them",
    ),
    P(
        "dc43_adapter_latest",
        "dc43_compat.py",
        "            document = self.store.latest(contract_id)",
        "            document = self.store.latest(contract_id, include_prereleases=True)",
        ("tests/test_dc43_compat.py",),
        "dc43's latest() through the adapter returns a release candidate",
    ),
    P(
        "credentials_renewed_late",
        "table/catalog.py",
        "if time.time() >= self._expires_at - self.refresh_margin:",
        "if time.time() >= self._expires_at + self.refresh_margin:",
        ("tests/test_catalog.py",),
        "vended credentials are used past their expiry: 403s until the store is recreated",
    ),
    P(
        "vended_session_token_dropped",
        "table/catalog.py",
        '            options["AWS_SESSION_TOKEN"] = aws["session_token"]\n',
        "            pass\n",
        ("tests/test_catalog.py",),
        "temporary AWS credentials from Unity Catalog are used without their session token",
    ),
    P(
        "vended_secrets_not_redacted",
        "table/catalog.py",
        "        return list(self._options.values())",
        "        return []",
        ("tests/test_catalog.py", "tests/test_secrets.py"),
        "vended credentials appear in error messages",
    ),
    P(
        "not_found_not_a_file_error",
        "errors.py",
        "class ContractNotFoundError(ContractStoreError, KeyError, FileNotFoundError):",
        "class ContractNotFoundError(ContractStoreError, KeyError):",
        ("tests/test_dc43_compat.py", "tests/test_api.py", "tests/test_dc43_webapp.py"),
        "dc43 code catching FileNotFoundError for a missing contract crashes",
    ),
    P(
        "diff_fail_on_strict",
        "cli/diff.py",
        "bump_rank(result.required_bump) >= BUMPS.index(fail_on)",
        "bump_rank(result.required_bump) > BUMPS.index(fail_on)",
        ("tests/test_compatibility_gate.py", "tests/test_cli.py"),
        "diff --fail-on minor passes a change that needs a minor bump",
    ),
    P(
        "caret_zero_major",
        "resolution/ranges.py",
        "        if number != 0 or index == len(given) - 1:",
        "        if number != 0 or index == len(given):",
        ("tests/test_ranges.py", "tests/test_resolve.py"),
        "^0.3 admits 0.4.0, ^0.0.3 admits 0.0.4",
    ),
    P(
        "number_bounds_exclusive",
        "core/arguments.py",
        "or not low <= value <= ceiling  # NaN fails too",
        "or not low < value <= ceiling  # NaN fails too",
        ("tests/test_bad_input.py", "tests/test_store.py", "tests/test_busy.py"),
        "max_commit_attempts=1 and history(limit=1) are refused",
    ),
    P(
        "metadata_names_case_sensitive",
        "core/metadata.py",
        "        if name.lower() in RESERVED:",
        "        if name in RESERVED:",
        ("tests/test_bad_input.py", "tests/test_governance.py"),
        "a metadata column 'Status' or 'JSON' is accepted next to the table's own",
    ),
    P(
        "status_metadata_loses_to_document",
        "core/table_schema.py",
        '        **{name: [getattr(row, name) for row in rows] for name in _ROW_FIELDS},\n        "created_at": [created_at] * len(rows),\n        **{name: [value] * len(rows) for name, value in (metadata or {}).items()},',
        '        **{name: [value] * len(rows) for name, value in (metadata or {}).items()},\n        **{name: [getattr(row, name) for row in rows] for name in _ROW_FIELDS},\n        "created_at": [created_at] * len(rows),',
        ("tests/test_governance.py", "tests/test_edges.py"),
        "put(metadata={'status': 'Validated'}) keeps the document's status",
    ),
    P(
        "feed_cursor_lost_on_follow",
        "cli/consumers.py",
        "            cursor = result.cursor\n",
        "",
        ("tests/test_consumers_cli.py",),
        "changes --follow prints the same events on every poll",
    ),
    P(
        "metadata_event_without_values",
        "feed/events.py",
        "values=dict(values) if isinstance(values, Mapping) else None,",
        "values=None,",
        ("tests/test_changes.py",),
        "metadata events do not say which values were set",
    ),
    P(
        "added_columns_without_types",
        "feed/events.py",
        'str(item["name"]): str(item.get("type"))',
        'str(item["name"]): "string"',
        ("tests/test_changes.py",),
        "columns-added events call every new column a string",
    ),
    P(
        "earliest_commit_is_newest",
        "table/log.py",
        "return min(versions, default=None)",
        "return max(versions, default=None)",
        ("tests/test_changes.py", "tests/test_resolve.py"),
        "an expired cursor's message points to the wrong version to resume from",
    ),
    P(
        "warehouse_env_beats_argument",
        "table/location.py",
        "root = os.fspath(warehouse) if warehouse is not None else os.environ.get(WAREHOUSE_ENV)",
        "root = os.environ.get(WAREHOUSE_ENV) or (os.fspath(warehouse) if warehouse is not None else None)",
        ("tests/test_location.py", "tests/test_cli.py", "tests/test_edges.py"),
        "warehouse= is ignored when DC43_DELTA_STORE_WAREHOUSE is set",
    ),
    P(
        "busy_is_not_503",
        "dc43_compat.py",
        "    (TableBusyError, 503),\n    (StoreUnavailableError, 503),",
        "    (TableBusyError, 500),\n    (StoreUnavailableError, 500),",
        ("tests/test_dc43_compat.py", "tests/test_dc43_webapp.py"),
        "dc43's web app answers 500 instead of 503 for an unreachable store",
    ),
    P(
        "conflict_is_400",
        "dc43_compat.py",
        "    (VersionConflictError, 409),",
        "    (VersionConflictError, 400),",
        ("tests/test_dc43_compat.py", "tests/test_dc43_webapp.py"),
        "dc43's web app answers 400 instead of 409 for a version conflict",
    ),
    P(
        "vacuum_deletes_by_default",
        "store.py",
        "        dry_run: bool = True,\n        who: str | None = None,\n        why: str | None = None,\n    ) -> VacuumResult:",
        "        dry_run: bool = False,\n        who: str | None = None,\n        why: str | None = None,\n    ) -> VacuumResult:",
        ("tests/test_governance.py", "tests/test_cli.py", "tests/test_resolve.py"),
        "vacuum() deletes files instead of listing them",
    ),
    P(
        "optimize_skips_checkpoint",
        "table/maintenance.py",
        "    dt.create_checkpoint()\n",
        "",
        ("tests/test_governance.py", "tests/test_health.py"),
        "optimize writes no checkpoint: loading the table replays every commit",
    ),
    P(
        "created_at_local_time",
        "table/delta_table.py",
        "                source = rows_to_table(new, datetime.now(UTC), schema, metadata)",
        "                source = rows_to_table(new, datetime.now(), schema, metadata)",
        ("tests/test_store.py", "tests/test_edges.py", "tests/test_governance.py"),
        "created_at is local time stored as UTC: hours off outside UTC",
    ),
    # -- plants2: where the first 78 did not reach ------------------------------------------
    P(
        "expired_cursor_resume_off_by_one",
        "feed/reader.py",
        "pass since={earliest - 1}",
        "pass since={earliest}",
        ("tests/test_changes.py",),
        "an expired cursor's hint resumes after the oldest commit left: that commit is lost",
    ),
    P(
        "published_event_without_source",
        "feed/events.py",
        "provenance=_with_source(provenance, sources, entry),",
        "provenance=provenance,",
        ("tests/test_changes.py", "tests/test_consumers_cli.py"),
        "changes after an ingest no longer say which file each contract came from",
    ),
    P(
        "upkeep_is_an_unknown_event",
        "feed/events.py",
        '            if isinstance(body, Mapping) and body.get("dataChange", True):\n                return True',
        "            if isinstance(body, Mapping):\n                return True",
        ("tests/test_changes.py",),
        "optimize and compaction show up in the change feed as unknown data changes",
    ),
    P(
        "touched_range_excludes_low",
        "feed/touched.py",
        "or any(low <= contract_id <= high for low, high in self.id_ranges)",
        "or any(low < contract_id <= high for low, high in self.id_ranges)",
        ("tests/test_touched.py", "tests/test_cache.py", "tests/test_follow.py"),
        "a contract whose id is the lowest in another writer's file keeps a stale answer",
    ),
    P(
        "touched_truncated_id_exact",
        "feed/touched.py",
        "if low == high and len(low) < _TRUNCATION:",
        "if low == high and len(low) <= _TRUNCATION:",
        ("tests/test_touched.py", "tests/test_cache.py", "tests/test_follow.py"),
        "Spark's 32-character truncated statistics are read as one exact id: longer ids stay stale",
    ),
    P(
        "cache_ignores_touched_keys",
        "table/cache.py",
        "        for key in touched.keys:\n            ids.update(self._ids_by_key.get(key, ()))\n",
        "",
        ("tests/test_cache.py", "tests/test_follow.py"),
        "a foreign write of one contract's key leaves that contract's answers stale",
    ),
    P(
        "explain_approximate_without_filters",
        "resolution/explain.py",
        "approximate=values_now and bool(request.filters),",
        "approximate=values_now,",
        ("tests/test_resolve.py", "tests/test_consumers_cli.py"),
        "an as_of answer that depends on no metadata is called approximate",
    ),
    P(
        "explain_outranked_names_itself",
        "resolution/explain.py",
        'verdict, reasons = "outranked", [f"outranked: {chosen} is higher"]',
        'verdict, reasons = "outranked", [f"outranked: {row.version} is higher"]',
        ("tests/test_resolve.py", "tests/test_consumers_cli.py"),
        "explain says a version is outranked by itself instead of naming the chosen one",
    ),
    P(
        "range_le_partial_excludes_patches",
        "resolution/ranges.py",
        '    return [Comparator("<", ceiling)]  # "<="',
        '    return [Comparator("<=", low)]  # "<="',
        ("tests/test_ranges.py", "tests/test_resolve.py"),
        "<=1.2 excludes 1.2.5",
    ),
    P(
        "prerelease_admitted_by_any_named",
        "resolution/ranges.py",
        "return bound.is_prerelease and bound.significant_release == mine.significant_release",
        "return bound.is_prerelease",
        ("tests/test_ranges.py", "tests/test_resolve.py"),
        ">=1.3.0-rc.1 admits 1.4.0-rc.1",
    ),
    P(
        "deprecated_tag_case_sensitive",
        "compatibility/classify.py",
        'any(str(tag).lower() == "deprecated" for tag in tags)',
        'any(str(tag) == "deprecated" for tag in tags)',
        ("tests/test_compatibility.py", "tests/test_compatibility_gate.py"),
        "a property tagged Deprecated is removed as a breaking change",
    ),
    P(
        "quality_without_severity_not_error",
        "compatibility/classify.py",
        "return severity is None or str(severity).strip().lower() in _ERROR_LEVELS",
        "return severity is not None and str(severity).strip().lower() in _ERROR_LEVELS",
        ("tests/test_compatibility.py", "tests/test_compatibility_gate.py"),
        "a quality rule without severity (enforced as error) is added with a minor bump",
    ),
    P(
        "exclusive_bound_read_inclusive",
        "compatibility/measures.py",
        'low = max(low, (number, name != "mustBeGreaterThan"), key=_low_key)',
        "low = max(low, (number, True), key=_low_key)",
        ("tests/test_compatibility.py",),
        "mustBeGreaterThan 5 -> mustBeGreaterOrEqualTo 5 is not a loosening",
    ),
    P(
        "override_contract_glob_ignored",
        "compatibility/policy.py",
        "                self.contract is None\n                or (contract_id is not None",
        "                True\n                or (contract_id is not None",
        ("tests/test_compatibility.py", "tests/test_compatibility_gate.py"),
        "an override for one contract re-rates the changes of every contract",
    ),
    P(
        "table_overrides_first",
        "compatibility/policy.py",
        "        return scoped + [o for o in self.overrides if o.contract is None]",
        "        return [o for o in self.overrides if o.contract is None] + scoped",
        ("tests/test_compatibility.py", "tests/test_compatibility_gate.py"),
        "a table-wide override beats the contract's own",
    ),
    P(
        "suggested_version_keeps_patch",
        "compatibility/policy.py",
        'return f"{major}.{minor + 1}.0"',
        'return f"{major}.{minor + 1}.{patch}"',
        ("tests/test_compatibility.py", "tests/test_compatibility_gate.py"),
        "the refusal suggests 1.5.2 for a minor bump of 1.4.2",
    ),
    P(
        "gate_baseline_is_prerelease",
        "compatibility/gate.py",
        "stored = [v for v in stored_versions.get(contract_id, ()) if not is_prerelease(v)]",
        "stored = list(stored_versions.get(contract_id, ()))",
        ("tests/test_compatibility_gate.py",),
        "1.1.0 after 1.1.0-rc.1 is compared with the rc: no bump, refused",
    ),
    P(
        "transitive_checks_other_majors",
        "compatibility/gate.py",
        "same = [v for v in earlier[:-1] if _same_major(parse_version(v), major)]",
        "same = list(earlier[:-1])",
        ("tests/test_compatibility_gate.py",),
        "full_transitive refuses 2.1.0 because it breaks 1.x",
    ),
    P(
        "catalog_error_shows_token",
        "table/catalog.py",
        'f"{code}: {self._clean(message)}"',
        'f"{code}: {message}"',
        ("tests/test_catalog.py",),
        "a catalog error that echoes the token shows it",
    ),
    P(
        "catalog_table_under_dotted_folder",
        "table/catalog.py",
        'location = storage_root.rstrip("/") + "/" + full_name.replace(".", "/")',
        'location = storage_root.rstrip("/") + "/" + full_name',
        ("tests/test_catalog.py",),
        "a new catalog table lands in <root>/cat.schema.table, not <root>/cat/schema/table",
    ),
    P(
        "checkpoint_count_off_by_one",
        "core/health.py",
        "return self.version - (-1 if self.last_checkpoint is None else self.last_checkpoint)",
        "return self.version - (0 if self.last_checkpoint is None else self.last_checkpoint)",
        ("tests/test_health.py",),
        "check misses the checkpoint finding at exactly the interval",
    ),
    P(
        "null_prerelease_counted_stale",
        "table/health.py",
        "or (prerelease is not None and prerelease != is_prerelease(version))",
        "or prerelease != is_prerelease(version)",
        ("tests/test_health.py", "tests/test_foreign.py", "tests/test_dc43_compat.py"),
        "check reports rows without prerelease as stale version keys too",
    ),
    P(
        "adopt_overwrites_governed_status",
        "table/adopt.py",
        "unset = (foreign & values.is_null()).arg_true()",
        "unset = foreign.arg_true()",
        ("tests/test_foreign.py",),
        "adopt replaces a status set by governance with the document's",
    ),
    P(
        "invalid_is_500",
        "dc43_compat.py",
        "    (InvalidContractError, 400),\n",
        "",
        ("tests/test_dc43_compat.py", "tests/test_dc43_webapp.py"),
        "dc43's web app answers 500 for a contract that cannot be stored",
    ),
    P(
        "cli_list_drops_prerelease_only",
        "cli/reads.py",
        'listed = counts.join(latest, on="contract_id", how="left")',
        'listed = counts.join(latest, on="contract_id", how="inner")',
        ("tests/test_cli.py", "tests/test_foreign.py"),
        "list leaves out a contract that has only prereleases",
    ),
    P(
        "cli_status_first_only",
        "cli/consumers.py",
        '        wanted["status"] = list(status)',
        '        wanted["status"] = status[0]',
        ("tests/test_consumers_cli.py", "tests/test_cli.py", "tests/test_foreign.py"),
        "latest --status active --status draft ignores draft",
    ),
    P(
        "explain_json_exits_0",
        "cli/consumers.py",
        "    if resolution.chosen is None:\n        sys.exit",
        "    if resolution.chosen is None and not as_json:\n        sys.exit",
        ("tests/test_consumers_cli.py", "tests/test_cli.py"),
        "resolve --explain --json exits 0 when nothing matches",
    ),
    P(
        "junit_counts_warnings",
        "cli/folders.py",
        'failures = sum(v.outcome == "invalid" for v in verdicts)',
        'failures = sum(v.outcome != "valid" for v in verdicts)',
        ("tests/test_cli.py",),
        "the JUnit report counts warned and skipped files as failures",
    ),
    P(
        "upper_case_suffix_skipped",
        "cli/folders.py",
        "if candidate.suffix.lower() not in CONTRACT_SUFFIXES or any(",
        "if candidate.suffix not in CONTRACT_SUFFIXES or any(",
        ("tests/test_cli.py", "tests/test_edges.py"),
        "ingest skips ORDERS.YAML without a word",
    ),
    P(
        "diff_check_fails_prerelease",
        "cli/diff.py",
        "if failed or (check and not result.compatible and not prerelease):",
        "if failed or (check and not result.compatible):",
        ("tests/test_compatibility_gate.py", "tests/test_cli.py"),
        "diff --check fails a prerelease, which the gate never refuses",
    ),
    P(
        "diff_table_settings_need_both_refs",
        "cli/diff.py",
        "if before.file is None or after.file is None:",
        "if before.file is None and after.file is None:",
        ("tests/test_compatibility_gate.py", "tests/test_cli.py"),
        "diff ID@VERSION new.yaml ignores the table's policy and overrides",
    ),
    P(
        "scan_ignores_as_of",
        "store.py",
        "        dt = self._snapshot(as_of)\n        if dt is None:\n            return pl.LazyFrame",
        "        dt = self._snapshot(None)\n        if dt is None:\n            return pl.LazyFrame",
        ("tests/test_governance.py", "tests/test_cli.py", "tests/test_store.py"),
        "scan(as_of=...), sql(as_of=...), list/versions --as-of show the table as it is now",
    ),
    P(
        "diff_ignores_mode",
        "store.py",
        'chosen: Mode = mode or (policy.mode if policy.mode != "none" else "full")',
        'chosen: Mode = policy.mode if policy.mode != "none" else "full"',
        ("tests/test_compatibility_gate.py", "tests/test_compatibility.py", "tests/test_store.py"),
        "store.diff(mode='backward') judges in full mode",
    ),
    P(
        "not_found_without_as_of",
        "store.py",
        "raise ContractNotFoundError(contract_id, version, detail=_where(as_of))",
        "raise ContractNotFoundError(contract_id, version)",
        ("tests/test_store.py", "tests/test_governance.py", "tests/test_bad_input.py"),
        "get(..., as_of=3) not found does not say it looked at version 3",
    ),
    P(
        "adopt_applies_by_default",
        "store.py",
        "        self, *, dry_run: bool = True, who: str | None = None, why: str | None = None\n    ) -> AdoptionResult:",
        "        self, *, dry_run: bool = False, who: str | None = None, why: str | None = None\n    ) -> AdoptionResult:",
        ("tests/test_foreign.py", "tests/test_store.py"),
        "store.adopt() rewrites the table instead of planning",
    ),
    P(
        "yaml_merge_later_wins",
        "core/yaml12.py",
        "    for source in reversed(sources):\n        merged.update(source)",
        "    for source in sources:\n        merged.update(source)",
        ("tests/test_yaml12.py", "tests/test_documents.py"),
        "<<: [*a, *b] takes b's value where both have a key (YAML says the earlier wins)",
    ),
    P(
        "yaml_unquoted_version_number",
        "core/yaml12.py",
        '_STRING_FIELDS = frozenset({"id", "uuid", "version", "apiVersion", "name", "status"})',
        '_STRING_FIELDS = frozenset({"id", "uuid", "apiVersion", "name", "status"})',
        ("tests/test_yaml12.py", "tests/test_documents.py", "tests/test_bad_input.py"),
        "version: 1.10 is read as the number 1.1 instead of refused with a hint to quote it",
    ),
    P(
        "vacuum_retention_not_a_usage_error",
        "table/maintenance.py",
        '        if "retention" not in str(exc):\n            raise',
        '        if "retention" in str(exc):\n            raise',
        ("tests/test_governance.py", "tests/test_cli.py", "tests/test_bad_input.py"),
        "vacuum --retention-hours 0 exits 6 (store unavailable) instead of 2 with the reason",
    ),
    P(
        "dc43_adapter_strict_by_default",
        "dc43_compat.py",
        '        validation: ValidationMode = "warn",\n        store: DeltaContractStore | None = None,',
        '        validation: ValidationMode = "strict",\n        store: DeltaContractStore | None = None,',
        ("tests/test_dc43_compat.py", "tests/test_dc43_webapp.py"),
        "dc43 code storing a contract with schema issues through the adapter gets an error",
    ),
    P(
        "short_secrets_shown",
        "table/location.py",
        "            if len(value) >= 4:",
        "            if len(value) >= 8:",
        ("tests/test_secrets.py", "tests/test_location.py"),
        "a 6-character password in an engine error is shown",
    ),
    P(
        "diff_mode_raw_value_error",
        "compatibility/result.py",
        '        raise InvalidRequestError(f"mode must be one of',
        '        raise ValueError(f"mode must be one of',
        ("tests/test_compatibility_gate.py",),
        "store.diff(mode='bogus') raises a raw ValueError, not InvalidRequestError (exit 1)",
    ),
    P(
        "legacy_writer_features_not_implied",
        "core/health.py",
        "            if writer_version >= version:",
        "            if writer_version > version:",
        ("tests/test_health.py",),
        "check misses that a writer-version-4 table asks for generatedColumns",
    ),
    P(
        "changes_table_without_why",
        "cli/consumers.py",
        '    why = f" ({event.why})" if event.why else ""',
        '    why = ""',
        ("tests/test_consumers_cli.py", "tests/test_changes.py"),
        "changes (table output) no longer says why each change was made",
    ),
    P(
        "history_hides_ingest_columns",
        "cli/reads.py",
        '    if any(row["ingested_from"] for row in rows):',
        '    if all(row["ingested_from"] for row in rows):',
        ("tests/test_cli.py",),
        "history hides the Git commit of ingests once any other commit is listed",
    ),
    P(
        "check_exits_0_on_warnings",
        "cli/upkeep.py",
        "    if not report.healthy:\n        sys.exit",
        '    if any(f.severity == "error" for f in report.findings):\n        sys.exit',
        ("tests/test_health.py", "tests/test_cli.py"),
        "check exits 0 when it found only warnings (the README: 8 when it found problems)",
    ),
]


def run_plant(plant: Plant, copy: Path, timeout: float) -> tuple[str, float, str]:
    """(verdict, seconds, last output line) of one plant in the scratch ``copy``."""
    target = copy / "dc43_delta_store" / plant.path
    original = target.read_text(encoding="utf-8")
    if original.count(plant.old) != 1:
        return "stale", 0.0, f"snippet found {original.count(plant.old)} times"
    target.write_text(original.replace(plant.old, plant.new), encoding="utf-8")
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *plant.tests],
            cwd=copy,
            env={**os.environ, "PYTHONPATH": str(copy)},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        code, output = result.returncode, result.stdout
    except subprocess.TimeoutExpired:
        code, output = -1, "timed out"
    finally:
        target.write_text(original, encoding="utf-8")
    seconds = time.monotonic() - started
    lines = output.strip().splitlines()
    failed = [line.split()[1] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    last = failed[0].split(" - ")[0] if failed else (lines or [""])[-1]
    verdict = {0: "MISSED", 1: "caught", -1: "timeout"}.get(code, f"error {code}")
    return verdict, seconds, last


def scratch_copy(into: Path) -> Path:
    copy = into / "repo"
    ignore = shutil.ignore_patterns(
        ".git",
        ".venv",
        ".mutmut",
        "mutants",
        "__pycache__",
        ".*_cache",
        ".hypothesis",
        "spark-warehouse",
    )
    shutil.copytree(ROOT, copy, ignore=ignore, symlinks=True)
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="plants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the plants and exit")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    chosen = [p for p in PLANTS if not args.names or p.name in args.names]
    if args.list:
        for plant in chosen:
            print(f"{plant.name:32} {plant.path:28} {plant.effect}")
        return
    os.environ.setdefault("DC43_SHARED", str(ROOT.parent / "shared"))
    missed = 0
    with tempfile.TemporaryDirectory(prefix="dc43-plants-") as tmp:
        copy = scratch_copy(Path(tmp))
        for plant in chosen:
            verdict, seconds, last = run_plant(plant, copy, args.timeout)
            missed += verdict != "caught"
            print(f"{verdict:8} {plant.name:32} {seconds:6.1f}s  {last}", flush=True)
    print(f"{len(chosen) - missed} of {len(chosen)} caught")
    raise SystemExit(1 if missed else 0)


if __name__ == "__main__":
    main()
