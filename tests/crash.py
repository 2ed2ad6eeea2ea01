"""Kill a writing process with SIGKILL at random moments; the table must need no repair.

    python -m tests.crash [--kills 50] [--seed 0] [--max-delay 0.6]

A child process (``python -m tests.crash child PATH PREFIX``) puts contracts one after the
other, single and in batches of five, and prints ``ACK id version fingerprint`` after each
acknowledged write. The parent kills it after a random delay, then opens the table afresh
and checks: it loads, every row is whole (its json parses and hashes to its fingerprint),
no key is duplicated, and every acknowledged put is there with its content. The next child
writes to the same table, so a crash that needed repair would stop the run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.core.canonical import fingerprint

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Report:
    kills: int = 0
    acknowledged: int = 0
    rows: int = 0
    duplicates: int = 0
    killed_mid_write: int = 0
    violations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"kills {self.kills}, acknowledged puts {self.acknowledged}, rows {self.rows}, "
            f"duplicates {self.duplicates}, kills mid-write (orphan files left) "
            f"{self.killed_mid_write}, violations {len(self.violations)}"
        )


def child(path: str, prefix: str) -> None:
    store = DeltaContractStore(path=path, validation="off")
    print("READY", flush=True)
    for n in range(10**6):
        docs = [
            {
                "apiVersion": "v3.1.0",
                "kind": "DataContract",
                "id": f"{prefix}.c{n}",
                "version": f"1.{k}.0",
                "status": "active",
                "description": {"usage": "x" * n},
            }
            for k in range(1 if n % 2 else 5)
        ]
        results = store.put_many(docs).results
        for result in results:
            print(f"ACK {result.contract_id} {result.version} {result.fingerprint}", flush=True)


def run(path: Path, kills: int, seed: int, max_delay: float) -> Report:
    rng = random.Random(seed)
    report = Report()
    acked: dict[tuple[str, str], str] = {}
    DeltaContractStore(path=path, validation="off").put(
        {"id": "crash.seed", "version": "1.0.0", "apiVersion": "v3.1.0", "kind": "DataContract"}
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    seen_orphans = 0
    for kill in range(kills):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.crash", "child", str(path), f"crash.k{kill}"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "READY":
            report.violations.append(f"kill {kill}: child did not start")
            proc.kill()
            continue
        time.sleep(rng.uniform(0, max_delay))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        report.kills += 1
        for line in proc.stdout.read().splitlines():
            _, contract_id, version, fp = line.split()
            acked[(contract_id, version)] = fp
        _verify(path, acked, report, kill)
        orphans = _orphans(path)
        if orphans > seen_orphans:  # this kill landed after data files, before the commit
            report.killed_mid_write += 1
        seen_orphans = orphans
    report.acknowledged = len(acked)
    return report


def _orphans(path: Path) -> int:
    """Data files and commit temp files that no commit refers to."""
    referenced = {Path(uri).name for uri in DeltaTable(str(path)).file_uris()}
    data = {p.name for p in path.glob("*.parquet")} - referenced
    return len(data) + len(list((path / "_delta_log").glob("*.tmp")))


def _verify(path: Path, acked: dict[tuple[str, str], str], report: Report, kill: int) -> None:
    try:
        rows = pa.table(DeltaTable(str(path)).to_pyarrow_table()).to_pylist()
    except Exception as exc:
        report.violations.append(f"kill {kill}: table does not load: {exc}")
        return
    report.rows = len(rows)
    keys = Counter((row["contract_id"], row["version"]) for row in rows)
    report.duplicates = sum(count - 1 for count in keys.values())
    stored = {}
    for row in rows:
        if fingerprint(json.loads(row["json"])) != row["fingerprint"]:
            report.violations.append(f"kill {kill}: torn row {row['contract_id']}")
        stored[(row["contract_id"], row["version"])] = row["fingerprint"]
    for key, fp in acked.items():
        if stored.get(key) != fp:
            report.violations.append(f"kill {kill}: acknowledged {key} lost")


def main() -> None:
    if sys.argv[1:2] == ["child"]:
        child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-delay", type=float, default=0.6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = run(Path(tmp) / "crash", args.kills, args.seed, args.max_delay)
    print(f"crash (seed {args.seed}): {report.summary()}")
    for line in report.violations[:20]:
        print("  ", line)
    raise SystemExit(1 if report.violations or report.duplicates else 0)


if __name__ == "__main__":
    main()
