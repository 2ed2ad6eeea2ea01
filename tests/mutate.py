"""Mutation testing of the fast modules with mutmut, one module at a time (``make mutate``).

    python -m tests.mutate                 # every module below
    python -m tests.mutate versions sql    # some of them
    python -m tests.mutate --list
    python -m tests.mutate --again sql     # only the last run's survivors, against today's tests

mutmut 3 copies the project into ``mutants/`` and rewrites every function of the modules it
mutates into a trampoline choosing among its mutants; a first pass records which tests call
which function, then each mutant runs only those tests. Here each module gets a scratch copy
of the repository under ``.mutmut/<module>/`` whose ``[tool.mutmut]`` (the one in
pyproject.toml, plus ``only_mutate`` and the module's tests) scopes both, so a module costs
minutes, not the whole suite per mutant. It prints each module's score and every surviving
mutant as a diff; ``tests/MUTATION.md`` says why each known survivor is left alone.

``--again`` keeps a module's earlier scratch copy and results, refreshes its code and tests,
and re-checks only the mutants that were not killed (and the timeouts): after adding a test for a survivor it
costs a pass of the module's tests plus the survivors, not the module's full run. mutmut
itself re-checks the mutants of any function whose code changed.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutmut"


@dataclass(frozen=True)
class Module:
    sources: tuple[str, ...]  # relative to dc43_delta_store/
    tests: tuple[str, ...]  # pytest arguments choosing the tests that may kill its mutants


MODULES = {
    "versions": Module(("core/versions.py",), ("tests/test_versions.py", "tests/test_ranges.py")),
    "canonical": Module(
        ("core/canonical.py",),
        ("tests/test_documents.py", "tests/test_payload.py", "tests/test_duplicates.py"),
    ),
    "records": Module(("core/records.py",), ("tests/test_records.py", "tests/test_store.py")),
    "documents": Module(
        ("core/documents.py", "core/yaml12.py", "core/numbers.py"),
        (
            "tests/test_documents.py",
            "tests/test_yaml12.py",
            "tests/test_bad_input.py",
        ),
    ),
    "metadata": Module(
        ("core/metadata.py",), ("tests/test_metadata.py", "tests/test_bad_input.py")
    ),
    "values": Module(("core/values.py",), ("tests/test_values.py", "tests/test_bad_input.py")),
    "key_filter": Module(
        ("core/key_filter.py",), ("tests/test_write_commits.py", "tests/test_foreign.py")
    ),
    "queries": Module(
        ("table/queries.py",),
        (
            "tests/test_store.py",
            "tests/test_governance.py",
            "tests/test_bad_input.py",
            "tests/test_foreign.py",
            "tests/test_duplicates.py",
        ),
    ),
    "sql": Module(
        ("table/sql.py", "core/sql_guard.py"),
        (
            "tests/test_sql_sandbox.py",
            "tests/test_governance.py",
            "tests/test_foreign.py",
            "tests/test_dc43_compat.py",
            "tests/test_edges.py",
        ),
    ),
    "cli_support": Module(
        ("cli/support.py",),
        (
            "tests/test_cli_support.py",
            "tests/test_cli.py",
            "tests/test_edges.py",
            "tests/test_bad_input.py",
            "tests/test_cli_limits.py",
            "tests/test_cli_hostile.py",
        ),
    ),
    "terminal": Module(
        ("core/terminal.py", "cli/streams.py"),
        ("tests/test_terminal.py", "tests/test_cli_hostile.py", "tests/test_cli_limits.py"),
    ),
}
# Each mutant's diff, as `mutmut show` prints it, in one process (NUL-separated).
_DIFFS = """
import sys
from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant
print("\\0".join(get_diff_for_mutant(n, path=find_mutant(n).path) for n in sys.argv[1:]))
"""
COPIED = ("dc43_delta_store", "tests", "examples", "conftest.py", "README.md")
KILLED = {"killed", "timeout", "caught by type check"}


def prepare(name: str, module: Module, *, again: bool = False) -> Path:
    """A scratch copy of the repository whose [tool.mutmut] scopes ``module``: fresh, or
    (``again``) the earlier one with today's code and tests and mutmut's results kept."""
    work = WORK / name
    if not again:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis")
    for item in COPIED:
        source = ROOT / item
        if source.is_dir():
            shutil.rmtree(work / item, ignore_errors=True)
            shutil.copytree(source, work / item, ignore=ignore)
        else:
            shutil.copy2(source, work / item)
    if (ROOT / ".tools").exists() and not (work / ".tools").exists():
        (work / ".tools").symlink_to((ROOT / ".tools").resolve())
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    only = ", ".join(f'"dc43_delta_store/{source}"' for source in module.sources)
    tests = ", ".join(f'"{test}"' for test in module.tests)
    text = re.sub(r"(?m)^only_mutate = .*$", f"only_mutate = [{only}]", text)
    text = re.sub(
        r"(?m)^pytest_add_cli_args_test_selection = .*$",
        f"pytest_add_cli_args_test_selection = [{tests}]",
        text,
    )
    (work / "pyproject.toml").write_text(text, encoding="utf-8")
    return work


def statuses_of(work: Path, env: dict[str, str]) -> dict[str, str]:
    """mutmut's verdict on each mutant of the scratch copy ``work``."""
    listed = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return dict(
        line.strip().rsplit(": ", 1) for line in listed.splitlines() if ": " in line.strip()
    )


# mutmut's fork server runs pytest twice in one process (a collection, then each mutant's
# tests by id); this does the same, and names the ids the second run cannot find.
_SELECT_TWICE = """
import contextlib, io, sys
import pytest
files, ids = sys.argv[1].split(), sys.argv[2:]
args = ["--rootdir=.", "-q", "--collect-only", "-p", "no:cacheprovider"]
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    pytest.main([*args, *files])
    if pytest.main([*args, *ids]) == 4:
        bad = [test for test in ids if pytest.main([*args, test]) == 4]
        sys.exit("\\n".join(bad))
"""


def check_test_ids(module: Module) -> None:
    """Every test of ``module`` must be one mutmut can run by its id: an id pytest cannot
    find again in mutmut's fork server (unbalanced brackets, some escaped characters)
    makes pytest exit 4, which mutmut reports as a *timeout* — counted as killed."""
    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    listed = subprocess.run([*collect, *module.tests], cwd=ROOT, capture_output=True, text=True)
    ids = [line for line in listed.stdout.splitlines() if "::" in line]
    command = [sys.executable, "-c", _SELECT_TWICE, " ".join(module.tests), *ids]
    selected = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if listed.returncode or selected.returncode:
        raise SystemExit(
            f"give these tests plain ids (pytest.param(..., id=...)):\n{selected.stderr}"
        )


def run_module(
    name: str, module: Module, children: int, *, again: bool = False
) -> tuple[int, int, list[str]]:
    """(killed, total, surviving mutants as diffs) of one module."""
    check_test_ids(module)
    env = {**os.environ, "PYTHONPATH": "", "DC43_MUTATING": "1"}
    again = again and (WORK / name / "mutants").is_dir()
    left_before: list[str] = []
    if again:
        # timeouts too: a test id pytest could not select also reads as one (check_test_ids)
        left_before = sorted(
            m for m, s in statuses_of(WORK / name, env).items() if s not in KILLED - {"timeout"}
        )
    work = prepare(name, module, again=again)
    # which tests call which function is recorded afresh: changed tests may reach new ones
    (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    log = work / "mutmut.log"
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(children)]
    with log.open("w") as out:
        run = functools.partial(
            subprocess.run, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
        if left_before:
            run([*command, *left_before])
        if not again or "not checked" in statuses_of(work, env).values():
            run(command)  # every mutant without a verdict, those of changed code too
    statuses = statuses_of(work, env)
    if not statuses or set(statuses.values()) == {"not checked"}:
        tail = log.read_text(errors="replace").replace("\r", "\n").strip().splitlines()[-3:]
        raise SystemExit(f"{name}: mutmut checked nothing ({' / '.join(tail)}); see {log}")
    killed = sum(status in KILLED for status in statuses.values())
    left = sorted(name for name, status in statuses.items() if status not in KILLED)
    diffs = subprocess.run(
        [sys.executable, "-c", _DIFFS, *left],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split("\0")
    survivors = []
    for mutant, shown in zip(left, diffs, strict=False):
        changed = [
            line
            for line in shown.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        survivors.append(f"{mutant} ({statuses[mutant]})\n    " + "\n    ".join(changed))
    return killed, len(statuses), survivors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all)")
    parser.add_argument("--list", action="store_true", help="list the modules and exit")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--again", action="store_true", help="re-check only the last run's surviving mutants"
    )
    args = parser.parse_args()
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        raise SystemExit(f"unknown modules {unknown}; choose from {sorted(MODULES)}")
    chosen = args.modules or list(MODULES)
    if args.list:
        for name in chosen:
            print(f"{name:12} {', '.join(MODULES[name].sources)}: {' '.join(MODULES[name].tests)}")
        return
    scores = []
    for name in chosen:
        started = time.monotonic()
        killed, total, survivors = run_module(name, MODULES[name], args.children, again=args.again)
        minutes = (time.monotonic() - started) / 60
        score = f"{name:12} {killed:4} of {total:4} killed ({100 * killed / total:5.1f} %)"
        scores.append(f"{score}, {minutes:.0f} min")
        print(scores[-1], flush=True)
        for survivor in survivors:
            print("  " + survivor, flush=True)
    print("\n".join(["", "mutation score per module:", *scores]))


if __name__ == "__main__":
    main()
