"""A long-lived service on a 1M-version table: warm answers and freshness after a commit.

    python benchmarks/service.py [--contracts 250000] [--versions 4]

The table (contracts x versions rows, bulk-written, then ``optimize()``d) is read by one
store object that lives for the whole run, as a service's would:

- ``latest()`` on an unchanged table, the same contract asked again (a service resolving
  "the latest validated sales.orders" on every request) and contracts not asked before;
- ``latest()`` right after another process committed a new version of that contract (the
  answer must be the new version);
- baseline in the same run: a fresh store object per call (the table loaded each time).
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import build_table, contract_ids, files_matching, machine, summary, timed, write_json

from dc43_delta_store import DeltaContractStore

WRITER = """
import sys
sys.path.insert(0, {bench!r})
from common import contract
from dc43_delta_store import DeltaContractStore
DeltaContractStore(path={path!r}, validation="off").put(contract({cid!r}, {version!r}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=250_000)
    parser.add_argument("--versions", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "service.json"
    )
    args = parser.parse_args()
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contracts"
        started = time.perf_counter()
        build_table(path, args.contracts, args.versions, rows_per_commit=10_000).optimize()
        build_seconds = time.perf_counter() - started
        ids = contract_ids(args.contracts)
        service = DeltaContractStore(path=path)
        hot = ids[len(ids) // 3]
        service.latest(hot)
        repeated = timed(lambda: service.latest(hot), 1000)
        fresh_ids = iter(rng.sample(ids, 300))
        new_ids = timed(lambda: service.latest(next(fresh_ids)), 200)
        reopen = timed(lambda: DeltaContractStore(path=path).latest(next(fresh_ids)), 20)

        after_commit: list[float] = []
        for n in range(args.rounds):
            contract_id = rng.choice(ids)
            service.latest(contract_id)  # the service has an answer in memory
            version = f"9.{n}.0"
            code = WRITER.format(
                bench=str(Path(__file__).parent), path=str(path), cid=contract_id, version=version
            )
            subprocess.run([sys.executable, "-c", code], check=True)
            begun = time.perf_counter()
            answer = service.latest(contract_id)
            after_commit.append((time.perf_counter() - begun) * 1000)
            assert answer is not None and answer["version"] == version, answer
        files = files_matching(path, hot)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = args.contracts * args.versions
    results = {
        "machine": machine(),
        "rows": rows,
        "build_and_optimize_seconds": round(build_seconds, 1),
        "files_per_lookup": files,
        "latest_repeated_id": summary(repeated),
        "latest_new_ids": summary(new_ids),
        "latest_fresh_store_each_call": summary(reopen),
        "latest_after_other_process_commit": summary(after_commit),
        "peak_rss_mb": round(peak_mb, 1),
    }
    write_json(args.out, results)
    print(f"{rows} versions (built and optimized in {build_seconds:.0f} s); {results['machine']}")
    for name, key, target in [
        ("latest(), same contract again", "latest_repeated_id", 1.0),
        ("latest(), first ask per contract", "latest_new_ids", None),
        ("latest(), fresh store per call", "latest_fresh_store_each_call", None),
        ("latest() after another process committed", "latest_after_other_process_commit", 30.0),
    ]:
        median = results[key]["median_ms"]
        goal = (
            ""
            if target is None
            else f"  (goal <= {target:g} ms: {'met' if median <= target else 'NOT met'})"
        )
        print(f"  {name:44} median {median:8.3f} ms{goal}")
    print(f"  files a lookup reads: {files}; peak RSS of this process {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
