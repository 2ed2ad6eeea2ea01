"""Every query of the issue that crashed, hung or exhausted a process is stopped with a typed
error, and the caller goes on — through the library and through the CLI.

Each run is a child process with a memory limit (``RLIMIT_AS``) and a timeout, so a
regression fails this test instead of taking the machine down.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from dc43_delta_store import DeltaContractStore
from dc43_delta_store.cli import EXIT_CODES

from .conftest import minimal
from .sql_bombs import FORMS, MAX_MEMORY, TIMEOUT

ROOT = Path(__file__).parent.parent
CHILD_MEMORY = 8 * 1024**3  # the child's address space; its SQL worker gets much less
WORKER_START = 15.0  # seconds a (re)started worker may take on a loaded machine


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))


def child(arguments: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limited,
    )


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("bombs") / "contracts"
    store = DeltaContractStore(path=path, validation="off")
    store.put_many([minimal(f"bombs.c{n:03d}") for n in range(200)])
    return str(path)


def test_the_library_stops_every_form_and_goes_on(table: str) -> None:
    code = f"from tests.sql_bombs import run_forms; run_forms({table!r})"
    done = child(["-c", code], timeout=len(FORMS) * (TIMEOUT + WORKER_START) + 60)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    outcomes = {line["form"]: line for line in lines}
    for name, _, stops in FORMS:
        outcome = outcomes[name]
        assert outcome["error"] in ("QueryLimitError", "InvalidRequestError"), outcome
        assert outcome["limit"] in stops, outcome
        assert outcome["message"].startswith("store.sql"), outcome
        if outcome["limit"] != "refused":
            assert f"limit '{outcome['limit']}'" in outcome["message"], outcome
        if outcome["limit"] == "timeout":
            assert outcome["seconds"] < TIMEOUT + WORKER_START, outcome
    assert outcomes["after"]["rows"] == 200  # a new worker answers after the killed ones


@pytest.mark.parametrize(("name", "query", "stops"), FORMS, ids=[form[0] for form in FORMS])
def test_the_cli_stops_every_form_in_one_line(
    table: str, name: str, query: str, stops: set[str]
) -> None:
    arguments = ["-m", "dc43_delta_store", "--path", table, "sql", query]
    arguments += ["--timeout", str(TIMEOUT), "--max-memory", str(MAX_MEMORY)]
    done = child(arguments, timeout=TIMEOUT + 2 * WORKER_START + 30)
    assert done.returncode == EXIT_CODES["usage"], (done.returncode, done.stderr[-2000:])
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: store.sql"), done.stderr[-2000:]
    assert any(
        (f"limit '{stop}'" if stop != "refused" else "refused") in lines[0] for stop in stops
    ), lines[0]
