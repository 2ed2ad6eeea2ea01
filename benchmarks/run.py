"""`make bench`: every benchmark, one after the other (results in benchmarks/results/).

The whole run's duration is written to ``results/run.json``: the figure the README quotes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = {
    "suite.py": [],
    "store_ops.py": [],
    "upkeep.py": [],
    "service.py": [],
    "busy.py": [],
    "diff_corpus.py": ["--out", str(HERE / "results" / "diff_corpus.json")],
    "consumers.py": [],
    "yaml_put.py": [],
    "serve.py": [],
}

if __name__ == "__main__":
    started = time.monotonic()
    seconds: dict[str, float] = {}
    for script, arguments in SCRIPTS.items():
        print(f"== {script}", flush=True)
        begun = time.monotonic()
        subprocess.run([sys.executable, str(HERE / script), *arguments], check=True)
        seconds[script] = round(time.monotonic() - begun, 1)
    total = round(time.monotonic() - started, 1)
    record = {"date": time.strftime("%Y-%m-%d"), "total_seconds": total, "scripts": seconds}
    (HERE / "results" / "run.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"make bench took {total / 60:.1f} minutes", flush=True)
