"""What ``check`` reports about the compatibility settings of a table (pure).

>>> [f.check for f in settings_findings({"dc43.compatibility": "strict"})]
['compatibility_settings']
>>> settings_findings({"dc43.compatibility": "full_transitive"})
[]
"""

from __future__ import annotations

from collections.abc import Mapping

from ..core.health import Finding
from .policy import CompatibilitySettings

__all__ = ["settings_findings"]


def settings_findings(configuration: Mapping[str, str]) -> list[Finding]:
    """One ``error`` finding per compatibility property (or per-contract entry) that cannot
    be read from a table's ``configuration``: until it is repaired, every write and every
    diff that reads the settings is refused."""
    problems = CompatibilitySettings.from_properties(configuration, strict=False).problems
    return [
        Finding(
            "compatibility_settings",
            "error",
            f"{problem.what}: every put, ingest and diff that reads the compatibility settings "
            "is refused until it is repaired",
            fix=problem.fix,
            details={
                "property": problem.table_property,
                "value": problem.value,
                "contract": problem.contract,
            },
        )
        for problem in problems
    ]
