"""What consumers pay: a change-feed poll, reading 1,000 commits of events, resolve --explain.

    python benchmarks/consumers.py [--commits 1000] [--versions 1000]

Goals (issue 12), each against a baseline measured in the same run on the same table:
- ``changes()`` with nothing new <= 2 ms on a local table (baseline: deltalake's
  ``DeltaTable.history(1)``, what a poller without the store would call);
- ``changes()`` over 1,000 commits <= 1 s (baseline: ``DeltaTable.history()``, which reads
  the same commit files but returns only their commit info);
- ``resolve(..., explain=True)`` on a contract with 1,000 versions <= 20 ms (baseline: the
  same resolve without ``explain``), both asked with a range not asked before, so nothing
  comes from the store's answer cache.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import contract, machine, summary, timed, write_json
from deltalake import DeltaTable

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.resolution.ranges import place


def feed(path: Path, commits: int) -> dict[str, object]:
    store = DeltaContractStore(path=path, validation="off")
    started = time.perf_counter()
    for n in range(commits):
        store.put(contract(f"feed.c{n % 50}", f"1.{n // 50}.0"), who="bench", why=f"commit {n}")
    building = time.perf_counter() - started
    cursor = store.table_version
    assert cursor is not None
    store.changes(since=cursor)
    poll = timed(lambda: store.changes(since=cursor), 2000)
    table = DeltaTable(str(path))
    naive_poll = timed(lambda: table.history(1), 200)

    def read_all() -> None:
        fresh = DeltaContractStore(path=path)  # nothing remembered between rounds
        events = fresh.changes(since=-1).events
        assert sum(e.kind == "published" for e in events) == commits

    read = timed(read_all, 7)
    history = timed(lambda: DeltaTable(str(path)).history(), 7)
    return {
        "table_versions": cursor + 1,
        "puts": commits,
        "build_s": round(building, 1),
        "poll_nothing_new": summary(poll),
        "baseline_history_1": summary(naive_poll),
        "read_all_commits": summary(read),
        "baseline_history_all": summary(history),
    }


def resolution(path: Path, versions: int) -> dict[str, object]:
    store = DeltaContractStore(path=path, validation="off")
    store.put_many(
        [contract("big", f"{n // 100}.{n % 100}.0", "active" if n % 3 else "draft")
         for n in range(versions)]
    )  # fmt: skip
    store.put_many([contract(f"other.c{n}", "1.0.0") for n in range(200)])
    store.optimize()
    specs = iter(f">=0.{n}, <{versions // 100 + 1}" for n in range(10**6))
    store.resolve("big", next(specs), status="active", explain=True)  # opens the table

    def cold() -> None:
        place.cache_clear()  # as in a new process: no version parsed yet
        store.resolve("big", next(specs), status="active", explain=True)

    explain_cold = timed(cold, 30)
    explain = timed(lambda: store.resolve("big", next(specs), status="active", explain=True), 50)
    plain = timed(lambda: store.resolve("big", next(specs), status="active"), 50)
    repeated = timed(lambda: store.resolve("big", "^1", status="active", explain=True), 500)
    command = [
        sys.executable, "-m", "dc43_delta_store", "--path", str(path),
        "resolve", "big", "^5", "--status", "active", "--explain", "--json",
    ]  # fmt: skip
    cli = timed(lambda: subprocess.run(command, check=True, capture_output=True), 5)
    return {
        "versions": versions,
        "explain_first_ask": summary(explain),
        "explain_first_ask_nothing_parsed": summary(explain_cold),
        "baseline_resolve_first_ask": summary(plain),
        "explain_repeated": summary(repeated),
        "cli_process_explain": summary(cli),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=1000)
    default_out = Path(__file__).parent / "results" / "consumers.json"
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        feeds = feed(Path(tmp) / "feed", args.commits)
        resolves = resolution(Path(tmp) / "resolve", args.versions)
    results = {"machine": machine(), "changes": feeds, "resolve": resolves}
    write_json(args.out, results)

    def line(label: str, measured: dict[str, float], target: float, base: dict[str, float]) -> None:
        median = measured["median_ms"]
        verdict = "met" if median <= target else "NOT met"
        ratio = base["median_ms"] / median
        print(
            f"  {label:<44} median {median:9.3f} ms (target <= {target:g} ms: {verdict}); "
            f"baseline {base['median_ms']:.3f} ms = {ratio:.2f}x"
        )

    print(f"{machine()}; {feeds['table_versions']} table versions from {args.commits} puts")
    line("changes(), nothing new", feeds["poll_nothing_new"], 2, feeds["baseline_history_1"])
    line(
        f"changes() over all {feeds['table_versions']} commits",
        feeds["read_all_commits"],
        1000,
        feeds["baseline_history_all"],
    )
    print(f"resolve on a contract with {args.versions} versions:")
    base = resolves["baseline_resolve_first_ask"]
    line("resolve(explain=True), first ask", resolves["explain_first_ask"], 20, base)
    line(
        "... first ask, no version parsed yet",
        resolves["explain_first_ask_nothing_parsed"],
        20,
        base,
    )
    line("... asked again (unchanged table)", resolves["explain_repeated"], 20, base)
    cli = resolves["cli_process_explain"]["median_ms"]
    print(f"  dc43-delta-store resolve --explain --json, whole process: {cli:.0f} ms")


if __name__ == "__main__":
    main()
