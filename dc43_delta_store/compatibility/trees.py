"""Comparing two JSON trees change by change: the machinery under the ODCS walk.

Mappings compare key by key, lists of mappings by identity (:mod:`.matching`), other lists
as multisets; where a list of objects is wanted, what is not one is :data:`MALFORMED`. Each
change found records its path by names, the JSON Pointer of its nearest part in the later
document, and the rule it falls under.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .matching import generic_key, labels_of, match, scalar_key

__all__ = ["FIELD_RULES", "MALFORMED", "At", "Found", "TreeWalker", "keys_of"]

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
class At:
    """Where the walk is: the path by names, and the pointer into the later document."""

    path: tuple[str, ...] = ()
    pointer: Pointer = ()
    exists: bool = True  # False once inside something the later document lacks
    field: str | None = None

    def key(self, key: str, present: bool = True) -> At:
        keep = self.exists and present
        return At((*self.path, key), (*self.pointer, key) if keep else self.pointer, keep, key)

    def item(self, label: str, index: int | None) -> At:
        keep = self.exists and index is not None
        pointer = (*self.pointer, index) if keep and index is not None else self.pointer
        return At((*self.path, label), pointer, keep)


MALFORMED = "malformed-changed"
"""The rule of a part the walk cannot read (not in the shape ODCS gives it) that changed."""

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


def _same_text(a: Any, b: Any) -> bool:
    return a == b or (a is None and b == "") or (a == "" and b is None)


def keys_of(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[str]:
    yield from old
    yield from (key for key in new if key not in old)


def _label(key: Callable[[Any], str | None]) -> Callable[[Any], str]:
    return lambda element: key(element) or "?"


class TreeWalker:
    """Collects :class:`Found` changes; subclasses say what each part of a tree means."""

    def __init__(self) -> None:
        self.found: list[Found] = []

    def add(self, rule: str, at: At, old: Any, new: Any) -> None:
        self.found.append(Found(rule, at.path, old, new, at.pointer, at.field))

    # -- generic trees ---------------------------------------------------------------------

    def generic(self, rule: str, at: At, old: Any, new: Any) -> None:
        """Any JSON value: dicts by key, lists of dicts by identity, other lists as sets."""
        if old == new or _same_text(old, new):
            return
        if isinstance(old, dict) and isinstance(new, dict):
            for key in keys_of(old, new):
                self.generic(
                    FIELD_RULES.get(key, rule), at.key(key, key in new), old.get(key), new.get(key)
                )
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
        at: At,
        old: list[Any],
        new: list[Any],
        key: Callable[[Any], str | None],
        removed_rule: str | Callable[[Any], str],
        added_rule: str | Callable[[Any], str],
        compare: Callable[[str, At, Any, Any], None],
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
        at: At,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        handlers: Mapping[str, Callable[[At, Any, Any], None]],
        rules: Mapping[str, str],
        default: str,
    ) -> None:
        """Compare two mappings key by key: a handler, else a rule, else ``default``."""
        for key in keys_of(old, new):
            a, b = old.get(key), new.get(key)
            if a == b:
                continue
            child = at.key(key, key in new)
            if key in handlers:
                handlers[key](child, a, b)
            else:
                self.generic(rules.get(key) or FIELD_RULES.get(key, default), child, a, b)

    def listing(self, at: At, old: Any, new: Any, compare: Callable[[At, Any, Any], bool]) -> None:
        """``compare`` two lists of objects (absent: empty). What the walk cannot read there
        -- a value that is not a list, an element that is not an object -- is a
        :data:`MALFORMED` change wherever it is not the same on both sides."""
        before, after = [] if old is None else old, [] if new is None else new
        if not (isinstance(before, list) and isinstance(after, list)):
            self.add(MALFORMED, at, old, new)
            return
        kept_old = [i for i, element in enumerate(before) if isinstance(element, dict)]
        kept_new = [j for j, element in enumerate(after) if isinstance(element, dict)]
        start = len(self.found)
        compare(at, [before[i] for i in kept_old], [after[j] for j in kept_new])
        if len(kept_old) == len(before) and len(kept_new) == len(after):
            return
        depth = len(at.pointer)  # point the changes found at the objects' own indexes
        for n in range(start, len(self.found)):
            found = self.found[n]
            index = found.pointer[depth] if len(found.pointer) > depth else None
            if isinstance(index, int) and found.pointer[:depth] == at.pointer:
                pointer = (*at.pointer, kept_new[index], *found.pointer[depth + 1 :])
                self.found[n] = replace(found, pointer=pointer)
        unmatched: dict[str, list[int]] = {}
        for j, element in enumerate(after):
            if not isinstance(element, dict):
                unmatched.setdefault(scalar_key(element), []).append(j)
        for i, element in enumerate(before):
            if not isinstance(element, dict) and not unmatched.get(scalar_key(element)):
                self.add(MALFORMED, at.item(f"#{i}", None), element, None)
            elif not isinstance(element, dict):
                unmatched[scalar_key(element)].pop(0)
        for j in sorted(j for group in unmatched.values() for j in group):
            self.add(MALFORMED, at.item(f"#{j}", j), None, after[j])
