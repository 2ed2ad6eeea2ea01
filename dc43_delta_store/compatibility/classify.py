"""Which rule a change falls under where the walk alone cannot tell: the direction of a
bound, a quality rule's level, a deprecation, a rename."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .matching import scalar_key
from .measures import compare_values

__all__ = [
    "constraint_rule",
    "deprecated",
    "is_error_level",
    "quality_rule",
    "renames",
    "severity_rank",
]

_UPPER = frozenset({"maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties"})
_LOWER = frozenset({"minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties"})
_ERROR_LEVELS = frozenset({"error", "critical", "fatal", "blocker", "high"})
_SEVERITY_RANK = {"info": 0, "information": 0, "low": 0, "warning": 1, "warn": 1, "medium": 1}


def is_error_level(rule: Mapping[str, Any]) -> bool:
    """Enforced as an error: severity error (or alike) or none given; text rules never are."""
    if rule.get("type") == "text":
        return False
    severity = rule.get("severity")
    return severity is None or str(severity).strip().lower() in _ERROR_LEVELS


def severity_rank(rule: Mapping[str, Any]) -> int:
    if is_error_level(rule):
        return 2
    return _SEVERITY_RANK.get(str(rule.get("severity")).strip().lower(), 1)


def deprecated(element: Any) -> bool:
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


def constraint_rule(key: str, old: Any, new: Any) -> str:
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


def quality_rule(direction: str, error: bool) -> str:
    if direction == "tightened":
        return "error-quality-rule-tightened" if error else "quality-rule-tightened"
    if direction == "loosened":
        return "quality-rule-loosened"
    return "error-quality-rule-changed" if error else "quality-rule-changed"


def renames(old: list[Any], new: list[Any], removed: list[int], added: list[int]) -> dict[int, int]:
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
