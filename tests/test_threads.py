"""One store object shared by threads behaves as separate processes would (nothing lost).

The sizes fit two cores; ``python -m tests.thread_stress`` runs bigger ones.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType

import pytest
from deltalake import DeltaTable

import dc43_delta_store
from dc43_delta_store import DeltaContractStore, VersionConflictError

from .conftest import Backend, minimal
from .thread_stress import ThreadConfig, run

SIZES = {"local": ThreadConfig(8, 12, 3, 8), "s3": ThreadConfig(8, 6, 2, 4)}


@pytest.mark.slow
def test_threads_sharing_one_store_lose_no_put_and_no_update(backend: Backend) -> None:
    config = SIZES.get(backend.name, SIZES["s3"])
    report = run(f"{backend.root}/threads", config, backend.options)
    print(f"\n{backend.name} {config}: {report.summary()}; updates {report.updates}")
    assert report.violations == [] and report.read_errors == []
    assert report.reads > 0 and report.duplicates == 0
    # each key inserted once if stored; each acknowledged put stored as written (checked
    # per key in report.violations); nothing stored that was not acknowledged
    assert report.rows == 3 + report.inserted
    assert report.inserted + report.unchanged + report.conflicts + report.busy == (
        config.threads * config.puts
    )
    assert report.updates > 0


def test_threads_putting_one_version_with_different_bodies_get_one_winner(
    tmp_path: Path,
) -> None:
    """The race that lost acknowledged writes: rounds of 8 threads on one store object,
    each putting the same version with its own body."""
    store = DeltaContractStore(path=tmp_path / "t", validation="off", auto_compact=None)
    store.put(minimal("race", "0.0.1"))
    for round_ in range(12):
        version = f"1.0.{round_}"
        barrier = threading.Barrier(8)

        def put(thread: int, version: str = version, barrier: threading.Barrier = barrier) -> str:
            barrier.wait()
            document = minimal("race", version, description={"usage": f"thread {thread}"})
            try:
                return store.put(document).outcome + f":{thread}"
            except VersionConflictError:
                return "conflict"

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(put, range(8)))
        winners = [o for o in outcomes if o.startswith("inserted")]
        assert len(winners) == 1, (version, outcomes)
        assert outcomes.count("conflict") == 7
        stored = DeltaContractStore(path=tmp_path / "t").get("race", version)
        assert stored["description"]["usage"] == f"thread {winners[0].split(':')[1]}"
    rows = DeltaTable(str(tmp_path / "t")).to_pyarrow_table()
    assert rows.num_rows == 13


def test_a_write_on_one_thread_is_seen_by_the_next_read_on_another(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    assert store.latest("seen") is None  # the reads' snapshot: before the table existed
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        worker = threading.Thread(target=store.put, args=(minimal("seen", version),))
        worker.start()
        worker.join()
        assert store.latest("seen")["version"] == version
        assert store.list_versions("seen")[-1] == version


IMMUTABLE = (str, int, float, bool, bytes, type(None), datetime, date, frozenset)


def mutable_parts(value: object, path: str = "value") -> list[tuple[str, object]]:
    """The containers in ``value`` a caller could change; a dataclass that is not frozen is
    reported as (path, None)."""
    if isinstance(value, (*IMMUTABLE, BaseException)):
        return []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if not type(value).__dataclass_params__.frozen:  # type: ignore[attr-defined]
            return [(f"{path}: {type(value).__name__} is not frozen", None)]
        return [
            part
            for field in dataclasses.fields(value)
            for part in mutable_parts(getattr(value, field.name), f"{path}.{field.name}")
        ]
    if isinstance(value, tuple):
        return [p for i, item in enumerate(value) for p in mutable_parts(item, f"{path}[{i}]")]
    items = value.items() if isinstance(value, Mapping) else enumerate(value)  # type: ignore[call-overload]
    inner = [p for k, v in items for p in mutable_parts(v, f"{path}[{k!r}]")]
    return inner if isinstance(value, MappingProxyType) else [(path, value), *inner]


def poison(container: object) -> None:
    if isinstance(container, dict):
        container["\0poisoned"] = True
    elif isinstance(container, list):
        container.append("\0poisoned")


def test_every_value_the_api_returns_is_frozen_or_the_callers_own(tmp_path: Path) -> None:
    """What the API returns is frozen; a mapping or list inside (a document, commit info) is
    a fresh copy per call, so one thread changing it cannot change another's answer."""
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.set_compatibility("full")
    store.put(minimal("v", "1.0.0"))
    store.put_many([minimal("v", "1.1.0"), minimal("v", "1.0.0", status="x")], on_error="skip")
    calls = {
        "put": lambda: store.put(minimal("v", "1.0.0")),
        "settings": store.compatibility_settings,
        "diff": lambda: store.diff("v@1.0.0", minimal("v", "2.0.0", schema=[{"name": "t"}])),
        "resolve": lambda: store.resolve("v", "^1", explain=True),
        "latest": lambda: store.latest("v"),
        "get": lambda: store.get("v", "1.0.0"),
        "changes": store.changes,
        "history": lambda: tuple(store.history()),
        "check": store.check,
        "vacuum": store.vacuum,
        "adopt": store.adopt,
    }
    for name, call in calls.items():
        first = mutable_parts(call(), name)
        assert [path for path, part in first if part is None] == []
        for _, part in first:
            poison(part)
        again = mutable_parts(call(), name)
        assert [path for path, part in again if "\0poisoned" in part] == [], name  # type: ignore[operator]
    public = [getattr(dc43_delta_store, name) for name in dc43_delta_store.__all__]
    value_types = [
        kind for kind in public if isinstance(kind, type) and dataclasses.is_dataclass(kind)
    ]
    assert all(kind.__dataclass_params__.frozen for kind in value_types)  # type: ignore[attr-defined]
    for documented in (dc43_delta_store, DeltaContractStore, dc43_delta_store.Dc43ContractStore):
        assert "threads" in (documented.__doc__ or "")
