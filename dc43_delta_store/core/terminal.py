r"""Stored text made safe to show: on a terminal, in a CI log, inside JSON or YAML.

Anyone who can write the table writes its content and its commits' ``who`` and ``why``.
Shown raw, an ESC sequence rewrites the terminal, a ``\r`` overwrites the line (the user an
audit trail shows), a bidi override reorders it, and a line break followed by ``::error::``,
or ``##[error]`` anywhere in a line, is a GitHub Actions workflow command (the runner reads
``::`` at the start of a line, after spaces, and ``##[`` anywhere). :func:`printable` shows
each hidden character as an escape and breaks both markers; :func:`json_text` and
:func:`yaml_text` do the same inside JSON and YAML with their own escapes, so the text still
reads back as the same value.

>>> printable("alice\x1b[2K\rmallory")
'alice\\x1b[2K\\rmallory'
>>> printable("x\n::error file=a,line=1::INJECTED")
'x\\n::error file=a,line=1::INJECTED'
>>> printable("  ::error::INJECTED"), printable("see ##[error]this")
('  \\x3a:error::INJECTED', 'see ##\\x5berror]this')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

__all__ = ["is_hidden", "json_text", "printable", "yaml_text"]

# Control (C0, DEL, C1), format (bidi overrides, zero-width), surrogate, line and paragraph
# separators, unassigned code points.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Cn"})
# The other default-ignorable code points: invisible, and skipped by culture-aware string
# search (a "##\u034f[" would still be found as "##[").
_IGNORABLE = frozenset(
    {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x3164, 0xFFA0}
    | set(range(0xFE00, 0xFE10))
    | set(range(0xE0100, 0xE01F0))
)
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_NOT_PLAIN_ASCII = re.compile(r"[^ -~]")


def is_hidden(character: str) -> bool:
    """Whether one character must not reach a terminal raw (see the module's docstring)."""
    return unicodedata.category(character) in _HIDDEN_CATEGORIES or ord(character) in _IGNORABLE


def _escape(character: str) -> str:
    """Python's spelling: ``\\n``, ``\\x1b``, ``\\u202e``, ``\\U000e0001`` (YAML reads it too)."""
    named = _NAMED.get(character)
    if named is not None:
        return named
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _json_escape(character: str) -> str:
    code = ord(character)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _hidden_escaped(text: str, escape: Callable[[str], str], *, lines: bool = False) -> str:
    """``text`` with each hidden character escaped; ``lines``: its line breaks kept."""

    def one(match: re.Match[str]) -> str:
        character = match[0]
        if not is_hidden(character) or (lines and character == "\n"):
            return character
        return escape(character)

    return _NOT_PLAIN_ASCII.sub(one, text)


def printable(text: str) -> str:
    """``text`` on one line with every hidden character escaped, ``##[`` broken (``##\\x5b``)
    and a leading ``::`` broken (``\\x3a:``): safe in a table cell, a message or a CI log."""
    shown = _hidden_escaped(text, _escape).replace("##[", "##\\x5b")
    start = len(shown) - len(shown.lstrip())
    if shown.startswith("::", start):
        shown = f"{shown[:start]}\\x3a{shown[start + 1 :]}"
    return shown


def json_text(text: str) -> str:
    """JSON text (as ``json.dumps`` writes it) with the same value, its hidden characters
    and ``##[`` written as ``\\u`` escapes (they only occur inside strings; the line breaks
    of indented JSON stay).

    >>> json_text('{"who": "a\u202eb", "why": "##[error]x"}')
    '{"who": "a\\\\u202eb", "why": "##\\\\u005berror]x"}'
    """
    return _hidden_escaped(text, _json_escape, lines=True).replace("##[", "##\\u005b")


def yaml_text(text: str) -> str:
    """YAML text in which every string holding what :func:`printable` changes is
    double-quoted, with those characters and ``##[`` written as escapes (line breaks
    between the lines of the text stay)."""
    return _hidden_escaped(text, _escape, lines=True).replace("##[", "##\\x5b")
