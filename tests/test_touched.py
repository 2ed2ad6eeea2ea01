"""Which contracts a commit touched: every changed contract is covered, upkeep touches none.

The model: a table is files of rows ``(contract_id, contract_key or None, version,
status)``; a commit removes files and adds others (new rows, rows carried over from the
removed files, or — for upkeep — the same rows regrouped), and the log entry carries
statistics the way delta-rs or Spark writes them (truncated strings), or none.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dc43_delta_store.core.records import contract_key
from dc43_delta_store.feed.touched import EVERYTHING, NOTHING, Touched, touched_by, union

Row = tuple[str, str | None, str, str]

LONG = "x" * 70
STYLES = ["delta-rs", "spark", "prefix", "none"]
IDS = ["a", "a.b", "b", "sales.orders", "zz", LONG + "1", LONG + "2", "x" * 31 + "y"]


def row(
    contract_id: str, version: str = "1.0.0", status: str = "active", keyed: bool = True
) -> Row:
    return (contract_id, contract_key(contract_id) if keyed else None, version, status)


def _truncate(low: str, high: str, style: str) -> tuple[str, str]:
    """Statistics as writers truncate them: delta-rs at 64 characters (maximum's last
    character incremented), Spark at 32 (maximum followed by a tie-breaker), a careless
    writer at 32 (both cut, so the maximum is only a prefix of the largest id)."""
    if style == "delta-rs" and len(high) > 64:
        high = high[:63] + chr(ord(high[63]) + 1)
    if style == "delta-rs":
        low = low[:64]
    if style == "spark":
        low = low[:32]
        if len(high) > 32:
            high = high[:32] + "\uffff"
    if style == "prefix":
        low, high = low[:32], high[:32]
    return low, high


def stats(rows: list[Row], style: str) -> str | None:
    if style == "none":
        return None
    ids = [r[0] for r in rows]
    keys = [r[1] for r in rows if r[1] is not None]
    low, high = _truncate(min(ids), max(ids), style) if ids else (None, None)
    result: dict[str, Any] = {
        "numRecords": len(rows),
        "minValues": {"contract_id": low},
        "maxValues": {"contract_id": high},
        "nullCount": {"contract_id": 0, "contract_key": len(rows) - len(keys)},
    }
    if keys:
        result["minValues"]["contract_key"] = min(keys)
        result["maxValues"]["contract_key"] = max(keys)
    return json.dumps(result)


@dataclass
class Table:
    files: dict[str, list[Row]]
    style: str

    def rows(self) -> Counter[Row]:
        return Counter(r for rows in self.files.values() for r in rows)

    def stats_of(self, path: str) -> Mapping[str, Any] | None:
        raw = stats(self.files[path], self.style) if path in self.files else None
        return None if raw is None else json.loads(raw)


rows_st = st.lists(
    st.builds(
        row,
        st.sampled_from(IDS),
        st.sampled_from(["1.0.0", "2.0.0"]),
        st.sampled_from(["active", "draft"]),
        st.booleans(),
    ),
    min_size=1,
    max_size=5,
)


@st.composite
def tables(draw: st.DrawFn) -> Table:
    files = draw(st.lists(rows_st, min_size=1, max_size=5))
    style = draw(st.sampled_from(STYLES))
    return Table({f"f{i}.parquet": rows for i, rows in enumerate(files)}, style)


@st.composite
def commits(draw: st.DrawFn) -> tuple[Table, list[dict[str, Any]], Table, bool]:
    """(before, actions, after, upkeep)."""
    before = draw(tables())
    removed = draw(st.lists(st.sampled_from(sorted(before.files)), unique=True, max_size=3))
    upkeep = draw(st.booleans())
    carried = [r for path in removed for r in before.files[path]]
    if upkeep:
        added = [carried] if carried else []
    else:
        kept = draw(st.lists(st.sampled_from(carried), max_size=len(carried))) if carried else []
        added = [kept + new for new in draw(st.lists(rows_st, max_size=2))]
    after = Table({p: r for p, r in before.files.items() if p not in removed}, before.style)
    style = draw(st.sampled_from(STYLES))
    remove_stats = draw(st.booleans())
    actions: list[dict[str, Any]] = [
        {"commitInfo": {"operation": "OPTIMIZE" if upkeep else "MERGE"}}
    ]
    for path in removed:
        body: dict[str, Any] = {"path": path, "dataChange": not upkeep, "size": 1}
        if remove_stats:
            body["stats"] = stats(before.files[path], style)
        actions.append({"remove": body})
    for number, rows in enumerate(added):
        path = f"new{number}.parquet"
        after.files[path] = rows
        actions.append(
            {"add": {"path": path, "dataChange": not upkeep, "stats": stats(rows, style)}}
        )
    return before, actions, after, upkeep


def changed(before: Table, after: Table) -> set[str]:
    difference = (before.rows() - after.rows()) + (after.rows() - before.rows())
    return {r[0] for r in difference}


@settings(max_examples=500)
@given(commits())
def test_every_changed_contract_is_covered(
    commit: tuple[Table, list[dict[str, Any]], Table, bool],
) -> None:
    before, actions, after, _ = commit
    touched = touched_by(actions, before.stats_of)
    for contract_id in changed(before, after):
        assert touched.covers(contract_id, contract_key(contract_id)), (contract_id, touched)
    if changed(before, after):
        assert touched.data


@given(commits())
def test_upkeep_touches_nothing(commit: tuple[Table, list[dict[str, Any]], Table, bool]) -> None:
    before, actions, after, upkeep = commit
    if upkeep:
        assert before.rows() == after.rows()
        assert touched_by(actions, lambda path: None) == NOTHING


@given(
    st.lists(st.sampled_from(IDS), min_size=1, max_size=4),
    st.sampled_from(["published", "metadata_update"]),
)
def test_the_stores_commits_touch_what_they_name(ids: list[str], kind: str) -> None:
    """A put or a metadata update names its rows; the other rows of a file it rewrote are
    carried over unchanged, so they are not touched (even without statistics)."""
    info: dict[str, Any] = {"dc43_delta_store": "0.1.0", "operation": "WRITE"}
    if kind == "published":
        info["published"] = [[i, "1.0.0", "fp"] for i in ids]
        named = set(ids)
    else:
        info["metadata_update"] = {"contract_id": ids[0], "version": "1.0.0", "values": {}}
        named = {ids[0]}
    actions = [
        {"commitInfo": info},
        {"remove": {"path": "old.parquet", "dataChange": True}},
        {"add": {"path": "new.parquet", "dataChange": True}},
    ]
    touched = touched_by(actions, lambda path: None)
    assert touched.ids == named and touched.data and not touched.everything
    others = [i for i in IDS if i not in named]
    assert not any(touched.covers(i, contract_key(i)) for i in others)


def test_one_contract_files_are_exact() -> None:
    """A file of one short id or one key touches that contract alone."""
    one = stats([row("sales.orders"), row("sales.orders", "2.0.0")], "delta-rs")
    touched = touched_by([{"add": {"path": "p", "dataChange": True, "stats": one}}], lambda p: None)
    assert touched.keys == {contract_key("sales.orders")} and not touched.ranged
    assert touched.covers("sales.orders", contract_key("sales.orders"))
    assert not touched.covers("sales.customers", contract_key("sales.customers"))


def test_what_cannot_be_attributed_forgets_everything() -> None:
    add = {"add": {"path": "p", "dataChange": True}}
    remove = {"remove": {"path": "gone", "dataChange": True}}
    for actions, known in [
        ([add], None),  # a foreign writer without statistics
        ([remove], None),  # a removed file the snapshot before does not know
        ([{"metaData": {"schemaString": "{}"}}], None),  # schema or properties
        ([{"protocol": {"minReaderVersion": 3}}], None),
        ([{"somethingNew": {}}], None),
        ([add, {"commitInfo": {"operation": "MERGE", "published": [["a", "1"]]}}], None),
    ]:
        assert touched_by(actions, lambda path, k=known: k).everything, actions
    unknown_stats = {"numRecords": 2, "minValues": {}, "maxValues": {}}
    assert touched_by([remove], lambda path: unknown_stats).everything


def test_the_snapshot_before_places_a_removed_file() -> None:
    known = json.loads(stats([row("a"), row("b")], "delta-rs") or "")
    touched = touched_by([{"remove": {"path": "f", "dataChange": True}}], {"f": known}.get)
    assert not touched.everything and touched.covers("a", contract_key("a"))


def test_union() -> None:
    one = Touched(data=True, ids=frozenset({"a"}))
    two = Touched(data=True, keys=frozenset({"k"}))
    assert union([one, two]) == Touched(data=True, ids=frozenset({"a"}), keys=frozenset({"k"}))
    assert union([one, EVERYTHING, two]).everything
    assert union([]) == NOTHING


def test_an_id_cut_at_the_truncation_length_stands_for_every_id_it_prefixes() -> None:
    """Spark and careless writers cut string statistics at 32 characters: a file of ids that
    share those 32 (rows without a key, so contract_id places them) has a minimum equal to
    its maximum, and that value is a prefix, not one id — every id it begins is touched."""
    rows = [row(LONG + "1", keyed=False), row(LONG + "2", keyed=False)]
    raw = stats(rows, "prefix")
    assert raw is not None and json.loads(raw)["minValues"]["contract_id"] == "x" * 32
    touched = touched_by(
        [{"add": {"path": "p", "dataChange": True, "stats": raw}}], lambda path: None
    )
    for contract_id in (LONG + "1", LONG + "2", "x" * 32):
        assert touched.covers(contract_id, contract_key(contract_id)), contract_id
    assert not touched.covers("sales.orders", contract_key("sales.orders"))
