"""Storing a 2 MB YAML contract: ``put(path)`` end to end, against PyYAML's readers.

    python benchmarks/yaml_put.py [--mb 2] [--repeat 5]

The contract is a realistic ODCS document grown to the size asked (many tables of many
typed, described, tagged properties with quality rules). Each ``put`` stores a new version
of it in a local table: YAML 1.2 reading, the JSON tree checks, canonical JSON and
fingerprint, schema validation (``warn``) and the Delta commit. In the same run, for
comparison: ``yaml.load`` with PyYAML's pure-Python ``SafeLoader`` (what the store used
before) and with libyaml's ``CSafeLoader`` (YAML 1.1 rules) on the same text.
Results: ``benchmarks/results/yaml_put.json``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml
from common import machine, summary, timed, write_json

import dc43_delta_store
from dc43_delta_store import DeltaContractStore
from dc43_delta_store.core.documents import load_document

RESULTS = Path(__file__).parent / "results" / "yaml_put.json"
GOAL_SECONDS = 1.0


def big_contract(megabytes: float, version: str) -> str:
    """ODCS YAML text of about ``megabytes`` MB."""
    head = (
        "apiVersion: v3.1.0\nkind: DataContract\nid: bench.big\n"
        f"version: '{version}'\nstatus: active\nname: Big contract\n"
        "description:\n  usage: Benchmark of a large contract\nschema:\n"
    )
    parts = [head]
    size, table = len(head), 0
    while size < megabytes * 1_000_000:
        lines = [
            f"  - name: table_{table}\n    physicalName: tbl_{table}\n    logicalType: object\n"
            f"    description: Table {table} of the warehouse, described at some length\n"
            "    properties:\n"
        ]
        for column in range(40):
            lines.append(
                f"      - name: col_{column}\n        logicalType: string\n"
                "        physicalType: varchar(255)\n        required: true\n"
                f'        description: "Column {column} of table {table}: what it holds"\n'
                f"        tags: [pii, gold, 'x{column}']\n"
                "        quality:\n          - metric: nullValues\n            mustBeLessThan: 5\n"
            )
        block = "".join(lines)
        parts.append(block)
        size += len(block)
        table += 1
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = []
        for number in range(args.repeat + 1):
            path = root / f"big-{number}.odcs.yaml"
            path.write_text(big_contract(args.mb, f"1.{number}.0"), encoding="utf-8")
            files.append(path)
        text = files[0].read_text(encoding="utf-8")
        store = DeltaContractStore(path=root / "table", validation="warn")
        store.put(files[0])  # creates the table: not part of the timing
        pending = iter(files[1:])
        put_ms = timed(lambda: store.put(next(pending)), args.repeat)
        read_ms = timed(lambda: load_document(text), args.repeat)
        c_ms = timed(lambda: yaml.load(text, Loader=yaml.CSafeLoader), args.repeat)
        started = time.perf_counter()
        yaml.load(text, Loader=yaml.SafeLoader)
        pure_ms = [(time.perf_counter() - started) * 1000]
    put = summary(put_ms)
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "command": f"python benchmarks/yaml_put.py --mb {args.mb} --repeat {args.repeat}",
        "version": dc43_delta_store.__version__,
        "document_bytes": len(text.encode("utf-8")),
        "put": put,
        "load_document": summary(read_ms),
        "pyyaml_csafeloader": summary(c_ms),
        "pyyaml_safeloader": summary(pure_ms),
        "goal": {"put_seconds": GOAL_SECONDS, "met": put["median_ms"] <= GOAL_SECONDS * 1000},
    }
    write_json(RESULTS, results)
    megabytes = results["document_bytes"] / 1e6
    print(
        f"{megabytes:.2f} MB YAML contract: put() {put['median_ms'] / 1000:.2f} s "
        f"(p10-p90 {put['p10_ms'] / 1000:.2f}-{put['p90_ms'] / 1000:.2f} s; goal <= "
        f"{GOAL_SECONDS} s: {'met' if results['goal']['met'] else 'NOT met'}); reading alone "
        f"{results['load_document']['median_ms'] / 1000:.2f} s; PyYAML CSafeLoader "
        f"{results['pyyaml_csafeloader']['median_ms'] / 1000:.2f} s, SafeLoader "
        f"{pure_ms[0] / 1000:.2f} s ({pure_ms[0] / put['median_ms']:.0f}x the whole put)"
    )


if __name__ == "__main__":
    main()
