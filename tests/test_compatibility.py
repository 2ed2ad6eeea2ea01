"""diff(): every rule fires on its example, lists match by identity, and the properties that
make a diff trustworthy hold on generated and real contracts."""

from __future__ import annotations

import copy
import importlib.util
import json
import random
import sys
from typing import Any
from xml.etree import ElementTree

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dc43_delta_store.compatibility import RULES, Override, Policy, diff
from dc43_delta_store.compatibility.examples import BASE
from dc43_delta_store.compatibility.policy import given_bump, needed_bump, next_version
from dc43_delta_store.compatibility.positions import line_map, line_of
from dc43_delta_store.compatibility.report import (
    github_annotations,
    junit_xml,
    rules_markdown,
    text_report,
)
from dc43_delta_store.compatibility.rules import max_bump
from dc43_delta_store.core.documents import load_document
from dc43_delta_store.errors import InvalidRequestError

from .conftest import CORPUS, ROOT, require_corpus

FULL_EXAMPLE = "bitol-dev/docs/examples/all/full-example.odcs.yaml"
ADVENTUREWORKS = "bitol-dev/docs/examples/all/postgresql-adventureworks-contract.odcs.yaml"


def rules_fired(old: Any, new: Any, **options: Any) -> list[tuple[str, str]]:
    return [(c.rule, c.path) for c in diff(old, new, **options).changes]


# -- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize("rule_id", list(RULES))
def test_each_rule_fires_on_its_example_and_nothing_else(rule_id: str) -> None:
    example = RULES[rule_id].example
    result = diff(example.old, example.new)
    assert [c.rule for c in result.changes] == [rule_id]
    assert result.required_bump == RULES[rule_id].bump("full")


@pytest.mark.parametrize(
    ("rule_id", "full", "backward", "forward"),
    [
        ("property-removed", "major", "major", "minor"),
        ("required-property-added", "major", "minor", "major"),
        ("now-optional", "major", "major", "minor"),  # consumers receive nulls
        ("now-required", "major", "minor", "major"),
        ("constraint-loosened", "minor", "minor", "minor"),
        ("sla-weakened", "major", "major", "minor"),
        ("description-changed", "patch", "patch", "patch"),
        ("status-changed", "none", "none", "none"),
    ],
)
def test_modes_look_at_their_side_only(
    rule_id: str, full: str, backward: str, forward: str
) -> None:
    example = RULES[rule_id].example
    for mode, expected in (("full", full), ("backward", backward), ("forward", forward)):
        assert diff(example.old, example.new, mode=mode).required_bump == expected, mode
    assert diff(example.old, example.new, mode="none").required_bump in ("none", "patch", "minor")


def test_a_column_removed_names_the_column_and_needs_a_major_bump() -> None:
    new = copy.deepcopy(BASE)
    new["version"] = "1.1.0"
    del new["schema"][0]["properties"][1]
    result = diff(BASE, new)
    assert rules_fired(BASE, new) == [("property-removed", "schema.customers.properties.email")]
    assert (result.required_bump, result.given_bump, result.compatible) == ("major", "minor", False)
    assert result.suggested_version == "2.0.0"
    assert diff(BASE, {**new, "version": "2.0.0"}).compatible


def test_nested_properties_of_objects_and_array_items_are_compared() -> None:
    old = copy.deepcopy(BASE)
    old["schema"][0]["properties"].append(
        {
            "name": "address",
            "logicalType": "object",
            "properties": [{"name": "city", "logicalType": "string"}],
        }
    )
    old["schema"][0]["properties"].append(
        {"name": "phones", "logicalType": "array", "items": {"logicalType": "string"}}
    )
    new = copy.deepcopy(old)
    new["schema"][0]["properties"][3]["properties"][0]["required"] = True
    new["schema"][0]["properties"][4]["items"]["logicalType"] = "integer"
    assert rules_fired(old, new) == [
        ("now-required", "schema.customers.properties.address.properties.city.required"),
        ("logical-type-changed", "schema.customers.properties.phones.items.logicalType"),
    ]


def test_a_property_renamed_under_the_same_id_is_a_rename() -> None:
    old = copy.deepcopy(BASE)
    old["schema"][0]["properties"][1]["id"] = "email_prop"
    new = copy.deepcopy(old)
    new["schema"][0]["properties"][1].update(name="mail", description="Mail address.")
    assert rules_fired(old, new) == [
        ("property-renamed", "schema.customers.properties.mail.name"),
        ("description-changed", "schema.customers.properties.mail.description"),
    ]


def test_loosening_and_tightening_of_every_bound() -> None:
    def with_options(options: dict[str, Any]) -> dict[str, Any]:
        doc = copy.deepcopy(BASE)
        doc["schema"][0]["properties"][1]["logicalTypeOptions"] = options
        return doc

    cases = [
        ({"minLength": 1}, {"minLength": 3}, "constraint-tightened"),
        ({"minLength": 3}, {"minLength": 1}, "constraint-loosened"),
        ({"maximum": 10}, {"maximum": 9.5}, "constraint-tightened"),
        ({}, {"pattern": "^a"}, "constraint-tightened"),
        ({"pattern": "^a"}, {"pattern": "^b"}, "constraint-tightened"),
        ({"pattern": "^a"}, {}, "constraint-loosened"),
        ({"minimum": "2020-01-01"}, {"minimum": "2019-01-01"}, "constraint-loosened"),
        ({"maxLength": 5}, {}, "constraint-loosened"),
    ]
    for old, new, rule in cases:
        assert [c.rule for c in diff(with_options(old), with_options(new)).changes] == [rule]


def test_quality_thresholds_severities_and_sla_units() -> None:
    def with_quality(rule: dict[str, Any]) -> dict[str, Any]:
        doc = copy.deepcopy(BASE)
        doc["schema"][0]["quality"] = [rule]
        return doc

    row_count = {"metric": "rowCount"}
    cases = [
        ({**row_count, "mustBe": 0}, {**row_count, "mustBeLessThan": 10}, "quality-rule-loosened"),
        ({**row_count, "mustBeBetween": [0, 10]}, {**row_count, "mustBeBetween": [2, 5]},
         "error-quality-rule-tightened"),
        ({**row_count, "mustBeGreaterThan": 5, "severity": "warning"},
         {**row_count, "mustBeGreaterThan": 5, "severity": "error"}, "error-quality-rule-tightened"),
        ({**row_count, "mustBeGreaterThan": 5}, {**row_count, "mustBeGreaterThan": 5,
                                                  "severity": "warning"}, "quality-rule-loosened"),
        ({**row_count, "mustNotBe": 5}, {**row_count, "mustNotBe": 6}, "error-quality-rule-changed"),
        ({"type": "text", "description": "a"}, {"type": "text", "description": "b"}, None),
    ]  # fmt: skip
    for old, new, rule in cases:
        if rule is None:  # a text rule, keyed by its text: removed and added, never an error
            rules = [c.rule for c in diff(with_quality(old), with_quality(new)).changes]
            assert rules == ["quality-rule-removed", "quality-rule-added"]
            continue
        assert [c.rule for c in diff(with_quality(old), with_quality(new)).changes] == [rule]

    def with_sla(prop: str, value: Any, unit: str | None) -> dict[str, Any]:
        doc = copy.deepcopy(BASE)
        doc["slaProperties"] = [
            {"property": prop, "value": value, **({"unit": unit} if unit else {})}
        ]
        return doc

    slas = [
        (("latency", 1, "d"), ("latency", 4, "h"), "sla-strengthened"),
        (("latency", 4, "h"), ("latency", 1, "d"), "sla-weakened"),
        (("retention", 1, "y"), ("retention", 6, "mo"), "sla-weakened"),
        (("availability", "99.9%", None), ("availability", "99.5%", None), "sla-weakened"),
        (("timeOfAvailability", "09:00-08:00", None), ("timeOfAvailability", "08:00-08:00", None),
         "sla-strengthened"),
        (("endOfSupport", "2030-01-01", None), ("endOfSupport", "2029-01-01", None), "sla-weakened"),
        (("generalAvailability", "2022-05-12", None), ("generalAvailability", "2022-06-12", None),
         "sla-changed"),
        (("latency", 1, "d"), ("latency", 24, "h"), "other-changed"),
        (("retention", 1, "y"), ("retention", 12, "mo"), "other-changed"),
    ]  # fmt: skip
    for old, new, rule in slas:
        assert [c.rule for c in diff(with_sla(*old), with_sla(*new)).changes] == [rule], old


def test_a_different_id_is_reported_as_another_contract() -> None:
    result = diff(BASE, {**BASE, "id": "sales.clients"})
    assert [c.rule for c in result.changes] == ["id-changed"]
    assert "two contracts" in text_report(result, "a", "b")


def test_secrets_are_masked_in_changes() -> None:
    old = copy.deepcopy(BASE)
    old["servers"][0]["password"] = "hunter2"
    new = copy.deepcopy(old)
    new["servers"][0]["password"] = "s3cret"
    del new["servers"][0]
    new["servers"].append({**old["servers"][0], "server": "other"})
    dumped = json.dumps(diff(old, new).to_dict())
    assert "hunter2" not in dumped and "s3cret" not in dumped


# -- ODCS v2 ---------------------------------------------------------------------------------


def test_v2_documents_compare_in_the_v3_shape() -> None:
    old = {
        "apiVersion": "v2.2.2",
        "kind": "DataContract",
        "uuid": "u-1",
        "version": "1.0.0",
        "type": "tables",
        "database": "shop",
        "dataset": [
            {"table": "orders", "columns": [
                {"column": "id", "logicalType": "int", "physicalType": "int", "isNullable": False},
                {"column": "note", "logicalType": "string", "physicalType": "text"},
            ]}
        ],
    }  # fmt: skip
    new = copy.deepcopy(old)
    new["dataset"][0]["columns"][0]["isNullable"] = True
    del new["dataset"][0]["columns"][1]
    new["database"] = "shop2"
    assert rules_fired(old, new) == [
        ("property-removed", "schema.orders.properties.note"),
        ("now-optional", "schema.orders.properties.id.required"),
        ("server-changed", "servers.default.database"),
    ]


def test_v2_and_v3_editions_of_the_bitol_full_example_compare() -> None:
    require_corpus()
    v2 = load_document(CORPUS / "bitol-v2.2.2/docs/examples/all/full-example.yaml")
    v3 = load_document(CORPUS / "bitol-v3.0.0/docs/examples/all/full-example.odcs.yaml")
    result = diff(v2, v3)
    paths = {c.path for c in result.changes}
    assert "schema.tbl" in paths or any(p.startswith("schema.tbl.") for p in paths)
    assert "apiVersion" in paths


# -- properties on generated contracts --------------------------------------------------------

names = st.text("abcdefghij_", min_size=1, max_size=6)
logical_types = st.sampled_from(["string", "integer", "number", "date", "boolean"])


@st.composite
def properties(draw: st.DrawFn) -> list[dict[str, Any]]:
    result = []
    for name in draw(st.lists(names, min_size=1, max_size=6, unique=True)):
        prop: dict[str, Any] = {"name": name, "logicalType": draw(logical_types)}
        if draw(st.booleans()):
            prop["required"] = draw(st.booleans())
        if prop["logicalType"] == "string" and draw(st.booleans()):
            prop["logicalTypeOptions"] = {"maxLength": draw(st.integers(1, 500))}
        if draw(st.booleans()):
            prop["quality"] = [
                {
                    "metric": "nullValues",
                    "mustBe": 0,
                    "severity": draw(st.sampled_from(["error", "warning"])),
                }
            ]
        if draw(st.booleans()):
            prop["tags"] = draw(st.lists(names, max_size=3, unique=True))
        result.append(prop)
    return result


@st.composite
def contracts(draw: st.DrawFn) -> dict[str, Any]:
    objects = [
        {"name": name, "physicalName": name, "properties": draw(properties())}
        for name in draw(st.lists(names, min_size=1, max_size=3, unique=True))
    ]
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "c",
        "version": "1.0.0",
        "status": "active",
        "schema": objects,
        "servers": [{"server": s, "type": "postgres", "host": f"{s}.example"}
                    for s in draw(st.lists(names, max_size=2, unique=True))],
        "slaProperties": [{"property": p, "value": draw(st.integers(1, 9)), "unit": "d"}
                          for p in draw(st.lists(st.sampled_from(["latency", "retention", "frequency"]),
                                                 max_size=3, unique=True))],
        "roles": [{"role": r, "access": "read"} for r in draw(st.lists(names, max_size=3, unique=True))],
        "tags": draw(st.lists(names, max_size=3, unique=True)),
    }  # fmt: skip


def shuffled(value: Any, rng: random.Random, key: str = "") -> Any:
    """Every list reordered, deep (but the two ends of a mustBeBetween)."""
    if isinstance(value, dict):
        return {k: shuffled(v, rng, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [shuffled(v, rng) for v in value]
        if key not in ("mustBeBetween", "mustNotBeBetween"):
            rng.shuffle(items)
        return items
    return value


def mutate(document: dict[str, Any], rng: random.Random, count: int) -> dict[str, Any]:
    """``document`` with ``count`` random edits of the kinds the rules cover."""
    doc = copy.deepcopy(document)
    for _ in range(count):
        obj = rng.choice(doc["schema"])
        props = obj["properties"]
        prop = rng.choice(props) if props else None
        kind = rng.randrange(9)
        if kind == 0 and len(props) > 1 and prop is not None:
            props.remove(prop)
        elif kind == 1:
            props.append({"name": f"new_{rng.randrange(1000)}", "logicalType": "string",
                          "required": rng.random() < 0.5})  # fmt: skip
        elif kind == 2 and prop is not None:
            prop["required"] = not prop.get("required", False)
        elif kind == 3 and prop is not None:
            prop["logicalType"] = "timestamp"
        elif kind == 4 and prop is not None and "logicalTypeOptions" in prop:
            prop["logicalTypeOptions"]["maxLength"] += rng.choice([-1, 1])
        elif kind == 5 and prop is not None:
            prop["description"] = f"text {rng.randrange(100)}"
        elif kind == 6 and doc["servers"]:
            doc["servers"].pop()
        elif kind == 7 and doc["slaProperties"]:
            doc["slaProperties"][0]["value"] += 1
        elif kind == 8:
            doc["status"] = rng.choice(["active", "deprecated", "retired"])
    return doc


@given(contracts(), st.randoms(use_true_random=False))
def test_a_contract_against_itself_or_reordered_has_no_changes(
    doc: dict[str, Any], rng: random.Random
) -> None:
    assert diff(doc, doc).changes == ()
    assert diff(doc, shuffled(doc, rng)).changes == ()
    assert diff(doc, shuffled(doc, rng)).required_bump == "none"


@given(contracts(), st.randoms(use_true_random=False), st.integers(1, 4))
def test_both_directions_agree_on_what_changed(
    doc: dict[str, Any], rng: random.Random, count: int
) -> None:
    other = mutate(doc, rng, count)
    forward, backward = diff(doc, other), diff(other, doc)
    assume(not any(c.rule.endswith("renamed") for c in forward.changes + backward.changes))
    assert sorted(c.path for c in forward.changes) == sorted(c.path for c in backward.changes)


@given(
    contracts(),
    st.randoms(use_true_random=False),
    st.lists(
        st.builds(
            Override,
            rule=st.sampled_from([*RULES, "sla-*", "*"]),
            path=st.sampled_from([None, "schema.*", "*.required"]),
            bump=st.sampled_from(["none", "patch", "minor", "major"]),
        ),
        max_size=3,
    ),
    st.sampled_from(["full", "backward", "forward", "none"]),
)
def test_the_required_bump_is_the_largest_bump_of_the_changes(
    doc: dict[str, Any], rng: random.Random, overrides: list[Override], mode: Any
) -> None:
    result = diff(doc, mutate(doc, rng, 3), overrides=overrides, mode=mode)
    assert result.required_bump == max_bump(*(c.bump for c in result.changes))
    for change in result.changes:
        if change.override is None:
            assert change.bump == RULES[change.rule].bump(mode)
        else:
            assert change.bump == change.override.bump and change.rule_bump == RULES[
                change.rule
            ].bump(mode)


# -- real contracts ----------------------------------------------------------------------------


def corpus_document(relative: str) -> dict[str, Any]:
    require_corpus()
    return load_document(CORPUS / relative)


def test_real_contracts_reordered_have_no_changes() -> None:
    rng = random.Random(7)
    for relative in (FULL_EXAMPLE, ADVENTUREWORKS):
        doc = corpus_document(relative)
        assert diff(doc, doc).changes == ()
        assert diff(doc, shuffled(doc, rng)).changes == ()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_mutations_of_a_real_contract_fire_the_expected_rule(data: st.DataObject) -> None:
    doc = corpus_document(FULL_EXAMPLE)
    new = copy.deepcopy(doc)
    obj_index = data.draw(st.integers(0, len(doc["schema"]) - 1))
    obj = new["schema"][obj_index]
    prop_index = data.draw(st.integers(0, len(obj["properties"]) - 1))
    prop = obj["properties"][prop_index]
    at = f"schema.{obj['name']}.properties.{prop['name']}"
    mutation = data.draw(st.sampled_from(range(10)))
    if mutation == 0:
        del obj["properties"][prop_index]
        expected = ("property-removed", at)
    elif mutation == 1:
        obj["properties"].insert(prop_index, {"name": "added", "logicalType": "string"})
        expected = ("property-added", f"schema.{obj['name']}.properties.added")
    elif mutation == 2:
        prop["required"] = not prop.get("required", False)
        expected = ("now-required" if prop["required"] else "now-optional", f"{at}.required")
    elif mutation == 3:
        prop["logicalType"] = "boolean" if prop.get("logicalType") != "boolean" else "string"
        expected = ("logical-type-changed", f"{at}.logicalType")
    elif mutation == 4:
        prop["physicalType"] = "text" if prop.get("physicalType") != "text" else "varchar(9)"
        expected = ("physical-type-changed", f"{at}.physicalType")
    elif mutation == 5:
        prop["description"] = "rewritten"
        expected = ("description-changed", f"{at}.description")
    elif mutation == 6:
        new["status"] = "retired"
        expected = ("status-changed", "status")
    elif mutation == 7:
        prop["unique"] = not prop.get("unique", False)
        expected = ("unique-changed", f"{at}.unique")
    elif mutation == 8:
        removed = new["servers"].pop()
        expected = ("server-removed", f"servers.{removed['server']}")
    else:
        new["slaProperties"].append({"property": "throughput", "value": 5})
        expected = ("sla-added", "slaProperties.throughput")
    random.Random(data.draw(st.integers(0, 1000))).shuffle(obj["properties"])
    assert rules_fired(doc, new) == [expected]


@pytest.mark.slow
def test_every_pair_of_corpus_versions_diffs() -> None:
    require_corpus()
    spec = importlib.util.spec_from_file_location(
        "diff_corpus", ROOT / "benchmarks" / "diff_corpus.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script  # its dataclasses look their module up
    spec.loader.exec_module(script)
    pairs = script.corpus_pairs(CORPUS)
    assert len(pairs) > 100
    summary = script.run_pairs(pairs)
    assert summary.failures == [] and summary.pairs == len(pairs)
    assert summary.bumps["major"] > 0 and summary.bumps["none"] > 0


# -- versions, overrides, reports -----------------------------------------------------------


def test_semver_arithmetic_and_zero_major() -> None:
    assert given_bump("1.2.3", "1.2.4-rc.1") == "patch"
    assert given_bump("1.0", "2") == "major"
    assert given_bump("2024-01-01", "2024-02-01") is None
    assert needed_bump("major", "0.9.0") == "minor"
    assert needed_bump("patch", "0.9.0") == "patch"
    assert needed_bump("none", "0.9.0") == "none"
    assert next_version("0.9.3", "patch") == "0.9.4"
    old, new = copy.deepcopy(BASE), copy.deepcopy(BASE)
    old["version"], new["version"] = "0.3.0", "0.4.0"
    del new["schema"][0]["properties"][1]
    assert diff(old, new).compatible  # a breaking change in 0.y.z needs a minor bump
    assert not diff(old, {**new, "version": "0.3.1"}).compatible


def test_overrides_re_rate_changes_and_stay_visible() -> None:
    example = RULES["sla-weakened"].example
    override = Override("sla-*", path="slaProperties.retention", bump="minor", reason="TICKET-1")
    result = diff(example.old, example.new, overrides=[override])
    (change,) = result.changes
    assert (change.bump, change.rule_bump, change.overridden) == ("minor", "major", True)
    assert result.required_bump == "minor"
    assert "overridden: the rule says major; TICKET-1" in text_report(result, "a", "b")
    assert change.to_dict()["override"]["reason"] == "TICKET-1"
    elsewhere = Override("sla-weakened", contract="other.*")
    assert diff(example.old, example.new, overrides=[elsewhere]).required_bump == "major"
    with pytest.raises(InvalidRequestError, match="matches no rule"):
        Override("sla-weakend")
    assert Policy.parse("backward-transitive") == Policy("backward", True)
    with pytest.raises(InvalidRequestError):
        Policy.parse("none_transitive")


def test_reports_point_at_the_file_and_line_of_the_change() -> None:
    old = copy.deepcopy(BASE)
    new = copy.deepcopy(BASE)
    new["version"] = "1.0.1"
    del new["schema"][0]["properties"][1]
    new["schema"][0]["properties"][0]["description"] = "50% of rows, line one\nline two"
    text = json.dumps(new, indent=2)
    lines = line_map(text)
    result = diff(old, new)
    commands = github_annotations(result, "contracts/customers.json", lines)
    removed = next(c for c in commands if "property-removed" in c)
    assert removed.startswith("::error file=contracts/customers.json,line=")
    line = int(removed.split("line=")[1].split(",")[0])
    assert '"properties": [' in text.splitlines()[line - 1]
    described = next(c for c in commands if "description-changed" in c)
    assert "50%25 of rows" in described and "\n" not in described
    assert line_of(lines, "/schema/0/properties/0/description") == next(
        n for n, row in enumerate(text.splitlines(), 1) if "50%" in row
    )
    suite = ElementTree.fromstring(junit_xml(result))
    assert suite.get("failures") == "2"  # the removal, and the version bump


def test_the_readme_rules_table_is_the_one_the_code_builds() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- rules:start -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert table == rules_markdown(), "regenerate: dc43-delta-store compatibility rules --markdown"
    assert all(f"`{rule}`" in table for rule in RULES)


def test_the_compatibility_core_is_pure() -> None:
    """No table access in the rules, the diff or the gate's decision: they run without I/O."""
    import ast

    for module in (ROOT / "dc43_delta_store" / "compatibility").glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {
            name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for name in (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
        }
        assert not imported & {"deltalake", "polars", "pyarrow"}, module.name


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(
        st.sampled_from(["name", "id", "properties", "quality", "value", "unit", "severity",
                         "logicalTypeOptions", "enum", "required", "items", "mustBe", "x"]),
        inner,
        max_size=4,
    ),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=300)
@given(
    st.sampled_from(["schema", "servers", "slaProperties", "roles", "team", "tags", "description"]),
    json_values,
    json_values,
)
def test_malformed_sections_never_crash_the_diff(section: str, old: Any, new: Any) -> None:
    result = diff({**BASE, section: old}, {**BASE, section: new})
    assert result.required_bump in ("none", "patch", "minor", "major")
    json.dumps(result.to_dict())


@settings(max_examples=300)
@given(
    st.sampled_from(["properties", "quality", "logicalTypeOptions", "enum", "items", "map",
                     "required", "logicalType", "relationships", "tags", "physicalName"]),
    st.sampled_from([("schema", 0), ("schema", 0, "properties", 1), ("slaProperties", 0),
                     ("servers", 0), ("schema", 0, "quality", 0)]),
    json_values,
    json_values,
)  # fmt: skip
def test_malformed_fields_never_crash_the_diff(
    field: str, where: tuple[Any, ...], old: Any, new: Any
) -> None:
    before, after = copy.deepcopy(BASE), copy.deepcopy(BASE)
    for doc, value in ((before, old), (after, new)):
        target: Any = doc
        for step in where:
            target = target[step]
        target[field] = value
    json.dumps(diff(before, after).to_dict())


@pytest.mark.parametrize(
    "marking",
    [
        {"tags": ["Deprecated"]},
        {"tags": ["DEPRECATED", "pii"]},
        {"customProperties": [{"property": "Deprecated", "value": "True"}]},
        {"deprecated": True},
    ],
)
def test_a_deprecation_in_any_case_makes_the_removal_a_minor_change(
    marking: dict[str, Any],
) -> None:
    """Catalogs and people write ``Deprecated``: the removal of a property so marked in the
    earlier version is the deprecated removal (minor), not a breaking one (major)."""
    old, new = copy.deepcopy(BASE), copy.deepcopy(BASE)
    old["schema"][0]["properties"][1].update(marking)
    del new["schema"][0]["properties"][1]
    result = diff(old, new)
    assert [c.rule for c in result.changes] == ["deprecated-property-removed"]
    assert result.required_bump == "minor"


def test_an_exclusive_bound_made_inclusive_is_a_loosening_and_back_a_tightening() -> None:
    """``mustBeGreaterThan: 5`` accepts 5 no longer than ``mustBeGreaterOrEqualTo: 5``: the
    same number, but one more accepted value."""

    def with_quality(operators: dict[str, Any]) -> dict[str, Any]:
        doc = copy.deepcopy(BASE)
        doc["schema"][0]["quality"] = [{"metric": "rowCount", **operators}]
        return doc

    for exclusive, inclusive in [
        ({"mustBeGreaterThan": 5}, {"mustBeGreaterOrEqualTo": 5}),
        ({"mustBeLessThan": 10}, {"mustBeLessOrEqualTo": 10}),
    ]:
        loosened = diff(with_quality(exclusive), with_quality(inclusive))
        assert [c.rule for c in loosened.changes] == ["quality-rule-loosened"], exclusive
        tightened = diff(with_quality(inclusive), with_quality(exclusive))
        assert [c.rule for c in tightened.changes] == ["error-quality-rule-tightened"], exclusive


def _workflow_command(line: str) -> tuple[str, dict[str, str], str]:
    """A GitHub workflow command read back as the runner reads it (its unescaping order)."""

    def unescape(text: str, codes: tuple[str, ...]) -> str:
        table = {"%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ",", "%25": "%"}
        for code in codes:
            text = text.replace(code, table[code])
        return text

    assert line.startswith("::")
    head, message = line[2:].split("::", 1)
    level, _, listed = head.partition(" ")
    properties = dict(item.split("=", 1) for item in listed.split(","))
    every = ("%0D", "%0A", "%3A", "%2C", "%25")
    return (
        level,
        {key: unescape(value, every) for key, value in properties.items()},
        unescape(message, ("%0D", "%0A", "%25")),
    )


def test_annotations_read_back_as_written_whatever_the_file_name_and_text() -> None:
    """A file name with a comma or a colon and a message with % survive the runner's
    parsing: the annotation lands on that file, with that text."""
    old, new = copy.deepcopy(BASE), copy.deepcopy(BASE)
    new["schema"][0]["properties"][0]["description"] = "50% of rows, line one\nline two"
    file = "contracts/sales, EU: orders.json"
    result = diff(old, new)
    commands = github_annotations(result, file, line_map(json.dumps(new, indent=2)))
    parsed = [_workflow_command(command) for command in commands]
    assert all(properties["file"] == file for _, properties, _ in parsed)
    described = next(message for _, _, message in parsed if "description" in message)
    assert '"50% of rows, line one\\nline two"' in described
    assert all(properties["line"].isdigit() for _, properties, _ in parsed)


def test_annotations_on_an_odcs_v2_file_point_at_the_changed_column() -> None:
    """A v2 file writes ``dataset``/``columns`` where the diff says ``schema``/``properties``:
    the line is still the changed column's, not the top of the file."""
    text = (
        "uuid: sales.orders\nversion: 1.0.0\ndataset:\n  - table: orders\n    columns:\n"
        "      - column: id\n        logicalType: string\n"
    )
    lines = line_map(text)
    assert line_of(lines, "/schema/0/properties") == 5
    assert line_of(lines, "/schema/0/properties/0/logicalType") == 7
    assert line_of(lines, "/id") == 1


@pytest.mark.parametrize(
    ("key", "old", "new", "rule"),
    [
        ("multipleOf", 2, 4, "constraint-tightened"),  # every multiple of 4 is one of 2
        ("multipleOf", 4, 2, "constraint-loosened"),
        ("multipleOf", 2, 3, "constraint-tightened"),
        ("uniqueItems", False, True, "constraint-tightened"),
        ("uniqueItems", True, False, "constraint-loosened"),
    ],
)
def test_multiple_of_and_unique_items_changes_go_the_right_way(
    key: str, old: Any, new: Any, rule: str
) -> None:
    before, after = copy.deepcopy(BASE), copy.deepcopy(BASE)
    before["schema"][0]["properties"][0]["logicalTypeOptions"] = {key: old}
    after["schema"][0]["properties"][0]["logicalTypeOptions"] = {key: new}
    assert [r for r, _ in rules_fired(before, after)] == [rule]
    bump = diff(before, after, mode="forward").required_bump
    assert bump == ("major" if rule == "constraint-tightened" else "minor")


def test_version_steps_count_by_position() -> None:
    """Build metadata is no bump; a fourth number (dc43's 0.42.0.1) is a patch, so a change
    that needs a minor bump is not covered by it."""
    assert given_bump("1.0.0", "1.0.0+build.2") == "none"
    assert given_bump("0.42.0.0", "0.42.0.1") == "patch"
    assert given_bump("0.42.0.0", "0.43.0.0") == "minor"
    assert given_bump("1.4.2", "2.0.0") == "major"
    old, new = copy.deepcopy(BASE), copy.deepcopy(BASE)
    new["schema"][0]["properties"][1]["logicalTypeOptions"] = {"maxLength": 320}  # minor
    for before, after, compatible in [("1.0.0", "1.0.0+b.2", False), ("1.0.0", "1.1.0", True)]:
        old["version"], new["version"] = before, after
        assert diff(old, new).compatible is compatible, after


def test_an_override_for_one_path_leaves_the_rules_other_changes_alone() -> None:
    old, new = copy.deepcopy(BASE), copy.deepcopy(BASE)
    new["schema"][0]["properties"] = [new["schema"][0]["properties"][0]]  # email, tier gone
    email = Override("property-removed", path="*.email", bump="minor", reason="unused")
    result = diff(old, new, overrides=[email])
    bumps = {change.path.rsplit(".", 1)[1]: change.bump for change in result.changes}
    assert bumps == {"email": "minor", "tier": "major"}
    assert result.required_bump == "major"
