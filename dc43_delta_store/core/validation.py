"""ODCS JSON-Schema validation against the official Bitol schemas shipped in ``schemas/``.

About a third of real contracts break the schema of their own ``apiVersion``, so validation
is a policy, chosen per store or per call:

- ``"strict"``: a violation (or an ``apiVersion`` without a known schema) raises
  :class:`~.errors.ContractValidationError` and nothing is written;
- ``"warn"`` (the default): the contract is stored and a :class:`ContractValidationWarning`
  is issued through the ``warnings`` module (``logging.captureWarnings(True)`` routes it to
  logging), listing the violations with their JSON paths;
- ``"off"``: no validation.

Identity (``id`` and ``version``) is checked under every policy.

**dc43's dialect.** Every contract dc43 builds writes ``apiVersion`` without the ``v``
(``"3.0.2"``; dc43 strips it before comparing), often ``kind: DatasetContract``, and no
``status``: three breaches of the schema on every one of its contracts. A document whose
``apiVersion`` is a known ODCS 3 version without the ``v`` is read in that dialect: it is
validated against the schema of that version with ``apiVersion`` read as ``v3.0.2``,
``kind: DatasetContract`` as ``DataContract``, and a missing ``status`` allowed (ODCS 3.2
made it optional). Everything else is checked as usual, and the document is stored as
written. ``ValidationReport.dialect`` says ``"dc43"`` when that reading applied.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import jsonschema_rs

from ..errors import ContractValidationError, ValidationIssue, describe_issues

__all__ = [
    "KNOWN_API_VERSIONS",
    "ContractValidationWarning",
    "ValidationMode",
    "ValidationReport",
    "apply_policy",
    "validate_document",
]

ValidationMode = Literal["strict", "warn", "off"]
KNOWN_API_VERSIONS = ("2.2.1", "2.2.2", "3.0.0", "3.0.1", "3.0.2", "3.1.0", "3.2.0")


class ContractValidationWarning(UserWarning):
    """A stored contract breaks the ODCS JSON Schema (policy ``"warn"``)."""


@dataclass(frozen=True)
class ValidationReport:
    """Outcome of validating one document: ``schema`` is the apiVersion validated against."""

    schema: str | None
    issues: tuple[ValidationIssue, ...]
    dialect: str | None = None

    @property
    def ok(self) -> bool:
        return not self.issues


@cache
def _validator(api_version: str) -> Any:
    text = (
        resources.files(__package__)
        .joinpath(f"schemas/odcs-json-schema-v{api_version}.json")
        .read_text(encoding="utf-8")
    )
    return jsonschema_rs.Draft201909Validator(json.loads(text))


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += (
            f"[{part}]"
            if isinstance(part, int)
            else (f".{part}" if str(part).isidentifier() else f"[{json.dumps(str(part))}]")
        )
    return path


def validate_document(document: dict[str, Any]) -> ValidationReport:
    """Validate against the schema of the document's ``apiVersion`` (``v3.1.0`` or ``3.1.0``).

    >>> validate_document({"apiVersion": "v3.1.0", "kind": "DataContract"}).ok
    False
    >>> dc43 = {"apiVersion": "3.0.2", "kind": "DatasetContract", "id": "a", "version": "1"}
    >>> validate_document(dc43)
    ValidationReport(schema='3.0.2', issues=(), dialect='dc43')
    """
    api = document.get("apiVersion")
    if not isinstance(api, str):
        return ValidationReport(None, (ValidationIssue("$.apiVersion", "is missing"),))
    version = api[1:] if api[:1] in ("v", "V") else api
    if version not in KNOWN_API_VERSIONS:
        known = ", ".join(KNOWN_API_VERSIONS)
        issue = ValidationIssue("$.apiVersion", f"no ODCS JSON Schema for {api!r} (known: {known})")
        return ValidationReport(None, (issue,))
    dialect = "dc43" if api == version and version.startswith("3.") else None
    subject = _read_dc43_dialect(document, version) if dialect else document
    issues = tuple(
        ValidationIssue(_json_path(error.instance_path), error.message)
        for error in _validator(version).iter_errors(subject)
    )
    return ValidationReport(version, issues, dialect)


def _read_dc43_dialect(document: dict[str, Any], version: str) -> dict[str, Any]:
    """The document as the ODCS schema spells what dc43 writes (a shallow copy)."""
    subject = {"status": "draft", **document, "apiVersion": f"v{version}"}
    if subject.get("kind") == "DatasetContract":
        subject["kind"] = "DataContract"
    return subject


def apply_policy(
    document: dict[str, Any], mode: ValidationMode, *, label: str, source: str | None = None
) -> ValidationReport | None:
    """Validate under ``mode``: raise (strict), warn (warn), or skip (off)."""
    if mode == "off":
        return None
    if mode not in ("strict", "warn"):
        raise ValueError(f"validation must be 'strict', 'warn' or 'off', not {mode!r}")
    report = validate_document(document)
    if report.ok:
        return report
    if mode == "strict":
        raise ContractValidationError(report.issues, label=label, source=source)
    message = describe_issues(label, report.issues)
    if report.dialect:
        message += f" (read in {report.dialect}'s dialect, against ODCS v{report.schema})"
    if source:
        message = f"{source}: {message}"
    warnings.warn(ContractValidationWarning(message), stacklevel=_caller_level())
    return report


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside this package: the user's call."""
    frame, level = sys._getframe(1), 1
    package = os.path.dirname(__file__)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == package:
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    return level
