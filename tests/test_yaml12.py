"""YAML as the README states it is read: YAML 1.2 core schema, tags that must fit, merge keys,
aliases, one document, text keys, no duplicates, numbers stored only as written, and YAML
the command line prints that reads back the same."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dc43_delta_store import InvalidContractError
from dc43_delta_store.core.documents import load_document
from dc43_delta_store.core.yaml12 import dump_yaml, load_yaml


def value_of(text: str) -> Any:
    return load_document(f"id: a\nversion: '1'\nvalue: {text}\n")["value"]


def refusal(text: str) -> str:
    with pytest.raises(InvalidContractError) as caught:
        load_document(text)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("FALSE", False),
        ("tRUE", "tRUE"),
        ("~", None),
        ("null", None),
        ("Null", None),
        ("NULL", None),
        ("", None),
        ("nULL", "nULL"),
        ("0", 0),
        ("-0", 0),
        ("+3", 3),
        ("-17", -17),
        ("1.5", 1.5),
        ("-.5", -0.5),
        (".5", 0.5),
        ("1.", 1.0),
        ("1E3", 1000.0),
        ("-1e-3", -0.001),
        ("2.5e+2", 250.0),
        ("00", "00"),
        ("012", "012"),
        ("1_0", "1_0"),
        ("0b101", "0b101"),
        ("0x1F", "0x1F"),
        ("+.x", "+.x"),
        ("1.2.3", "1.2.3"),
        ("<<", "<<"),  # a merge key only where a key is
        ("1:30:00", "1:30:00"),
        ("'quoted 1'", "quoted 1"),
        ('"007"', "007"),
    ],
)
def test_plain_scalars_follow_the_core_schema(text: str, expected: Any) -> None:
    value = value_of(text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!!str 5", "5"),
        ("!!str true", "true"),
        ("! 5", "5"),  # the non-specific tag: text
        ("!!int 42", 42),
        ("!!int -7", -7),
        ("!!float 1.5", 1.5),
        ("!!float 3", 3.0),
        ("!!float .inf", None),  # refused below: JSON cannot hold it
        ("!!bool true", True),
        ("!!bool False", False),
        ("!!null ~", None),
        ("!!null null", None),
        ("!!timestamp 2024-1-1 9:05:00", "2024-1-1 9:05:00"),
        ("!!map {x: 1}", {"x": 1}),
        ("!!seq [1, two]", [1, "two"]),
    ],
)
def test_core_tags_that_fit_their_value(text: str, expected: Any) -> None:
    if text.endswith(".inf"):
        assert "$.value is inf, which JSON cannot hold" in refusal(f"id: a\nvalue: {text}\n")
        return
    value = value_of(text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("!!int 0x1F", "!!int '0x1F' at line 2 is not a decimal integer"),
        ("!!int 1.5", "!!int '1.5' at line 2 is not a decimal integer"),
        ("!!float abc", "!!float 'abc' at line 2 is not a decimal number"),
        ("!!bool yes", "!!bool 'yes' at line 2 is not true or false"),
        ("!!null none", "!!null 'none' at line 2 is not null"),
        (
            "!!binary aGk=",
            "the YAML tag !!binary at line 2 is not supported: a contract holds only text, numbers, booleans, null, lists and mappings",
        ),
        ("!!set {a}", "the YAML tag !!set at line 2 is not supported"),
        ("!!omap [a: 1]", "the YAML tag !!omap at line 2 is not supported"),
        ("!local x", "the YAML tag !local at line 2 is not supported"),
        ("!!python/tuple [1]", "the YAML tag !!python/tuple at line 2 is not supported"),
    ],
)
def test_tags_that_do_not_fit_are_refused_naming_the_line(text: str, message: str) -> None:
    assert message in refusal(f"id: a\nvalue: {text}\n")


def test_merge_keys_merge_and_the_mapping_wins() -> None:
    text = (
        "id: a\nversion: '1'\n"
        "base: &base {x: 1, y: 2}\n"
        "more: &more {y: 20, z: 30}\n"
        "one:\n  <<: *base\n  y: 3\n"
        "two:\n  <<: [*base, *more]\n  w: 0\n"
    )
    document = load_document(text)
    assert document["one"] == {"x": 1, "y": 3}
    assert list(document["one"]) == ["x", "y"]  # merged keys first, as PyYAML orders them
    assert document["two"] == {"x": 1, "y": 2, "z": 30, "w": 0}  # earlier sources win
    assert list(document["two"]) == ["y", "z", "x", "w"]  # PyYAML's order
    inline = load_document("id: a\nm:\n  <<: {x: 1, y: 2}\n  y: 3\n")["m"]
    assert inline == {"x": 1, "y": 3}
    assert document["base"] == {"x": 1, "y": 2}  # the anchor's own mapping unchanged


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "id: a\nm:\n  <<: 5\n",
            "the merge key << at line 3 takes a mapping or a list of mappings",
        ),
        ("id: a\nm:\n  <<: [{x: 1}, 2]\n", "the merge key << at line 3 takes a mapping or a list"),
        ("id: a\nb: *nowhere\n", "alias *nowhere at line 2 names no anchor defined before it"),
        ("id: a\nid: b\n", "duplicate key 'id' at line 2 (first at line 1)"),
        ("id: a\nm:\n  x: 1\n  y: 2\n  x: 3\n", "duplicate key 'x' at line 5 (first at line 3)"),
        ("id: a\n1: one\n", "key 1 at $ is a int, not a string"),
        ("id: a\nm: {2.5: x}\n", "key 2.5 at $.m is a float, not a string"),
        ("id: a\nm: {null: x}\n", "key None at $.m is a NoneType, not a string"),
        ("id: a\n? [x]\n: y\n", "the key at line 2 is a list, not a string"),
        ("id: a\n? {x: 1}\n: y\n", "the key at line 2 is a mapping, not a string"),
        (
            "id: a\n---\nid: b\n",
            "holds more than one YAML document (the second starts at line 2); put one contract per file",
        ),
        ("", "empty document"),
        ("# only a comment\n", "empty document"),
        pytest.param("id: [\n", "invalid YAML: ", id="unclosed-flow-list"),
        (
            "id: a\n  b: c\n",
            "invalid YAML: mapping values are not allowed in this context (line 2, column 4)",
        ),
    ],
)
def test_yaml_that_is_not_one_contract_mapping_is_refused(text: str, message: str) -> None:
    assert message in refusal(text)


def test_yaml_errors_name_the_file(tmp_path: Any) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("id: a\nid: b\n", encoding="utf-8")
    with pytest.raises(InvalidContractError) as caught:
        load_document(path)
    assert str(caught.value) == f"{path}: duplicate key 'id' at line 2 (first at line 1)"


def test_merged_keys_are_no_duplicates_and_aliases_share_values() -> None:
    document = load_document("id: a\nb: &b {x: 1}\nc:\n  <<: *b\n  x: 2\nd: *b\ne: [*b, *b]\n")
    assert document["c"] == {"x": 2} and document["d"] == {"x": 1}
    assert document["e"] == [{"x": 1}, {"x": 1}]


@pytest.mark.parametrize(
    ("field", "text", "kind"),
    [
        ("version", "1.10", "number"),
        ("version", "2", "number"),
        ("id", "42", "number"),
        ("name", "true", "boolean"),
        ("status", "1.0", "number"),
        ("apiVersion", "3.1", "number"),
        ("uuid", "7", "number"),
    ],
)
def test_an_unquoted_number_where_odcs_wants_text_says_what_was_written(
    field: str, text: str, kind: str
) -> None:
    prefix = "" if field == "id" else "id: a\n"
    line = 1 if field == "id" else 2
    message = refusal(f"{prefix}{field}: {text}\n")
    assert (
        f'{field} must be a string, but YAML reads the unquoted {text} at line {line} as a {kind}; quote it: {field}: "{text}"'
        in message
    )


def test_fields_deeper_down_keep_their_numbers() -> None:
    document = load_document("id: a\nversion: '1'\nschema:\n  - version: 1.10\n    name: 2\n")
    assert document["schema"] == [{"version": 1.1, "name": 2}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "1e-400",
            "$.value is 1e-400 at line 2 is too small for a 64-bit float and would be stored as 0",
        ),
        ("-2.5e-999", "$.value is -2.5e-999 at line 2 is too small"),
        ("1e400", "$.value is 1e400 at line 2 is beyond the largest 64-bit float (about 1.8e308)"),
        ("-1.5E+309", "is beyond the largest 64-bit float"),
        (
            "1" * 4301,
            "$.value is a 4301-character number at line 2 is an integer of 4301 digits, above the 4300 allowed",
        ),
        ("-" + "1" * 4301, "is an integer of 4301 digits"),
        ("[1, 1e-400]", "$.value[1] is 1e-400 at line 2 is too small"),
        ("{deep: {er: 1e400}}", "$.value.deep.er is 1e400 at line 2 is beyond"),
    ],
)
def test_numbers_that_would_not_read_back_as_written_are_refused(text: str, message: str) -> None:
    assert message in refusal(f"id: a\nvalue: {text}\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"id": "a", "x": 1e-400}', "$.x is 1e-400 is too small for a 64-bit float"),
        ('{"id": "a", "x": [1e999]}', "$.x[0] is 1e999 is beyond the largest 64-bit float"),
        (
            '{"id": "a", "x": ' + "9" * 4301 + "}",
            "$.x is a 4301-character number is an integer of 4301 digits",
        ),
        ('{"id": "a", "odd key": {"y": 1e-999}}', '$["odd key"].y is 1e-999 is too small'),
    ],
)
def test_json_numbers_that_would_not_read_back_are_refused_too(text: str, message: str) -> None:
    assert message in refusal(text)


@pytest.mark.parametrize(
    "text",
    ["0.0", "0e5", "0E-400", "-0.000e-500", "1e308", "4.9e-324", "9" * 4300, "-" + "9" * 4300],
)
def test_numbers_at_the_limits_are_kept(text: str) -> None:
    number = int(text) if "e" not in text.lower() and "." not in text else float(text)
    assert value_of(text) == number
    assert load_document('{"id": "a", "value": ' + text + "}")["value"] == value_of(text)


TRICKY = [
    "1e3", "1.5e3", "no", "yes", "on", "off", "12:30", "~", "null", "Null", "true", "False",
    "007", "0x1F", "0o17", "1_000", "2024-01-01", "", " x", "x: y", "- a", "#c", "[a]", "{a}",
    "'q'", '"dq"', "<<", "!tag", "&anchor", "*alias", "%", "@", "`", "a\nb", "tab\there",
    "Straße", "東京", "+1", "-.5", ".5", "1.", ".inf", ".nan", "1e-400", "9" * 50,
    "\x85", "a\x85b", "a\u2028b", "\u2029", "Xenon",
]  # fmt: skip


@pytest.mark.parametrize("text", TRICKY)
def test_printed_yaml_reads_back_as_the_same_text(text: str) -> None:
    document = {"id": "a", "version": "1.0", "value": text, "list": [text], text or "k": 1}
    printed = dump_yaml(document)
    assert load_document(printed) == document
    if any(ord(ch) > 127 for ch in text) and not any(ch in text for ch in "\x85\u2028\u2029"):
        assert text in printed  # written as is, not escaped (line breaks aside)


@given(
    st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-(10**20), 10**20),
            st.floats(allow_nan=False, allow_infinity=False, width=64),
            st.text(max_size=8),
        ),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.text(max_size=5), children, max_size=3),
        ),
        max_leaves=12,
    )
)
def test_any_json_value_survives_printing_and_reading(value: Any) -> None:
    document = {"id": "a", "version": "1", "value": value}
    try:
        document_json_safe = load_document(document)
    except InvalidContractError:
        return  # not storable in the first place (an unpaired surrogate, a number that would round)
    assert load_document(dump_yaml(document_json_safe)) == document_json_safe


def test_printed_yaml_keeps_the_key_order_and_plain_text_plain() -> None:
    document = {"version": "1.0.0", "id": "a", "name": "Plain text", "b": "Xenon", "a": 1}
    assert dump_yaml(document) == ("version: 1.0.0\nid: a\nname: Plain text\nb: Xenon\na: 1\n")
    assert dump_yaml({"k": "next\x85line"}) == 'k: "next\\Nline"\n'


def test_two_merge_keys_in_one_mapping_both_merge() -> None:
    text = "id: a\nx: &x {p: 1}\ny: &y {q: 2}\nm:\n  <<: *x\n  <<: *y\n  r: 3\n"
    assert load_document(text)["m"] == {"p": 1, "q": 2, "r": 3}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "id: a\x07\n",
            "invalid YAML: unacceptable character #x0007: control characters are not allowed",
        ),
        ('id: "a\\q"\n', "invalid YAML: found unknown escape character (line 1, column 7)"),
        (
            "id: a\n\tb: c\n",
            "invalid YAML: found a tab character that violates indentation (line 2, column 1)",
        ),
    ],
)
def test_unreadable_yaml_says_what_and_where(text: str, message: str) -> None:
    assert refusal(text) == message


@pytest.mark.parametrize(
    ("length", "shown"), [(39, None), (40, None), (41, "a 41-character number")]
)
def test_long_numbers_are_shown_by_their_length(length: int, shown: str | None) -> None:
    text = "1" * (length - 5) + "e-999"  # too small for a float: refused, and shown
    assert f"$.value is {shown or text} at line 2 is too small" in refusal(
        f"id: a\nvalue: {text}\n"
    )


@pytest.mark.parametrize(
    ("text", "depth", "values", "plain"),
    [
        ("a: {b: {c: 1}}", 3, 100, True),
        ("a: {b: {c: 1}}", 2, 100, False),  # deeper than allowed: the tree checks refuse it
        ("a: [" + "0, " * 50 + "0]", 64, 1000, True),
        ("a: [" + "0, " * 50 + "0]", 64, 20, False),  # more values than allowed
        ("a: &x {b: 1}\nc: *x", 64, 100, False),  # shared values: counted expanded
        ("1: a", 64, 100, False),  # a key that is not text
        ("a: .inf", 64, 100, False),  # not a JSON number
        ("a: 1e400", 64, 100, False),  # a number that cannot be stored as written
    ],
)
def test_a_tree_is_plain_only_within_the_limits_and_with_json_values(
    text: str, depth: int, values: int, plain: bool
) -> None:
    # a plain tree skips load_document's tree checks: a wrong True lets a document through
    assert load_yaml(text, None, max_depth=depth, max_values=values)[1] is plain


def test_only_the_top_level_identity_fields_must_be_text() -> None:
    """``version: 1.10`` at the top is refused (it reads as 1.1); a nested ``version`` or
    ``name`` (a custom property's value, a server's version) keeps its number."""
    text = (
        "id: sales.orders\nversion: '1.0.0'\ncustomProperties:\n"
        "  - property: retention\n    name: 30\n    version: 1.5\n"
    )
    value, _ = load_yaml(text, None, max_depth=64, max_values=1000)
    assert value["customProperties"] == [{"property": "retention", "name": 30, "version": 1.5}]
    with pytest.raises(InvalidContractError, match="version must be a string"):
        load_yaml("id: a\nversion: 1.10\n", None, max_depth=64, max_values=1000)
