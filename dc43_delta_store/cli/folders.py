"""Contract files in a folder tree (a Git checkout, typically) and where they came from."""

from __future__ import annotations

import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from ..core.documents import CONTRACT_SUFFIXES
from ..core.terminal import printable

__all__ = [
    "CONTRACT_SUFFIXES",
    "Skipped",
    "Verdict",
    "contract_files",
    "find_contract_files",
    "git_state",
    "junit_xml",
]


@dataclass(frozen=True)
class Skipped:
    """A ``*.yaml``/``*.yml``/``*.json`` entry of a folder that is not a file to read."""

    path: str
    reason: str


def contract_files(paths: list[Path]) -> list[Path]:
    """Every ``*.yaml``, ``*.yml`` and ``*.json`` file under ``paths``, in a stable order."""
    return find_contract_files(paths)[0]


def find_contract_files(paths: list[Path]) -> tuple[list[Path], list[Skipped]]:
    """The contract files under ``paths`` in a stable order, and the entries set aside.

    Hidden files and folders (``.git``, ``.github``) are left out without a word; entries
    named like contracts that are not regular files — FIFOs, sockets, devices, dangling
    symbolic links — are set aside and reported. A path given as a file is taken as it is
    (reading it says what it is).
    """
    found: list[Path] = []
    skipped: list[Skipped] = []
    for path in paths:
        if "\x00" in str(path) or not path.is_dir():  # reading it says what is wrong
            found.append(path)
            continue
        for candidate in sorted(path.rglob("*")):
            relative = candidate.relative_to(path).parts
            if candidate.suffix.lower() not in CONTRACT_SUFFIXES or any(
                part.startswith(".") for part in relative
            ):
                continue
            if candidate.is_file():
                found.append(candidate)
            elif not candidate.is_dir():
                skipped.append(Skipped(str(candidate), _not_a_file(candidate)))
    return found, skipped


def _not_a_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a dangling symbolic link" if path.is_symlink() else "vanished while listed"
    except OSError as exc:
        return f"unreadable ({exc.strerror or type(exc).__name__})"
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def git_state(folder: Path) -> dict[str, str | bool]:
    """``{"git_commit": sha, "git_dirty": bool}`` when ``folder`` is in a Git work tree."""
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"git_commit": head, "git_dirty": bool(status.strip())}


@dataclass(frozen=True)
class Verdict:
    """One file's validation outcome (``valid``, ``warning`` or ``invalid``), for reports."""

    file: str
    outcome: str
    messages: list[str]


def junit_xml(verdicts: list[Verdict], suite: str = "odcs-contracts") -> str:
    """A JUnit XML report: one test case per file, a failure per invalid file (text escaped:
    XML 1.0 holds no control characters)."""
    failures = sum(v.outcome == "invalid" for v in verdicts)
    root = ElementTree.Element(
        "testsuite", name=suite, tests=str(len(verdicts)), failures=str(failures), errors="0"
    )
    for verdict in verdicts:
        name = printable(verdict.file)
        case = ElementTree.SubElement(root, "testcase", classname=suite, name=name)
        messages = [printable(message) for message in verdict.messages]
        if verdict.outcome == "invalid":
            failure = ElementTree.SubElement(
                case, "failure", message=messages[0] if messages else "invalid"
            )
            failure.text = "\n".join(messages)
        elif messages:
            ElementTree.SubElement(case, "system-out").text = "\n".join(messages)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
