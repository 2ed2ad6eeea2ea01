"""Line numbers of the parts of a YAML or JSON file, for annotations on the right line.

PyYAML's composer keeps the start mark of every node; JSON is (nearly) YAML, so one map
serves both. :func:`line_of` follows a change's JSON Pointer as far as the file goes and
answers that line; v2 documents are found under their v2 key names.
"""

from __future__ import annotations

import yaml

from .normalize import V2_ALIASES

__all__ = ["LineMap", "line_map", "line_of"]

LineMap = dict[tuple[str | int, ...], int]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~20 times faster


def line_map(text: str) -> LineMap:
    """Pointer (as a tuple) -> 1-based line, for every node of the file; empty if unreadable.

    >>> line_map("a:\\n  b: [1, 2]\\n")[("a", "b", 1)]
    2
    """
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError:
        return {}
    lines: LineMap = {}
    if root is not None:
        _visit(root, (), root.start_mark.line + 1, lines)
    return lines


def _visit(node: yaml.Node, pointer: tuple[str | int, ...], line: int, lines: LineMap) -> None:
    lines[pointer] = line
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                _visit(value, (*pointer, key.value), key.start_mark.line + 1, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _visit(item, (*pointer, index), item.start_mark.line + 1, lines)


def line_of(lines: LineMap, pointer: str) -> int | None:
    """The line of the deepest part of ``pointer`` (a JSON Pointer) found in the file.

    >>> line_of(line_map("dataset:\\n  - table: t\\n    columns: []\\n"), "/schema/0/properties")
    3
    """
    if not lines:
        return None
    here: tuple[str | int, ...] = ()
    for raw in pointer.split("/")[1:] if pointer else []:
        part: str | int = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(part, str) and part.isdigit():
            part = int(part)
        for candidate in (part, *V2_ALIASES.get(str(part), ())):
            if (*here, candidate) in lines:
                here = (*here, candidate)
                break
        else:
            if part == "members":  # a v3.0 team list read as team.members
                continue
            break
    return lines.get(here)
