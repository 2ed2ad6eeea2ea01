"""Compatibility policies, rule overrides, and the SemVer arithmetic of the gate.

A policy is a mode (``none``, ``backward``, ``forward``, ``full``), optionally
*transitive*: checked against every earlier release of the same major version rather than
the highest one only. It is written as Confluent names it, in lower case: ``full``,
``full_transitive``...

The table keeps the settings in three Delta table properties, readable with
``SHOW TBLPROPERTIES`` in any engine:

- ``dc43.compatibility``: the table's policy (``full_transitive``); absent means ``none``;
- ``dc43.compatibility.contracts``: JSON ``{"contract id": "policy"}`` for exceptions;
- ``dc43.compatibility.overrides``: JSON list of :class:`Override` objects.

A value this library cannot read (another tool's, or ``none_transitive`` written by an older
release) is never taken for ``none``: :meth:`CompatibilitySettings.from_properties` refuses
it with :class:`~..errors.IncompatibleTableError` naming the property, the value and the
command that repairs it; read with ``strict=False`` the settings carry it as a
:class:`SettingsProblem`, write it back unchanged, and drop it once the part it stands for
is set again (the repair).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

from ..core.versions import parse_version
from ..errors import IncompatibleTableError, InvalidRequestError
from .rules import BUMPS, MODES, RULES, Bump, Mode, bump_rank

__all__ = [
    "CONTRACTS_PROPERTY",
    "OVERRIDES_PROPERTY",
    "POLICIES",
    "POLICY_PROPERTY",
    "CompatibilitySettings",
    "Override",
    "Policy",
    "SettingsProblem",
    "coerce_overrides",
    "given_bump",
    "needed_bump",
    "next_version",
]

POLICY_PROPERTY = "dc43.compatibility"
CONTRACTS_PROPERTY = "dc43.compatibility.contracts"
OVERRIDES_PROPERTY = "dc43.compatibility.overrides"
POLICIES = "none, backward, forward, full, backward_transitive, forward_transitive, full_transitive"
"""Every policy, as written (``none`` checks nothing, so it cannot be transitive)."""


@dataclass(frozen=True)
class Policy:
    """A compatibility mode, optionally transitive.

    >>> Policy.parse("FULL_TRANSITIVE")
    Policy(mode='full', transitive=True)
    >>> str(Policy("backward"))
    'backward'
    """

    mode: Mode = "none"
    transitive: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidRequestError(
                f"compatibility mode must be one of {', '.join(MODES)}, not {self.mode!r}"
            )
        if not isinstance(self.transitive, bool):
            raise InvalidRequestError(f"transitive must be True or False, not {self.transitive!r}")
        if self.transitive and self.mode == "none":
            raise InvalidRequestError(
                "compatibility policy 'none_transitive' is not allowed: none checks nothing, so "
                f"it cannot be transitive; the policies are {POLICIES}"
            )

    @classmethod
    def parse(cls, text: str | Policy) -> Policy:
        """The policy ``text`` names (any case, ``-`` for ``_``).

        >>> Policy.parse("none_transitive")
        Traceback (most recent call last):
        ...
        dc43_delta_store.errors.InvalidRequestError: compatibility policy 'none_transitive' ...
        """
        if isinstance(text, Policy):
            return text
        value = str(text).strip().lower().replace("-", "_")
        transitive = value.endswith("_transitive")
        mode = value.removesuffix("_transitive")
        if mode not in MODES or (transitive and mode == "none"):
            why = " (none cannot be transitive)" if mode == "none" else ""
            raise InvalidRequestError(
                f"compatibility policy {text!r} is not one of {POLICIES}{why}"
            )
        return cls(mode, transitive)

    def __str__(self) -> str:
        return self.mode + ("_transitive" if self.transitive else "")


@dataclass(frozen=True)
class Override:
    """Give changes of ``rule`` another bump (``"none"``: ignore them).

    ``rule`` is a rule id or a glob (``quality-*``); ``path`` a glob over change paths
    (``schema.*.properties.email*``); ``contract`` a glob over contract ids. Unset ones match
    everything. The change stays in every report, marked as overridden with its own bump.

    >>> Override("sla-weakened", bump="minor").matches("sla-weakened", "slaProperties.x", "c")
    True
    """

    rule: str
    path: str | None = None
    contract: str | None = None
    bump: Bump = "none"
    reason: str | None = None

    def __post_init__(self) -> None:
        for name in ("rule", "path", "contract", "reason"):
            value = getattr(self, name)
            if not (isinstance(value, str) or (value is None and name != "rule")):
                raise InvalidRequestError(f"override {name} must be text, not {value!r}")
        if not any(fnmatch.fnmatchcase(rule, self.rule) for rule in RULES):
            raise InvalidRequestError(
                f"override rule {self.rule!r} matches no rule; the rules are: " + ", ".join(RULES)
            )
        if self.bump not in BUMPS:
            raise InvalidRequestError(
                f"override bump must be one of {', '.join(BUMPS)}, not {self.bump!r}"
            )

    def matches(self, rule: str, path: str, contract_id: str | None) -> bool:
        return (
            fnmatch.fnmatchcase(rule, self.rule)
            and (self.path is None or fnmatch.fnmatchcase(path, self.path))
            and (
                self.contract is None
                or (contract_id is not None and fnmatch.fnmatchcase(contract_id, self.contract))
            )
        )

    def to_dict(self) -> dict[str, str]:
        fields = {"rule": self.rule, "path": self.path, "contract": self.contract}
        fields.update(bump=self.bump, reason=self.reason)
        return {key: value for key, value in fields.items() if value is not None}

    @classmethod
    def from_dict(cls, data: Any, where: str = "override") -> Override:
        """An override from a mapping such as a line of an overrides file."""
        if not isinstance(data, Mapping) or not isinstance(data.get("rule"), str):
            raise InvalidRequestError(f"{where} must be a mapping with a 'rule', got {data!r}")
        unknown = set(data) - {"rule", "path", "contract", "bump", "reason"}
        if unknown:
            raise InvalidRequestError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
        for key, value in data.items():
            if value is not None and not isinstance(value, str):
                raise InvalidRequestError(f"{where}.{key} must be text, not {value!r}")
        text = {k: str(v) for k, v in data.items() if v is not None}
        return cls(
            text["rule"],
            text.get("path"),
            text.get("contract"),
            cast(Bump, text.get("bump", "none")),
            text.get("reason"),
        )


def parse_overrides(data: Any, where: str) -> tuple[Override, ...]:
    """Overrides from a JSON/YAML list (an overrides file, or the table property)."""
    if data is None:
        return ()
    if isinstance(data, Mapping) and "overrides" in data:
        data = data["overrides"]
    if not isinstance(data, list):
        raise InvalidRequestError(f"{where} must be a list of overrides")
    return tuple(
        item if isinstance(item, Override) else Override.from_dict(item, f"{where}[{i}]")
        for i, item in enumerate(data)
    )


def coerce_overrides(overrides: Any, where: str = "overrides") -> tuple[Override, ...]:
    """``overrides`` as given to ``diff``: :class:`Override` objects or their mappings (the
    YAML shape), in any iterable; anything else is refused naming the item.

    >>> coerce_overrides([{"rule": "*", "bump": "none"}])[0]
    Override(rule='*', path=None, contract=None, bump='none', reason=None)
    >>> coerce_overrides([{"rule": "*", "level": "none"}])
    Traceback (most recent call last):
    ...
    dc43_delta_store.errors.InvalidRequestError: overrides[0] has unknown keys: level
    """
    if overrides is None:
        return ()
    if isinstance(overrides, (str, bytes, Mapping)) or not isinstance(overrides, Iterable):
        raise InvalidRequestError(
            f"{where} must be a list of overrides (Override objects or mappings with a "
            f"'rule'), not {type(overrides).__name__}"
        )
    return parse_overrides(list(overrides), where)


_REPAIR_POLICY = (
    "dc43-delta-store compatibility set none|backward|forward|full [--transitive] "
    '(store.set_compatibility("full"))'
)


@dataclass(frozen=True)
class SettingsProblem:
    """A compatibility table property (or one contract's entry in it) that cannot be read:
    its raw ``value``, why, and the command that repairs it.

    >>> problem = CompatibilitySettings.from_properties(
    ...     {"dc43.compatibility": "none_transitive"}, strict=False).problems[0]
    >>> problem.table_property, problem.value
    ('dc43.compatibility', 'none_transitive')
    """

    table_property: str
    value: Any
    reason: str
    fix: str
    contract: str | None = None  # set for one unreadable entry of the contracts property

    @property
    def what(self) -> str:
        """What is wrong, without the repair."""
        where = f"table property {self.table_property}"
        if self.contract is not None:
            where += f" (contract {self.contract!r})"
        shown = repr(self.value)  # escaped: another tool's text reaches terminals safely
        if len(shown) > 200:
            shown = f"{shown[:180]}... ({len(shown)} characters)"
        return f"{where} holds {shown}, which {self.reason}"

    def __str__(self) -> str:
        return f"{self.what}; repair it: {self.fix}"


@dataclass(frozen=True)
class CompatibilitySettings:
    """The table's policy, its per-contract exceptions and its rule overrides.

    ``problems`` lists the properties a lenient read (``from_properties(strict=False)``)
    could not read; their raw values are written back as they were (see the module
    docstring).
    """

    policy: Policy = Policy()
    contracts: Mapping[str, Policy] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    problems: tuple[SettingsProblem, ...] = ()

    def policy_for(self, contract_id: str) -> Policy:
        return self.contracts.get(contract_id, self.policy)

    def with_policy(self, policy: Policy | None, contract_id: str | None) -> CompatibilitySettings:
        """These settings with the table's policy, or a contract's (None drops the contract's).

        Setting a part repairs it: the problem of the value it replaces is dropped.

        >>> CompatibilitySettings().with_policy(Policy("none"), "legacy").contracts
        {'legacy': Policy(mode='none', transitive=False)}
        """
        if contract_id is None:
            if policy is None:
                raise InvalidRequestError("the table's policy cannot be None: use 'none'")
            kept = tuple(p for p in self.problems if p.table_property != POLICY_PROPERTY)
            return replace(self, policy=policy, problems=kept)
        contracts = {cid: p for cid, p in self.contracts.items() if cid != contract_id}
        if policy is not None:
            contracts[contract_id] = policy
        kept = tuple(
            p
            for p in self.problems
            if p.table_property != CONTRACTS_PROPERTY or p.contract not in (None, contract_id)
        )
        return replace(self, contracts=contracts, problems=kept)

    def with_overrides(self, overrides: Iterable[Override]) -> CompatibilitySettings:
        """These settings with ``overrides`` instead of their own (an unreadable list too)."""
        kept = tuple(p for p in self.problems if p.table_property != OVERRIDES_PROPERTY)
        return replace(self, overrides=tuple(overrides), problems=kept)

    def ordered_overrides(self) -> list[Override]:
        """The overrides in the order they are tried: per-contract ones first."""
        scoped = [o for o in self.overrides if o.contract is not None]
        return scoped + [o for o in self.overrides if o.contract is None]

    def to_properties(self) -> dict[str, str]:
        """The table properties; values that could not be read are written back unchanged."""
        raw = {p.table_property: p.value for p in self.problems if p.contract is None}
        contracts: dict[str, Any] = {cid: str(p) for cid, p in self.contracts.items()}
        contracts.update({p.contract: p.value for p in self.problems if p.contract is not None})
        return {
            POLICY_PROPERTY: raw.get(POLICY_PROPERTY, str(self.policy)),
            CONTRACTS_PROPERTY: raw.get(
                CONTRACTS_PROPERTY, json.dumps(dict(sorted(contracts.items())))
            ),
            OVERRIDES_PROPERTY: raw.get(
                OVERRIDES_PROPERTY, json.dumps([o.to_dict() for o in self.overrides])
            ),
        }

    @classmethod
    def from_properties(
        cls, properties: Mapping[str, str], *, strict: bool = True
    ) -> CompatibilitySettings:
        """Read the settings from table properties (absent ones mean no policy).

        A value that cannot be read raises :class:`~..errors.IncompatibleTableError` naming
        the property, the value and the repair; with ``strict=False`` it is listed in
        ``problems`` instead, and its part keeps its default.

        >>> CompatibilitySettings.from_properties({"dc43.compatibility": "full"}).policy
        Policy(mode='full', transitive=False)
        """
        problems: list[SettingsProblem] = []
        policy = Policy()
        text = properties.get(POLICY_PROPERTY)
        if text:
            try:
                policy = Policy.parse(text)
            except InvalidRequestError:
                problems.append(
                    SettingsProblem(
                        POLICY_PROPERTY,
                        text,
                        f"is not a compatibility policy ({POLICIES}; none cannot be transitive)",
                        _REPAIR_POLICY,
                    )
                )
        contracts = _contract_policies(properties, problems)
        overrides: tuple[Override, ...] = ()
        try:
            overrides = parse_overrides(_json(properties, OVERRIDES_PROPERTY, []), "the list")
        except InvalidRequestError as exc:
            problems.append(
                SettingsProblem(
                    OVERRIDES_PROPERTY,
                    properties[OVERRIDES_PROPERTY],
                    f"is not a list of overrides ({exc})",
                    "dc43-delta-store compatibility override --clear, then add them again "
                    "(store.set_compatibility_overrides([...]))",
                )
            )
        if strict and problems:
            raise IncompatibleTableError(
                "; ".join(str(problem) for problem in problems)
                + ". Writes and diffs, which read these settings, are refused until then"
            )
        return cls(policy, contracts, overrides, tuple(problems))

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": str(self.policy),
            "contracts": {cid: str(policy) for cid, policy in sorted(self.contracts.items())},
            "overrides": [o.to_dict() for o in self.overrides],
        }


def _contract_policies(
    properties: Mapping[str, str], problems: list[SettingsProblem]
) -> dict[str, Policy]:
    """The per-contract policies; what cannot be read goes to ``problems``."""
    text = properties.get(CONTRACTS_PROPERTY)
    try:
        data = _json(properties, CONTRACTS_PROPERTY, {})
    except InvalidRequestError:
        data = None
    if not isinstance(data, dict):
        problems.append(
            SettingsProblem(
                CONTRACTS_PROPERTY,
                text,
                'is not a JSON object {"contract id": "policy"}',
                "dc43-delta-store compatibility set POLICY --contract ID, which replaces it "
                'with that one entry (store.set_compatibility("full", contract_id=ID))',
            )
        )
        return {}
    contracts: dict[str, Policy] = {}
    for contract_id, value in data.items():
        try:
            contracts[str(contract_id)] = Policy.parse(value if isinstance(value, str) else "?")
        except InvalidRequestError:
            problems.append(
                SettingsProblem(
                    CONTRACTS_PROPERTY,
                    value,
                    f"is not a compatibility policy ({POLICIES})",
                    f"dc43-delta-store compatibility set default --contract {contract_id} "
                    f"(store.set_compatibility(None, contract_id={str(contract_id)!r}))",
                    contract=str(contract_id),
                )
            )
    return contracts


def _json(properties: Mapping[str, str], name: str, default: Any) -> Any:
    text = properties.get(name)
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidRequestError(f"table property {name} is not valid JSON: {exc}") from None


# -- SemVer arithmetic ----------------------------------------------------------------------


def given_bump(old_version: str, new_version: str) -> Bump | None:
    """The bump from ``old_version`` to ``new_version``; None when that is not a bump at all
    (an unordered version, or a lower one). dc43's dotted versions count by position too.

    >>> given_bump("1.4.2", "2.0.0"), given_bump("1.4.2", "1.5.0"), given_bump("1.4.2", "1.4.3")
    ('major', 'minor', 'patch')
    >>> given_bump("1.0.0", "1.0.0+build.2"), given_bump("2.0.0", "1.9.0")
    ('none', None)
    >>> given_bump("0.42.0.0", "0.42.0.1")  # numbers past the third count as patch
    'patch'
    """
    old, new = parse_version(old_version), parse_version(new_version)
    if not (old.ordered and new.ordered):
        return None
    width = max(len(old.release), len(new.release), 3)
    a = old.release + (0,) * (width - len(old.release))
    b = new.release + (0,) * (width - len(new.release))
    if b < a:
        return None
    levels: tuple[Bump, ...] = ("major", "minor")
    for position, (before, after) in enumerate(zip(a, b, strict=True)):
        if after > before:
            return levels[position] if position < len(levels) else "patch"
    return "none"


def needed_bump(required: Bump, old_version: str) -> Bump:
    """The version bump that satisfies ``required``. Under 0.y.z (semver.org §4: anything
    may change) the minor number counts as major and the patch as minor, as Cargo does.

    >>> needed_bump("major", "1.2.0"), needed_bump("major", "0.3.1"), needed_bump("minor", "0.3.1")
    ('major', 'minor', 'patch')
    """
    parsed = parse_version(old_version)
    if parsed.ordered and parsed.major == 0 and required != "none":
        return BUMPS[max(bump_rank(required) - 1, 1)]
    return required


def next_version(old_version: str, bump: Bump) -> str | None:
    """The lowest version that makes ``bump`` over ``old_version`` (None if not SemVer).

    >>> next_version("1.4.2", "major"), next_version("0.3.1", "minor")
    ('2.0.0', '0.4.0')
    """
    parsed = parse_version(old_version)
    if not parsed.ordered:
        return None
    major, minor, patch = parsed.major, parsed.minor, parsed.patch
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    if bump == "patch":
        return f"{major}.{minor}.{patch + 1}"
    return old_version


def satisfied(given: Bump | None, needed: Bump) -> bool:
    """Whether a version bump of ``given`` covers the ``needed`` one."""
    if needed == "none":
        return True
    return given is not None and bump_rank(given) >= bump_rank(needed)
