"""`make bench`: every benchmark, one after the other (results in benchmarks/results/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = {
    "suite.py": [],
    "store_ops.py": [],
    "upkeep.py": [],
    "service.py": [],
    "diff_corpus.py": ["--out", str(HERE / "results" / "diff_corpus.json")],
    "consumers.py": [],
}

if __name__ == "__main__":
    for script, arguments in SCRIPTS.items():
        print(f"== {script}", flush=True)
        subprocess.run([sys.executable, str(HERE / script), *arguments], check=True)
