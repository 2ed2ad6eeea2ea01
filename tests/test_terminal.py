"""Stored text shown safely (``core/terminal.py``): no hidden character reaches a terminal raw,
and no output line is a GitHub Actions workflow command unless the report meant one.

``workflow_command`` reads a line as GitHub's runner does (``ActionCommand.TryParseV2``, then
the legacy ``TryParse``, of ``actions/runner``): ``::name props::data`` at the start of the
line after white space, or ``##[name props]data`` anywhere in it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any
from xml.etree import ElementTree

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dc43_delta_store.compatibility import diff
from dc43_delta_store.compatibility.report import github_annotations, junit_xml, text_report
from dc43_delta_store.core.documents import load_document
from dc43_delta_store.core.terminal import is_hidden, json_text, printable
from dc43_delta_store.core.yaml12 import dump_yaml

from .conftest import minimal

# the runner's registered commands (ActionCommandManager and its extensions)
RUNNER_COMMANDS = frozenset(
    {
        "add-mask",
        "add-matcher",
        "add-path",
        "debug",
        "echo",
        "endgroup",
        "error",
        "group",
        "notice",
        "remove-matcher",
        "save-state",
        "set-env",
        "set-output",
        "stop-commands",
        "warning",
    }
)


def runner_lines(output: str) -> list[str]:
    """Lines as .NET's ``StreamReader.ReadLine`` splits them."""
    return re.split(r"\r\n|\r|\n", output)


def _net_space(character: str) -> bool:  # Char.IsWhiteSpace
    return unicodedata.category(character) in ("Zs", "Zl", "Zp") or character in "\t\n\v\f\r\x85"


def workflow_command(line: str) -> tuple[str, dict[str, str], str] | None:
    """The command GitHub's runner reads in ``line``: (name, properties, data), or None."""
    start = 0
    while start < len(line) and _net_space(line[start]):
        start += 1
    trimmed = line[start:]
    if trimmed.startswith("::"):
        end = trimmed.find("::", 2)
        if end >= 0:
            name, _, rest = trimmed[2:end].partition(" ")
            if name.lower() in RUNNER_COMMANDS:
                pairs = [p.split("=", 1) for p in rest.strip().split(",") if p]
                properties = {p[0]: p[1] for p in pairs if len(p) == 2 and p[0] and p[1]}
                return name, properties, trimmed[end + 2 :]
    prefix = line.find("##[")
    if prefix >= 0:
        bracket = line.find("]", prefix)
        if bracket >= 0:
            name, _, rest = line[prefix + 3 : bracket].partition(" ")
            if name.lower() in RUNNER_COMMANDS:
                pairs = [p.split("=", 1) for p in rest.split(";") if p]
                properties = {p[0]: p[1] for p in pairs if len(p) == 2 and p[0] and p[1]}
                return name, properties, line[bracket + 1 :]
    return None


def test_the_runner_model_reads_the_commands_the_issue_reproduced() -> None:
    assert workflow_command("::error file=a,line=1::INJECTED") == (
        "error",
        {"file": "a", "line": "1"},
        "INJECTED",
    )
    assert workflow_command("\u00a0 ::warning::x") == ("warning", {}, "x")
    assert workflow_command("anything ##[set-output name=v]1") == ("set-output", {"name": "v"}, "1")
    assert workflow_command("a :: b") is None and workflow_command("::unknown::x") is None


# Text that tries: markers, line breaks, ESC, bidi, separators, default-ignorables, surrogates.
TRICKY = st.sampled_from(
    [
        *[":", "::", "#", "##[", "[", "]", " ", "\u00a0", "\n", "\r", "\x1b", "\x07", "\x85"],
        *["\x9b", "\u202e", "\u2066", "\u2028", "\u2029", "\u200b", "\ufeff", "\u034f", "\ufe0f"],
        *["\ud800", "\U000e0001", "error", "=", ",", "%", "\\", "a", "é", "東"],
    ]
)
HOSTILE = st.lists(TRICKY | st.characters(exclude_categories=()), max_size=12).map("".join)


@given(HOSTILE)
@example("  ::error file=a::x")
@example("x ##[set-output name=v]1")
def test_printable_text_holds_no_hidden_character_and_no_workflow_command(text: str) -> None:
    shown = printable(text)
    assert not any(is_hidden(character) for character in shown)
    assert "\n" not in shown and "\r" not in shown
    assert runner_lines(shown) == [shown]
    for prefix in ("", "   ", "\u3000", "x  ", "error: "):  # where a renderer puts it
        assert workflow_command(prefix + shown) is None, (prefix, shown)


@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_printable_keeps_plain_text_as_it_is(text: str) -> None:
    if "##[" not in text and not text.lstrip().startswith("::"):
        assert printable(text) == text


def test_printable_escapes_as_python_spells_them_and_keeps_letters() -> None:
    assert printable("Straße 東京 ✓") == "Straße 東京 ✓"
    assert printable("a\tb\nc\rd\x00e\x7f\x9bf") == "a\\tb\\nc\\rd\\x00e\\x7f\\x9bf"
    assert printable("\u202eevil\u2028x\U000e0001") == "\\u202eevil\\u2028x\\U000e0001"
    assert printable("::error::x") == "\\x3a:error::x"
    assert printable("###[x") == "###\\x5bx"


@pytest.mark.parametrize("lead", [" ", "  ", "\u00a0", "\u2003", "\u3000"])  # not escaped
def test_a_command_after_leading_white_space_is_broken_too(lead: str) -> None:
    # the runner trims white space before looking for "::"
    shown = printable(f"{lead}::error file=a::INJECTED")
    assert workflow_command(shown) is None and shown.endswith("\\x3a:error file=a::INJECTED")
    assert printable("a ::error::x") == "a ::error::x"  # not at the start: not a command


def test_json_and_yaml_break_the_legacy_marker_with_their_own_escapes() -> None:
    assert json_text('["##[error]x", "a\\nb"]') == '["##\\u005berror]x", "a\\nb"]'
    assert json_text('{\n  "k": "\U000e0001"\n}') == '{\n  "k": "\\udb40\\udc01"\n}'
    assert json.loads(json_text('"\U000e0001\u2028"')) == "\U000e0001\u2028"
    assert dump_yaml({"k": "##[error]x"}) == 'k: "##\\x5berror]x"\n'
    assert dump_yaml({"k": "\u202e", "l": ["a"]}) == 'k: "\\u202e"\nl:\n- a\n'


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | HOSTILE,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(HOSTILE, children, max_size=3)
    ),
    max_leaves=8,
)


@given(JSON_VALUES, st.sampled_from([None, 2]))
@example({"##[error]x": ["::warning::y"]}, 2)
def test_json_text_is_the_same_json_with_nothing_hidden(value: Any, indent: int | None) -> None:
    text = json_text(json.dumps(value, ensure_ascii=False, indent=indent))
    assert json.loads(text) == value
    assert not any(is_hidden(character) for character in text.replace("\n", ""))
    assert all(workflow_command(line) is None for line in runner_lines(text))


@given(st.dictionaries(HOSTILE, HOSTILE | st.lists(HOSTILE, max_size=2), max_size=4))
def test_printed_yaml_reads_back_and_holds_nothing_hidden(extra: dict[str, Any]) -> None:
    document = {"id": "a", "version": "1", **extra}
    try:
        stored = load_document(document)
    except Exception:  # not storable (a lone surrogate): nothing to print
        return
    text = dump_yaml(stored)
    assert load_document(text) == stored
    assert not any(is_hidden(character) for character in text.replace("\n", ""))
    assert all(workflow_command(line) is None for line in runner_lines(text))


def test_printed_yaml_is_never_folded_onto_a_line_of_its_own() -> None:
    # folded at 80 columns, the description's "::error::" began a line of its own
    document = minimal(description={"purpose": "word " * 15 + "::error::INJECTED"})
    printed = dump_yaml(document)
    assert all(workflow_command(line) is None for line in runner_lines(printed))
    assert len(printed.splitlines()) == len(
        dump_yaml(minimal(description={"purpose": "a"})).splitlines()
    )


def _pair(name: str, note: str) -> tuple[dict[str, Any], dict[str, Any]]:
    before = minimal(schema=[{"name": "orders", "properties": [{"name": "id"}]}])
    added = {"name": name, "logicalType": "string", "description": note}
    after = minimal(
        version="1.1.0", schema=[{"name": "orders", "properties": [{"name": "id"}, added]}]
    )
    return before, after


@given(HOSTILE.filter(lambda name: "\ud800" not in name), HOSTILE)
def test_diff_reports_carry_stored_text_without_commands_of_its_own(name: str, note: str) -> None:
    before, after = _pair(name, note.replace("\ud800", ""))
    result = diff(before, after)
    report = text_report(result, "old.yaml", "new.yaml")
    assert all(workflow_command(line) is None for line in runner_lines(report))
    assert not any(is_hidden(character) for character in report.replace("\n", ""))
    annotations = github_annotations(result, "contracts/orders.yaml", {})
    assert len(annotations) == len(result.changes) + 1
    for annotation in annotations:
        assert runner_lines(annotation) == [annotation]
        command = workflow_command(annotation)
        assert command is not None and command[0] in ("error", "warning", "notice")
        assert set(command[1]) <= {"file", "line", "title"}
        assert command[1]["file"] == "contracts/orders.yaml"
    ElementTree.fromstring(junit_xml(result).split("\n", 1)[1])  # well-formed XML 1.0


def test_the_reproduced_property_name_is_no_command_in_any_report() -> None:
    result = diff(*_pair("x\n::error file=a,line=1::INJECTED", "##[error]again"))
    report = text_report(result, "a.yaml", "b.yaml")
    assert "schema.orders.properties.x\\n::error file=a,line=1::INJECTED" in report
    assert [workflow_command(line) for line in runner_lines(report)] == [None] * 4
    kinds = [workflow_command(a) for a in github_annotations(result, "b.yaml", {})]
    assert [(k[0], sorted(k[1])) for k in kinds if k] == [
        ("warning", ["file", "title"]),
        ("notice", ["file", "title"]),
    ]
