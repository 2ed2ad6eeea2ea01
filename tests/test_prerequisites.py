"""What the tests need and do not find: on a user's machine a skip saying why, in CI
(``CI=true``) a failure — the shared corpus, Azurite, git, test dependencies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from . import conftest
from .conftest import ROOT, need, require_corpus, skip_unless_ci


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_missing_prerequisite_fails_in_ci(
    ci: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(conftest, "CORPUS", tmp_path / "nowhere")
    with pytest.raises(pytest.fail.Exception, match="CI=true: the shared ODCS corpus is not at"):
        require_corpus()
    with pytest.raises(pytest.fail.Exception, match="CI=true: no_such_module is not installed"):
        need("no_such_module")


def test_a_missing_prerequisite_skips_saying_why_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(conftest, "CORPUS", tmp_path / "nowhere")
    with pytest.raises(pytest.skip.Exception, match=r"corpus is not at .*nowhere.*DC43_SHARED"):
        require_corpus()
    with pytest.raises(pytest.skip.Exception, match="`make test` installs the test extra"):
        need("no_such_module")


@pytest.mark.parametrize("ci", [None, "true"])
def test_a_failed_azurite_install_fails_make_test_in_ci_only(
    ci: str | None, tmp_path: Path
) -> None:
    if shutil.which("make") is None:
        skip_unless_ci("make is not installed")
    # the Makefile's install step, with an npm that fails (as without a registry)
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / ".test").touch()
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    (fake / "npm").write_text("#!/bin/sh\necho 'npm ERR! network unreachable'\nexit 1\n")
    (fake / "npm").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = f"{fake}:{env['PATH']}"
    if ci is not None:
        env["CI"] = ci
    target = ".tools/azurite/node_modules/azurite/dist/src/blob/main.js"
    done = subprocess.run(
        ["make", "-s", f"VENV={venv}", target],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "npm ERR! network unreachable" in done.stdout
    if ci is None:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "warning: Azurite not installed; Azure tests will be skipped" in done.stdout
    else:
        assert done.returncode != 0
        assert "error: Azurite not installed (CI=true" in done.stdout
