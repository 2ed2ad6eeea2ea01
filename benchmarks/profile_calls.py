"""Where the time of latest() and put() goes: cProfile on a 100k-row optimized table.

python benchmarks/profile_calls.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import build_table, contract, contract_ids

from dc43_delta_store import DeltaContractStore


def profile(label: str, call: object, repeat: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        call()  # type: ignore[operator]
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(8)
    print(f"== {label}: {repeat} calls")
    print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:3000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contracts"
        build_table(path, args.rows // 10, 10, rows_per_commit=10_000).optimize()
        ids = contract_ids(args.rows // 10)
        reader = DeltaContractStore(path=path)
        picks = iter(random.Random(3).sample(ids, 300))
        profile("latest(), first ask", lambda: reader.latest(next(picks)), 300)
        writer = DeltaContractStore(path=path, validation="off")
        counter = iter(range(10**6))
        profile("put()", lambda: writer.put(contract("profile.new", f"3.{next(counter)}.0")), 100)


if __name__ == "__main__":
    main()
