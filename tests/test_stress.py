"""8 writer processes and 2 readers on one table (sizes and seed: DC43_STRESS_* variables)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .stress import Config, run


@pytest.mark.slow
def test_many_writers_lose_nothing_and_readers_see_no_partial_state(tmp_path: Path) -> None:
    config = Config(
        processes=int(os.environ.get("DC43_STRESS_PROCESSES", 8)),
        puts=int(os.environ.get("DC43_STRESS_PUTS", 50)),
        readers=int(os.environ.get("DC43_STRESS_READERS", 2)),
        seed=int(os.environ.get("DC43_STRESS_SEED", 0)),
    )
    report = run(tmp_path / "stress", config)
    print(f"\nstress {config}: {report.summary()}")
    # per key, whatever the busy outcome: each key inserted once if stored, never if not;
    # each writer of a shared key inserted it, saw it there, or gave up busy
    assert report.violations == []
    assert report.read_errors == [] and report.reads > 0
    assert report.duplicates == 0
    assert report.rows == 1 + report.inserted  # the seed, and every acknowledged insert
    assert report.inserted + report.unchanged + report.conflicts + report.busy == (
        config.processes * config.puts
    )
    # Only writers of the same key conflict, and a loser re-reads and sees it: nobody loses 12
    # commits in a row. Busy errors here mean writers of different keys conflict.
    assert report.busy == 0
    shared = config.puts // 2
    assert report.inserted == shared + config.processes * (config.puts - shared)
    identical = (shared + 1) // 2
    assert report.unchanged == identical * (config.processes - 1)
    assert report.conflicts == (shared - identical) * (config.processes - 1)
