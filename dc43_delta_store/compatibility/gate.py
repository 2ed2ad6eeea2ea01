"""The gate: may these new versions go into the table under its compatibility policy?

The table holds the invariant that every *release* of a contract is compatible with its
*baselines*: the highest release below it in the version order (:mod:`..core.versions`),
and, under a transitive policy, every lower release of its own major version. A new version
is therefore checked on both sides:

- below: against its own baselines (its bump from each must cover the changes);
- above: against every stored release that would take it as a baseline -- the lowest release
  above it, and under a transitive policy every higher release of its major -- whose bump
  from the new version must cover the changes from it.

A version is refused when one check fails. New versions of one contract in the same batch
are checked in version order, each against the stored releases and the accepted versions
before it. The first release of a contract is always accepted; prereleases are diffed
against their baselines but never refused and never a baseline. A version the order cannot
place (``2024-01-01``, ``latest``: neither SemVer nor a dotted version) is refused under a
policy with :class:`~..errors.InvalidRequestError`, and such versions already stored are not
baselines. Versions of equal precedence (``1.0`` and ``1.0.0``) are placed by their text
and give no bump: only changes that need none pass between them.

The table is read through a callback, so this module stays pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.versions import ParsedVersion, is_prerelease, parse_version, version_sort_key
from ..errors import CompatibilityError, ContractStoreError, InvalidRequestError
from .policy import CompatibilitySettings, Policy, given_bump, needed_bump, next_version, satisfied
from .result import DiffResult, diff
from .rules import Bump

__all__ = ["Candidate", "GateOutcome", "check"]

Loader = Callable[[str, Sequence[str]], Mapping[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class Candidate:
    """A version about to be written (``index`` and ``source`` as in the batch)."""

    index: int
    source: str
    contract_id: str
    version: str
    document: Mapping[str, Any]


@dataclass(frozen=True)
class GateOutcome:
    """The gate's verdict on one candidate: accepted or not, and a line saying why."""

    index: int
    accepted: bool
    note: str | None
    error: ContractStoreError | None = None


@dataclass(frozen=True)
class _Step:
    """One comparison: from ``old`` to ``new`` (one of them the candidate)."""

    old: str
    new: str
    later: bool  # the candidate is ``old``: ``new`` is a stored release above it
    result: DiffResult
    given: Bump | None
    needed: Bump

    @property
    def passed(self) -> bool:
        return satisfied(self.given, self.needed)

    def summary(self) -> str:
        step = f"{self.old} -> {self.new} is " + (
            "not a SemVer increase"
            if self.given is None
            else "no bump"
            if self.given == "none"
            else f"a {self.given} bump"
        )
        return f"{self.needed} bump needed, {step}"


def check(
    candidates: Sequence[Candidate],
    settings: CompatibilitySettings,
    *,
    stored_versions: Mapping[str, Sequence[str]],
    load: Loader,
    policy: Policy | None = None,
) -> list[GateOutcome]:
    """The verdict on every candidate, in input order.

    ``stored_versions`` lists the table's versions per contract id; ``load(contract_id,
    versions)`` returns their documents. ``policy`` replaces the table's policies (the
    store's ``compatibility=`` argument); the table's overrides apply either way.
    """
    outcomes: dict[int, GateOutcome] = {}
    by_contract: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_contract.setdefault(candidate.contract_id, []).append(candidate)
    for contract_id, items in by_contract.items():
        chosen = policy or settings.policy_for(contract_id)
        if chosen.mode == "none":
            outcomes.update((c.index, GateOutcome(c.index, True, None)) for c in items)
            continue
        placed = []
        for item in items:
            if parse_version(item.version).ordered:
                placed.append(item)
            else:
                outcomes[item.index] = _unplaceable(item, chosen)
        releases = [v for v in stored_versions.get(contract_id, ()) if _is_release(v)]
        placed.sort(key=lambda c: version_sort_key(c.version))
        wanted = {v for c in placed for v in _neighbours(releases, c.version, chosen.transitive)}
        documents = dict(load(contract_id, sorted(wanted))) if wanted else {}
        for item in placed:
            outcome = _check_one(item, chosen, settings, releases, documents)
            outcomes[item.index] = outcome
            if outcome.accepted and _is_release(item.version):
                releases.append(item.version)
                documents[item.version] = item.document
    return [outcomes[candidate.index] for candidate in candidates]


def _is_release(version: str) -> bool:
    """Ordered and not a prerelease: what the gate compares with."""
    parsed = parse_version(version)
    return parsed.ordered and not parsed.is_prerelease


def _unplaceable(item: Candidate, policy: Policy) -> GateOutcome:
    error = InvalidRequestError(
        f"contract {item.contract_id!r} version {item.version!r} cannot be placed in the "
        f"version order (it is neither SemVer nor a dotted version such as 1.2.0 or "
        f"0.42.0.0), so the {policy} compatibility policy cannot check it; nothing was "
        "written. Publish it under an ordered version, or exempt the contract: "
        f"dc43-delta-store compatibility set none --contract {item.contract_id}"
    )
    return GateOutcome(item.index, False, "refused: not in the version order", error)


def _baselines(releases: Sequence[str], version: str, transitive: bool) -> list[str]:
    """The releases ``version`` is compared with from below, highest first."""
    key = version_sort_key(version)
    earlier = sorted((v for v in releases if version_sort_key(v) < key), key=version_sort_key)
    if not earlier:
        return []
    if not transitive:
        return [earlier[-1]]
    major = parse_version(version)
    same = [v for v in earlier[:-1] if _same_major(parse_version(v), major)]
    return [earlier[-1], *reversed(same)]


def _dependants(releases: Sequence[str], version: str, transitive: bool) -> list[str]:
    """The releases above ``version`` that would take it as a baseline, lowest first."""
    key = version_sort_key(version)
    later = sorted((v for v in releases if version_sort_key(v) > key), key=version_sort_key)
    if not later:
        return []
    if not transitive:
        return [later[0]]
    major = parse_version(version)
    return [later[0], *(v for v in later[1:] if _same_major(parse_version(v), major))]


def _neighbours(releases: Sequence[str], version: str, transitive: bool) -> list[str]:
    above = _dependants(releases, version, transitive) if _is_release(version) else []
    return [*_baselines(releases, version, transitive), *above]


def _same_major(a: ParsedVersion, b: ParsedVersion) -> bool:
    return a.major == b.major


def _check_one(
    item: Candidate,
    policy: Policy,
    settings: CompatibilitySettings,
    releases: Sequence[str],
    documents: Mapping[str, Mapping[str, Any]],
) -> GateOutcome:
    below = _baselines(releases, item.version, policy.transitive)
    above = _dependants(releases, item.version, policy.transitive)
    if not _is_release(item.version):
        above = []  # a prerelease is never a baseline
    if not (below or above):
        return GateOutcome(item.index, True, f"first release under the {policy} policy")
    overrides = settings.ordered_overrides()

    def compare(old: str, new: str, later: bool) -> _Step:
        before = item.document if later else documents[old]
        after = documents[new] if later else item.document
        result = diff(
            before, after, mode=policy.mode, overrides=overrides, contract_id=item.contract_id
        )
        return _Step(
            old,
            new,
            later,
            result,
            given_bump(old, new),
            needed_bump(result.required_bump, old),
        )

    steps: list[_Step] = []
    pairs = [(b, item.version, False) for b in below] + [(item.version, a, True) for a in above]
    for old, new, later in pairs:
        steps.append(compare(old, new, later))
        if not steps[-1].passed:
            break
    failed = steps[-1] if not steps[-1].passed else None
    if failed is None:
        compared = ", ".join([*below, *above])
        return GateOutcome(item.index, True, f"compatible with {compared} ({steps[0].summary()})")
    if is_prerelease(item.version):
        return GateOutcome(item.index, True, f"prerelease, not enforced: {failed.summary()}")
    exceeding = [
        (c.rule, c.path, c.bump)
        for c in failed.result.changes
        if not satisfied(failed.given, needed_bump(c.bump, failed.old))
    ]
    error = CompatibilityError(
        item.contract_id,
        item.version,
        baseline=failed.new if failed.later else failed.old,
        policy=str(policy),
        given_bump=failed.given,
        needed_bump=failed.needed,
        suggested_version=None if failed.later else next_version(failed.old, failed.needed),
        changes=exceeding,
        later=failed.later,
    )
    return GateOutcome(item.index, False, f"incompatible: {failed.summary()}", error)
