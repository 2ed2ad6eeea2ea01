"""Cold import cost of the package, with and without dc43, against deltalake + polars.

Each figure is the median (p10-p90) of fresh interpreters timing one import statement, in the
same run as the baseline ``import deltalake, polars`` (what the store cannot do without).
``from dc43_delta_store import Dc43ContractStore`` costs what importing ``dc43_compat`` does.
``python benchmarks/import_cost.py [RUNS]``; ``PYTHONPATH`` picks the checkout measured.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

BLOCK_DC43 = "import sys; sys.modules['dc43_service_backends'] = None; "
CASES = {
    "import deltalake, polars (baseline)": ("", "import deltalake, polars"),
    "import dc43_delta_store": ("", "import dc43_delta_store"),
    "import dc43_delta_store, dc43 absent": (BLOCK_DC43, "import dc43_delta_store"),
    "import dc43_delta_store.dc43_compat": ("", "import dc43_delta_store.dc43_compat"),
    "import dc43_delta_store.dc43_compat, dc43 absent": (
        BLOCK_DC43,
        "import dc43_delta_store.dc43_compat",
    ),
}


def seconds(setup: str, statement: str) -> float:
    code = f"{setup}import time; t = time.perf_counter(); {statement}; "
    code += "print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout)


def main(runs: int) -> None:
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):  # interleaved, so a busy moment touches every case alike
        for name, (setup, statement) in CASES.items():
            samples[name].append(seconds(setup, statement))
    base = statistics.median(samples["import deltalake, polars (baseline)"])
    print(f"| cold import ({runs} runs) | median | p10-p90 | vs baseline |")
    print("|---|---|---|---|")
    for name, values in samples.items():
        deciles = statistics.quantiles(values, n=10)
        median = statistics.median(values)
        print(
            f"| `{name}` | {median * 1000:.0f} ms | {deciles[0] * 1000:.0f}-"
            f"{deciles[-1] * 1000:.0f} ms | {median / base:.2f}x |"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
