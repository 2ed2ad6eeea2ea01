"""Walk two ODCS documents side by side and name every change by its rule.

Paths name things as a person would: ``schema.customers.properties.email.logicalTypeOptions
.maxLength``. Lists pair by id or name (see :mod:`.matching`); an element is named as the
later version calls it, a removed one as the earlier version did. Each change also carries a
JSON Pointer into the later document (its nearest existing part, for removals) so reports
can point at a file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .matching import (
    generic_key,
    labels_of,
    match,
    quality_key,
    quality_label,
    scalar_key,
)
from .measures import OPERATORS, compare_values, quality_direction, sla_direction
from .normalize import as_v3

__all__ = ["Found", "walk"]

Pointer = tuple[str | int, ...]


@dataclass(frozen=True)
class Found:
    """One change as the walk finds it (verdicts and bumps come from its rule)."""

    rule: str
    path: tuple[str, ...]
    old: Any
    new: Any
    pointer: Pointer
    field: str | None  # the key named last, None when the path ends at a list element


@dataclass(frozen=True)
class _At:
    """Where the walk is: the path by names, and the pointer into the later document."""

    path: tuple[str, ...] = ()
    pointer: Pointer = ()
    exists: bool = True  # False once inside something the later document lacks
    field: str | None = None

    def key(self, key: str, present: bool = True) -> _At:
        keep = self.exists and present
        return _At((*self.path, key), (*self.pointer, key) if keep else self.pointer, keep, key)

    def item(self, label: str, index: int | None) -> _At:
        keep = self.exists and index is not None
        pointer = (*self.pointer, index) if keep and index is not None else self.pointer
        return _At((*self.path, label), pointer, keep)


FIELD_RULES = {
    "description": "description-changed",
    "businessName": "description-changed",
    "dataGranularityDescription": "description-changed",
    "transformDescription": "description-changed",
    "synonyms": "description-changed",
    "label": "description-changed",
    "tags": "tags-changed",
    "examples": "examples-changed",
    "customProperties": "custom-properties-changed",
    "authoritativeDefinitions": "authoritative-definitions-changed",
    "transformLogic": "lineage-changed",
    "transformSourceObjects": "lineage-changed",
}
"""Fields whose rule is the same wherever they appear."""

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
_UPPER = frozenset({"maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties"})
_LOWER = frozenset({"minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties"})
_ERROR_LEVELS = frozenset({"error", "critical", "fatal", "blocker", "high"})
_SEVERITY_RANK = {"info": 0, "information": 0, "low": 0, "warning": 1, "warn": 1, "medium": 1}
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


def _same_text(a: Any, b: Any) -> bool:
    return a == b or (a is None and b == "") or (a == "" and b is None)


def _keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[str]:
    yield from old
    yield from (key for key in new if key not in old)


def _is_error_level(rule: Mapping[str, Any]) -> bool:
    """Enforced as an error: severity error (or alike) or none given; text rules never are."""
    if rule.get("type") == "text":
        return False
    severity = rule.get("severity")
    return severity is None or str(severity).strip().lower() in _ERROR_LEVELS


def _severity_rank(rule: Mapping[str, Any]) -> int:
    if _is_error_level(rule):
        return 2
    return _SEVERITY_RANK.get(str(rule.get("severity")).strip().lower(), 1)


def _deprecated(element: Any) -> bool:
    if not isinstance(element, dict):
        return False
    if element.get("deprecated") is True:
        return True
    tags = element.get("tags")
    if isinstance(tags, list) and any(str(tag).lower() == "deprecated" for tag in tags):
        return True
    props = element.get("customProperties")
    return isinstance(props, list) and any(
        isinstance(p, dict)
        and str(p.get("property", "")).lower() == "deprecated"
        and str(p.get("value")).lower() in ("true", "yes", "1")
        for p in props
    )


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


def _label(key: Callable[[Any], str | None]) -> Callable[[Any], str]:
    return lambda element: key(element) or "?"


class _Walker:
    def __init__(self) -> None:
        self.found: list[Found] = []

    def add(self, rule: str, at: _At, old: Any, new: Any) -> None:
        self.found.append(Found(rule, at.path, old, new, at.pointer, at.field))

    # -- generic trees ---------------------------------------------------------------------

    def generic(self, rule: str, at: _At, old: Any, new: Any) -> None:
        """Any JSON value: dicts by key, lists of dicts by identity, other lists as sets."""
        if old == new or _same_text(old, new):
            return
        if isinstance(old, dict) and isinstance(new, dict):
            for key in _keys(old, new):
                self.generic(FIELD_RULES.get(key, rule), at.key(key, key in new), old.get(key),
                             new.get(key))  # fmt: skip
        elif isinstance(old, list) and isinstance(new, list):
            if all(isinstance(e, dict) for e in old + new):
                self.elements(rule, at, old, new, generic_key, rule, rule, self.generic)
            elif sorted(map(scalar_key, old)) != sorted(map(scalar_key, new)):
                self.add(rule, at, old, new)
        else:
            self.add(rule, at, old, new)

    def elements(
        self,
        rule: str,
        at: _At,
        old: list[Any],
        new: list[Any],
        key: Callable[[Any], str | None],
        removed_rule: str | Callable[[Any], str],
        added_rule: str | Callable[[Any], str],
        compare: Callable[[str, _At, Any, Any], None],
        label: Callable[[Any], str] | None = None,
    ) -> list[tuple[int, int]]:
        """Pair two lists; report removals and additions; ``compare`` the pairs."""
        found = match(old, new, key)
        labels_old = labels_of(old, label or _label(key))
        labels_new = labels_of(new, label or _label(key))
        for i in found.removed:
            what = removed_rule if isinstance(removed_rule, str) else removed_rule(old[i])
            self.add(what, at.item(labels_old[i], None), old[i], None)
        for j in found.added:
            what = added_rule if isinstance(added_rule, str) else added_rule(new[j])
            self.add(what, at.item(labels_new[j], j), None, new[j])
        for i, j in found.pairs:
            compare(rule, at.item(labels_new[j], j), old[i], new[j])
        return found.pairs

    def mapping(
        self,
        at: _At,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        handlers: Mapping[str, Callable[[_At, Any, Any], None]],
        rules: Mapping[str, str],
        default: str,
    ) -> None:
        """Compare two mappings key by key: a handler, else a rule, else ``default``."""
        for key in _keys(old, new):
            a, b = old.get(key), new.get(key)
            if a == b:
                continue
            child = at.key(key, key in new)
            if key in handlers:
                handlers[key](child, a, b)
            else:
                self.generic(rules.get(key) or FIELD_RULES.get(key, default), child, a, b)

    def listing(
        self, at: _At, old: Any, new: Any, rule: str, compare: Callable[[_At, Any, Any], bool]
    ) -> None:
        """``compare`` when both are lists of mappings, else one generic change."""
        lists = isinstance(old or [], list) and isinstance(new or [], list)
        if not (lists and all(isinstance(e, dict) for e in [*(old or []), *(new or [])])):
            self.generic(rule, at, old, new)
        else:
            compare(at, old or [], new or [])

    # -- the contract ----------------------------------------------------------------------

    def contract(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        handlers = {
            "version": lambda at, a, b: None,
            "schema": lambda at, a, b: self.listing(at, a, b, "schema-removed", self.objects),
            "servers": lambda at, a, b: self.listing(at, a, b, "server-changed", self.servers),
            "slaProperties": lambda at, a, b: self.listing(at, a, b, "sla-changed", self.slas),
            "roles": lambda at, a, b: self.listing(at, a, b, "role-changed", self.roles),
            "tags": lambda at, a, b: self.tags(at, a, b),
        }
        self.mapping(_At(), old, new, handlers, _TOP_RULES, "other-changed")

    def tags(self, at: _At, old: Any, new: Any) -> None:
        lists = isinstance(old or [], list) and isinstance(new or [], list)
        if lists and sorted(map(scalar_key, old or [])) == sorted(map(scalar_key, new or [])):
            return
        self.add("tags-changed", at, old, new)

    # -- schema objects and properties -----------------------------------------------------

    def objects(self, at: _At, old: list[Any], new: list[Any]) -> bool:
        self.elements(
            "other-changed", at, old, new, _name_key,
            lambda e: "deprecated-schema-removed" if _deprecated(e) else "schema-removed",
            "schema-added", lambda rule, here, a, b: self.object(here, a, b), _name_label,
        )  # fmt: skip
        return True

    def object(self, at: _At, old: Any, new: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)):
            self.generic("other-changed", at, old, new)
            return
        handlers = {
            "name": lambda here, a, b: self.add("schema-renamed", here, a, b),
            "physicalName": lambda here, a, b: self.physical_name(here, old, new),
            "properties": lambda here, a, b: self.listing(here, a, b, "other-changed",
                                                          self.properties),
            "quality": lambda here, a, b: self.listing(here, a, b, "quality-rule-changed",
                                                       self.quality),
        }  # fmt: skip
        rules = {
            "logicalType": "logical-type-changed",
            "physicalType": "physical-type-changed",
            "relationships": "relationship-changed",
            "id": "other-changed",
        }
        self.mapping(at, old, new, handlers, rules, "other-changed")

    def physical_name(self, at: _At, old: dict[str, Any], new: dict[str, Any]) -> None:
        """physicalName defaults to the name: spelling out the same name is no change."""
        a = old.get("physicalName", old.get("name"))
        b = new.get("physicalName", new.get("name"))
        if a != b:
            self.add("physical-name-changed", at, old.get("physicalName"), new.get("physicalName"))

    def properties(self, at: _At, old: list[Any], new: list[Any]) -> bool:
        found = match(old, new, _name_key)
        renamed = _renames(old, new, found.removed, found.added)
        labels_old, labels_new = labels_of(old, _name_label), labels_of(new, _name_label)
        for i in found.removed:
            if i not in renamed:
                rule = "deprecated-property-removed" if _deprecated(old[i]) else "property-removed"
                self.add(rule, at.item(labels_old[i], None), old[i], None)
        for j in found.added:
            if j not in renamed.values():
                required = isinstance(new[j], dict) and new[j].get("required") is True
                rule = "required-property-added" if required else "property-added"
                self.add(rule, at.item(labels_new[j], j), None, new[j])
        for i, j in sorted([*found.pairs, *renamed.items()]):
            self.property(at.item(labels_new[j], j), old[i], new[j])
        return True

    def property(self, at: _At, old: Any, new: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)):
            self.generic("other-changed", at, old, new)
            return
        retyped = old.get("logicalType") != new.get("logicalType")

        def flag(rule: str, default: Any) -> Callable[[_At, Any, Any], None]:
            def compare(here: _At, a: Any, b: Any) -> None:
                a, b = default if a is None else a, default if b is None else b
                if a != b:
                    self.add(rule, here, a, b)

            return compare

        def unless_retyped(compare: Callable[[_At, Any, Any], None]) -> Any:
            return (lambda here, a, b: None) if retyped else compare

        handlers: dict[str, Callable[[_At, Any, Any], None]] = {
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
            "quality": lambda here, a, b: self.listing(here, a, b, "quality-rule-changed",
                                                       self.quality),
            "properties": unless_retyped(
                lambda here, a, b: self.listing(here, a, b, "other-changed", self.properties)
            ),
            "items": unless_retyped(self.property),
            "map": unless_retyped(self.map),
        }  # fmt: skip
        rules = {
            "logicalType": "logical-type-changed",
            "physicalType": "physical-type-changed",
            "encryptedName": "physical-name-changed",
            "classification": "classification-changed",
            "relationships": "relationship-changed",
            "id": "other-changed",
        }
        self.mapping(at, old, new, handlers, rules, "other-changed")

    def required(self, at: _At, old: Any, new: Any) -> None:
        was, now = old is True, new is True
        if was != now:
            self.add("now-required" if now else "now-optional", at, was, now)

    def map(self, at: _At, old: Any, new: Any) -> None:
        if isinstance(old, dict) and isinstance(new, dict):
            for key in _keys(old, new):
                if key in ("key", "value") and old.get(key) != new.get(key):
                    self.property(at.key(key, key in new), old.get(key) or {}, new.get(key) or {})
                elif old.get(key) != new.get(key):
                    self.generic("other-changed", at.key(key, key in new), old.get(key),
                                 new.get(key))  # fmt: skip
        else:
            self.generic("logical-type-changed", at, old, new)

    # -- constraints -----------------------------------------------------------------------

    def options(self, at: _At, old: dict[str, Any], new: dict[str, Any], logical: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)):
            self.generic("constraint-tightened", at, old, new)
            return
        for key in _keys(old, new):
            a, b = old.get(key), new.get(key)
            if key == "format" and logical == "integer":
                a, b = a or "i32", b or "i32"
            if a == b:
                continue
            here = at.key(key, key in new)
            if key == "enum":
                self.enum(here, a, b)
            else:
                self.add(_constraint_rule(key, a, b), here, a, b)

    def enum(self, at: _At, old: Any, new: Any) -> None:
        if not (isinstance(old, list) and isinstance(new, list)):
            if old is None or new is None:
                rule = "constraint-tightened" if old is None else "constraint-loosened"
            else:
                rule = "constraint-tightened"
            self.add(rule, at, old, new)
            return

        def value(entry: Any) -> str:
            inner = entry.get("value") if isinstance(entry, dict) else entry
            return inner if isinstance(inner, str) else scalar_key(inner)

        self.elements(
            "description-changed", at, old, new, value, "enum-value-removed",
            "enum-value-added", self.generic, value,
        )  # fmt: skip

    # -- quality ---------------------------------------------------------------------------

    def quality(self, at: _At, old: list[Any], new: list[Any]) -> bool:
        self.elements(
            "quality-rule-changed", at, old, new, quality_key, "quality-rule-removed",
            lambda e: "error-quality-rule-added" if _is_error_level(e) else "quality-rule-added",
            lambda rule, here, a, b: self.quality_rule(here, a, b), quality_label,
        )  # fmt: skip
        return True

    def quality_rule(self, at: _At, old: Any, new: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)):
            self.generic("quality-rule-changed", at, old, new)
            return
        error = _is_error_level(new)
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
            self.add(_quality_rule(direction, error), where, before, after)
        elif ops_old != ops_new:
            self.add("other-changed", at, ops_old, ops_new)
        rank_old, rank_new = _severity_rank(old), _severity_rank(new)
        if rank_old != rank_new:
            direction = "tightened" if rank_new > rank_old else "loosened"
            here = at.key("severity", "severity" in new)
            self.add(
                _quality_rule(direction, error), here, old.get("severity"), new.get("severity")
            )
        elif old.get("severity") != new.get("severity"):
            self.add("other-changed", at.key("severity", "severity" in new),
                     old.get("severity"), new.get("severity"))  # fmt: skip
        for key in _keys(old, new):
            a, b = old.get(key), new.get(key)
            if a == b or key in OPERATORS or key == "severity":
                continue
            here = at.key(key, key in new)
            if key in _QUALITY_TEXT:
                self.generic("description-changed", here, a, b)
            elif key in FIELD_RULES or key in _QUALITY_OTHER:
                self.generic(FIELD_RULES.get(key, "other-changed"), here, a, b)
            else:
                self.add(_quality_rule("changed", error), here, a, b)

    # -- service levels, servers, roles ----------------------------------------------------

    def slas(self, at: _At, old: list[Any], new: list[Any]) -> bool:
        self.elements(
            "sla-changed", at, old, new, _field_key("property"), "sla-removed", "sla-added",
            lambda rule, here, a, b: self.sla(here, a, b),
        )  # fmt: skip
        return True

    def sla(self, at: _At, old: dict[str, Any], new: dict[str, Any]) -> None:
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

    def servers(self, at: _At, old: list[Any], new: list[Any]) -> bool:
        def server(rule: str, here: _At, a: Any, b: Any) -> None:
            handlers = {
                "roles": lambda inner, x, y: self.listing(inner, x, y, "role-changed", self.roles)
            }
            self.mapping(here, a, b, handlers, _SERVER_SOFT, "server-changed")

        self.elements(
            "server-changed", at, old, new, _field_key("server"), "server-removed",
            "server-added", server,
        )  # fmt: skip
        return True

    def roles(self, at: _At, old: list[Any], new: list[Any]) -> bool:
        def role(rule: str, here: _At, a: Any, b: Any) -> None:
            self.mapping(here, a, b, {}, {"id": "other-changed"}, "role-changed")

        self.elements(
            "role-changed", at, old, new, _field_key("role"), "role-removed", "role-added", role
        )
        return True


def _without(mapping: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if key not in keys}


def _constraint_rule(key: str, old: Any, new: Any) -> str:
    if key in ("format", "timezone", "defaultTimezone") and old is not None and new is not None:
        return "format-changed"
    if key in ("timezone", "defaultTimezone"):
        return "format-changed"
    if old is None:
        return "constraint-tightened"
    if new is None:
        return "constraint-loosened"
    if key in _UPPER or key in _LOWER:
        order = compare_values(old, new)
        if order is None:
            return "constraint-tightened"
        return "constraint-tightened" if (order < 0) == (key in _UPPER) else "constraint-loosened"
    if key == "multipleOf":
        numbers = isinstance(old, (int, float)) and isinstance(new, (int, float)) and new and old
        return (
            "constraint-loosened"
            if numbers and (old / new).is_integer()
            else ("constraint-tightened")
        )
    if key == "uniqueItems":
        return "constraint-tightened" if new is True else "constraint-loosened"
    lists = key == "required" and isinstance(old, list) and isinstance(new, list)
    if lists and set(map(scalar_key, new)) <= set(map(scalar_key, old)):
        return "constraint-loosened"
    return "constraint-tightened"


def _quality_rule(direction: str, error: bool) -> str:
    if direction == "tightened":
        return "error-quality-rule-tightened" if error else "quality-rule-tightened"
    if direction == "loosened":
        return "quality-rule-loosened"
    return "error-quality-rule-changed" if error else "quality-rule-changed"


def _renames(
    old: list[Any], new: list[Any], removed: list[int], added: list[int]
) -> dict[int, int]:
    """Removed and added properties equal but for their name: renames (one to one only)."""

    def body(element: Any) -> str | None:
        if not isinstance(element, dict) or "id" in element:
            return None
        return scalar_key({k: v for k, v in element.items() if k not in ("name", "physicalName")})

    bodies_old = {i: body(old[i]) for i in removed}
    bodies_new = {j: body(new[j]) for j in added}
    pairs: dict[int, int] = {}
    for i, text in bodies_old.items():
        same = [j for j, other in bodies_new.items() if text is not None and other == text]
        twins = [k for k, other in bodies_old.items() if other == text]
        if len(same) == 1 and len(twins) == 1:
            pairs[i] = same[0]
    return pairs


_ESCAPE = re.compile(r"[.\[\]\"]|^$")


def render_path(path: tuple[str, ...]) -> str:
    """``("schema", "my.table", "properties")`` -> ``schema["my.table"].properties``.

    >>> render_path(("schema", "customers", "properties", "email"))
    'schema.customers.properties.email'
    """
    text = ""
    for part in path:
        if _ESCAPE.search(part):
            text += "[" + scalar_key(part) + "]"
        else:
            text += ("." if text else "") + part
    return text
