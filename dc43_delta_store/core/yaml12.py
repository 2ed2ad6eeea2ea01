"""YAML read with the YAML 1.2 core schema, from libyaml's C parser events.

PyYAML resolves plain scalars with YAML 1.1 rules: ``no`` and ``off`` become false,
``12:30`` the integer 750, ``0x1F`` 31, ``0o17`` 15, ``1_000`` 1000, ``2024-01-01`` a date.
Here the YAML 1.2 core schema applies (yaml.org/spec/1.2.2, 10.3.2), with decimal numbers
written without leading zeros only:

- null: ``~``, ``null``, ``Null``, ``NULL`` or nothing;
- booleans: ``true``, ``True``, ``TRUE``, ``false``, ``False``, ``FALSE``;
- integers: ``42``, ``-7``, ``+3``; floats: ``1.5``, ``-.5``, ``1e3``, ``.inf``, ``.nan`` (the
  last two are refused later: JSON cannot hold them);
- everything else is text: dates, times, ``yes``, ``no``, ``on``, ``0x1F``, ``0o17``,
  ``1_000``, ``12:30``, and numbers with leading zeros (``007``, ``0068780060324``: codes,
  whose zeros the core schema would drop).

Merge keys (``<<: *base``) still merge, as most YAML 1.2 tools do. Explicit tags are the
core ones (``!!str``, ``!!int``...), and must fit their value: ``!!int 0x1F`` is refused, as
are ``!!binary``, ``!!set``, ``!!python/...`` and local tags; ``!!timestamp`` keeps the text.
Duplicate keys and multi-document streams are errors, and an unquoted number or boolean
where ODCS wants text (``version: 1.10``, which reads as 1.1) is reported with the text that
was written.

Values are built straight from the parser's events (libyaml's C parser when PyYAML has it):
composing PyYAML nodes first costs several times more on large documents.

>>> text = "a: no\\nb: 12:30\\nc: 0x1F\\nd: 1_000\\ne: 2024-01-01\\ng: 010"
>>> load_yaml(text, None, max_depth=64, max_values=1000)[0]
{'a': 'no', 'b': '12:30', 'c': '0x1F', 'd': '1_000', 'e': '2024-01-01', 'g': '010'}
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml import events as ev

from ..errors import InvalidContractError
from .numbers import BadNumber, float_from_text, int_from_text
from .terminal import printable, yaml_text

__all__ = ["dump_yaml", "load_yaml", "plain_tag"]

try:  # libyaml, bundled with PyYAML's wheels
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml

    class _Parser(  # type: ignore[no-redef]
        yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser
    ):
        def __init__(self, stream: bytes) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)


_TAG = "tag:yaml.org,2002:"
NULL, BOOL, INT, FLOAT, STR = (_TAG + name for name in ("null", "bool", "int", "float", "str"))
MERGE = _TAG + "merge"
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)", re.ASCII)
_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?", re.ASCII
)
_SPECIAL_FLOATS = {
    **{sign + text: float("inf") for text in (".inf", ".Inf", ".INF") for sign in ("", "+")},
    **{"-" + text: float("-inf") for text in (".inf", ".Inf", ".INF")},
    **{text: float("nan") for text in (".nan", ".NaN", ".NAN")},
}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_NUMBER_START = frozenset("-+.0123456789")
_TEXT_TAGS = frozenset({None, "!", STR, _TAG + "timestamp"})
_COLLECTION_TAGS = frozenset({None, "!", _TAG + "map", _TAG + "seq"})

_STRING_FIELDS = frozenset({"id", "uuid", "version", "apiVersion", "name", "status"})
_NOT_TEXT = {INT: "number", FLOAT: "number", BOOL: "boolean"}
_NO_KEY = object()


def plain_tag(value: str) -> str:
    """The core-schema tag of an unquoted scalar."""
    if value in _NULLS:
        return NULL
    if value[0] in _NUMBER_START:
        if _INT.fullmatch(value):
            return INT
        if _FLOAT.fullmatch(value) or value in _SPECIAL_FLOATS:
            return FLOAT
        return STR
    if value in _BOOLS:
        return BOOL
    return MERGE if value == "<<" else STR


def load_yaml(text: str, label: str | None, *, max_depth: int, max_values: int) -> tuple[Any, bool]:
    """The one YAML document in ``text`` as Python values (numbers that cannot be stored as
    written are :class:`~.numbers.BadNumber`); errors name ``label`` and the line.

    The flag says whether the values are a plain JSON tree already: text keys, finite
    numbers, no aliases, at most ``max_values`` values nested at most ``max_depth`` deep —
    else they still need checking.
    """
    parser = _Parser(text.encode("utf-8"))
    try:
        builder = _Builder(parser)
        value = builder.document()
        within = builder.deepest <= max_depth and builder.count <= max_values
        return value, builder.plain and within
    except InvalidContractError as exc:
        if exc.source is None and label is not None:
            raise InvalidContractError(str(exc), source=label) from None
        raise
    except yaml.YAMLError as exc:
        raise InvalidContractError(f"invalid YAML: {_yaml_message(exc)}", source=label) from None
    finally:
        parser.dispose()


class _Builder:
    """Values from a stream of parser events: containers on a stack, anchors by name."""

    def __init__(self, parser: Any) -> None:
        self.next_event = parser.get_event
        self.peek_event = parser.peek_event
        self.anchors: dict[str, Any] = {}
        self.plain = True  # only text keys, finite numbers, no aliases so far
        self.deepest = 0
        self.count = 0

    def document(self) -> Any:
        self.next_event()  # StreamStartEvent
        if isinstance(self.peek_event(), ev.StreamEndEvent):
            raise InvalidContractError("empty document")
        self.next_event()  # DocumentStartEvent
        value = self.values()
        self.next_event()  # DocumentEndEvent
        following = self.peek_event()
        if isinstance(following, ev.DocumentStartEvent):
            mark: Any = following.start_mark
            raise InvalidContractError(
                f"holds more than one YAML document (the second starts at line "
                f"{mark.line + 1}); put one contract per file"
            )
        return value

    def values(self) -> Any:
        """The value of one node: containers are filled until their end event."""
        stack: list[Any] = []  # open containers
        keys: list[Any] = []  # per open mapping: the key waiting for its value, or _NO_KEY
        lines: list[dict[Any, int] | None] = []  # per open mapping: the line of each key
        merges: list[list[Any] | None] = []  # per open mapping: (value, event) of each `<<`
        root: Any = None
        get = self.next_event
        scalar_event, alias_event = ev.ScalarEvent, ev.AliasEvent
        mapping_start, sequence_start = ev.MappingStartEvent, ev.SequenceStartEvent
        while True:
            event = get()
            kind = type(event)
            opened = False
            self.count += 1
            if kind is scalar_event:
                value = self.scalar(event, stack, keys)
            elif kind is alias_event:
                if event.anchor not in self.anchors:
                    raise InvalidContractError(
                        f"alias *{event.anchor} at line {event.start_mark.line + 1} names no "
                        "anchor defined before it"
                    )
                value = self.anchors[event.anchor]
                self.plain = False  # shared values: the checks count them expanded
            elif kind is mapping_start or kind is sequence_start:
                if event.tag not in _COLLECTION_TAGS:
                    raise _unsupported_tag(event)
                if stack and type(stack[-1]) is dict and keys[-1] is _NO_KEY:
                    raise InvalidContractError(
                        f"the key at line {event.start_mark.line + 1} is a "
                        f"{'mapping' if kind is mapping_start else 'list'}, not a string"
                    )
                value = {} if kind is mapping_start else []
                opened = True
            else:  # MappingEndEvent or SequenceEndEvent
                done = stack.pop()
                keys.pop()
                lines.pop()
                merged = merges.pop()
                if merged:  # a list after `<<` is complete only now
                    _merge(done, [m for value, at in merged for m in _merge_sources(value, at)])
                if not stack:
                    return done
                continue
            if kind is not alias_event and event.anchor is not None:
                self.anchors[event.anchor] = value
            if stack:
                container = stack[-1]
                if type(container) is list:
                    container.append(value)
                elif keys[-1] is _NO_KEY:
                    keys[-1] = value
                    if type(value) is not str:
                        self.plain = False
                    self.check_key(value, event, lines[-1])
                else:
                    key = keys[-1]
                    keys[-1] = _NO_KEY
                    if key is _MERGE_KEY:
                        merges[-1] = [*(merges[-1] or []), (value, event)]
                    else:
                        container[key] = value
            else:
                root = value
            if opened:
                stack.append(value)
                if len(stack) > self.deepest:
                    self.deepest = len(stack)
                keys.append(_NO_KEY)
                lines.append({} if type(value) is dict else None)
                merges.append(None)
            elif not stack:
                return root

    def scalar(self, event: Any, stack: list[Any], keys: list[Any]) -> Any:
        text: str = event.value
        tag = event.tag
        if tag is None and event.implicit[0]:
            tag = plain_tag(text)
            if (
                tag in _NOT_TEXT
                and len(stack) == 1
                and type(stack[0]) is dict
                and isinstance(keys[0], str)
                and keys[0] in _STRING_FIELDS
            ):
                field = keys[0]
                raise InvalidContractError(
                    f"{field} must be a string, but YAML reads the unquoted {text} at line "
                    f"{event.start_mark.line + 1} as a {_NOT_TEXT[tag]}; quote it: "
                    f'{field}: "{text}"'
                )
        if tag in _TEXT_TAGS:
            return text
        line = event.start_mark.line + 1
        if tag == INT:
            if not _INT.fullmatch(text):
                raise _tag_error(event, "a decimal integer")
            number: Any = int_from_text(text, line)
        elif tag == FLOAT:
            if not _FLOAT.fullmatch(text) and text not in _SPECIAL_FLOATS:
                raise _tag_error(event, "a decimal number")
            number = (
                _SPECIAL_FLOATS[text] if text in _SPECIAL_FLOATS else float_from_text(text, line)
            )
        else:
            number = None
        if number is not None:
            if isinstance(number, BadNumber) or text in _SPECIAL_FLOATS:
                self.plain = False  # refused, with its JSON path, by the tree checks
            return number
        if tag == BOOL:
            if text not in _BOOLS:
                raise _tag_error(event, "true or false")
            return _BOOLS[text]
        if tag == NULL:
            if text not in _NULLS:
                raise _tag_error(event, "null")
            return None
        if tag == MERGE:
            is_key = bool(stack) and type(stack[-1]) is dict and keys[-1] is _NO_KEY
            return _MERGE_KEY if is_key else text
        raise _unsupported_tag(event)

    def check_key(self, key: Any, event: Any, seen: dict[Any, int] | None) -> None:
        """A key that appears twice in one mapping is an error (merged keys aside)."""
        if seen is None or key is _MERGE_KEY:
            return
        try:
            first = seen.get(key)
        except TypeError:
            raise InvalidContractError(
                f"a key at line {event.start_mark.line + 1} is a collection, not a string"
            ) from None
        line = event.start_mark.line + 1
        if first is not None:
            raise InvalidContractError(
                f"duplicate key {key!r} at line {line} (first at line {first})"
            )
        seen[key] = line


_MERGE_KEY = object()  # the key ``<<`` where it merges


def _merge_sources(value: Any, event: Any) -> list[dict[str, Any]]:
    """What ``<<: value`` merges: one mapping, or a list of them (earlier ones win)."""
    sources = value if isinstance(value, list) else [value]
    if not all(isinstance(source, dict) for source in sources):
        raise InvalidContractError(
            f"the merge key << at line {event.start_mark.line + 1} takes a mapping or a list "
            "of mappings"
        )
    return list(sources)


def _merge(mapping: dict[Any, Any], sources: list[dict[Any, Any]]) -> None:
    """Keys of ``sources`` the mapping lacks, first (as PyYAML orders them); in place, since
    an anchor may already point at ``mapping``."""
    merged: dict[Any, Any] = {}
    for source in reversed(sources):
        merged.update(source)
    merged.update(mapping)
    mapping.clear()
    mapping.update(merged)


def _tag_error(event: Any, wanted: str) -> InvalidContractError:
    return InvalidContractError(
        f"{event.tag.replace(_TAG, '!!')} {event.value!r} at line {event.start_mark.line + 1} "
        f"is not {wanted}"
    )


def _unsupported_tag(event: Any) -> InvalidContractError:
    return InvalidContractError(
        f"the YAML tag {event.tag.replace(_TAG, '!!')} at line {event.start_mark.line + 1} is "
        "not supported: a contract holds only text, numbers, booleans, null, lists and mappings"
    )


class _Dumper(yaml.SafeDumper):
    """PyYAML's writer, quoting also the text YAML 1.2 would read as something else
    (``1e3``, ``1.5e3``: YAML 1.1 wants a dot and a signed exponent in a float)."""


_Dumper.add_implicit_resolver(FLOAT, re.compile(f"^(?:{_FLOAT.pattern})$"), list("-+.0123456789"))


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # Text a terminal must not get raw (control characters, line breaks, U+0085 which reads
    # back as a space single-quoted, workflow-command markers) goes double-quoted, where
    # dump_yaml escapes it.
    style = '"' if printable(data) != data else None
    return dumper.represent_scalar(STR, data, style=style)


_Dumper.add_representer(str, _text)
_NO_FOLD = 2**31


def dump_yaml(document: Any) -> str:
    """YAML text that :func:`load_yaml` reads back as ``document``.

    >>> dump_yaml({"a": "1e3", "b": "no", "c": 1e3})
    "a: '1e3'\\nb: 'no'\\nc: 1000.0\\n"
    """
    # No folding: a folded line could start with text of the document (``::error::``).
    text = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=_NO_FOLD)
    return yaml_text(text)


def _yaml_message(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = exc.problem or exc.context or "error"
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return str(exc).splitlines()[0]
