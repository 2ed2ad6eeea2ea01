"""Turn what users hand to ``put`` into one plain JSON-like mapping, or a clear error.

Accepted: an ``OpenDataContractStandard`` model (anything with pydantic's ``model_dump``),
a mapping, YAML or JSON text (``str`` or UTF-8 ``bytes``), or a path to a ``.yaml``,
``.yml`` or ``.json`` file (``pathlib.Path``, or a ``str`` ending in one of those).

YAML is read with the YAML 1.2 core schema (see :mod:`.yaml12`): dates, ``yes``/``no``,
``0x1F`` and ``12:30`` stay the text that was written. JSON rejects ``NaN``/``Infinity`` and
duplicate keys. Numbers that would not read back as written (``1e-400``, ``1e400``,
integers beyond 4300 digits) are refused naming their JSON path (see :mod:`.numbers`).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InvalidContractError
from .numbers import MAX_INT_DIGITS, BadNumber, float_from_text, int_from_text
from .yaml12 import load_yaml

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
_INT_LIMIT = 10**MAX_INT_DIGITS


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
    label = str(path).replace("\x00", "\\x00")
    if "\x00" in str(path):
        raise InvalidContractError("a file name cannot contain a NUL character", source=label)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InvalidContractError("is a directory, not a contract file", source=label)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidContractError(
                f"is not a regular file (a {_file_kind(info.st_mode)}); nothing read",
                source=label,
            )
        if info.st_size > max_bytes:
            raise InvalidContractError(
                f"file is {info.st_size} bytes, above the {max_bytes}-byte limit", source=label
            )
        data = path.read_bytes()
    except FileNotFoundError as exc:
        kind = "a dangling symbolic link" if os.path.islink(path) else "file does not exist"
        raise InvalidContractError(kind, source=label) from exc
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidContractError(f"cannot read file: {reason}", source=label) from exc
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
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidContractError(
            f"holds an unpaired surrogate (\\u{ord(text[exc.start]):04x}) at character "
            f"{exc.start + 1}, not valid Unicode",
            source=label,
        ) from None
    if text.lstrip()[:1] in ("{", "["):
        return _as_document(_parse_json(text, label), label, max_bytes)
    value, plain = load_yaml(text, label, max_depth=MAX_DEPTH, max_values=MAX_VALUES)
    return _as_document(value, label, max_bytes, checked=plain)


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    ):
        if test(mode):
            return kind
    return "special file"


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
        return json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=constant,
            parse_int=int_from_text,
            parse_float=float_from_text,
        )
    except json.JSONDecodeError as exc:
        raise InvalidContractError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source=label
        ) from exc
    except RecursionError as exc:
        raise InvalidContractError(f"nested deeper than {MAX_DEPTH} levels", source=label) from exc


def _as_document(
    value: Any, label: str | None, max_bytes: int, *, checked: bool = False
) -> dict[str, Any]:
    """``value`` as a checked JSON tree; ``checked`` when it is one already (from YAML)."""
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
    tree = value if checked else to_json_tree(value, label)
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
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if -_INT_LIMIT < value < _INT_LIMIT:
            return value
        raise InvalidContractError(
            f"{path} is an integer of more than {MAX_INT_DIGITS} digits, which could not be "
            "read back",
            source=label,
        )
    if isinstance(value, BadNumber):
        raise InvalidContractError(f"{path} is {value.describe()}", source=label)
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
                shown = key.text if isinstance(key, BadNumber) else repr(key)
                kind = "number" if isinstance(key, BadNumber) else type(key).__name__
                raise InvalidContractError(
                    f"key {shown} at {path} is a {kind}, not a string (quote it in YAML)",
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
