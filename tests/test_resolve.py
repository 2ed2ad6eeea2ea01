"""resolve(): ranges and filters on a real table, explanations, latest() as resolve without a
range, and as_of after log cleanup and vacuum removed the history it refers to."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from deltalake import DeltaTable

from dc43_delta_store import DeltaContractStore, InvalidRequestError, Resolution

from .conftest import minimal

VERSIONS = [
    ("0.3.1", "active"),
    ("0.4.0", "active"),
    ("1.0.0", "active"),
    ("1.1.0", "active"),
    ("1.2.0-rc.1", "active"),
    ("1.3.0", "draft"),
    ("2.0.0", "active"),
    ("2024-01-01", "active"),
]


@pytest.fixture
def orders(store: DeltaContractStore) -> DeltaContractStore:
    store.put_many([minimal("sales.orders", v, status=s) for v, s in VERSIONS])
    store.put(minimal("other", "9.9.9"))
    return store


def chosen(found: dict | None) -> str | None:
    return None if found is None else found["version"]


@pytest.mark.parametrize(
    ("spec", "filters", "expected"),
    [
        (None, {}, "2.0.0"),
        ("^1", {}, "1.3.0"),
        ("^1", {"status": "active"}, "1.1.0"),
        ("~1.2", {}, None),  # 1.2.0-rc.1 only: a prerelease the range does not name
        ("~1.0", {}, "1.0.0"),
        ("1.x", {"status": ["active", "draft"]}, "1.3.0"),
        (">=0.4,<1.1", {}, "1.0.0"),
        ("^0.3", {}, "0.3.1"),
        ("0.4.0", {}, "0.4.0"),
        ("<1 || >=2", {}, "2.0.0"),
        ("^3", {}, None),
        ("1.2.0-rc.1", {}, "1.2.0-rc.1"),
    ],
)
def test_resolve_picks_the_highest_version_in_the_range_passing_the_filters(
    orders: DeltaContractStore, spec: str | None, filters: dict, expected: str | None
) -> None:
    assert chosen(orders.resolve("sales.orders", spec, **filters)) == expected
    explained = orders.resolve("sales.orders", spec, explain=True, **filters)
    assert explained.chosen == expected
    assert chosen(explained.document) == expected


def test_latest_is_resolve_without_a_range(orders: DeltaContractStore) -> None:
    for filters in ({}, {"status": "active"}, {"status": "draft"}, {"status": "nope"}):
        for include in (False, True):
            latest = orders.latest("sales.orders", include_prereleases=include, **filters)
            resolved = orders.resolve("sales.orders", include_prereleases=include, **filters)
            assert latest == resolved
    assert chosen(orders.latest("sales.orders", include_prereleases=True)) == "2.0.0"
    assert chosen(orders.latest("sales.orders", status="draft")) == "1.3.0"


def test_an_explanation_judges_every_version_highest_first(orders: DeltaContractStore) -> None:
    found = orders.resolve("sales.orders", "^1", status="active", explain=True)
    assert isinstance(found, Resolution)
    verdicts = {c.version: (c.verdict, c.reasons) for c in found.candidates}
    assert [c.version for c in found.candidates] == [
        "2.0.0",
        "1.3.0",
        "1.2.0-rc.1",
        "1.1.0",
        "1.0.0",
        "0.4.0",
        "0.3.1",
        "2024-01-01",
    ]
    assert verdicts["1.1.0"] == ("chosen", ())
    assert verdicts["1.0.0"] == ("outranked", ("outranked: 1.1.0 is higher",))
    assert verdicts["1.3.0"] == ("skipped", ("status: 'draft', wanted 'active'",))
    assert verdicts["2.0.0"] == ("skipped", ("range: outside '^1' (>=1.0.0 <2.0.0-0)",))
    assert verdicts["1.2.0-rc.1"][1][0].startswith("prerelease: '^1' names no prerelease")
    assert verdicts["2024-01-01"][1][0].startswith("range: '2024-01-01' is not a SemVer")
    assert found.candidates[1].metadata == {"status": "draft"}
    assert not found.approximate and found.notes == ()


def test_a_version_published_after_as_of_is_named_with_its_time(
    store: DeltaContractStore,
) -> None:
    store.put(minimal("sales.orders", "1.0.0"))
    before = store.table_version
    store.put(minimal("sales.orders", "1.1.0"))
    found = store.resolve("sales.orders", as_of=before, explain=True)
    assert found.chosen == "1.0.0"
    (later,) = [c for c in found.candidates if c.version == "1.1.0"]
    assert later.verdict == "skipped"
    assert later.reasons[0].startswith("as_of: published 20")
    assert later.reasons[0].endswith(f"after table version {before}")


def test_nothing_matches_and_bad_specs(orders: DeltaContractStore) -> None:
    nothing = orders.resolve("sales.orders", "^7", explain=True)
    assert nothing.chosen is None and nothing.document is None
    assert {c.verdict for c in nothing.candidates} == {"skipped"}
    assert orders.resolve("missing", "^1", explain=True).candidates == ()
    with pytest.raises(InvalidRequestError, match=r"version range '\^1\.\^2' is not valid"):
        orders.resolve("sales.orders", "^1.^2")
    with pytest.raises(InvalidRequestError, match="unknown filter column 'owner'"):
        orders.resolve("sales.orders", "^1", explain=True, owner="x")


def test_answers_are_remembered_per_table_version(store: DeltaContractStore) -> None:
    store.put(minimal("sales.orders", "1.0.0"))
    first = store.resolve("sales.orders", "^1", explain=True)
    again = store.resolve("sales.orders", "^1", explain=True)
    assert first == again and first.document is not again.document  # callers get copies
    store.put(minimal("sales.orders", "1.5.0"))
    assert store.resolve("sales.orders", "^1", explain=True).chosen == "1.5.0"


# -- as_of beyond the retained history -------------------------------------------------------


def shorten_retention(path: Path, **properties: str) -> None:
    DeltaTable(str(path)).alter.set_table_properties(properties)


def history_setup(store: DeltaContractStore) -> datetime:
    """1.0.0 active, 1.1.0 draft; the time T; then 1.1.0 approved and 1.2.0 published."""
    store.put(minimal("sales.orders", "1.0.0"))
    store.put(minimal("sales.orders", "1.1.0", status="draft"))
    time.sleep(0.05)
    moment = datetime.now(UTC)
    time.sleep(0.05)
    store.update_metadata("sales.orders", "1.1.0", {"status": "active"})
    store.put(minimal("sales.orders", "1.2.0"))
    return moment


def test_as_of_a_time_before_the_cleaned_log_answers_from_created_at(tmp_path: Path) -> None:
    path = tmp_path / "contracts"
    store = DeltaContractStore(path=path, validation="off", auto_compact=None)
    moment = history_setup(store)
    assert chosen(store.latest("sales.orders", status="active", as_of=moment)) == "1.0.0"
    shorten_retention(path, **{"delta.logRetentionDuration": "interval 1 second"})
    time.sleep(1.2)
    store.optimize()  # checkpoint, then log cleanup: the commits around `moment` are gone
    assert not (path / "_delta_log" / f"{0:020d}.json").exists()

    # Which versions existed follows from created_at: 1.2.0 did not.
    plain = store.latest("sales.orders", as_of=moment)
    assert chosen(plain) == "1.1.0"
    explained = store.resolve("sales.orders", as_of=moment, explain=True)
    assert explained.chosen == "1.1.0" and not explained.approximate
    assert "has been cleaned up" in explained.notes[0]
    (later,) = [c for c in explained.candidates if c.version == "1.2.0"]
    assert later.reasons[0].startswith("as_of: published")

    # With a status filter the answer uses today's status, and says so.
    found = store.resolve("sales.orders", as_of=moment.isoformat(), status="active", explain=True)
    assert found.chosen == "1.1.0" and found.approximate
    assert "metadata is as it is now" in found.notes[0]
    assert chosen(store.latest("sales.orders", status="draft", as_of=moment)) is None

    # A table version number never falls back.
    with pytest.raises(InvalidRequestError):
        store.latest("sales.orders", as_of=1)


def test_as_of_a_time_whose_data_files_were_vacuumed(tmp_path: Path) -> None:
    path = tmp_path / "contracts"
    store = DeltaContractStore(path=path, validation="off", auto_compact=None)
    store.put(minimal("other", "1.0.0"))  # creates the table
    shorten_retention(path, **{"delta.deletedFileRetentionDuration": "interval 1 second"})
    moment = history_setup(store)
    store.optimize()
    time.sleep(1.2)
    assert store.vacuum(dry_run=False).files
    found = store.resolve("sales.orders", status="active", as_of=moment, explain=True)
    assert found.chosen == "1.1.0" and found.approximate
    assert "were deleted by vacuum" in found.notes[0]
    assert chosen(store.latest("sales.orders", as_of=moment)) == "1.1.0"


def test_as_of_before_the_table_existed_finds_nothing(tmp_path: Path) -> None:
    before = datetime.now(UTC)
    time.sleep(0.05)
    store = DeltaContractStore(path=tmp_path / "contracts", validation="off")
    store.put(minimal("sales.orders", "1.0.0"))
    found = store.resolve("sales.orders", as_of=before, explain=True)
    assert found.chosen is None and not found.approximate
    assert found.notes == (f"the table did not exist yet at {before.isoformat()}",)
    assert store.latest("sales.orders", as_of=before) is None


def test_a_foreign_table_without_created_at_is_explained_too(tmp_path: Path) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    path = tmp_path / "foreign"
    rows = pa.table(
        {
            "contract_id": ["sales.orders"] * 2,
            "version": ["1.0.0", "1.1.0"],
            "json": [
                '{"id": "sales.orders", "version": "1.0.0"}',
                '{"id": "sales.orders", "version": "1.1.0"}',
            ],
            "fingerprint": ["a", "b"],
        }
    )
    write_deltalake(str(path), rows)
    store = DeltaContractStore(path=path)
    found = store.resolve("sales.orders", "~1.0", explain=True)
    assert found.chosen == "1.0.0" and found.candidates[0].created_at is None
    assert found.document == {"id": "sales.orders", "version": "1.0.0"}
