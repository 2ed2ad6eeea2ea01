"""The README's quickstart runs as written and prints what its comments say."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_first_screen_gives_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:20])
    assert "make demo" in first_screen and "make test" in first_screen


def test_quickstart_runs_and_prints_what_the_comments_promise(tmp_path: Path) -> None:
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)  # type: ignore[union-attr]
    expected = [
        line.split("#", 1)[1].strip()
        for line in code.splitlines()
        if line.startswith("print(") and "#" in line
    ]
    env = dict(os.environ, DC43_DELTA_STORE_WAREHOUSE=str(tmp_path))
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert run.stdout.splitlines() == expected
    assert (tmp_path / "governance" / "meta" / "contracts" / "_delta_log").is_dir()
