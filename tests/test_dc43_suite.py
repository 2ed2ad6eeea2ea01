"""dc43 0.42's own contract-store tests, taken from its sdist at test time, pass on the adapter.

The sdist is downloaded once into ``.tools/dc43-sdist`` (nothing of it is copied into this
repository), its store tests run in a child pytest with ``dc43_suite_plugin`` swapping every
dc43 store for ``Dc43ContractStore``, and every test must pass except the few that check
behaviour this store changes on purpose (``DIFFERENCES``), which must fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
from deltalake import DeltaTable

from dc43_delta_store import Dc43ContractStore

from .conftest import ROOT, skip_unless_ci
from .dc43_suite_plugin import DIFFERENCES
from .test_dc43_compat import dc43_contract

DC43 = "dc43-service-backends==0.42.0.0"
SDIST = "dc43_service_backends-0.42.0.0.tar.gz"
CACHE = ROOT / ".tools" / "dc43-sdist"
SUITE = (  # every test file of the sdist that builds a contract store
    "test_contract_store_sql.py",
    "test_contracts_delta_store.py",
    "test_governance_backend.py",
    "test_local_contract_backend.py",
)


def dc43_sdist() -> Path:
    """The sdist, downloaded on first use; skips without a registry (fails under CI=true)."""
    target = CACHE / SDIST
    if target.exists():
        return target
    command = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps"]
    try:
        done = subprocess.run(
            [*command, "--disable-pip-version-check", "-q", "-d", str(CACHE), DC43],
            capture_output=True,
            text=True,
            timeout=600,
        )
        problem = None if done.returncode == 0 else done.stderr.strip()[-500:]
    except subprocess.TimeoutExpired:
        problem = "pip download timed out after 600 s"
    if problem or not target.exists():
        skip_unless_ci(f"cannot download the {DC43} sdist for dc43's own tests: {problem}")
    return target


@dataclass
class Run:
    outcomes: dict[str, str]  # {"file.py::test": "passed" | "failed" | "xfailed" | "skipped"}
    output: str
    tables: int  # Delta tables the adapter wrote during the run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """dc43's store tests, run in a child pytest with the plugin."""
    work = tmp_path_factory.mktemp("dc43-suite")
    wanted = [f"dc43_service_backends-0.42.0.0/tests/{name}" for name in SUITE]
    with tarfile.open(dc43_sdist()) as sdist:
        sdist.extractall(work, members=[sdist.getmember(n) for n in wanted], filter="data")
    tests = work / "dc43_service_backends-0.42.0.0" / "tests"
    (tests / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # not ours
    report = work / "report.xml"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    options = ["-c", str(tests / "pytest.ini"), "--rootdir", str(tests), "-q", "-rfEX"]
    options += ["-p", "tests.dc43_suite_plugin", "-p", "no:cacheprovider"]
    options += [f"--basetemp={work / 'tmp'}", f"--junitxml={report}"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(tests), *options],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=1200,
    )
    assert report.exists(), done.stdout + done.stderr
    found = {}
    for case in ElementTree.parse(report).iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}.py::{case.get('name')}"
        kinds = {child.tag: child.get("type", "") for child in case}
        if "failure" in kinds or "error" in kinds:
            found[name] = "failed"
        elif "skipped" in kinds:
            found[name] = "xfailed" if kinds["skipped"] == "pytest.xfail" else "skipped"
        else:
            found[name] = "passed"
    tables = len(list((work / "tmp").rglob("contracts.delta/_delta_log")))
    return Run(found, done.stdout[-4000:] + done.stderr[-2000:], tables)


def test_dc43s_own_store_tests_pass_on_the_adapter(run: Run) -> None:
    failed = sorted(name for name, outcome in run.outcomes.items() if outcome != "passed")
    assert set(failed) == set(DIFFERENCES), run.output
    assert all(run.outcomes[name] == "xfailed" for name in DIFFERENCES), run.output
    assert len(run.outcomes) >= 23, run.output  # 21 pass, 2 differ (dc43's own stores: 23)
    assert run.tables >= 20, "the tests did not run on the adapter's Delta tables"


def test_the_serialised_contract_dc43s_sql_test_reads_is_in_the_delta_table(tmp_path: Path) -> None:
    # test_sql_contract_store_serialises_contract, against the table the adapter writes
    Dc43ContractStore(path=tmp_path / "t").put(dc43_contract("1.0.0"))
    table = DeltaTable(str(tmp_path / "t")).to_pyarrow_table(
        filters=[("contract_id", "=", "sales.orders"), ("version", "=", "1.0.0")]
    )
    decoded = json.loads(table.column("json")[0].as_py())
    assert decoded["id"] == "sales.orders" and decoded["version"] == "1.0.0"
