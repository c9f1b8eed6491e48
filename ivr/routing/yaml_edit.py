"""Editing a table file's text in place: one value, or the order of a list. Pure.

An admin's edit from the web changes the characters of that one value and nothing
else, so the comments, quoting and layout an admin or git keeps stay as they were.
The value is found by its field path in the composed YAML (the same path the checker
reports); a path that does not lead to a value is an `EditError`, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ivr.errors import ExitStatus, HotlineError

Path = Sequence[str | int]


class EditError(HotlineError, ValueError):
    """The file cannot be read, or the path does not lead where the edit needs."""

    code = "routing.edit_invalid"
    exit_status = ExitStatus.REFUSED


def _root(text: str) -> Node:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise EditError(f"the file is not valid YAML: {exc}") from None
    if node is None:
        raise EditError("the file is empty")
    return node


def _child(node: Node, part: str | int) -> Node:
    if isinstance(node, MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == part:
                found: Node = value
                return found
        raise EditError(f"no field {part!r}")
    if isinstance(node, SequenceNode) and isinstance(part, int):
        if 0 <= part < len(node.value):
            item: Node = node.value[part]
            return item
        raise EditError(f"no entry {part}")
    raise EditError(f"cannot go to {part!r} here")


def find(text: str, path: Path) -> Node:
    node = _root(text)
    for part in path:
        node = _child(node, part)
    return node


def set_text(text: str, path: Path, value: str) -> str:
    """The file with the scalar at `path` replaced by `value`, written in quotes."""
    node = find(text, path)
    if not isinstance(node, ScalarNode):
        raise EditError("not a single value")
    start, end = node.start_mark.index, node.end_mark.index
    return text[:start] + json.dumps(value, ensure_ascii=False) + text[end:]


def swap(text: str, path: Path, i: int, j: int) -> str:
    """The file with entries i and j of the list at `path` exchanged (a deputy moved)."""
    node = find(text, path)
    if not isinstance(node, SequenceNode):
        raise EditError("not a list")
    if not (0 <= i < len(node.value) and 0 <= j < len(node.value)) or i == j:
        raise EditError(f"cannot exchange entries {i} and {j}")
    a, b = sorted((node.value[i], node.value[j]), key=lambda n: n.start_mark.index)
    if a.end_mark.line != a.start_mark.line or b.end_mark.line != b.start_mark.line:
        # Block entries span lines whose indentation belongs to them: exchange whole
        # lines instead of characters.
        return _swap_lines(text, a, b)
    a_text = text[a.start_mark.index : a.end_mark.index]
    b_text = text[b.start_mark.index : b.end_mark.index]
    return (
        text[: a.start_mark.index]
        + b_text
        + text[a.end_mark.index : b.start_mark.index]
        + a_text
        + text[b.end_mark.index :]
    )


def _last_end_line(node: Node) -> int:
    """The line a node's text ends on (a block collection's end mark is the next token's)."""
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        return _last_end_line(node.value[-1][1])
    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        return _last_end_line(node.value[-1])
    end = node.end_mark
    return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line


def _lines_of(node: Node) -> tuple[int, int]:
    return node.start_mark.line, _last_end_line(node) + 1


def _swap_lines(text: str, a: Node, b: Node) -> str:
    lines = text.splitlines(keepends=True)
    a0, a1 = _lines_of(a)
    b0, b1 = _lines_of(b)
    return "".join(lines[:a0] + lines[b0:b1] + lines[a1:b0] + lines[a0:a1] + lines[b1:])


def remove(text: str, path: Path, index: int) -> str:
    """The file without entry `index` of the block list at `path` (its whole lines)."""
    node = find(text, path)
    if not isinstance(node, SequenceNode) or not 0 <= index < len(node.value):
        raise EditError(f"no entry {index} to remove")
    if node.flow_style:
        return _remove_flow(text, node, index)
    item = node.value[index]
    start, end = _lines_of(item)
    lines = text.splitlines(keepends=True)
    if len(node.value) == 1:
        # The last entry: the list becomes `[]`, not an empty value (which reads as null).
        before = "".join(lines[:start]).rstrip()
        if before.endswith(":"):
            return before + " []\n" + "".join(lines[end:])
        raise EditError("the list's last entry is not on lines of its own")
    return "".join(lines[:start] + lines[end:])


def _block_entry(indent: str, fields: Mapping[str, object]) -> str:
    pad = indent + "  "
    return "".join(
        f"{pad if i else indent + '- '}{k}: {json.dumps(v, ensure_ascii=False)}\n"
        for i, (k, v) in enumerate(fields.items())
    )


def append(text: str, path: Path, entry: Mapping[str, object]) -> str:
    """The file with a mapping of values added at the end of the list at `path`.

    Values are written as JSON, which YAML reads as written: text in double quotes, so
    a value never changes type (`0912345678` stays text), and numbers, true/false and
    mappings as the caller typed them; a None value is left out. An
    empty `[]` becomes a block list, one field a line, as an admin would write it.
    """
    node = find(text, path)
    if not isinstance(node, SequenceNode):
        raise EditError("not a list")
    fields = {k: v for k, v in entry.items() if v is not None}
    if not fields:
        raise EditError("nothing to add")
    lines = text.splitlines(keepends=True)
    if node.flow_style:
        start, close = node.start_mark.index, node.end_mark.index - 1
        if text[close] != "]":
            raise EditError("cannot find the end of the list")
        if node.value:
            # `[{...}]`: the entry goes in before the closing bracket, on the same line.
            flow = json.dumps(fields, ensure_ascii=False)
            return text[:close] + ", " + flow + text[close:]
        line = lines[node.start_mark.line]
        indent = line[: len(line) - len(line.lstrip(" "))] + "  "
        block = _block_entry(indent, fields)
        rest = text[close + 1 :]
        if rest.startswith("\n") or not rest:
            block = block[:-1]
        return text[:start].rstrip(" ") + "\n" + block + rest
    first = lines[node.value[0].start_mark.line]
    indent = first[: len(first) - len(first.lstrip(" "))]
    end = _last_end_line(node.value[-1]) + 1
    if 0 < end <= len(lines) and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    return "".join(lines[:end]) + _block_entry(indent, fields) + "".join(lines[end:])


def _remove_flow(text: str, node: SequenceNode, index: int) -> str:
    """Entry `index` of a list written `[a, b]` removed with its comma."""
    items = node.value
    start, end = items[index].start_mark.index, items[index].end_mark.index
    if len(items) == 1:
        return text[:start] + text[end:]
    if index + 1 < len(items):
        return text[:start] + text[items[index + 1].start_mark.index :]
    return text[: items[index - 1].end_mark.index] + text[end:]
