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
        "yaml_depth_limit_off_by_one",
        "core/yaml12.py",
        "within = builder.deepest <= max_depth",
        "within = builder.deepest < max_depth",
        ("tests/test_documents.py", "tests/test_bad_input.py"),
        "a 64-level YAML document (the documented maximum) is refused",
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
        'return f"(contract_key = {hashed_key} OR contract_key IS NULL) AND {wrapped}"',
        'return f"(contract_key = {hashed_key} OR contract_key IS NULL)"',
        ("tests/test_write_commits.py", "tests/test_store.py"),
        "the predicate covers every version of the id: writers of other versions conflict",
    ),
    P(
        "key_predicate_no_null_branch",
        "core/key_filter.py",
        'return f"(contract_key = {hashed_key} OR contract_key IS NULL) AND {wrapped}"',
        'return f"contract_key = {hashed_key} AND {wrapped}"',
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
        "store.py",
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
        "cli/commands.py",
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
    last = (output.strip().splitlines() or [""])[-1]
    verdict = {0: "MISSED", 1: "caught", -1: "timeout"}.get(code, f"error {code}")
    return verdict, seconds, last


def scratch_copy(into: Path) -> Path:
    copy = into / "repo"
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "mutants", "__pycache__", ".*_cache", ".hypothesis", "spark-warehouse"
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
