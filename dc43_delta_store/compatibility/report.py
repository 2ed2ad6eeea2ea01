"""A diff for people (text), for CI (JUnit XML, GitHub annotations), and the rules table."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

from ..core.terminal import printable
from .positions import LineMap, line_of
from .result import Change, DiffResult, diff
from .rules import RULES, max_bump

__all__ = ["github_annotations", "junit_xml", "rules_markdown", "short", "text_report"]


def short(value: Any, width: int = 60) -> str:
    """Compact JSON of ``value``, cut to ``width`` characters."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def _measure(value: Any) -> Any:
    """An SLA measure ``{"value": 3, "unit": "y"}`` as ``"3 y"``."""
    if isinstance(value, dict) and value and set(value) <= {"value", "unit", "valueExt"}:
        return " ".join(str(value[k]) for k in ("value", "unit", "valueExt") if k in value)
    return value


def _what(change: Change, width: int = 60) -> str:
    if change.rule.startswith("sla-") and change.old is not None and change.new is not None:
        return f"{_measure(change.old)} -> {_measure(change.new)}"
    if change.old is None:
        return "added" if isinstance(change.new, dict) else f"set to {short(change.new, width)}"
    if change.new is None:
        return "removed" if isinstance(change.old, dict) else f"was {short(change.old, width)}"
    return f"{short(change.old, width // 2)} -> {short(change.new, width // 2)}"


def verdict_line(result: DiffResult) -> str:
    """``required bump: major; 1.0.0 -> 1.1.0 is a minor bump: incompatible (needs 2.0.0)``."""
    text = f"required bump: {result.required_bump}"
    if result.needed_bump != result.required_bump:
        text += f" (a {result.needed_bump} bump under 0.y.z)"
    if result.old_version is None or result.new_version is None:
        return text
    step = f"{result.old_version} -> {result.new_version}"
    given = result.given_bump
    if given is None:
        return f"{text}; {step} is not a SemVer increase: incompatible"
    text += f"; {step} is {'no' if given == 'none' else 'a ' + given} bump"
    if result.compatible:
        return text + ": compatible"
    return text + f": incompatible (needs {result.suggested_version} or higher)"


def text_report(result: DiffResult, old_label: str, new_label: str) -> str:
    """The report ``dc43-delta-store diff`` prints for people."""
    count = len(result.changes)
    lines = [
        f"{old_label} -> {new_label} (mode {result.mode}): "
        f"{count} change{'' if count == 1 else 's'}"
    ]
    if result.old_id != result.new_id:
        lines.append(
            f"  note: the ids differ ({result.old_id} -> {result.new_id}): "
            "these are two contracts, not two versions of one"
        )
    width = max([len(change.rule) for change in result.changes] + [4])
    for change in result.changes:
        mark = "*" if change.overridden else " "
        lines.append(
            f"  {change.bump:<5}{mark} {change.rule:<{width}}  {change.path}  {_what(change)}"
        )
        if change.override is not None:
            reason = f"; {change.override.reason}" if change.override.reason else ""
            lines.append(f"         * overridden: the rule says {change.rule_bump}{reason}")
    lines.append(verdict_line(result))
    return "".join(printable(line) + "\n" for line in lines)  # stored text stays on its line


def _level(change: Change, exceeding: list[Change]) -> str:
    if change in exceeding:
        return "error"
    return "warning" if change.bump in ("major", "minor") else "notice"


def _escape(text: str, *, property_value: bool = False) -> str:
    text = printable(text).replace("%", "%25")  # printable leaves no \r or \n
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def github_annotations(result: DiffResult, file: str | None, lines: LineMap) -> list[str]:
    """GitHub workflow commands (``::error file=...,line=...::...``), one per change, at the
    change's line in the later file; changes the version bump does not cover are errors."""
    exceeding = result.exceeding()
    commands = []

    def command(level: str, pointer: str, title: str, message: str) -> str:
        where = []
        if file is not None:
            where.append(f"file={_escape(file, property_value=True)}")
            line = line_of(lines, pointer)
            if line is not None:
                where.append(f"line={line}")
        where.append(f"title={_escape(title, property_value=True)}")
        return f"::{level} {','.join(where)}::{_escape(message)}"

    for change in result.changes:
        message = f"{change.path}: {change.title}, {_what(change, 120)}"
        if change.override is not None:
            message += f" (overridden: the rule says {change.rule_bump})"
        title = f"{change.rule} ({change.bump})"
        commands.append(command(_level(change, exceeding), change.pointer, title, message))
    level = "notice" if result.compatible else "error"
    commands.append(command(level, "/version", "version bump", verdict_line(result)))
    return commands


def junit_xml(result: DiffResult, suite: str = "compatibility") -> str:
    """A JUnit report: one test case per change (failing when the version bump does not
    cover it) and one for the version bump itself."""
    exceeding = result.exceeding()
    failures = len(exceeding) + (not result.compatible)
    root = ElementTree.Element(
        "testsuite", name=suite, tests=str(len(result.changes) + 1), failures=str(failures)
    )
    for change in result.changes:
        name = printable(change.path)  # XML 1.0 holds no control characters
        case = ElementTree.SubElement(root, "testcase", classname=change.rule, name=name)
        text = printable(f"{change.title} ({change.bump}): {_what(change, 200)}")
        if change in exceeding:
            ElementTree.SubElement(case, "failure", message=text).text = text
        else:
            ElementTree.SubElement(case, "system-out").text = text
    case = ElementTree.SubElement(root, "testcase", classname="version", name="version bump")
    if not result.compatible:
        ElementTree.SubElement(case, "failure", message=printable(verdict_line(result)))
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def rules_markdown() -> str:
    """The rules table of the README, built by diffing each rule's example."""
    lines = [
        "| rule | change | consumers / producers | full | backward | forward | example |",
        "|---|---|---|---|---|---|---|",
    ]
    notes = []
    for rule in RULES.values():
        found = [c for c in diff(rule.example.old, rule.example.new).changes if c.rule == rule.id]
        shown = f"`{found[0].path}`: {_what(found[0], 44)}" if found else "(no example)"
        shown = shown.replace("|", "\\|")
        bumps = " | ".join(rule.bump(mode) for mode in ("full", "backward", "forward"))
        lines.append(
            f"| `{rule.id}` | {rule.title} | {rule.consumers} / {rule.producers} | {bumps} "
            f"| {shown} |"
        )
        if rule.note:
            notes.append(f"- `{rule.id}`: {rule.note}")
    worst = max_bump(*(rule.bump("full") for rule in RULES.values()))
    assert worst == "major"
    return "\n".join([*lines, "", *notes]) + "\n"
