"""``diff``: the changes between two contract versions and the SemVer bump they require."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.documents import file_path, load_document
from ..errors import InvalidRequestError
from .differ import Found, render_path, walk
from .policy import (
    Override,
    coerce_overrides,
    given_bump,
    needed_bump,
    next_version,
    satisfied,
)
from .rules import MODES, RULES, Bump, Mode, Verdict, max_bump

__all__ = ["Change", "DiffResult", "diff", "split_reference"]

_SECRET = re.compile(r"password|passwd|secret|token|credential|api_?key|access_?key|sas", re.I)


@dataclass(frozen=True)
class Change:
    """One change: its rule, where (``path`` by names, ``pointer`` into the later document),
    the values before and after, both verdicts and the bump it requires.

    ``override`` is set when an override changed the bump; ``rule_bump`` is then the bump
    the rule itself requires."""

    rule: str
    path: str
    old: Any
    new: Any
    consumers: Verdict
    producers: Verdict
    bump: Bump
    pointer: str
    rule_bump: Bump
    override: Override | None = None

    @property
    def overridden(self) -> bool:
        return self.override is not None

    @property
    def title(self) -> str:
        return RULES[self.rule].title

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "title": self.title,
            "path": self.path,
            "pointer": self.pointer,
            "old": self.old,
            "new": self.new,
            "consumers": self.consumers,
            "producers": self.producers,
            "bump": self.bump,
            "overridden": self.overridden,
            "rule_bump": self.rule_bump,
            "override": None if self.override is None else self.override.to_dict(),
        }


@dataclass(frozen=True)
class DiffResult:
    """What changed from one version to the next, and what that asks of the version number.

    ``required_bump`` is the largest bump of the changes; ``needed_bump`` the version bump
    that satisfies it (under 0.y.z one level lower); ``given_bump`` the bump the two
    ``version`` fields make (None when one is not SemVer or the new one is lower).
    """

    old_id: str | None
    old_version: str | None
    new_id: str | None
    new_version: str | None
    mode: Mode
    changes: tuple[Change, ...]

    @property
    def required_bump(self) -> Bump:
        return max_bump(*(change.bump for change in self.changes))

    @property
    def needed_bump(self) -> Bump:
        if self.old_version is None:
            return self.required_bump
        return needed_bump(self.required_bump, self.old_version)

    @property
    def given_bump(self) -> Bump | None:
        if self.old_version is None or self.new_version is None:
            return None
        return given_bump(self.old_version, self.new_version)

    @property
    def compatible(self) -> bool:
        """True when the version bump covers the changes."""
        return satisfied(self.given_bump, self.needed_bump)

    @property
    def suggested_version(self) -> str | None:
        """The lowest version above ``old_version`` that covers the changes."""
        if self.old_version is None:
            return None
        return next_version(self.old_version, self.needed_bump)

    def exceeding(self) -> list[Change]:
        """The changes that need more than the version bump gives: why it is incompatible."""
        given = self.given_bump
        return [
            change
            for change in self.changes
            if not satisfied(given, needed_bump(change.bump, self.old_version or "1.0.0"))
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": {"id": self.old_id, "version": self.old_version},
            "new": {"id": self.new_id, "version": self.new_version},
            "mode": self.mode,
            "same_contract": self.old_id == self.new_id,
            "required_bump": self.required_bump,
            "needed_bump": self.needed_bump,
            "given_bump": self.given_bump,
            "compatible": self.compatible,
            "suggested_version": self.suggested_version,
            "changes": [change.to_dict() for change in self.changes],
        }


def diff(
    old: Any,
    new: Any,
    *,
    mode: Mode = "full",
    overrides: Iterable[Override | Mapping[str, Any]] = (),
    contract_id: str | None = None,
) -> DiffResult:
    """The changes from ``old`` to ``new`` and the bump they require under ``mode``.

    ``old`` and ``new`` are what ``put`` takes: documents (mappings), ODCS models, YAML or
    JSON text, or file paths. ``overrides`` re-rate changes (the first that matches wins):
    :class:`Override` objects or mappings as in an overrides file
    (``{"rule": "sla-*", "bump": "minor"}``); ``contract_id`` is the id they match (default:
    the later document's).

    >>> from dc43_delta_store.compatibility.examples import BASE
    >>> changed = {**BASE, "version": "1.1.0", "status": "retired"}
    >>> result = diff(BASE, changed)
    >>> [(c.rule, c.path, c.bump) for c in result.changes], result.required_bump
    ([('status-changed', 'status', 'none')], 'none')
    """
    if mode not in MODES:
        raise InvalidRequestError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    rules = list(coerce_overrides(overrides))
    before, after = _document(old), _document(new)
    owner = contract_id or _identity(after, "id")
    changes = tuple(_change(found, mode, rules, owner) for found in walk(before, after))
    return DiffResult(
        _identity(before, "id"),
        _identity(before, "version"),
        _identity(after, "id"),
        _identity(after, "version"),
        mode,
        changes,
    )


def split_reference(value: Any) -> tuple[str, str] | None:
    """``("sales.orders", "1.0.0")`` for ``"sales.orders@1.0.0"``; None for anything else
    (documents, text, file paths).

    >>> split_reference("sales.orders@1.0.0"), split_reference("orders@1.0.0.yaml")
    (('sales.orders', '1.0.0'), None)
    """
    if not isinstance(value, str) or "\n" in value or file_path(value) is not None:
        return None
    contract_id, at, version = value.rpartition("@")
    if not (at and contract_id and version) or ":" in value:
        return None
    return contract_id, version


def _document(source: Any) -> Mapping[str, Any]:
    if isinstance(source, Mapping):
        return source
    return load_document(source)


def _identity(document: Mapping[str, Any], field: str) -> str | None:
    value = document.get(field)
    if value is None and field == "id":
        value = document.get("uuid")
    return None if value is None else str(value)


def _change(found: Found, mode: Mode, overrides: list[Override], contract_id: str | None) -> Change:
    rule = RULES[found.rule]
    path = render_path(found.path)
    bump = rule.bump(mode)
    override = next((o for o in overrides if o.matches(rule.id, path, contract_id)), None)
    secret = found.field is not None and _SECRET.search(found.field) is not None
    return Change(
        rule=rule.id,
        path=path,
        old="***" if secret and found.old is not None else _redacted(found.old),
        new="***" if secret and found.new is not None else _redacted(found.new),
        consumers=rule.consumers,
        producers=rule.producers,
        bump=bump if override is None else override.bump,
        pointer="".join(f"/{_escape(part)}" for part in found.pointer),
        rule_bump=bump,
        override=override,
    )


def _redacted(value: Any) -> Any:
    """``value`` with secrets (a removed server's password...) masked."""
    if isinstance(value, Mapping):
        return {
            key: "***" if _SECRET.search(key) and item is not None else _redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


def _escape(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")
