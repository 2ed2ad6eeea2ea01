"""store.sql is bounded (depth, size, time, memory) and the queries users write work.

The queries that crash or exhaust a process are in tests/test_sql_bombs.py (child processes);
here: the bounds' edges, the worker processes (reuse, threads, snapshots, no leaks), the
analytic forms users write, and rows other tools wrote.
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from dc43_delta_store import (
    DeltaContractStore,
    InvalidRequestError,
    QueryLimitError,
    StoreUnavailableError,
)
from dc43_delta_store.core.sql_bounds import MAX_DEPTH, MAX_NODES, MAX_TOKENS, measure
from dc43_delta_store.core.sql_guard import sandboxed

from .conftest import EXAMPLES, minimal

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> DeltaContractStore:
    store = DeltaContractStore(path=tmp_path_factory.mktemp("t") / "t", validation="off")
    store.put_many(sorted(EXAMPLES.rglob("*.odcs.*")))  # 6 versions of 3 contracts
    return store


def workers() -> set[int]:
    """This process's SQL worker processes, as /proc lists them."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == os.getpid() and b"sql_worker" in command:
            found.add(int(entry.name))
    return found


# -- queries users write -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT count_if(prerelease) FROM contracts", 1),
        ("SELECT count(*) FILTER (WHERE prerelease) FROM contracts", 1),
        ("SELECT min(date_diff('day', created_at, now())) FROM contracts", 0),
        (
            "SELECT date_diff('day', TIMESTAMP '2024-01-01 00:00:00', "
            "TIMESTAMP '2024-03-01 12:00:00')",
            60,
        ),
        ("SELECT count(*) FROM contracts WHERE created_at > now() - INTERVAL '7 days'", 6),
        ("SELECT count(*) FROM contracts WHERE created_at > now() + INTERVAL '1 day'", 0),
        ("SELECT count(*) FROM contracts WHERE created_at > TIMESTAMP '2020-01-01 00:00:00'", 6),
        ("SELECT count(*) FROM contracts WHERE created_at < TIMESTAMP '2020-01-01 00:00:00'", 0),
        ("SELECT count(*) FROM contracts_latest WHERE created_at >= current_date - 1", 3),
        ("SELECT count(*) FROM contracts; -- done", 6),
        ("SELECT count(*) FROM contracts; /* done */ -- and done", 6),
        ("SELECT count(*) FROM contracts WHERE contract_id IN ('sales.orders', 'x')", 4),
    ],
)
def test_analytic_forms_users_write_answer_right(
    store: DeltaContractStore, query: str, expected: int
) -> None:
    assert store.sql(query).item() == expected


def test_timestamps_are_utc_without_a_zone(store: DeltaContractStore) -> None:
    created = store.sql("SELECT max(created_at) AS t, now() AS n FROM contracts").row(0)
    assert created[0].tzinfo is None and created[1].tzinfo is None
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert abs((created[1] - now).total_seconds()) < 60  # now() is UTC, not local time
    assert dt.timedelta(0) <= now - created[0] < dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "SELECT to_timestamp(version) FROM contracts",
            "refused the function TO_TIMESTAMP in to_timestamp(version)",
        ),
        (
            "SELECT lower(name), Bool_Or(prerelease) FROM contracts",
            "refused the function BOOL_OR in Bool_Or(prerelease)",
        ),
        ("SELECT repeat('a', 3)", "refused the function REPEAT in repeat('a', 3)"),
    ],
)
def test_refusals_name_the_function_as_written(query: str, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sandboxed(query)


@pytest.mark.parametrize(
    ("query", "limit"),
    [
        ("SELECT rpad('a', 10001, 'x')", "length"),
        ("SELECT lpad(contract_id, length(json), 'x') FROM contracts", "length"),
        ("SELECT lpad(contract_id, 1e9, 'x') FROM contracts", "length"),
        ("SELECT " + ",".join(["1"] * (MAX_TOKENS // 2 + 1)), "size"),
    ],
)
def test_limits_are_named(query: str, limit: str) -> None:
    with pytest.raises(QueryLimitError) as caught:
        sandboxed(query)
    assert caught.value.limit == limit and f"limit '{limit}'" in str(caught.value)


def test_recursive_queries_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="refused WITH RECURSIVE"):
        sandboxed("WITH RECURSIVE r(n) AS (SELECT 1) SELECT * FROM r")


# -- the depth bound ----------------------------------------------------------------------

CHAINS: dict[str, Callable[[int], str]] = {
    "OR": lambda n: "SELECT count(*) FROM contracts WHERE " + " OR ".join(["prerelease"] * n),
    "||": lambda n: "SELECT max(" + " || ".join(["contract_id"] * n) + ") FROM contracts",
    "UNION ALL": lambda n: " UNION ALL ".join(["SELECT contract_id FROM contracts_latest"] * n),
    "JOIN": lambda n: (
        "SELECT count(*) FROM contracts_latest t0 "
        + " ".join(f"JOIN contracts_latest t{i} USING (contract_id)" for i in range(1, n))
    ),
    "IN columns": lambda n: (
        "SELECT count(*) FROM contracts WHERE name IN (" + ", ".join(["contract_id"] * n) + ")"
    ),
}


def longest(chain: Callable[[int], str]) -> int:
    """The most terms the guard lets through."""
    low, high = 1, 4 * MAX_DEPTH
    while high - low > 1:
        middle = (low + high) // 2
        try:
            sandboxed(chain(middle))
            low = middle
        except QueryLimitError:
            high = middle
    return low


@pytest.mark.parametrize("name", CHAINS)
def test_the_deepest_chain_allowed_runs_and_one_more_term_is_refused(
    store: DeltaContractStore, name: str
) -> None:
    chain = CHAINS[name]
    terms = longest(chain)
    assert MAX_DEPTH - 10 <= terms <= MAX_DEPTH
    answer = store.sql(chain(terms), timeout=60)  # Polars takes ~1 s for the UNION chain
    assert answer.height >= 1
    with pytest.raises(QueryLimitError, match=f"more than {MAX_DEPTH} levels deep"):
        store.sql(chain(terms + 1))


@given(
    terms=st.integers(min_value=1, max_value=3 * MAX_DEPTH),
    operator=st.sampled_from([exp.Or, exp.And, exp.Add, exp.DPipe, exp.Union]),
)
def test_a_chain_nests_one_level_per_term(terms: int, operator: type[exp.Expr]) -> None:
    tree: exp.Expr = exp.column("a")
    for _ in range(terms - 1):
        tree = operator(this=tree, expression=exp.column("a"))
    # the first term's column is `terms` levels deep, its name one more
    if terms + 1 <= MAX_DEPTH:
        assert len(measure(tree)) == 3 * terms - 1  # operators, columns, names
    else:
        with pytest.raises(QueryLimitError, match="limit 'depth'"):
            measure(tree)


@settings(max_examples=25)
@given(items=st.integers(1, 200) | st.integers(MAX_NODES - 3, MAX_NODES + 3))
def test_a_wide_query_is_counted_not_nested(items: int) -> None:
    tree = exp.Tuple(expressions=[exp.Literal.number(n) for n in range(items)])
    if items + 1 <= MAX_NODES:
        assert len(measure(tree)) == items + 1
    else:
        with pytest.raises(QueryLimitError, match="limit 'size'"):
            measure(tree)


def test_measuring_a_tree_of_any_depth_needs_no_recursion() -> None:
    tree: exp.Expr = exp.column("a")
    for _ in range(5_000):  # deeper than Python recursion goes (1,000 frames)
        tree = exp.Or(this=tree, expression=exp.column("a"))
    with pytest.raises(QueryLimitError, match="limit 'depth'"):
        measure(tree)


def test_a_long_in_list_of_constants_is_one_level() -> None:
    ids = ", ".join(f"'c{n}'" for n in range(5_000))
    assert sandboxed(f"SELECT count(*) FROM contracts WHERE contract_id IN ({ids})")


# -- worker processes ---------------------------------------------------------------------


def test_one_worker_serves_many_queries_and_ends_with_the_store(tmp_path: Path) -> None:
    others = workers()  # the other tests' stores
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal())
    assert workers() == others  # only store.sql starts one
    assert store.sql("SELECT count(*) FROM contracts").item() == 1
    (worker,) = workers() - others
    answers = [store.sql("SELECT count(*) FROM contracts").item() for _ in range(5)]
    assert answers == [1] * 5 and workers() - others == {worker}
    del store
    gc.collect()
    assert workers() == others


def test_a_store_without_a_table_answers_from_the_empty_views(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t")
    assert store.sql("SELECT count(*) FROM contracts_latest").item() == 0


def test_a_killed_worker_is_replaced_and_the_table_unchanged(store: DeltaContractStore) -> None:
    version = store.table_version
    with pytest.raises(QueryLimitError) as caught:
        store.sql("SELECT count(*) FROM contracts a, contracts b, contracts c", timeout=0.001)
    assert caught.value.limit == "timeout"
    assert "after 0.001 s" in str(caught.value)
    assert store.sql("SELECT count(*) FROM contracts").item() == 6
    assert store.table_version == version


def test_many_threads_share_one_store(tmp_path: Path) -> None:
    others = workers()
    store = DeltaContractStore(path=tmp_path / "t", validation="off", sql_workers=2)
    store.put_many([minimal(f"c.{n}") for n in range(20)])
    errors: list[BaseException] = []
    answers: list[int] = []

    def ask(n: int) -> None:
        try:
            for _ in range(3):
                query = f"SELECT count(*) FROM contracts WHERE contract_id >= 'c.{n}'"
                answers.append(store.sql(query, timeout=60).item())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    expected = sorted(sum(f"c.{m}" >= f"c.{n}" for m in range(20)) for n in range(8) for _ in "abc")
    assert sorted(answers) == expected
    assert 1 <= len(workers() - others) <= 2


def test_a_query_waiting_for_a_busy_worker_times_out(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    outcomes: list[object] = []
    # the first query starts the only worker (an interpreter importing Polars: > 0.4 s)
    first = threading.Thread(target=lambda: outcomes.append(store.sql("SELECT 1").item()))
    first.start()
    time.sleep(0.2)
    with pytest.raises(QueryLimitError, match=r"waited 0\.2 s for a SQL worker: all 1 were busy"):
        store.sql("SELECT 2", timeout=0.2)
    first.join()
    assert outcomes == [1]
    assert store.sql("SELECT 3").item() == 3


def test_the_worker_reads_the_snapshot_asked_for(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal(version="1.0.0"))
    first = store.table_version
    store.put(minimal(version="2.0.0"))
    query = "SELECT version FROM contracts_latest"
    assert store.sql(query).item() == "2.0.0"
    assert store.sql(query, as_of=first).item() == "1.0.0"
    assert store.sql(query).item() == "2.0.0"


def test_no_worker_outlives_its_process(tmp_path: Path) -> None:
    code = (
        "import os; from dc43_delta_store import DeltaContractStore; "
        f"s = DeltaContractStore(path={str(tmp_path / 't')!r}); s.sql('SELECT 1'); "
        "print(os.getpid())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    parent = done.stdout.strip()
    time.sleep(0.5)
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
            parent_of = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        assert not (b"sql_worker" in command and parent_of in (parent, "1")), entry.name


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"timeout": 0}, "timeout must be a number of seconds above 0"),
        ({"timeout": float("nan")}, "timeout must be a number of seconds above 0"),
        ({"timeout": True}, "timeout must be a number"),
        ({"max_memory": 1000}, "max_memory must be a whole number of at least 1,048,576"),
    ],
)
def test_limits_are_checked(store: DeltaContractStore, arguments: dict, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        store.sql("SELECT 1", **arguments)
    with pytest.raises(InvalidRequestError, match="sql_" + message):
        DeltaContractStore(path="x", **{f"sql_{k}": v for k, v in arguments.items()})


# -- rows other tools wrote -----------------------------------------------------------------


def test_rows_without_identity_or_a_json_object_are_not_in_the_views(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "ours", validation="off")
    store.put_many([minimal(version="1.0.0"), minimal(version="1.1.0")])
    good = store.scan().collect().to_arrow()
    schema = pa.schema([field.with_nullable(True) for field in good.schema])
    rows = good.to_pylist()
    for column, value in [
        ("version", None),
        ("contract_id", None),
        ("json", None),
        ("json", "{bad"),
        ("json", "[1, 2]"),
        ("json", "not json"),
    ]:
        rows.append({**rows[1], "version": "9.0.0", "version_sort_key": None, column: value})
    path = tmp_path / "theirs"  # as another tool wrote it: every column nullable
    write_deltalake(str(path), pa.Table.from_pylist(rows, schema))
    theirs = DeltaContractStore(path=path)
    latest = theirs.sql("SELECT contract_id, version FROM contracts_latest").rows()
    assert latest == [("sales.orders", "1.1.0")]
    assert theirs.sql("SELECT count(*) FROM contracts").item() == 2


def count_in_a_spawned_process(path: str) -> int:
    store = DeltaContractStore(path=path)
    return int(store.sql("SELECT count(*) FROM contracts").item())


def test_a_store_in_a_spawned_process_runs_sql(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal())
    assert store.sql("SELECT count(*) FROM contracts").item() == 1  # this process's worker
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(count_in_a_spawned_process, (str(tmp_path / "t"),)) == 1


def test_a_file_the_worker_cannot_read_is_a_store_error_naming_the_table(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal())
    for data in (tmp_path / "t").glob("*.parquet"):
        data.unlink()
    with pytest.raises(StoreUnavailableError, match=f"cannot read table {tmp_path / 't'}"):
        store.sql("SELECT count(*) FROM contracts WHERE json LIKE '%x%'")
    assert store.sql("SELECT 1 AS one").item() == 1


def test_a_worker_that_ended_while_idle_is_replaced_unnoticed(tmp_path: Path) -> None:
    others = workers()
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(minimal())
    assert store.sql("SELECT count(*) FROM contracts").item() == 1
    (worker,) = workers() - others
    os.kill(worker, signal.SIGKILL)  # as the kernel's OOM killer would
    time.sleep(0.2)
    assert store.sql("SELECT count(*) FROM contracts").item() == 1
    assert len(workers() - others) == 1 and worker not in workers()
