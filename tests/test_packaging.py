"""``python -m build`` makes an sdist and a wheel that install and run: the way to install
the store where no package index has it (the README's CI example)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_and_sdist_build_install_and_run(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    assert "dc43_delta_store/py.typed" in names
    assert any(n.endswith("odcs-json-schema-v3.1.0.json") for n in names)
    packages = {n.rsplit("/", 1)[0] for n in names if n.endswith("__init__.py")}
    in_tree = {
        str(p.parent.relative_to(ROOT)) for p in (ROOT / "dc43_delta_store").rglob("__init__.py")
    }
    assert packages == in_tree  # no subpackage left out of the wheel
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    assert any(m.endswith("/README.md") for m in members)
    assert any(m.endswith("/pyproject.toml") for m in members)

    # the wheel, alone on the path (its dependencies are this environment's)
    target = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    env = {**os.environ, "PYTHONPATH": str(target)}
    table = str(tmp_path / "table")
    example = str(ROOT / "examples" / "contracts" / "sales" / "orders-1.0.0.odcs.yaml")
    for arguments, expected in (
        (["put", example], "inserted"),
        (["latest", "sales.orders", "--json"], '"version": "1.0.0"'),
        (["sql", "SELECT contract_id FROM contracts_latest"], "sales.orders"),
    ):
        ran = subprocess.run(
            [sys.executable, "-m", "dc43_delta_store", "--path", table, *arguments],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=tmp_path,
        )
        assert ran.returncode == 0, ran.stderr
        assert expected in ran.stdout
    where = subprocess.run(
        [sys.executable, "-c", "import dc43_delta_store; print(dc43_delta_store.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert where.stdout.startswith(str(target))  # the installed copy ran, not this checkout
