"""Compatibility of contract versions: what changed, which SemVer bump it needs, the gate.

Pure: no table access here. :func:`diff` compares two versions of a contract; the rules it
applies are :data:`RULES` (see :mod:`.rules`); :mod:`.policy` holds policies, overrides and
the version arithmetic; :mod:`.gate` decides whether a write may go in.

>>> from dc43_delta_store.compatibility import diff
>>> result = diff("examples/contracts/sales/orders-1.0.0.odcs.yaml",
...               "examples/contracts/sales/orders-1.1.0.odcs.yaml")
>>> [(c.rule, c.path) for c in result.changes]
[('required-property-added', 'schema.orders.properties.currency')]
>>> result.required_bump, result.given_bump, result.compatible
('major', 'minor', False)
"""

from .policy import CompatibilitySettings, Override, Policy
from .result import Change, DiffResult, diff
from .rules import BUMPS, MODES, RULES, Bump, Mode, Rule, Verdict

__all__ = [
    "BUMPS",
    "MODES",
    "RULES",
    "Bump",
    "Change",
    "CompatibilitySettings",
    "DiffResult",
    "Mode",
    "Override",
    "Policy",
    "Rule",
    "Verdict",
    "diff",
]
