"""Editing a table file's text in place, beyond `yaml_edit`: one entry of a list
replaced whole, one key of a mapping set or added. Pure.

As in `ivr.routing.yaml_edit`, only the characters of what changes are touched, so the
comments and layout around it stay; values are written as JSON, which YAML reads as
written (text stays text). A path that does not lead where the edit needs is an
`EditError`, never a crash.

A replaced entry is edited field by field (`yaml_fields`), so comments inside a row
written over several lines stay with the fields they are beside.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ivr.routing.yaml_edit import EditError, Path, _block_entry, _last_end_line, find
from ivr.routing.yaml_fields import splice_fields


def _line_end(text: str, line: int) -> int:
    """The index of the end of line `line` (before its newline)."""
    lines = text.splitlines(keepends=True)
    end = sum(len(x) for x in lines[: line + 1])
    return end - 1 if end and text[end - 1] == "\n" else end


def _value_end(text: str, node: Node) -> int:
    if isinstance(node, MappingNode | SequenceNode) and not node.flow_style:
        return _line_end(text, _last_end_line(node))
    return node.end_mark.index


def replace_entry(text: str, path: Path, index: int, entry: Mapping[str, object]) -> str:
    """The file with entry `index` of the list at `path` replaced by the mapping `entry`
    (None values left out).

    A mapping entry keeps its text where its fields keep their values: a changed
    value is written over the old one, a field left out is removed, a new field is
    added at the row's end (`yaml_fields.splice_fields`), and comments stay. Where that
    cannot be done (the row's first field removed from a `- key:` line, duplicate or
    non-text keys, an entry that is no mapping), the entry is written whole, one field
    a line as `append` writes a new one, and comments inside it are lost."""
    node = find(text, path)
    if not isinstance(node, SequenceNode) or not 0 <= index < len(node.value):
        raise EditError(f"no entry {index} to change")
    fields = {k: v for k, v in entry.items() if v is not None}
    if not fields:
        raise EditError("nothing to save")
    item = node.value[index]
    after = node.value[index - 1].end_mark.index if index else node.start_mark.index
    if item.start_mark.index < after:
        # `- *a`: the entry's text is its anchor's, elsewhere; editing it there would
        # change another entry.
        raise EditError(f"entry {index} is an alias of another; edit it in the file")
    if isinstance(item, MappingNode):
        spliced = splice_fields(text, item, fields)
        if spliced is not None:
            return spliced
    if node.flow_style:
        flow = json.dumps(fields, ensure_ascii=False)
        return text[: item.start_mark.index] + flow + text[item.end_mark.index :]
    lines = text.splitlines(keepends=True)
    first = lines[item.start_mark.line]
    indent = first[: len(first) - len(first.lstrip(" "))]
    if not first.lstrip(" ").startswith("-"):
        raise EditError(f"entry {index} does not start a line of its own")
    start, end = item.start_mark.line, _last_end_line(item) + 1
    return "".join(lines[:start]) + _block_entry(indent, fields) + "".join(lines[end:])


def set_key(text: str, path: Path, key: str, value: object) -> str:
    """The file with `key` of the mapping at `path` set to `value`; added if missing."""
    node = find(text, path)
    if not isinstance(node, MappingNode):
        raise EditError("not a mapping")
    written = json.dumps(value, ensure_ascii=False)
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            colon = text.find(":", k.end_mark.index)
            if colon < 0 or colon > v.start_mark.index:
                raise EditError(f"cannot find the value of {key!r}")
            return text[: colon + 1] + " " + written + text[_value_end(text, v) :]
    if node.flow_style:
        close = node.end_mark.index - 1
        if text[close] != "}":
            raise EditError("cannot find the end of the mapping")
        before = text[:close].rstrip()
        comma = ", " if node.value else ""
        return before + comma + f"{key}: {written}" + text[close:]
    lines = text.splitlines(keepends=True)
    column: int = node.value[0][0].start_mark.column
    end = _last_end_line(node) + 1
    if 0 < end <= len(lines) and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    added = " " * column + f"{key}: {written}\n"
    return "".join(lines[:end]) + added + "".join(lines[end:])


def remove_key(text: str, path: Path, key: str) -> str:
    """The file without `key` of the block mapping at `path` (its whole lines); the same
    file if it has no such key."""
    node = find(text, path)
    if not isinstance(node, MappingNode):
        raise EditError("not a mapping")
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            if node.flow_style:
                raise EditError(f"{key!r} is in a mapping written on one line; edit it there")
            lines = text.splitlines(keepends=True)
            start, end = k.start_mark.line, _last_end_line(v) + 1
            if len(node.value) == 1:
                raise EditError(f"{key!r} is the mapping's only field")
            return "".join(lines[:start] + lines[end:])
    return text
