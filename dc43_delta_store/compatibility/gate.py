"""The gate: may these new versions go into the table under its compatibility policy?

Each new version is diffed against the highest earlier *release* of its contract (SemVer
order; with a transitive policy, also against every earlier release of its major version)
and refused when its version bump is smaller than its changes need. New versions of one
contract in the same batch are checked in version order, each against the ones before it
that were accepted. The first version of a contract is always accepted; prereleases are
diffed but never refused; a version that is not SemVer counts as a patch bump.

The table is read through two callbacks, so this module stays pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.versions import is_prerelease, parse_version, version_sort_key
from ..errors import CompatibilityError
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
    error: CompatibilityError | None = None


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
        stored = [v for v in stored_versions.get(contract_id, ()) if not is_prerelease(v)]
        items = sorted(items, key=lambda c: version_sort_key(c.version))
        wanted = {v for c in items for v in _baselines(stored, c.version, chosen.transitive)}
        documents = dict(load(contract_id, sorted(wanted))) if wanted else {}
        for item in items:
            outcome = _check_one(item, chosen, settings, stored, documents)
            outcomes[item.index] = outcome
            if outcome.accepted and not is_prerelease(item.version):
                stored.append(item.version)
                documents[item.version] = item.document
    return [outcomes[candidate.index] for candidate in candidates]


def _baselines(releases: Sequence[str], version: str, transitive: bool) -> list[str]:
    """The releases ``version`` is compared with, highest first."""
    key = version_sort_key(version)
    earlier = sorted((v for v in releases if version_sort_key(v) < key), key=version_sort_key)
    if not earlier:
        return []
    if not transitive:
        return [earlier[-1]]
    major = parse_version(version)
    same = [v for v in earlier[:-1] if _same_major(parse_version(v), major)]
    return [earlier[-1], *reversed(same)]


def _same_major(a: Any, b: Any) -> bool:
    return bool(a.ordered and b.ordered and a.major == b.major) or not (a.ordered or b.ordered)


def _check_one(
    item: Candidate,
    policy: Policy,
    settings: CompatibilitySettings,
    stored: Sequence[str],
    documents: Mapping[str, Mapping[str, Any]],
) -> GateOutcome:
    baselines = _baselines(stored, item.version, policy.transitive)
    if not baselines:
        return GateOutcome(item.index, True, f"first release under the {policy} policy")
    overrides = settings.ordered_overrides()
    steps: list[tuple[str, DiffResult, Bump | None, Bump]] = []
    for baseline in baselines:
        result = diff(
            documents[baseline],
            item.document,
            mode=policy.mode,
            overrides=overrides,
            contract_id=item.contract_id,
        )
        given = given_bump(baseline, item.version)
        steps.append((baseline, result, given, needed_bump(result.required_bump, baseline)))
        if not satisfied(given or "patch", steps[-1][3]):
            break
    baseline, result, given, needed = steps[-1]
    step = f"{baseline} -> {item.version} is " + (
        "not a SemVer increase"
        if given is None
        else "no bump"
        if given == "none"
        else f"a {given} bump"
    )
    summary = f"{needed} bump needed, {step}"
    if satisfied(given or "patch", needed):
        compared = ", ".join(baselines)
        return GateOutcome(item.index, True, f"compatible with {compared} ({summary})")
    if is_prerelease(item.version):
        return GateOutcome(item.index, True, f"prerelease, not enforced: {summary}")
    exceeding = [
        (c.rule, c.path, c.bump)
        for c in result.changes
        if not satisfied(given or "patch", needed_bump(c.bump, baseline))
    ]
    error = CompatibilityError(
        item.contract_id,
        item.version,
        baseline=baseline,
        policy=str(policy),
        given_bump=given,
        needed_bump=needed,
        suggested_version=next_version(baseline, needed),
        changes=exceeding,
    )
    return GateOutcome(item.index, False, f"incompatible: {summary}", error)
