"""put_many: one commit for every new version, or nothing, with every problem reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from deltalake import DeltaTable

from dc43_delta_store import (
    BatchError,
    DeltaContractStore,
    InvalidContractError,
    VersionConflictError,
)

from .conftest import EXAMPLES, minimal


def version_of(store: DeltaContractStore) -> int:
    return DeltaTable(store.location.uri).version()


def test_a_folder_goes_in_one_commit_and_a_rerun_changes_nothing(store: DeltaContractStore) -> None:
    files = sorted(EXAMPLES.rglob("*.odcs.*"))
    first = store.put_many(files, commit_info={"source": "git@abc123"})
    assert (first.inserted, first.unchanged, first.problems) == (len(files), 0, ())
    assert [r.source for r in first.results] == [str(f) for f in files]
    dt = DeltaTable(store.location.uri)
    assert dt.version() == 1  # table creation, then one commit
    info = dt.history(1)[0]
    assert info["source"] == "git@abc123" and info["contract_count"] == len(files)
    assert "sales.orders@1.0.0" in info["contracts"]
    again = store.put_many(files)
    assert (again.inserted, again.unchanged) == (0, len(files))
    assert version_of(store) == 1


def test_one_bad_item_refuses_the_batch_and_every_problem_is_listed(
    store: DeltaContractStore, tmp_path: Path
) -> None:
    store.put(minimal(version="1.0.0"))
    before = version_of(store)
    missing = tmp_path / "missing.yaml"
    items = [
        minimal(version="2.0.0"),
        minimal(version="1.0.0", status="retired"),  # conflicts with the stored 1.0.0
        {"id": "no.version"},
        missing,
        minimal("other", "1.0.0"),
    ]
    with pytest.raises(BatchError) as caught:
        store.put_many(items)
    problems = caught.value.problems
    assert [p.index for p in problems] == [1, 2, 3]
    assert isinstance(problems[0].error, VersionConflictError)
    assert isinstance(problems[1].error, InvalidContractError)
    assert problems[2].source == str(missing)
    message = str(caught.value)
    assert "batch of 5 contracts refused, nothing written; 3 problem(s)" in message
    assert "[1] item 1: contract 'sales.orders' version '1.0.0' already exists" in message
    assert f"[3] {missing}: file does not exist" in message
    assert version_of(store) == before
    assert not store.exists("sales.orders", "2.0.0")


def test_skip_writes_the_good_items_and_reports_the_others(store: DeltaContractStore) -> None:
    store.put(minimal(version="1.0.0"))
    batch = store.put_many(
        [minimal(version="2.0.0"), minimal(version="1.0.0", status="x"), {"id": "a"}],
        on_error="skip",
    )
    assert [r.version for r in batch.results] == ["2.0.0"]
    assert [p.index for p in batch.problems] == [1, 2]
    assert store.list_versions("sales.orders") == ["1.0.0", "2.0.0"]


def test_repeats_inside_a_batch(store: DeltaContractStore) -> None:
    batch = store.put_many([minimal(), minimal(), minimal("b")])
    assert [r.outcome for r in batch.results] == ["inserted", "unchanged", "inserted"]
    assert store.list_versions("sales.orders") == ["1.0.0"]
    with pytest.raises(BatchError, match="appears in the batch with other content") as caught:
        store.put_many([minimal("c"), minimal("c", status="draft")])
    assert all(isinstance(p.error, VersionConflictError) for p in caught.value.problems)
    assert not store.exists("c")


def test_an_empty_batch_writes_nothing(store: DeltaContractStore) -> None:
    batch = store.put_many([])
    assert batch.results == () and batch.table_version is None
    assert not Path(store.location.uri).exists()


def test_a_dry_run_plans_reports_problems_and_writes_nothing(store: DeltaContractStore) -> None:
    store.put(minimal(version="1.0.0"))
    before = version_of(store)
    plan = store.put_many(
        [minimal(version="1.0.0"), minimal(version="2.0.0"), {"id": "no.version"}], dry_run=True
    )
    assert [(r.version, r.outcome) for r in plan.results] == [
        ("1.0.0", "unchanged"),
        ("2.0.0", "new"),
    ]
    assert [p.index for p in plan.problems] == [2]
    assert isinstance(plan.problems[0].error, InvalidContractError)
    assert plan.table_version == before
    assert version_of(store) == before
    assert store.list_versions("sales.orders") == ["1.0.0"]
