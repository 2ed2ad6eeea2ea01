"""Properties of the diff and the gate on generated document pairs: the diff never crashes
and never rates a pair lower for one more breaking change, and the gate's verdict on a real
table is the diff's, in every mode, on both sides of a stored version."""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dc43_delta_store import CompatibilityError, DeltaContractStore, diff
from dc43_delta_store.compatibility import RULES
from dc43_delta_store.compatibility.examples import BASE
from dc43_delta_store.compatibility.rules import bump_rank
from dc43_delta_store.core.versions import compare_versions, sort_versions
from dc43_delta_store.errors import ContractStoreError

NAMES = ["id", "email", "tier", "x", "y"]
TYPES = ["string", "integer", "number", "date", "boolean"]
NON_OBJECTS = st.one_of(
    st.sampled_from(["x", "id", "", "email"]), st.integers(-2, 2), st.none(), st.just(["id"])
)

# One edit of a contract: (kind, property position, value). Positions wrap around.
EDITS = st.one_of(
    st.tuples(st.just("remove"), st.integers(0, 5), st.none()),
    st.tuples(st.just("add"), st.sampled_from(NAMES), st.booleans()),
    st.tuples(st.just("rename"), st.integers(0, 5), st.sampled_from(NAMES)),
    st.tuples(st.just("drop-name"), st.integers(0, 5), st.none()),
    st.tuples(st.just("required"), st.integers(0, 5), st.sampled_from([True, False, None, "yes"])),
    st.tuples(st.just("type"), st.integers(0, 5), st.sampled_from(TYPES)),
    st.tuples(
        st.just("enum"),
        st.integers(0, 5),
        st.one_of(st.none(), st.lists(st.sampled_from(["a", "b", "c"]), max_size=3), NON_OBJECTS),
    ),
    st.tuples(
        st.just("options-enum"),
        st.integers(0, 5),
        st.one_of(st.none(), st.lists(st.sampled_from(["a", "b"]), max_size=2)),
    ),
    st.tuples(st.just("max-length"), st.integers(0, 5), st.sampled_from([None, 10, 255, 999])),
    st.tuples(st.just("pattern"), st.integers(0, 5), st.sampled_from([None, "^a", "^b"])),
    st.tuples(st.just("options"), st.integers(0, 5), NON_OBJECTS),
    st.tuples(
        st.just("items"),
        st.integers(0, 5),
        st.one_of(NON_OBJECTS, st.just({"logicalType": "string"})),
    ),
    st.tuples(st.just("non-object"), st.integers(0, 5), NON_OBJECTS),
    st.tuples(st.just("properties-mapping"), st.just(0), st.none()),
    st.tuples(st.just("properties-value"), st.just(0), NON_OBJECTS),
    st.tuples(st.just("schema-mapping"), st.just(0), st.none()),
    st.tuples(st.just("schema-non-object"), st.just(0), NON_OBJECTS),
    st.tuples(st.just("quality"), st.just(0), st.sampled_from([None, 10, 1000, 5000, "x"])),
    st.tuples(st.just("quality-non-object"), st.just(0), NON_OBJECTS),
    st.tuples(st.just("sla"), st.just(0), st.sampled_from([1, 3, 10, None])),
    st.tuples(st.just("server"), st.just(0), st.sampled_from(["db.example.com", "db2", None])),
    st.tuples(st.just("description"), st.integers(0, 5), st.sampled_from(["a", "b", None])),
    st.tuples(st.just("status"), st.just(0), st.sampled_from(["active", "retired"])),
)


def _properties(doc: dict[str, Any]) -> list[Any] | None:
    schema = doc.get("schema")
    if isinstance(schema, list) and schema and isinstance(schema[0], dict):
        properties = schema[0].get("properties")
        return properties if isinstance(properties, list) else None
    return None


def edited(doc: dict[str, Any], edits: list[tuple[str, Any, Any]]) -> dict[str, Any]:
    """``doc`` after ``edits`` (an edit that does not apply to its shape is skipped)."""
    doc = copy.deepcopy(doc)
    for kind, where, value in edits:
        props = _properties(doc)
        objects = [p for p in props or [] if isinstance(p, dict)]
        prop = objects[where % len(objects)] if objects and isinstance(where, int) else None
        if kind == "remove" and props:
            del props[where % len(props)]
        elif kind == "add" and props is not None:
            props.append({"name": where, "logicalType": "string", "required": value})
        elif kind == "non-object" and props is not None:
            props.insert(where % (len(props) + 1), value)
        elif kind == "properties-mapping" and props is not None:
            doc["schema"][0]["properties"] = {str(p.get("name")): p for p in objects}
        elif kind == "properties-value" and props is not None:
            doc["schema"][0]["properties"] = value
        elif kind == "schema-mapping" and isinstance(doc.get("schema"), list):
            doc["schema"] = {str(o.get("name")): o for o in doc["schema"] if isinstance(o, dict)}
        elif kind == "schema-non-object" and isinstance(doc.get("schema"), list):
            doc["schema"].append(value)
        elif kind == "quality" and props is not None:
            rule = {"metric": "rowCount", "mustBeGreaterThan": value}
            doc["schema"][0]["quality"] = [] if value is None else [rule]
        elif kind == "quality-non-object" and props is not None:
            doc["schema"][0]["quality"] = [value]
        elif kind == "sla":
            doc["slaProperties"] = (
                [] if value is None else [{"property": "retention", "value": value, "unit": "y"}]
            )
        elif kind == "server":
            doc["servers"] = [] if value is None else [{**BASE["servers"][0], "host": value}]
        elif kind == "status":
            doc["status"] = value
        elif prop is not None:
            _edit_property(prop, kind, value)
    return doc


def _edit_property(prop: dict[str, Any], kind: str, value: Any) -> None:
    if kind == "drop-name":
        prop.pop("name", None)
        return
    inside = {"options-enum": "enum", "max-length": "maxLength", "pattern": "pattern"}
    if kind in inside:
        if not isinstance(prop.get("logicalTypeOptions"), dict):
            prop["logicalTypeOptions"] = {}
        target, key = prop["logicalTypeOptions"], inside[kind]
    else:
        target = prop
        key = {"rename": "name", "type": "logicalType", "options": "logicalTypeOptions"}.get(
            kind, kind
        )
    if value is None:
        target.pop(key, None)
    else:
        target[key] = copy.deepcopy(value)


edit_lists = st.lists(EDITS, max_size=4)
MODES = ["full", "backward", "forward"]


@st.composite
def document_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    old = edited(BASE, draw(edit_lists))
    return old, edited(old, draw(st.lists(EDITS, min_size=1, max_size=4)))


# -- the diff alone ------------------------------------------------------------------------

KEYS = [
    "id", "name", "version", "schema", "properties", "quality", "items", "logicalType",
    "logicalTypeOptions", "enum", "required", "servers", "server", "slaProperties",
    "property", "value", "unit", "roles", "role", "team", "members", "tags", "mustBe",
    "mustBeBetween", "severity", "multipleOf", "maxLength", "description", "apiVersion",
]  # fmt: skip
json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=3), inner, max_size=5)
    ),
    max_leaves=15,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(KEYS), json_like, max_size=6),
    st.dictionaries(st.sampled_from(KEYS), json_like, max_size=6),
    st.sampled_from([*MODES, "none"]),
)
def test_the_diff_of_any_json_documents_never_crashes(
    old: dict[str, Any], new: dict[str, Any], mode: Any
) -> None:
    result = diff(old, new, mode=mode)
    json.dumps(result.to_dict())
    assert result.required_bump in ("none", "patch", "minor", "major")
    assert all(change.rule in RULES for change in result.changes)


@given(json_like, json_like)
def test_a_diff_of_anything_but_documents_is_a_typed_error(old: Any, new: Any) -> None:
    with contextlib.suppress(ContractStoreError):  # anything else fails the test
        diff(old, new)


def with_breaking_change(doc: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """``doc`` with one more breaking change, and its rule: a required column nobody had, or,
    where the document has no readable columns, another id."""
    doc = copy.deepcopy(doc)
    props = _properties(doc)
    if props is None:
        doc["id"] = "sales.someone-else"
        return doc, "id-changed"
    props.append({"name": "never-seen", "logicalType": "string", "required": True})
    return doc, "required-property-added"


@settings(max_examples=150)
@given(document_pairs(), st.sampled_from(MODES))
def test_one_more_breaking_change_never_lowers_the_bump(
    pair: tuple[dict[str, Any], dict[str, Any]], mode: Any
) -> None:
    old, new = pair
    worse, rule = with_breaking_change(new)
    before = diff(old, new, mode=mode).required_bump
    after = diff(old, worse, mode=mode).required_bump
    assert bump_rank(after) >= max(bump_rank(before), bump_rank(RULES[rule].bump(mode)))


def with_malformed_part(doc: dict[str, Any], garbage: Any, whole: bool) -> dict[str, Any]:
    """``doc`` with something new where ODCS wants an object: an element of its columns (or
    its columns as a mapping: ``whole``), else its first schema object, else its schema."""
    doc = copy.deepcopy(doc)
    props = _properties(doc)
    if props is not None and whole:
        doc["schema"][0]["properties"] = {
            "never-seen": garbage,
            **{str(i): p for i, p in enumerate(props)},
        }
    elif props is not None:
        props.insert(len(props) // 2, garbage)
    elif isinstance(doc.get("schema"), list) and doc["schema"]:
        doc["schema"][0] = garbage
    else:
        doc["schema"] = {"never-seen": garbage}
    return doc


@settings(max_examples=100)
@given(
    document_pairs(),
    st.sampled_from(MODES),
    st.sampled_from(["never-seen", 17, None, ["never-seen"]]),
    st.booleans(),
)
def test_a_part_the_diff_cannot_read_is_never_a_patch(
    pair: tuple[dict[str, Any], dict[str, Any]], mode: Any, garbage: Any, whole: bool
) -> None:
    """Under any mode, a version whose columns hold a non-object, or are a mapping, needs a
    major bump: the diff cannot tell which columns it drops."""
    old, new = pair
    result = diff(old, with_malformed_part(new, garbage, whole), mode=mode)
    assert result.required_bump == "major"
    assert "malformed-changed" in [change.rule for change in result.changes]


# -- the gate on a real table ----------------------------------------------------------------

# (stored version, new version): above it, and below it (then the new one is the baseline)
ABOVE = [
    ("1.1.0", "1.1.1"),
    ("1.1.0", "1.2.0"),
    ("1.1.0", "2.0.0"),
    ("0.3.0", "0.3.1"),
    ("0.3.0", "0.4.0"),
    ("1.1.0", "1.1.0-rc.1"),
]
BELOW = [("2.0.0", "1.9.0"), ("1.1.0", "1.0.9"), ("1.1.1", "1.1.0"), ("0.4.0", "0.3.9")]
STEPS = st.sampled_from(ABOVE) | st.sampled_from(BELOW)


def test_the_gates_verdict_is_the_diffs_in_every_mode(tmp_path: Path) -> None:
    """Each example stores one version of a fresh contract under a policy, then puts another:
    accepted exactly when the diff (from the lower version to the higher) says the versions
    are compatible in that mode, prereleases aside; refused with CompatibilityError else."""
    path = tmp_path / "t"
    numbers = itertools.count()
    seen: dict[str, int] = {"accepted": 0, "refused": 0}

    @settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
    @given(document_pairs(), STEPS, st.sampled_from([*MODES, "none"]))
    def check(pair: tuple[dict[str, Any], dict[str, Any]], step: Any, mode: str) -> None:
        contract_id = f"c{next(numbers)}"
        stored_version, new_version = step
        stored = {**pair[0], "id": contract_id, "version": stored_version}
        new = {**pair[1], "id": contract_id, "version": new_version}
        store = DeltaContractStore(path=path, validation="off", compatibility=mode)
        assert store.put(stored).inserted  # the first version of a contract
        above = compare_versions(new_version, stored_version) > 0
        lower, higher = (stored, new) if above else (new, stored)
        verdict = diff(lower, higher, mode="full" if mode == "none" else mode)  # type: ignore[arg-type]
        expected = mode == "none" or verdict.compatible or "-" in new_version
        try:
            accepted = store.put(new).inserted
        except CompatibilityError:
            accepted = False
        assert accepted == expected, (mode, step, verdict.to_dict())
        kept = [stored_version, *([new_version] if accepted else [])]
        assert store.list_versions(contract_id) == sort_versions(kept)
        seen["accepted" if accepted else "refused"] += 1

    check()
    assert seen["accepted"] > 5 and seen["refused"] > 5, seen
