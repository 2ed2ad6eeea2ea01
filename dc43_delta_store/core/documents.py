"""Turn what users hand to ``put`` into one plain JSON-like mapping, or a clear error.

Accepted: an ``OpenDataContractStandard`` model (anything with pydantic's ``model_dump``),
a mapping, YAML or JSON text (``str`` or UTF-8 ``bytes``), or a path to a ``.yaml``,
``.yml`` or ``.json`` file (``pathlib.Path``, or a ``str`` ending in one of those).

YAML is read as written: dates and times stay strings (``2024-01-01`` is not turned into a
``date``), duplicate keys and multi-document streams are errors, and an unquoted number
where ODCS wants a string (``version: 1.10``, which YAML reads as 1.1) is reported with the
text that was written. JSON rejects ``NaN``/``Infinity`` and duplicate keys.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..errors import InvalidContractError

__all__ = [
    "CONTRACT_SUFFIXES",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_VALUES",
    "file_path",
    "load_document",
    "to_json_tree",
]

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
"""Largest document accepted (the largest real contract we know is ~200 KB)."""
MAX_DEPTH = 64
"""Deepest nesting accepted (real contracts nest fewer than 10 levels)."""
MAX_VALUES = 1_000_000
"""Most values (scalars, lists, mappings) in one document; stops YAML alias bombs."""

CONTRACT_SUFFIXES = (".yaml", ".yml", ".json")
_STRING_FIELDS = ("id", "uuid", "version", "apiVersion", "name", "status")
_NOT_TEXT = {
    "tag:yaml.org,2002:int": "number",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:bool": "boolean",
}


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as text and refuses duplicate keys."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:
            continue  # unhashable keys are reported by PyYAML itself
        if first is not None:
            raise InvalidContractError(
                f"duplicate key {key!r} at line {key_node.start_mark.line + 1} "
                f"(first at line {first.start_mark.line + 1})"
            )
        seen[key] = key_node
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_document(source: Any, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> dict[str, Any]:
    """The document as a JSON tree; errors about a file name the file.

    >>> load_document("id: sales.orders\\nversion: '1.0.0'")
    {'id': 'sales.orders', 'version': '1.0.0'}
    """
    path = file_path(source)
    if path is not None:
        return _load_file(path, max_bytes)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _from_text(_decode(bytes(source), None), None, max_bytes)
    if isinstance(source, str):
        return _from_text(source, None, max_bytes)
    if hasattr(source, "model_dump") and callable(source.model_dump):
        dumped = source.model_dump(mode="json", by_alias=True, exclude_none=True)
        return _as_document(dumped, None, max_bytes)
    if isinstance(source, Mapping):
        return _as_document(source, None, max_bytes)
    raise InvalidContractError(
        f"cannot read a contract from {type(source).__name__}; pass an "
        "OpenDataContractStandard model, a mapping, YAML/JSON text or a file path"
    )


def file_path(source: Any) -> Path | None:
    """The file ``source`` names, if :func:`load_document` would read it as a path."""
    if isinstance(source, Path):
        return source
    if (
        isinstance(source, str)
        and "\n" not in source
        and source.lower().endswith(CONTRACT_SUFFIXES)
    ):
        return Path(source)
    return None


def _load_file(path: Path, max_bytes: int) -> dict[str, Any]:
    label = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InvalidContractError(
                f"file is {size} bytes, above the {max_bytes}-byte limit", source=label
            )
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidContractError("file does not exist", source=label) from exc
    except IsADirectoryError as exc:
        raise InvalidContractError("is a directory, not a contract file", source=label) from exc
    except OSError as exc:
        raise InvalidContractError(f"cannot read file: {exc.strerror}", source=label) from exc
    text = _decode(data, label)
    if path.suffix.lower() == ".json":
        return _as_document(_parse_json(text, label), label, max_bytes)
    return _from_text(text, label, max_bytes)


def _decode(data: bytes, label: str | None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidContractError(
            f"not valid UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r})",
            source=label,
        ) from exc


def _from_text(text: str, label: str | None, max_bytes: int) -> dict[str, Any]:
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise InvalidContractError(f"document is above the {max_bytes}-byte limit", source=label)
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise InvalidContractError("contains NUL characters: not a text document", source=label)
    if text.lstrip()[:1] in ("{", "["):
        return _as_document(_parse_json(text, label), label, max_bytes)
    return _as_document(_parse_yaml(text, label), label, max_bytes)


def _parse_json(text: str, label: str | None) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise InvalidContractError(f"duplicate key {key!r} in a JSON object", source=label)
            result[key] = value
        return result

    def constant(name: str) -> Any:
        raise InvalidContractError(f"{name} is not a JSON value", source=label)

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise InvalidContractError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source=label
        ) from exc
    except RecursionError as exc:
        raise InvalidContractError(f"nested deeper than {MAX_DEPTH} levels", source=label) from exc


def _parse_yaml(text: str, label: str | None) -> Any:
    loader = _Loader(text)
    try:
        if not loader.check_node():
            raise InvalidContractError("empty document", source=label)
        node = loader.get_node()
        if loader.check_node():
            line = loader.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
            raise InvalidContractError(
                f"holds more than one YAML document (the second starts at line {line}); "
                "put one contract per file",
                source=label,
            )
        assert node is not None  # check_node() said there is one
        _check_unquoted_numbers(node, label)
        return loader.construct_document(node)
    except InvalidContractError as exc:
        if exc.source is None and label is not None:
            raise InvalidContractError(str(exc), source=label) from exc
        raise
    except yaml.YAMLError as exc:
        raise InvalidContractError(f"invalid YAML: {_yaml_message(exc)}", source=label) from exc
    except RecursionError as exc:
        raise InvalidContractError(f"nested deeper than {MAX_DEPTH} levels", source=label) from exc
    finally:
        loader.dispose()


def _yaml_message(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"{exc.problem} (line {mark.line + 1}, column {mark.column + 1})"
    return str(exc).splitlines()[0]


def _check_unquoted_numbers(node: yaml.Node, label: str | None) -> None:
    """``version: 1.10`` reads as the float 1.1: report the text as written, not the number."""
    if not isinstance(node, yaml.MappingNode):
        return
    for key_node, value_node in node.value:
        if (
            isinstance(key_node, yaml.ScalarNode)
            and key_node.value in _STRING_FIELDS
            and isinstance(value_node, yaml.ScalarNode)
            and value_node.style is None
            and value_node.tag in _NOT_TEXT
        ):
            raw = value_node.value
            raise InvalidContractError(
                f"{key_node.value} must be a string, but YAML reads the unquoted {raw} at line "
                f"{value_node.start_mark.line + 1} as a {_NOT_TEXT[value_node.tag]}; quote it: "
                f'{key_node.value}: "{raw}"',
                source=label,
            )


def _as_document(value: Any, label: str | None, max_bytes: int) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        kind = "empty" if value is None else type(value).__name__
        hint = ""
        if isinstance(value, str):
            hint = " (a path to a file must end in .yaml, .yml or .json)"
        raise InvalidContractError(
            f"a contract must be a mapping at the top level, got {kind}{hint}", source=label
        )
    for field in ("id", "uuid", "version"):
        if isinstance(value.get(field), (_dt.date, _dt.datetime)):
            raise InvalidContractError(
                f"{field} is a {type(value[field]).__name__} ({value[field]}), as YAML reads an "
                "unquoted date; quote it in the YAML, or pass the file or its text, not a "
                "parsed mapping",
                source=label,
            )
    tree = to_json_tree(value, label)
    assert isinstance(tree, dict)
    size = len(json.dumps(tree, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > max_bytes:
        raise InvalidContractError(
            f"document is {size} bytes as JSON, above the {max_bytes}-byte limit", source=label
        )
    return tree


def to_json_tree(value: Any, label: str | None = None) -> Any:
    """Copy ``value`` as plain JSON types, or raise naming the JSON path of the first bad node.

    Dates and datetimes (what ``yaml.safe_load`` makes of unquoted dates) become ISO strings.
    """
    return _copy(value, "$", 0, label, [MAX_VALUES])


def _copy(value: Any, path: str, depth: int, label: str | None, budget: list[int]) -> Any:
    if depth > MAX_DEPTH:
        raise InvalidContractError(f"nested deeper than {MAX_DEPTH} levels at {path}", source=label)
    budget[0] -= 1
    if budget[0] < 0:
        raise InvalidContractError(
            f"holds more than {MAX_VALUES} values (at {path}); YAML aliases expanding?",
            source=label,
        )
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        _check_text(value, path, label)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidContractError(f"{path} is {value}, which JSON cannot hold", source=label)
        return value
    if isinstance(value, Mapping):
        copied: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidContractError(
                    f"key {key!r} at {path} is a {type(key).__name__}, not a string "
                    "(quote it in YAML)",
                    source=label,
                )
            _check_text(key, path, label)
            copied[key] = _copy(item, _child(path, key), depth + 1, label, budget)
        return copied
    if isinstance(value, (list, tuple)):
        return [
            _copy(item, f"{path}[{i}]", depth + 1, label, budget) for i, item in enumerate(value)
        ]
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    raise InvalidContractError(
        f"{path} holds a {type(value).__name__}, which is not a JSON value", source=label
    )


def _check_text(text: str, path: str, label: str | None) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidContractError(
            f"{path} holds an unpaired surrogate (\\u{ord(text[exc.start]):04x}), "
            "not valid Unicode",
            source=label,
        ) from exc


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"
