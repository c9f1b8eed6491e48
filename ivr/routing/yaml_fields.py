"""One row of a table file rewritten field by field, so that what an admin wrote in it
stays: its comments, its layout, the quoting of the values that did not change. Pure.

A form sends a whole row; most of its fields are what the file already holds. A field
whose value is the same (the same type and value, as YAML reads it) keeps its text,
with the comment after it; a changed value is written over the old one's characters
(as JSON, which YAML reads as written); a field left out loses its own lines (block)
or its `key: value,` (flow); a new field is added after the row's last one. What is
lost: a comment inside a changed value written over several lines (a block list of
skills), a comment after a removed field on its line, and the comments of a row that
cannot be edited this way (the caller then writes it whole, `yaml_rows.replace_entry`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ivr.routing.yaml_edit import _last_end_line

# (start, end, replacement) in the original text.
Span = tuple[int, int, str]


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def _value_of(node: Node) -> tuple[bool, Any]:
    """The value YAML reads from a node; (False, None) when it reads as nothing valid."""
    loader = yaml.SafeLoader("")
    try:
        return True, loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError):
        return False, None
    finally:
        loader.dispose()


def _same(a: Any, b: Any) -> bool:
    """Equal as YAML would write them: `1` is not `"1"`, nor `true` `1`."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _value_end(text: str, starts: list[int], node: Node) -> int:
    """Where a value's characters end: a block collection or a `|` scalar at the end of
    its last line (before the newline), anything else at its last character."""
    block = isinstance(node, MappingNode | SequenceNode) and not node.flow_style
    literal = isinstance(node, ScalarNode) and node.style in ("|", ">")
    if not (block or literal):
        return int(node.end_mark.index)
    line = _last_end_line(node)
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    return end - 1 if end and text[end - 1] == "\n" else end


def _written(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def splice_fields(text: str, item: MappingNode, fields: Mapping[str, object]) -> str | None:
    """The file with the mapping `item` holding exactly `fields`, its unchanged fields'
    text kept; None when the row cannot be edited field by field."""
    pairs: list[tuple[ScalarNode, Node]] = []
    for k, v in item.value:
        if not isinstance(k, ScalarNode) or k.value in {p[0].value for p in pairs}:
            return None  # the checker names such a row; it is written whole
        pairs.append((k, v))
    kept = [p for p in pairs if p[0].value in fields]
    if not kept:
        return None
    starts = _line_starts(text)
    removed = [i for i, (k, _) in enumerate(pairs) if k.value not in fields]
    spans = _removals(text, starts, item, pairs, removed)
    spans += [_changed(text, starts, k, v, fields[k.value]) for k, v in kept]
    added = {k: v for k, v in fields.items() if k not in {p[0].value for p in pairs}}
    if added:
        spans.append(_added(text, starts, item, kept, added))
    out = text
    # From the end backwards, so that each span's places are still the original's.
    for span in sorted(spans, key=lambda s: (-1, -1) if s is None else s[:2], reverse=True):
        if span is None:
            return None
        start, end, new = span
        out = out[:start] + new + out[end:]
    return out


def _changed(text: str, starts: list[int], k: ScalarNode, v: Node, value: object) -> Span | None:
    """The span that writes `value` over the field's old one; empty when it is the same."""
    ok, old = _value_of(v)
    if ok and _same(old, value):
        return (0, 0, "")
    colon = text.find(":", k.end_mark.index)
    if colon < 0 or colon > v.start_mark.index:
        return None
    return (colon + 1, _value_end(text, starts, v), " " + _written(value))


def _removals(
    text: str,
    starts: list[int],
    item: MappingNode,
    pairs: list[tuple[ScalarNode, Node]],
    removed: list[int],
) -> list[Span | None]:
    """The spans that take the fields at `removed` out of the row (None: it cannot be)."""
    if not item.flow_style:
        return [_block_removed(text, starts, pairs[i]) for i in removed]
    # The removed fields at the end go in one span from the last kept value, with the
    # comma before them (`{a: 1, b: 2, c: 3}` without b and c); the others each up to
    # the next key, their comma with them.
    tail = len(pairs)
    while tail > 0 and tail - 1 in removed:
        tail -= 1
    spans: list[Span | None] = [
        (pairs[i][0].start_mark.index, pairs[i + 1][0].start_mark.index, "")
        for i in removed
        if i < tail
    ]
    if tail < len(pairs):
        spans.append((pairs[tail - 1][1].end_mark.index, pairs[-1][1].end_mark.index, ""))
    return spans


def _block_removed(text: str, starts: list[int], pair: tuple[ScalarNode, Node]) -> Span | None:
    k, v = pair
    line = k.start_mark.line
    if text[starts[line] : k.start_mark.index].strip(" "):
        return None  # the `- key:` line: the row's dash would go with it
    end_line = _last_end_line(v) + 1
    end = starts[end_line] if end_line < len(starts) else len(text)
    return (starts[line], end, "")


def _added(
    text: str,
    starts: list[int],
    item: MappingNode,
    kept: list[tuple[ScalarNode, Node]],
    added: Mapping[str, object],
) -> Span:
    if item.flow_style:
        # After the last value, before `}`: `{a: 1, b: 2, c: 3}`.
        at = int(item.value[-1][1].end_mark.index)
        return (at, at, "".join(f", {k}: {_written(v)}" for k, v in added.items()))
    column = kept[0][0].start_mark.column
    line = _last_end_line(item) + 1
    at = starts[line] if line < len(starts) else len(text)
    lead = "" if at == 0 or text[at - 1] == "\n" else "\n"
    return (at, at, lead + "".join(f"{' ' * column}{k}: {_written(v)}\n" for k, v in added.items()))
