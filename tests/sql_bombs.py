"""Queries that crash, hang or exhaust a process, and the measurements behind the SQL bounds.

``FORMS`` are the issue's hostile queries; :func:`run_forms` runs them through ``store.sql``
(tests/test_sql_bombs.py does, in a child process with a memory limit and a timeout).

``python -m tests.sql_bombs [SHAPE...]`` re-measures, for each chain shape, the depth at which
Polars SQL (run directly, no guard) crashes and its time at :data:`MAX_DEPTH`, each try in a
child process under ``prlimit --as`` and a timeout. It takes minutes: planning time grows with
the square of the depth. The numbers it printed are in ``core/sql_bounds.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from dc43_delta_store.core.sql_bounds import MAX_DEPTH

SIX_VIEWS = ", ".join(
    f"{view} v{n}" for n, view in enumerate(["contracts", "contracts_latest"] * 3)
)
# (id, query, what stops it: a QueryLimitError's limit, or "refused" for a plain refusal)
FORMS: list[tuple[str, str, set[str]]] = [
    (
        "9,000 OR terms (81 KB)",
        "SELECT count(*) FROM contracts WHERE " + " OR ".join(["false"] * 9000),
        {"depth"},
    ),
    ("10,000 + terms", "SELECT " + "+".join(["1"] * 10000), {"depth"}),
    ("rpad 10^12", "SELECT length(rpad('a', 1000000000000, 'x'))", {"length"}),
    (
        "lpad 10^8 over rows",
        "SELECT max(length(lpad(contract_id, 100000000, 'x'))) FROM contracts",
        {"length"},
    ),
    ("repeat 10^12", "SELECT length(repeat('a', 1000000000000))", {"refused"}),
    (
        "recursive CTE",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) SELECT count(*) FROM r",
        {"refused"},
    ),
    (
        "string_agg over a self join",
        "SELECT length(string_agg(a.json, ',')) FROM contracts a, contracts b, contracts c",
        {"memory", "timeout"},
    ),
    ("6-way cross join", f"SELECT count(*) FROM {SIX_VIEWS}", {"timeout", "memory"}),
]
TIMEOUT = 3.0
MAX_MEMORY = 256 * 1024**2


def run_forms(path: str) -> None:
    """Run every form through ``store.sql`` on the table at ``path``; print one JSON line
    each (what was raised, its limit, seconds), then the row count a plain query returns."""
    from dc43_delta_store import DeltaContractStore, InvalidRequestError

    store = DeltaContractStore(path=path, sql_timeout=TIMEOUT, sql_max_memory=MAX_MEMORY)
    for name, query, _ in FORMS:
        begun = time.perf_counter()
        try:
            store.sql(query)
            outcome: dict[str, Any] = {"error": None}
        except InvalidRequestError as exc:
            outcome = {"error": type(exc).__name__, "limit": getattr(exc, "limit", "refused")}
            outcome["message"] = str(exc)
        outcome.update(form=name, seconds=round(time.perf_counter() - begun, 2))
        print(json.dumps(outcome), flush=True)
    count = store.sql("SELECT count(*) AS n FROM contracts").item()
    print(json.dumps({"form": "after", "rows": count}), flush=True)


# -- measuring the bounds -----------------------------------------------------------------

SHAPES = {
    "union": lambda n: " UNION ALL ".join(["SELECT a FROM contracts"] * n),
    "concat": lambda n: "SELECT " + " || ".join(["'a'"] * n) + " AS x FROM contracts",
    "or": lambda n: "SELECT count(*) FROM contracts WHERE " + " OR ".join(["false"] * n),
    "plus": lambda n: "SELECT " + "+".join(["1"] * n) + " AS x FROM contracts",
    "join": lambda n: (
        "SELECT count(*) FROM contracts t0 "
        + " ".join(f"JOIN contracts t{i} ON t{i}.a = t{i - 1}.a" for i in range(1, n))
    ),
    "case": lambda n: (
        "SELECT CASE "
        + " ".join(f"WHEN a={i} THEN {i}" for i in range(n))
        + " END AS x FROM contracts"
    ),
    "in_columns": lambda n: (
        "SELECT count(*) FROM contracts WHERE a IN (" + ",".join(["a"] * n) + ")"
    ),
}
_CHILD = """
import sys, time, polars as pl
from tests.sql_bombs import SHAPES
query = SHAPES[sys.argv[1]](int(sys.argv[2]))
context = pl.SQLContext(frames={"contracts": pl.LazyFrame({"a": [1, 2], "s": ["x", "y"]})})
begun = time.perf_counter()
try:
    context.execute(query).collect()
except Exception:
    pass
print(time.perf_counter() - begun)
"""


def attempt(shape: str, n: int, seconds: float = 60) -> float | None:
    """Seconds Polars took for ``shape`` at ``n`` terms; None if the process died or hung."""
    command = ["prlimit", "--as=8000000000", sys.executable, "-c", _CHILD, shape, str(n)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        return None
    return float(done.stdout) if done.returncode == 0 else None


def crash_depth(shape: str, low: int = MAX_DEPTH, high: int = 8192) -> tuple[int, int]:
    """(largest n that ran, smallest n that crashed or hung), to 2 %."""
    while high - low > max(low // 50, 1):
        middle = (low + high) // 2
        low, high = (middle, high) if attempt(shape, middle) is not None else (low, middle)
    return low, high


def main(shapes: list[str]) -> None:
    for shape in shapes or list(SHAPES):
        at_bound = attempt(shape, MAX_DEPTH)
        ran, died = crash_depth(shape)
        print(f"{shape}: {at_bound} s at {MAX_DEPTH}; ran at {ran}, died or hung at {died}")


if __name__ == "__main__":
    main(sys.argv[1:])
