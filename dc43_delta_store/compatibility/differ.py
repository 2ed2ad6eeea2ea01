"""Walk two ODCS documents side by side and name every change by its rule.

Paths name things as a person would: ``schema.customers.properties.email.logicalTypeOptions
.maxLength``. Lists pair by id or name (see :mod:`.matching`); an element is named as the
later version calls it, a removed one as the earlier version did. Each change also carries a
JSON Pointer into the later document (its nearest existing part, for removals) so reports
can point at a file and line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .classify import (
    constraint_rule,
    deprecated,
    is_error_level,
    quality_rule,
    renames,
    severity_rank,
)
from .matching import (
    generic_key,
    labels_of,
    match,
    quality_key,
    quality_label,
    render_path,
    scalar_key,
)
from .measures import OPERATORS, quality_direction, sla_direction
from .normalize import as_v3
from .trees import FIELD_RULES, MALFORMED, At, Found, TreeWalker, keys_of

__all__ = ["Found", "render_path", "walk"]

_TOP_RULES = {
    "status": "status-changed",
    "contractCreatedTs": "timestamp-changed",
    "apiVersion": "api-version-changed",
    "id": "id-changed",
    "name": "labels-changed",
    "domain": "labels-changed",
    "dataProduct": "labels-changed",
    "tenant": "labels-changed",
    "team": "team-changed",
    "support": "support-changed",
    "price": "price-changed",
    "slaDefaultElement": "sla-changed",
}
_QUALITY_TEXT = {"description", "name", "dimension", "businessImpact"}
_QUALITY_OTHER = {"id", "schedule", "scheduler", "method"}
_SERVER_SOFT = {
    "description": "description-changed",
    "environment": "other-changed",
    "id": "other-changed",
}


def walk(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Found]:
    """Every change from ``old`` to ``new`` (JSON trees, v2 or v3 ODCS).

    In the order of the later document; in each list, removals, then additions, then
    the changes inside paired elements.
    """
    walker = _Walker()
    walker.contract(as_v3(old), as_v3(new))
    return walker.found


def _name_label(element: Any) -> str:
    if isinstance(element, dict):
        for field in ("name", "physicalName", "id"):
            if element.get(field) is not None:
                return str(element[field])
    return "?"


def _name_key(element: Any) -> str | None:
    if isinstance(element, dict):
        value = element.get("name", element.get("physicalName"))
        return None if value is None else str(value)
    return None


def _field_key(field: str) -> Callable[[Any], str | None]:
    def key(element: Any) -> str | None:
        if isinstance(element, dict) and element.get(field) is not None:
            return str(element[field])
        return generic_key(element)

    return key


class _Walker(TreeWalker):
    """The ODCS-specific part of the walk: what each section of a contract means."""

    # -- the contract ----------------------------------------------------------------------

    def contract(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        handlers = {
            "version": lambda at, a, b: None,
            "schema": lambda at, a, b: self.listing(at, a, b, self.objects),
            "servers": lambda at, a, b: self.listing(at, a, b, self.servers),
            "slaProperties": lambda at, a, b: self.listing(at, a, b, self.slas),
            "roles": lambda at, a, b: self.listing(at, a, b, self.roles),
            "tags": lambda at, a, b: self.tags(at, a, b),
        }
        self.mapping(At(), old, new, handlers, _TOP_RULES, "other-changed")

    def tags(self, at: At, old: Any, new: Any) -> None:
        lists = isinstance(old or [], list) and isinstance(new or [], list)
        if lists and sorted(map(scalar_key, old or [])) == sorted(map(scalar_key, new or [])):
            return
        self.add("tags-changed", at, old, new)

    # -- schema objects and properties -----------------------------------------------------

    def objects(self, at: At, old: list[Any], new: list[Any]) -> bool:
        self.elements(
            "other-changed",
            at,
            old,
            new,
            _name_key,
            lambda e: "deprecated-schema-removed" if deprecated(e) else "schema-removed",
            "schema-added",
            lambda rule, here, a, b: self.object(here, a, b),
            _name_label,
        )
        return True

    def object(self, at: At, old: Any, new: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)):
            self.add(MALFORMED, at, old, new)
            return
        handlers = {
            "name": lambda here, a, b: self.add("schema-renamed", here, a, b),
            "physicalName": lambda here, a, b: self.physical_name(here, old, new),
            "properties": lambda here, a, b: self.listing(here, a, b, self.properties),
            "quality": lambda here, a, b: self.listing(here, a, b, self.quality),
        }
        rules = {
            "logicalType": "logical-type-changed",
            "physicalType": "physical-type-changed",
            "relationships": "relationship-changed",
            "id": "other-changed",
        }
        self.mapping(at, old, new, handlers, rules, "other-changed")

    def physical_name(self, at: At, old: dict[str, Any], new: dict[str, Any]) -> None:
        """physicalName defaults to the name: spelling out the same name is no change."""
        a = old.get("physicalName", old.get("name"))
        b = new.get("physicalName", new.get("name"))
        if a != b:
            self.add("physical-name-changed", at, old.get("physicalName"), new.get("physicalName"))

    def properties(self, at: At, old: list[Any], new: list[Any]) -> bool:
        found = match(old, new, _name_key)
        renamed = renames(old, new, found.removed, found.added)
        labels_old, labels_new = labels_of(old, _name_label), labels_of(new, _name_label)
        for i in found.removed:
            if i not in renamed:
                rule = "deprecated-property-removed" if deprecated(old[i]) else "property-removed"
                self.add(rule, at.item(labels_old[i], None), old[i], None)
        for j in found.added:
            if j not in renamed.values():
                required = isinstance(new[j], dict) and new[j].get("required") is True
                rule = "required-property-added" if required else "property-added"
                self.add(rule, at.item(labels_new[j], j), None, new[j])
        for i, j in sorted([*found.pairs, *renamed.items()]):
            self.property(at.item(labels_new[j], j), old[i], new[j])
        return True

    def property(self, at: At, old: Any, new: Any) -> None:
        if old is None or new is None:  # array items described on one side only
            old, new = {} if old is None else old, {} if new is None else new
        if not (isinstance(old, dict) and isinstance(new, dict)):
            if old != new:  # array items that are not an object
                self.add(MALFORMED, at, old, new)
            return
        retyped = old.get("logicalType") != new.get("logicalType")

        def flag(rule: str, default: Any) -> Callable[[At, Any, Any], None]:
            def compare(here: At, a: Any, b: Any) -> None:
                a, b = default if a is None else a, default if b is None else b
                if a != b:
                    self.add(rule, here, a, b)

            return compare

        def unless_retyped(compare: Callable[[At, Any, Any], None]) -> Any:
            return (lambda here, a, b: None) if retyped else compare

        handlers: dict[str, Callable[[At, Any, Any], None]] = {
            "name": lambda here, a, b: self.add("property-renamed", here, a, b),
            "physicalName": lambda here, a, b: self.physical_name(here, old, new),
            "required": self.required,
            "unique": flag("unique-changed", False),
            "primaryKey": flag("primary-key-changed", False),
            "primaryKeyPosition": flag("primary-key-changed", -1),
            "partitioned": flag("partitioning-changed", False),
            "partitionKeyPosition": flag("partitioning-changed", -1),
            "clusterStatus": flag("partitioning-changed", False),
            "clusterKeyPosition": flag("partitioning-changed", -1),
            "criticalDataElement": flag("classification-changed", False),
            "semanticType": flag("semantic-type-changed", "column"),
            "logicalTypeOptions": unless_retyped(
                lambda here, a, b: self.options(here, a or {}, b or {}, new.get("logicalType"))
            ),
            "enum": unless_retyped(self.enum),
            "quality": lambda here, a, b: self.listing(here, a, b, self.quality),
            "properties": unless_retyped(
                lambda here, a, b: self.listing(here, a, b, self.properties)
            ),
            "items": unless_retyped(self.property),
            "map": unless_retyped(self.map),
        }
        rules = {
            "logicalType": "logical-type-changed",
            "physicalType": "physical-type-changed",
            "encryptedName": "physical-name-changed",
            "classification": "classification-changed",
            "relationships": "relationship-changed",
            "id": "other-changed",
        }
        self.mapping(at, old, new, handlers, rules, "other-changed")

    def required(self, at: At, old: Any, new: Any) -> None:
        was, now = old is True, new is True
        if was != now:
            self.add("now-required" if now else "now-optional", at, was, now)

    def map(self, at: At, old: Any, new: Any) -> None:
        if isinstance(old, dict) and isinstance(new, dict):
            for key in keys_of(old, new):
                if key in ("key", "value") and old.get(key) != new.get(key):
                    self.property(at.key(key, key in new), old.get(key) or {}, new.get(key) or {})
                elif old.get(key) != new.get(key):
                    self.generic(
                        "other-changed", at.key(key, key in new), old.get(key), new.get(key)
                    )
        else:
            self.generic("logical-type-changed", at, old, new)

    # -- constraints -----------------------------------------------------------------------

    def options(self, at: At, old: dict[str, Any], new: dict[str, Any], logical: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)):
            self.add(MALFORMED, at, old, new)
            return
        for key in keys_of(old, new):
            a, b = old.get(key), new.get(key)
            if key == "format" and logical == "integer":
                a, b = a or "i32", b or "i32"
            if a == b:
                continue
            here = at.key(key, key in new)
            if key == "enum":
                self.enum(here, a, b)
            else:
                self.add(constraint_rule(key, a, b), here, a, b)

    def enum(self, at: At, old: Any, new: Any) -> None:
        if not (isinstance(old, list) and isinstance(new, list)):
            if not isinstance(old, list | None) or not isinstance(new, list | None):
                rule = MALFORMED
            else:  # an enum added where there was none, or dropped
                rule = "constraint-tightened" if old is None else "constraint-loosened"
            self.add(rule, at, old, new)
            return

        def value(entry: Any) -> str:
            inner = entry.get("value") if isinstance(entry, dict) else entry
            return inner if isinstance(inner, str) else scalar_key(inner)

        self.elements(
            "description-changed",
            at,
            old,
            new,
            value,
            "enum-value-removed",
            "enum-value-added",
            self.generic,
            value,
        )

    # -- quality ---------------------------------------------------------------------------

    def quality(self, at: At, old: list[Any], new: list[Any]) -> bool:
        self.elements(
            "quality-rule-changed",
            at,
            old,
            new,
            quality_key,
            "quality-rule-removed",
            lambda e: "error-quality-rule-added" if is_error_level(e) else "quality-rule-added",
            lambda rule, here, a, b: self.quality_rule(here, a, b),
            quality_label,
        )
        return True

    def quality_rule(self, at: At, old: Any, new: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)):
            self.add(MALFORMED, at, old, new)
            return
        error = is_error_level(new)
        if (old.get("metric") or old.get("rule")) == (new.get("metric") or new.get("rule")):
            old, new = _without(old, "metric", "rule"), _without(new, "metric", "rule")
        ops_old = {k: old[k] for k in OPERATORS if k in old}
        ops_new = {k: new[k] for k in OPERATORS if k in new}
        direction = quality_direction(ops_old, ops_new)
        if direction != "same":
            where, before, after = at, ops_old, ops_new
            if len(ops_old) == len(ops_new) == 1 and ops_old.keys() == ops_new.keys():
                (name,) = ops_new
                where, before, after = at.key(name), ops_old[name], ops_new[name]
            self.add(quality_rule(direction, error), where, before, after)
        elif ops_old != ops_new:
            self.add("other-changed", at, ops_old, ops_new)
        rank_old, rank_new = severity_rank(old), severity_rank(new)
        if rank_old != rank_new:
            direction = "tightened" if rank_new > rank_old else "loosened"
            here = at.key("severity", "severity" in new)
            self.add(quality_rule(direction, error), here, old.get("severity"), new.get("severity"))
        elif old.get("severity") != new.get("severity"):
            self.add(
                "other-changed",
                at.key("severity", "severity" in new),
                old.get("severity"),
                new.get("severity"),
            )
        for key in keys_of(old, new):
            a, b = old.get(key), new.get(key)
            if a == b or key in OPERATORS or key == "severity":
                continue
            here = at.key(key, key in new)
            if key in _QUALITY_TEXT:
                self.generic("description-changed", here, a, b)
            elif key in FIELD_RULES or key in _QUALITY_OTHER:
                self.generic(FIELD_RULES.get(key, "other-changed"), here, a, b)
            else:
                self.add(quality_rule("changed", error), here, a, b)

    # -- service levels, servers, roles ----------------------------------------------------

    def slas(self, at: At, old: list[Any], new: list[Any]) -> bool:
        self.elements(
            "sla-changed",
            at,
            old,
            new,
            _field_key("property"),
            "sla-removed",
            "sla-added",
            lambda rule, here, a, b: self.sla(here, a, b),
        )
        return True

    def sla(self, at: At, old: dict[str, Any], new: dict[str, Any]) -> None:
        measured = ("value", "unit", "valueExt")
        a = {k: old[k] for k in measured if k in old}
        b = {k: new[k] for k in measured if k in new}
        if a != b:
            direction = sla_direction(str(new.get("property", "")), a, b)
            rule = {
                "tightened": "sla-strengthened",
                "loosened": "sla-weakened",
                "same": "other-changed",
            }.get(direction, "sla-changed")
            self.add(rule, at, a, b)
        rules = {
            "element": "sla-changed",
            "property": "sla-changed",
            "driver": "description-changed",
        }
        rest_old = {k: v for k, v in old.items() if k not in measured}
        rest_new = {k: v for k, v in new.items() if k not in measured}
        self.mapping(at, rest_old, rest_new, {}, rules, "other-changed")

    def servers(self, at: At, old: list[Any], new: list[Any]) -> bool:
        def server(rule: str, here: At, a: Any, b: Any) -> None:
            handlers = {"roles": lambda inner, x, y: self.listing(inner, x, y, self.roles)}
            self.mapping(here, a, b, handlers, _SERVER_SOFT, "server-changed")

        self.elements(
            "server-changed",
            at,
            old,
            new,
            _field_key("server"),
            "server-removed",
            "server-added",
            server,
        )
        return True

    def roles(self, at: At, old: list[Any], new: list[Any]) -> bool:
        def role(rule: str, here: At, a: Any, b: Any) -> None:
            self.mapping(here, a, b, {}, {"id": "other-changed"}, "role-changed")

        self.elements(
            "role-changed", at, old, new, _field_key("role"), "role-removed", "role-added", role
        )
        return True


def _without(mapping: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if key not in keys}
