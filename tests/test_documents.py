"""Input forms accepted by ``put`` and the errors for input that cannot be a contract."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from open_data_contract_standard.model import OpenDataContractStandard

from dc43_delta_store import DeltaContractStore, InvalidContractError
from dc43_delta_store.core.canonical import canonical_json, fingerprint, strip_nulls
from dc43_delta_store.core.documents import MAX_DEPTH, load_document
from dc43_delta_store.core.numbers import MAX_INT_DIGITS
from dc43_delta_store.core.yaml12 import dump_yaml

from .conftest import minimal

YAML_TEXT = """\
apiVersion: v3.1.0
kind: DataContract
id: sales.orders
version: 1.0.0
status: active
servers:
  - server: prod
    type: postgres
    customProperties:
      - property: since
        value: 2024-01-01
"""


def test_every_input_form_gives_the_same_document(tmp_path: Path) -> None:
    document = yaml.load(YAML_TEXT, Loader=yaml.BaseLoader)  # all scalars as text
    (tmp_path / "c.yaml").write_text(YAML_TEXT, encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps(document), encoding="utf-8")
    model = OpenDataContractStandard.model_validate(document)
    forms: list[Any] = [
        YAML_TEXT,
        YAML_TEXT.encode("utf-8"),
        json.dumps(document),
        document,
        tmp_path / "c.yaml",
        str(tmp_path / "c.yaml"),
        str(tmp_path / "c.json"),
        model,
    ]
    for form in forms:
        loaded = load_document(form)
        assert loaded == document, type(form)


# Each would read back differently if YAML's 1.1 date, time or base-60 rules applied.
TIMES = {
    "since": "2024-1-1 9:05:00",  # a datetime: 2024-01-01T09:05:00
    "stamp": "2001-12-14t21:59:43.10-05:00",  # 2001-12-14T21:59:43.100000-05:00
    "utc": "2024-05-01T10:00:00Z",  # 2024-05-01T10:00:00+00:00
    "start": "12:30",  # 750
    "duration": "1:30:00",  # 5400
    "day": "2024-01-01",
}


def test_yaml_dates_stay_the_text_that_was_written(tmp_path: Path) -> None:
    text = "id: a\nversion: '1'\n" + "".join(f"{k}: {v}\n" for k, v in TIMES.items())
    assert yaml.safe_load(text)["since"] != TIMES["since"]  # what YAML 1.1 would make of it
    assert load_document(text) == {"id": "a", "version": "1", **TIMES}
    assert load_document(dump_yaml(load_document(text))) == load_document(text)
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(text)
    assert store.get("a", "1") == {"id": "a", "version": "1", **TIMES}
    tagged = "id: a\nversion: '1'\nstamp: !!timestamp 2024-1-1 9:05:00\n"
    assert load_document(tagged)["stamp"] == "2024-1-1 9:05:00"


def test_mapping_with_date_objects_from_yaml_safe_load_is_accepted() -> None:
    loaded = load_document(yaml.safe_load(YAML_TEXT))
    assert loaded["servers"][0]["customProperties"][0]["value"] == "2024-01-01"


def test_byte_order_mark_and_crlf_line_ends_are_read() -> None:
    text = "\ufeff" + YAML_TEXT.replace("\n", "\r\n")
    loaded = load_document(text.encode("utf-8"))
    assert loaded == load_document(YAML_TEXT)


def test_errors_about_a_file_name_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("id: [", encoding="utf-8")
    with pytest.raises(InvalidContractError, match=f"^{path}: invalid YAML"):
        load_document(path)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "id: a\nversion: 1.10\n",
            'YAML reads the unquoted 1.10 at line 2 as a number; quote it: version: "1.10"',
        ),
        ("id: a\nversion: 2\n", 'quote it: version: "2"'),
        ("id: 42\nversion: '1'\n", 'quote it: id: "42"'),
        ("id: a\nid: b\n", "duplicate key 'id' at line 2 (first at line 1)"),
        ('{"id": "a", "id": "b"}', "duplicate key 'id' in a JSON object"),
        ("id: a\n---\nid: b\n", "holds more than one YAML document"),
        ("- id: a\n", "must be a mapping at the top level, got list"),
        ("just text", "must be a mapping at the top level, got str"),
        ("", "empty document"),
        pytest.param("id: [unclosed\n", "invalid YAML", id="unclosed-flow-list"),
        ('{"id": "a",}', "invalid JSON at line 1 column 12"),
        ('{"id": "a", "x": NaN}', "NaN is not a JSON value"),
        ('{"id": "a", "x": -Infinity}', "-Infinity is not a JSON value"),
        ("id: a\nx: .inf\n", "$.x is inf, which JSON cannot hold"),
        ("id: a\nx: !!binary aGVsbG8=\n", "the YAML tag !!binary at line 2 is not supported"),
        ("id: a\n1: one\n", "key 1 at $ is a int, not a string"),
        ("id: a\nx: {true: 1}\n", "key True at $.x is a bool"),
        (b"id: \xff\xfe\n", "not valid UTF-8 (byte 4"),
        ("id: a\x00", "contains NUL characters"),
        ({"id": "a", "x": {1, 2}}, "$.x holds a set"),
        ({"id": "a", "x": float("nan")}, "$.x is nan"),
        ({"id": "a", "x": "\ud800"}, "$.x holds an unpaired surrogate"),
        (42, "cannot read a contract from int"),
    ],
)
def test_bad_input_is_a_typed_error_naming_the_problem(source: Any, message: str) -> None:
    with pytest.raises(InvalidContractError) as caught:
        load_document(source)
    assert message in str(caught.value)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(InvalidContractError, match=f"{missing}: file does not exist"):
        load_document(missing)


def test_a_directory_is_not_a_contract(tmp_path: Path) -> None:
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    with pytest.raises(InvalidContractError, match="is a directory"):
        load_document(folder)


def test_deep_nesting_is_refused_with_the_limit() -> None:
    deep: dict[str, Any] = minimal()
    node = deep
    for _ in range(MAX_DEPTH + 5):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(InvalidContractError, match=f"nested deeper than {MAX_DEPTH} levels"):
        load_document(deep)
    with pytest.raises(InvalidContractError, match="nested deeper"):
        load_document("[" * 100_000)


def _nested(levels: int) -> dict[str, Any]:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"x": value}
    return {"id": "a", "version": "1", **value}


@pytest.mark.parametrize("form", ["mapping", "json", "yaml"])
def test_the_documented_nesting_limit_is_inclusive(form: str) -> None:
    def written(document: dict[str, Any]) -> Any:
        return {"mapping": document, "json": json.dumps(document), "yaml": dump_yaml(document)}[
            form
        ]

    deepest = _nested(MAX_DEPTH)  # 64 levels: the documented maximum
    assert load_document(written(deepest)) == deepest
    with pytest.raises(InvalidContractError, match=f"nested deeper than {MAX_DEPTH} levels"):
        load_document(written(_nested(MAX_DEPTH + 1)))


def test_documents_above_the_size_limit_are_refused(tmp_path: Path) -> None:
    big = minimal(description={"usage": "x" * 2000})
    with pytest.raises(InvalidContractError, match="above the 1000-byte limit"):
        load_document(big, max_bytes=1000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(big), encoding="utf-8")
    with pytest.raises(InvalidContractError, match=r"big.json: file is \d+ bytes, above"):
        load_document(path, max_bytes=1000)


keys = st.text("abcdefgh_ -ü", min_size=1, max_size=6)
# PyYAML's emitter folds control and line-separator characters; the loader is not at fault
texts = st.text(st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=20)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=25,
)
documents = st.dictionaries(keys, trees, max_size=6)


@given(documents)
def test_json_and_yaml_text_round_trip_to_the_same_tree(document: dict[str, Any]) -> None:
    assert load_document(json.dumps(document)) == document
    assert load_document(dump_yaml(document)) == document


@given(documents)
def test_payload_parses_back_to_the_document_without_its_nulls(document: dict[str, Any]) -> None:
    assert json.loads(canonical_json(document)) == strip_nulls(document)


@given(documents, st.randoms())
def test_fingerprint_ignores_key_order_and_explicit_nulls(
    document: dict[str, Any], rnd: Any
) -> None:
    items = list(document.items())
    rnd.shuffle(items)
    shuffled = dict(items)
    shuffled["__absent__"] = None
    assert fingerprint(shuffled) == fingerprint(document)


def _refused(source: object, **kwargs: int) -> str:
    with pytest.raises(InvalidContractError) as caught:
        load_document(source, **kwargs)
    return str(caught.value)


def test_file_errors_start_with_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    assert _refused(folder) == f"{folder}: is a directory, not a contract file"
    bad_utf8 = tmp_path / "latin1.yaml"
    bad_utf8.write_bytes(b"id: \xe9t\xe9\n")
    assert _refused(bad_utf8) == f"{bad_utf8}: not valid UTF-8 (byte 4: b'\\xe9')"
    nul = tmp_path / "a\x00.yaml"
    assert _refused(nul) == f"{tmp_path}/a\\x00.yaml: a file name cannot contain a NUL character"
    device = Path("/dev/null")
    assert _refused(device) == "/dev/null: is not a regular file (a character device); nothing read"


def test_a_socket_is_not_read(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s.yaml"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        assert _refused(path) == f"{path}: is not a regular file (a socket); nothing read"


def test_an_unreadable_file_says_why(tmp_path: Path) -> None:
    memory = Path("/proc/self/mem")  # a regular file whose read fails (EIO)
    if not memory.exists():
        pytest.skip("no /proc/self/mem on this system")
    assert _refused(memory) == "/proc/self/mem: cannot read file: Input/output error"


def test_the_size_limit_admits_a_file_of_exactly_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"id":"a","version":"1"}', encoding="utf-8")  # as long as its JSON form
    size = path.stat().st_size
    assert load_document(path, max_bytes=size) == {"id": "a", "version": "1"}
    text = path.read_text(encoding="utf-8")  # the same as text, and as a mapping
    assert load_document(text, max_bytes=size) == load_document(text, max_bytes=size + 1)
    assert load_document({"id": "a", "version": "1"}, max_bytes=size)["id"] == "a"
    with pytest.raises(InvalidContractError, match=f"above the {size - 1}-byte limit"):
        load_document(text, max_bytes=size - 1)
    assert _refused(path, max_bytes=size - 1) == (
        f"{path}: file is {size} bytes, above the {size - 1}-byte limit"
    )


@pytest.mark.parametrize("suffix", [".json", ".JSON"])
def test_a_json_file_is_read_as_json_only(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"c{suffix}"
    path.write_text("id: a\nversion: '1'\n", encoding="utf-8")  # YAML, not JSON
    assert _refused(path).startswith(f"{path}: invalid JSON at line 1 column 1")
    for text, message in [
        ('{"id": "a", "id": "b"}', "duplicate key 'id' in a JSON object"),
        ('{"id": "a", "x": NaN}', "NaN is not a JSON value"),
        ('{"id": "a", "x": ' + "[" * 5000 + "]" * 5000 + "}", "nested deeper than 64 levels"),
        ('{"id": "a", "x": 1e-400}', "$.x is 1e-400 is too small for a 64-bit float"),
        (
            '{"id": "a", "x": "\\ud800"}',
            "$.x holds an unpaired surrogate (\\ud800), not valid Unicode",
        ),
    ]:
        path.write_text(text, encoding="utf-8")
        assert _refused(path).startswith(f"{path}: {message}")


def test_text_problems_say_where_and_a_file_s_name_the_file(tmp_path: Path) -> None:
    # the character position points at the bad character (1-based), as an editor counts
    assert _refused("id: a\nx: b\ud800") == (
        "holds an unpaired surrogate (\\ud800) at character 11, not valid Unicode"
    )
    path = tmp_path / "c.yaml"
    path.write_bytes(b"id: a\nx: b\x00\n")
    assert _refused(path) == f"{path}: contains NUL characters: not a text document"
    path.write_text('{"id": "a", "id": "b"}', encoding="utf-8")  # JSON in a .yaml file
    assert _refused(path) == f"{path}: duplicate key 'id' in a JSON object"


def test_a_text_over_the_limit_only_in_utf8_bytes_is_refused() -> None:
    text = json.dumps({"id": "a", "version": "1", "name": "ß" * 20}, ensure_ascii=False)
    size = len(text.encode("utf-8"))
    assert len(text) < size - 1  # fewer characters than bytes
    assert load_document(text, max_bytes=size)["name"] == "ß" * 20
    assert _refused(text, max_bytes=size - 1) == f"document is above the {size - 1}-byte limit"


def test_a_json_text_after_blank_lines_is_read_as_json() -> None:
    # JSON's own checks, not YAML's, apply to JSON text whatever whitespace precedes it
    assert _refused('\n  {"id": "a", "id": "b"}') == "duplicate key 'id' in a JSON object"


def test_a_json_text_after_a_byte_order_mark_is_read_as_json() -> None:
    assert _refused('\ufeff{"id": "a", "id": "b"}') == "duplicate key 'id' in a JSON object"
    assert load_document('\ufeff{"id": "a"}') == {"id": "a"}


def test_a_document_whose_only_key_is_not_text_is_refused() -> None:
    # no text key at all: nothing else marks the tree for checking
    assert _refused("1: x\n") == "key 1 at $ is a int, not a string (quote it in YAML)"


def test_a_merge_key_at_the_top_level_merges() -> None:
    assert load_document("base: &b {x: 1}\n<<: *b\ny: 2\n") == {
        "x": 1,
        "base": {"x": 1},
        "y": 2,
    }


def test_an_alias_to_a_collection_used_as_a_key_is_refused_with_its_line() -> None:
    assert _refused("a: &x [1, 2]\nb:\n  *x : 1\n") == (
        "a key at line 3 is a collection, not a string"
    )


@pytest.mark.slow  # seconds, and far longer under mutation testing: test_yaml12 covers the flag
def test_a_plain_document_of_more_values_than_the_limit_is_refused() -> None:
    # no aliases: the values are counted as they are read
    text = "x: [" + "0, " * 1_000_000 + "0]\n"
    assert _refused(text).startswith("holds more than 1000000 values (at $.x[999998])")


FILE_CONTENT_REFUSALS = [
    ("list.yaml", "- a\n", "a contract must be a mapping at the top level, got list"),
    ("list.yaml", "[1]\n", "a contract must be a mapping at the top level, got list"),
    ("null.yaml", "null\n", "a contract must be a mapping at the top level, got empty"),
    ("null.json", "null", "a contract must be a mapping at the top level, got empty"),
    ("deep.yaml", "x: " + "[" * 70 + "]" * 70, "nested deeper than 64 levels at $.x" + "[0]" * 64),
    ("inf.yaml", "x: .inf\n", "$.x is inf, which JSON cannot hold"),
    ("item.yaml", "x: [1, .inf]\n", "$.x[1] is inf, which JSON cannot hold"),
    ("key.yaml", "1: x\n", "key 1 at $ is a int, not a string (quote it in YAML)"),
    ("big.yaml", "1e400: x\n", "key 1e400 at $ is a number, not a string (quote it in YAML)"),
    ("key.json", '{"\\ud800": 1}', "$ holds an unpaired surrogate (\\ud800), not valid Unicode"),
    (
        "item.json",
        '{"a": ["\\ud800"]}',
        "$.a[0] holds an unpaired surrogate (\\ud800), not valid Unicode",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    FILE_CONTENT_REFUSALS,
    ids=[
        "yaml-list",
        "json-list",
        "yaml-null",
        "json-null",
        "deep",
        "inf",
        "inf-item",
        "int-key",
        "number-key",
        "surrogate-key",
        "surrogate-item",
    ],
)
def test_every_refusal_of_a_files_content_names_the_file(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert _refused(path) == f"{path}: {message}"


def test_a_yaml_file_within_the_limit_whose_json_is_above_it_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("".join(f"k{n}: x\n" for n in range(50)), encoding="utf-8")
    size = path.stat().st_size
    as_json = len(json.dumps({f"k{n}": "x" for n in range(50)}, separators=(",", ":")))
    assert size < as_json
    assert _refused(path, max_bytes=size) == (
        f"{path}: document is {as_json} bytes as JSON, above the {size}-byte limit"
    )
    assert len(load_document(path, max_bytes=as_json)) == 50


@pytest.mark.parametrize("field", ["id", "uuid", "version"])
def test_a_date_where_a_mapping_needs_text_says_how_to_fix_it(field: str) -> None:
    assert _refused({"id": "a", field: date(2024, 1, 1)}) == (
        f"{field} is a date (2024-01-01), as YAML reads an unquoted date; quote it in the "
        "YAML, or pass the file or its text, not a parsed mapping"
    )


def test_integers_of_more_digits_than_python_reads_back_are_refused() -> None:
    limit = 10**MAX_INT_DIGITS
    for value in (limit - 1, -(limit - 1)):
        assert load_document({"id": "a", "x": value})["x"] == value
    for value in (limit, -limit):
        assert _refused({"id": "a", "x": value}) == (
            f"$.x is an integer of more than {MAX_INT_DIGITS} digits, which could not be read back"
        )


def test_the_nesting_limit_holds_through_lists_too() -> None:
    # the top-level mapping is level 0: 64 lists below it are the deepest allowed
    assert load_document({"x": nested_lists(63)})["x"] == nested_lists(63)
    assert _refused({"x": nested_lists(64)}) == ("nested deeper than 64 levels at $.x" + "[0]" * 64)


def nested_lists(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def test_text_that_is_not_a_mapping_says_what_it_got_and_hints_at_paths() -> None:
    assert _refused("contracts/orders.txt") == (
        "a contract must be a mapping at the top level, got str (a path to a file must end in "
        ".yaml, .yml or .json)"
    )
    assert _refused("") == "empty document"
    assert _refused(42) == (
        "cannot read a contract from int; pass an OpenDataContractStandard model, a mapping, "
        "YAML/JSON text or a file path"
    )


def test_yaml_text_whose_last_line_ends_in_a_suffix_is_text_not_a_path() -> None:
    assert load_document("id: a\nname: orders.yaml") == {"id": "a", "name": "orders.yaml"}


def test_a_model_with_a_schema_loads_as_its_document() -> None:
    document = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "a",
        "version": "1.0.0",
        "status": "active",
        "schema": [{"name": "t", "properties": [{"name": "c", "logicalType": "string"}]}],
    }
    model = OpenDataContractStandard.model_validate(document)
    assert load_document(model) == document


def test_a_file_named_in_capitals_is_read_as_a_file(tmp_path: Path) -> None:
    """``ORDERS.YAML`` given as text names a file (suffixes are compared without case)."""
    path = tmp_path / "ORDERS.YAML"
    path.write_text("id: sales.orders\nversion: 1.0.0\n", encoding="utf-8")
    expected = {"id": "sales.orders", "version": "1.0.0"}
    assert load_document(str(path)) == expected
    store = DeltaContractStore(path=str(tmp_path / "table"), validation="off")
    assert store.put(str(path)).outcome == "inserted"
    assert store.get("sales.orders", "1.0.0") == expected


def test_a_json_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Windows editors save UTF-8 with a BOM; a ``.json`` file so saved is still read."""
    path = tmp_path / "orders.json"
    path.write_bytes(b'\xef\xbb\xbf{"id": "sales.orders", "version": "1.0.0"}')
    assert load_document(path) == {"id": "sales.orders", "version": "1.0.0"}


def test_errors_name_keys_that_are_not_identifiers_in_brackets() -> None:
    """The JSON path of a bad value under ``x-ref`` or ``a.b`` is one a tool can follow."""
    document = {"id": "x", "version": "1", "x-ref": {"a.b": [float("nan")]}}
    with pytest.raises(InvalidContractError) as caught:
        load_document(document)
    assert '$["x-ref"]["a.b"][0] is nan' in str(caught.value)
