"""Pairing the elements of two ODCS lists by identity, never by position.

Elements pair by ``id`` when both carry one; then by a key (a name: ``name``, ``server``,
``property``, a quality rule's metric...). Several elements with the same key pair equal
contents first, then in order, so reordering a list is never a change. Each element also
gets a *label* for paths: its key, with ``#2``, ``#3``... for repeats.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "GENERIC_KEYS",
    "Matched",
    "generic_key",
    "labels_of",
    "match",
    "quality_key",
    "quality_label",
    "render_path",
    "scalar_key",
]

KeyFunction = Callable[[Any], str | None]

GENERIC_KEYS = (
    "username",
    "name",
    "property",
    "server",
    "role",
    "channel",
    "url",
    "value",
    "column",
    "table",
)


def generic_key(element: Any) -> str | None:
    """The first identifying field of a mapping (see :data:`GENERIC_KEYS`)."""
    if isinstance(element, dict):
        for field in GENERIC_KEYS:
            value = element.get(field)
            if value is not None and not isinstance(value, (dict, list)):
                return str(value)
    return None


def scalar_key(value: Any) -> str:
    """A hashable, type-aware text for any JSON value (``1`` and ``"1"`` differ)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def quality_key(rule: Any) -> str | None:
    """What identifies a quality rule when it has no ``id``: its name, its metric, its query,
    its engine and implementation, its v2 template, or its text."""
    if not isinstance(rule, dict):
        return None
    if rule.get("name"):
        return str(rule["name"])
    metric = rule.get("metric") or rule.get("rule")
    if metric:
        return str(metric)
    if rule.get("query") is not None:
        return "sql " + " ".join(str(rule["query"]).split())
    if rule.get("engine") is not None:
        return f"{rule['engine']} {scalar_key(rule.get('implementation'))}"
    v2 = [str(rule[field]) for field in ("templateName", "toolRuleName", "code") if rule.get(field)]
    if v2:
        return " ".join(v2)
    return f"{rule.get('type') or 'text'} {rule.get('description') or ''}".strip()


def quality_label(rule: Any) -> str:
    """A short label for a quality rule: its name, metric, ``sql`` or the engine's name."""
    if isinstance(rule, dict):
        for field in ("name", "metric", "rule"):
            if rule.get(field):
                return str(rule[field])
        if rule.get("query") is not None:
            return "sql"
        if rule.get("engine") is not None:
            return str(rule["engine"])
        for field in ("templateName", "toolRuleName", "code", "type"):
            if rule.get(field):
                return str(rule[field])
    return "text"


@dataclass(frozen=True)
class Matched:
    """Index pairs ``(old, new)``, and the unpaired indexes of each side."""

    pairs: list[tuple[int, int]]
    removed: list[int]
    added: list[int]


def _id(element: Any) -> str | None:
    if isinstance(element, dict) and isinstance(element.get("id"), (str, int)):
        return str(element["id"])
    return None


def match(old: Sequence[Any], new: Sequence[Any], key: KeyFunction = generic_key) -> Matched:
    """Pair ``old`` and ``new`` elements by id, then by ``key``; equal contents pair first.

    >>> m = match([{"name": "a"}, {"name": "b"}], [{"name": "b"}, {"name": "c"}])
    >>> m.pairs, m.removed, m.added
    ([(1, 0)], [0], [1])
    """
    pairs: list[tuple[int, int]] = []
    new_by_id: dict[str, int] = {}
    for j, element in enumerate(new):
        ident = _id(element)
        if ident is not None:
            new_by_id.setdefault(ident, j)
    paired_new: set[int] = set()
    rest_old: list[int] = []
    for i, element in enumerate(old):
        j_found = new_by_id.get(_id(element) or "\0")
        if _id(element) is not None and j_found is not None and j_found not in paired_new:
            pairs.append((i, j_found))
            paired_new.add(j_found)
        else:
            rest_old.append(i)
    groups: dict[str | None, list[int]] = {}
    for j, element in enumerate(new):
        if j not in paired_new:
            groups.setdefault(key(element), []).append(j)
    removed: list[int] = []
    for pass_equal in (True, False):
        unpaired: list[int] = []
        for i in rest_old:
            candidates = groups.get(key(old[i]), [])
            found = next(
                (
                    j
                    for j in candidates
                    if (old[i] == new[j] if pass_equal else not (_id(old[i]) and _id(new[j])))
                ),
                None,
            )
            if found is None:
                unpaired.append(i)
            else:
                candidates.remove(found)
                pairs.append((i, found))
        rest_old = unpaired
    removed = rest_old
    added = sorted(j for group in groups.values() for j in group)
    pairs.sort()
    return Matched(pairs, removed, added)


def labels_of(elements: Sequence[Any], label: Callable[[Any], str]) -> list[str]:
    """Each element's label: ``label(element)``, with ``#2``, ``#3``... for repeats.

    >>> labels_of([{"name": "a"}, {"name": "a"}, {"name": "b"}], lambda e: e["name"])
    ['a', 'a#2', 'b']
    """
    seen: dict[str, int] = {}
    result: list[str] = []
    for element in elements:
        own = label(element)
        seen[own] = seen.get(own, 0) + 1
        result.append(own if seen[own] == 1 else f"{own}#{seen[own]}")
    return result


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
