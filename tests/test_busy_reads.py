"""Writers publish and update while a long-lived reader answers from memory: every answer is
the table's at the version it was given at (larger runs: ``python -m tests.busy_reads``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .busy_reads import Config, run


@pytest.mark.slow
def test_remembered_answers_are_the_tables_while_others_write(tmp_path: Path) -> None:
    config = Config(
        size=int(os.environ.get("DC43_BUSY_SIZE", 30)),
        seed=int(os.environ.get("DC43_BUSY_SEED", 0)),
    )
    report = run(tmp_path / "busy", config)
    print(f"\nbusy reads {config}: {report.summary()}")
    assert report.errors == []
    assert report.mismatches == []
    assert report.writes > config.size and report.checked > 100
    assert report.hits > 20  # answers given from memory across commits were checked too
