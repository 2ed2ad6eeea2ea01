"""A service while another process publishes: this store against dc43's SQLite store.

    python benchmarks/busy.py [--sizes 5000x2,250000x4] [--seconds 20] [--hot 200]

For each size (contracts x versions; the Delta table bulk-written then ``optimize()``d, the
SQLite table loaded with the same rows into dc43's ``SQLContractStore``):

- quiet: one long-lived store object answers ``latest()`` for ``--hot`` contracts in a
  loop, nothing else writing;
- first ask: ``latest()`` of contracts that store has not asked before;
- busy: the same loop for ``--seconds`` while a second process publishes a new version of
  some *other* contract every 100 ms (for SQLite, its own writer doing the same through
  ``SQLContractStore.put``): median, p99 and p99.9 of every call;
- touched: while that writer runs, it publishes a new version of a contract the service
  has answered; the first ``latest()`` right after the commit (it must return the new
  version).

On the largest size, the peak RSS of a process that asks ``--rss-contracts`` different
contracts (a fresh process; baseline: the same process after one ``latest()``).
Writes ``results/busy.json``, ``busy.md`` and ``busy_service.png``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import queue
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import build_table, contract, contract_ids, dc43_sqlite, goal_table, machine, write_json

from dc43_delta_store import DeltaContractStore

HERE = Path(__file__).parent
GOALS = {
    "busy_median_ms": 0.05,
    "busy_p99_ms": 5.0,
    "busy_faster_than_sqlite": 7.0,
    "touched_ms": 10.0,
    "first_ask_1m_ms": 2.5,
    "rss_mb": 300.0,
}


# -- the stores ----------------------------------------------------------------------------


def open_store(kind: str, path: str) -> tuple[Callable[[Any], None], Callable[[str], str | None]]:
    """(put a document, latest version of an id) for ``kind`` ``delta`` or ``sqlite``."""
    if kind == "delta":
        store = DeltaContractStore(path=path, validation="off")

        def latest(contract_id: str) -> str | None:
            found = store.latest(contract_id)
            return None if found is None else found["version"]

        return store.put, latest
    from dc43_service_backends.contracts.backend.stores.sql import SQLContractStore, create_engine
    from open_data_contract_standard.model import OpenDataContractStandard

    sql = SQLContractStore(create_engine(f"sqlite:///{path}"))

    def put(document: Any) -> None:
        sql.put(OpenDataContractStandard.model_validate(document))

    def latest_sql(contract_id: str) -> str | None:
        found = sql.latest(contract_id)
        return None if found is None else str(found.version)

    return put, latest_sql


def writer(kind: str, path: str, others: list[str], stop: Any, orders: Any, done: Any) -> None:
    """Publishes a new version of a random contract of ``others`` every 100 ms; between
    times, publishes what ``orders`` asks and says so on ``done``."""
    put, _ = open_store(kind, path)
    rng = random.Random(7)
    published = 0
    due = time.monotonic()
    while not stop.is_set():
        try:
            order = orders.get(timeout=max(0.0, due - time.monotonic()))
        except queue.Empty:
            order = None
        if order is not None:
            put(contract(*order))
            done.put(order)
            continue
        published += 1
        put(contract(rng.choice(others), f"2.{published}.0"))
        due += 0.1
    done.put(("published", published))


# -- measuring -----------------------------------------------------------------------------


def loop(
    latest: Callable[[str], str | None], hot: list[str], seconds: float, want: str
) -> list[float]:
    """Milliseconds of every ``latest()`` over ``hot`` for ``seconds``."""
    samples = []
    end = time.perf_counter() + seconds
    n = 0
    while True:
        contract_id = hot[n % len(hot)]
        started = time.perf_counter()
        answer = latest(contract_id)
        stopped = time.perf_counter()
        samples.append((stopped - started) * 1000)
        assert answer == want, (contract_id, answer)
        n += 1
        if stopped > end:
            return samples


def figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 4)

    return {
        "median_ms": round(statistics.median(ordered), 4),
        "p90_ms": at(0.9),
        "p99_ms": at(0.99),
        "p999_ms": at(0.999),
        "max_ms": round(ordered[-1], 3),
        "n": len(ordered),
    }


def measure(
    kind: str, path: str, ids: list[str], versions: int, args: argparse.Namespace
) -> dict[str, Any]:
    rng = random.Random(11)
    hot = rng.sample(ids, args.hot)
    rest = [i for i in ids if i not in set(hot)]
    touched_ids = rng.sample(rest, args.touched)
    others = [i for i in rest if i not in set(touched_ids)]
    fresh = rng.sample(others, 300)
    want = f"1.{versions - 1}.0"
    _, latest = open_store(kind, path)
    out: dict[str, Any] = {}
    samples = []
    for contract_id in fresh:
        started = time.perf_counter()
        assert latest(contract_id) == want
        samples.append((time.perf_counter() - started) * 1000)
    out["first_ask"] = figures(samples)
    for contract_id in hot:
        latest(contract_id)
    out["quiet"] = figures(loop(latest, hot, args.quiet_seconds, want))

    ctx = mp.get_context("spawn")
    stop, orders, done = ctx.Event(), ctx.Queue(), ctx.Queue()
    process = ctx.Process(target=writer, args=(kind, path, others, stop, orders, done))
    process.start()
    time.sleep(args.warmup)  # the writer's imports and first commits
    out["busy"] = figures(loop(latest, hot, args.seconds, want))
    touched = []
    for n, contract_id in enumerate(touched_ids):
        assert latest(contract_id) == want  # answered, and remembered
        orders.put((contract_id, "3.0.0"))
        assert done.get(timeout=120) == (contract_id, "3.0.0")
        started = time.perf_counter()
        answer = latest(contract_id)
        touched.append((time.perf_counter() - started) * 1000)
        assert answer == "3.0.0", (n, contract_id, answer)
        time.sleep(rng.random() * 0.1)
    out["touched"] = figures(touched)
    stop.set()
    while True:
        item = done.get(timeout=120)
        if item[0] == "published":
            out["published_while_busy"] = item[1]
            break
    process.join(timeout=60)
    return out


def rss_of(path: str, ids: list[str], count: int) -> dict[str, Any]:
    """Peak RSS of a fresh process that asks ``count`` contracts, and of one that asks one."""
    code = f"""
import json, sys, time
from dc43_delta_store import DeltaContractStore
ids = json.load(sys.stdin)
store = DeltaContractStore(path={path!r})
started = time.perf_counter()
for contract_id in ids:
    assert store.latest(contract_id) is not None
seconds = time.perf_counter() - started
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({{"peak_rss_mb": round(hwm / 1024, 1), "seconds": round(seconds, 1),
                  "cache_mb": round(store._reads.cache.bytes / 2**20, 1)}}))
"""
    picked = random.Random(3).sample(ids, count)

    def run(chosen: list[str]) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(chosen),
            capture_output=True,
            text=True,
            check=True,
        )
        return dict(json.loads(done.stdout))

    return {"contracts": count, **run(picked), "baseline_one_contract": run(picked[:1])}


# -- report --------------------------------------------------------------------------------


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for size in results["sizes"]:
        ours, theirs = size["delta"], size["sqlite"]
        label = size["label"]
        rows += [
            (
                f"busy latest() median, {label} (ms)",
                ours["busy"]["median_ms"],
                GOALS["busy_median_ms"],
                "<=",
            ),
            (
                f"busy latest() p99, {label} (ms)",
                ours["busy"]["p99_ms"],
                GOALS["busy_p99_ms"],
                "<=",
            ),
            (
                f"busy latest() median: SQLite's / ours, {label}",
                round(theirs["busy"]["median_ms"] / ours["busy"]["median_ms"], 1),
                GOALS["busy_faster_than_sqlite"],
                ">=",
            ),
            (
                f"first latest() after its own commit, {label} (ms)",
                ours["touched"]["median_ms"],
                GOALS["touched_ms"],
                "<=",
            ),
        ]
    largest = results["sizes"][-1]
    if largest["rows"] >= 1_000_000:
        rows.append(
            (
                "first ask, 1M versions (ms)",
                largest["delta"]["first_ask"]["median_ms"],
                GOALS["first_ask_1m_ms"],
                "<=",
            )
        )
    if "rss" in largest:
        rows.append(
            (
                f"peak RSS after {largest['rss']['contracts']:,} contracts asked (MB)",
                largest["rss"]["peak_rss_mb"],
                GOALS["rss_mb"],
                "<=",
            )
        )
    return goal_table(rows)


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Measured {results['date']} on {results['machine']} with `python benchmarks/busy.py` "
        f"({results['hot']} hot contracts; busy: another process publishes every 100 ms, "
        f"{results['seconds']:g} s per store). Milliseconds.",
        "",
        "| table | store | quiet median | busy median | busy p99 | busy p99.9 | first ask | first ask after its own commit |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size in results["sizes"]:
        for kind, name in (("delta", "this store"), ("sqlite", "dc43 SQLite")):
            m = size[kind]
            lines.append(
                f"| {size['label']} | {name} | {m['quiet']['median_ms']:.3f} | {m['busy']['median_ms']:.3f} "
                f"| {m['busy']['p99_ms']:.3f} | {m['busy']['p999_ms']:.3f} | {m['first_ask']['median_ms']:.3f} "
                f"| {m['touched']['median_ms']:.3f} |"
            )
    largest = results["sizes"][-1]
    if "rss" in largest:
        rss = largest["rss"]
        lines += [
            "",
            f"Peak RSS of a fresh process that asked {rss['contracts']:,} different contracts of the "
            f"{largest['label']} table: {rss['peak_rss_mb']} MB ({rss['cache_mb']} MB of remembered "
            f"answers; {rss['seconds']} s); after one contract: "
            f"{rss['baseline_one_contract']['peak_rss_mb']} MB.",
        ]
    lines += ["", "| goal | measured | target | |", "|---|---|---|---|"]
    for goal in results["goals"]:
        lines.append(
            f"| {goal['goal']} | {goal['measured']} | {goal['target']} | {'met' if goal['met'] else '**not met**'} |"
        )
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [
        ("quiet median", "quiet", "median_ms"),
        ("busy median", "busy", "median_ms"),
        ("busy p99", "busy", "p99_ms"),
        ("after its own commit", "touched", "median_ms"),
    ]
    sizes = results["sizes"]
    figure, axes = plt.subplots(figsize=(8, 4.2))
    width = 0.8 / (2 * len(sizes))
    for s, size in enumerate(sizes):
        for k, (kind, name) in enumerate((("delta", "this store"), ("sqlite", "dc43 SQLite"))):
            offset = (2 * s + k - len(sizes) + 0.5) * width
            values = [size[kind][group][key] for _, group, key in series]
            axes.bar(
                [i + offset for i in range(len(series))],
                values,
                width,
                label=f"{name}, {size['label']}",
                hatch="" if kind == "delta" else "//",
            )
    axes.set_xticks(range(len(series)), [label for label, _, _ in series])
    axes.set_yscale("log")
    axes.set_ylabel("ms per latest() (log)")
    axes.set_title("latest() of hot contracts while another process publishes every 100 ms")
    axes.grid(True, axis="y", which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / "busy_service.png", dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="5000x2,250000x4")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--quiet-seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--hot", type=int, default=200)
    parser.add_argument("--touched", type=int, default=20)
    parser.add_argument("--rss-contracts", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in size.split("x")) for size in args.sizes.split(",")]
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "hot": args.hot,
        "seconds": args.seconds,
        "sizes": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for contracts, versions in sizes:
            rows = contracts * versions
            label = f"{contracts:,} x {versions}"
            print(f"== {label}: building", flush=True)
            path = Path(tmp) / f"delta_{rows}"
            build_table(
                path, contracts, versions, rows_per_commit=max(rows // 20, 1_000)
            ).optimize()
            ids = contract_ids(contracts)
            sqlite = Path(tmp) / f"dc43_{rows}.sqlite"
            dc43_sqlite(sqlite, ids, [f"1.{v}.0" for v in range(versions)])
            size: dict[str, Any] = {"label": label, "rows": rows}
            for kind, where in (("delta", str(path)), ("sqlite", str(sqlite))):
                print(f"== {label}: {kind}", flush=True)
                size[kind] = measure(kind, where, ids, versions, args)
            if (contracts, versions) == sizes[-1] and args.rss_contracts:
                print(f"== {label}: peak RSS of {args.rss_contracts:,} contracts", flush=True)
                size["rss"] = rss_of(str(path), ids, min(args.rss_contracts, contracts))
            results["sizes"].append(size)
    results["goals"] = goals(results)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "busy.json", results)
    (args.out / "busy.md").write_text(markdown(results), encoding="utf-8")
    plot(results, args.out)
    print(markdown(results))


if __name__ == "__main__":
    main()
