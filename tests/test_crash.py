"""SIGKILL a writer at random moments, 50 times (DC43_CRASH_KILLS, DC43_CRASH_SEED)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dc43_delta_store import DeltaContractStore

from .crash import run


@pytest.mark.slow
def test_killed_writers_never_need_a_repair(tmp_path: Path) -> None:
    kills = int(os.environ.get("DC43_CRASH_KILLS", 50))
    seed = int(os.environ.get("DC43_CRASH_SEED", 0))
    report = run(tmp_path / "crash", kills, seed, max_delay=0.6)
    print(f"\ncrash (seed {seed}): {report.summary()}")
    assert report.kills == kills >= 1
    assert report.violations == [] and report.duplicates == 0
    assert report.acknowledged > kills  # the children got work done between kills
    # and the table takes new writes with no repair step
    store = DeltaContractStore(path=tmp_path / "crash", validation="off")
    assert store.put({"id": "after.crash", "version": "1.0.0"}).inserted
    assert store.latest("after.crash") == {"id": "after.crash", "version": "1.0.0"}
