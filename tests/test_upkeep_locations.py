"""Upkeep where no table is: one typed error, and nothing created (no table, no lock);
the first upkeep of an object-store table raced by two processes: busy or done."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from dc43_delta_store import (
    DeltaContractStore,
    InvalidLocationError,
    TableBusyError,
    TableNotFoundError,
)

from .conftest import minimal
from .servers import MotoS3

UPKEEP = {
    "optimize": lambda store: store.optimize(),
    "vacuum": lambda store: store.vacuum(dry_run=False, retention_hours=200),
    "vacuum --dry-run": lambda store: store.vacuum(),
    "adopt": lambda store: store.adopt(dry_run=False),
    "adopt --dry-run": lambda store: store.adopt(),
}
CLI = {
    "optimize": ["optimize"],
    "vacuum": ["vacuum", "--apply"],
    "vacuum --dry-run": ["vacuum"],
    "adopt": ["adopt", "--apply"],
    "adopt --dry-run": ["adopt"],
}


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("operation", UPKEEP)
@pytest.mark.parametrize("where", ["missing", "empty"])
def test_upkeep_without_a_table_raises_and_creates_nothing(
    tmp_path: Path, operation: str, where: str
) -> None:
    table = tmp_path / "t"
    if where == "empty":
        table.mkdir()
    with pytest.raises(TableNotFoundError) as caught:
        UPKEEP[operation](DeltaContractStore(path=table))
    assert str(table) in str(caught.value)
    assert listing(tmp_path) == ([] if where == "missing" else ["t"])
    # a later put into the same folder is not blocked by anything upkeep left
    assert DeltaContractStore(path=table).put(minimal()).outcome == "inserted"


@pytest.mark.parametrize("operation", UPKEEP)
def test_upkeep_on_a_folder_of_other_files_is_refused_untouched(
    tmp_path: Path, operation: str
) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "notes.txt").write_text("not a table")
    with pytest.raises(InvalidLocationError, match="no _delta_log"):
        UPKEEP[operation](DeltaContractStore(path=tmp_path / "t"))
    assert listing(tmp_path) == ["t", "t/notes.txt"]


@pytest.mark.parametrize("operation", CLI)
def test_cli_upkeep_on_an_empty_folder_exits_3_with_one_line(
    tmp_path: Path, operation: str
) -> None:
    (tmp_path / "t").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "dc43_delta_store", "--path", str(tmp_path / "t"), *CLI[operation]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith(f"error: no table at {tmp_path / 't'}")
    assert len(done.stderr.strip().splitlines()) == 1
    assert listing(tmp_path) == ["t"]


def test_upkeep_on_a_missing_s3_prefix_creates_no_object(moto_s3: MotoS3) -> None:
    bucket = moto_s3.bucket()
    for operation in UPKEEP.values():
        store = DeltaContractStore(path=f"s3://{bucket}/t", storage_options=moto_s3.options())
        with pytest.raises(TableNotFoundError):
            operation(store)
    assert objects(moto_s3, bucket) == []


def objects(s3: MotoS3, bucket: str) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        region_name="us-east-1",
    )
    return [item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def _first_optimize(uri: str, options: dict[str, str], start: Any, results: Any) -> None:
    store = DeltaContractStore(path=uri, storage_options=options)
    start.wait(timeout=120)
    try:
        store.optimize()
        results.put("done")
    except TableBusyError:
        results.put("busy")
    except Exception as exc:
        results.put(f"{type(exc).__module__}.{type(exc).__name__}: {exc}")


@pytest.mark.slow
def test_processes_racing_the_first_optimize_on_s3_are_busy_or_done(moto_s3: MotoS3) -> None:
    """The lease table is created by the first upkeep: racing creators once leaked a raw
    deltalake CommitFailedError."""
    ctx = mp.get_context("spawn")
    outcomes = []
    for _ in range(3):
        uri = f"s3://{moto_s3.bucket()}/t"
        DeltaContractStore(path=uri, storage_options=moto_s3.options()).put(minimal())
        start, results = ctx.Barrier(3), ctx.Queue()
        workers = [
            ctx.Process(target=_first_optimize, args=(uri, moto_s3.options(), start, results))
            for _ in range(3)
        ]
        for worker in workers:
            worker.start()
        outcomes += [results.get(timeout=180) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
    assert set(outcomes) <= {"done", "busy"}, outcomes
    assert "done" in outcomes
