"""Library requests that used to fail with a raw error or a wrong answer: ``latest(explain=
True)`` as documented, ``commit_info`` keys the store or Delta write themselves, commit text
with Unicode line separators in the change feed, a ``history`` limit past Delta's versions,
a location that is not valid UTF-8."""

from __future__ import annotations

from pathlib import Path

import pytest
from deltalake import DeltaTable

from dc43_delta_store import DeltaContractStore, InvalidLocationError, InvalidRequestError
from dc43_delta_store.resolution.explain import Resolution
from dc43_delta_store.table.history import RESERVED_KEYS

from .conftest import minimal


def test_latest_explains_as_resolve_does(store: DeltaContractStore) -> None:
    for version, status in (("1.0.0", "active"), ("1.1.0", "draft"), ("2.0.0-rc.1", "active")):
        store.put(minimal(version=version, status=status))
    explained = store.latest("sales.orders", explain=True, status="active")
    assert isinstance(explained, Resolution)
    assert explained == store.resolve("sales.orders", explain=True, status="active")
    assert explained.chosen == "1.0.0" and explained.document == store.get("sales.orders", "1.0.0")
    verdicts = {c.version: c.verdict for c in explained.candidates}
    assert verdicts["1.1.0"] != "chosen" and verdicts["2.0.0-rc.1"] != "chosen"
    nothing = store.latest("sales.orders", explain=True, status="retired")
    assert nothing.chosen is None and nothing.document is None
    assert store.latest("sales.orders", explain=False) == store.latest("sales.orders")


@pytest.mark.parametrize(
    "key", ["operation", "timestamp", "readVersion", "userName", "published", "dc43_delta_store"]
)
def test_commit_info_keys_the_store_or_delta_write_are_refused_by_name(
    store: DeltaContractStore, key: str
) -> None:
    store.put(minimal())
    before = DeltaTable(store.location.uri).version()
    with pytest.raises(InvalidRequestError, match=f"commit_info '{key}' is Delta's or the store's"):
        store.put(minimal(version="1.1.0"), commit_info={key: "x"})
    with pytest.raises(InvalidRequestError, match=f"'{key}'"):
        store.put_many([minimal(version="1.2.0")], commit_info={key: "x"})
    assert DeltaTable(store.location.uri).version() == before
    assert store.list_versions("sales.orders") == ["1.0.0"]


def test_commit_info_names_who_and_why_for_their_delta_keys(store: DeltaContractStore) -> None:
    with pytest.raises(InvalidRequestError, match=r"\(pass who=\)"):
        store.put(minimal(), commit_info={"userName": "x"})
    with pytest.raises(InvalidRequestError, match=r"\(pass why=\)"):
        store.put(minimal(), commit_info={"userMetadata": "x"})
    assert "ingested_from" not in RESERVED_KEYS and "sources" not in RESERVED_KEYS  # ingest's
    store.put(minimal(), commit_info={"ticket": "GOV-1"})
    assert store.history(limit=1)[0].info["ticket"] == "GOV-1"


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])  # raw in JSON text
def test_commit_text_with_a_unicode_line_separator_keeps_the_feed_readable(
    store: DeltaContractStore, separator: str
) -> None:
    # the log is JSON lines split at "\n" only; str.splitlines() also split at these (JSON
    # escapes the C0 ones, not these)
    store.put(minimal(), who=f"a{separator}b", why=f"c{separator}d")
    store.update_metadata("sales.orders", "1.0.0", {"status": f"e{separator}f"})
    events = store.changes().events
    assert [(e.kind, e.who) for e in events][:1] == [("published", f"a{separator}b")]
    assert dict(events[1].values or {}) == {"status": f"e{separator}f"}


def test_a_history_limit_past_deltas_versions_is_refused(store: DeltaContractStore) -> None:
    store.put(minimal())
    assert len(store.history(limit=2**63 - 1)) == 2
    with pytest.raises(InvalidRequestError, match="limit must be a whole number"):
        store.history(limit=10**23)


@pytest.mark.parametrize("option", ["path", "warehouse"])
def test_a_location_that_is_not_valid_utf8_is_refused_by_name(tmp_path: Path, option: str) -> None:
    # a file name in another encoding reaches Python as an unpaired surrogate ("\udcff")
    where = str(tmp_path / "t\udcff")
    options = {"path": where} if option == "path" else {"table": "a.b.c", "warehouse": where}
    with pytest.raises(InvalidLocationError, match=f"the {option} '.*' is not valid UTF-8"):
        DeltaContractStore(**options).put(minimal())
    assert list(tmp_path.iterdir()) == []
