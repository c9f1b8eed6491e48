"""Editing menus.yaml's text in place, one entry of a mapping at a time. Pure.

A menu option, a menu's setting or a whole menu is one entry of a block mapping: its
key line and the lines of its value. An edit rewrites those lines and nothing else,
so the comments and layout of the rest of the file stay as an admin or git keeps them.
What the destination means is left to the checker (`ivr routing check`), which the
editor runs on the result; this module only writes what it is given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from ivr.routing.files import MENUS
from ivr.routing.problems import render_loc
from ivr.routing.yaml_edit import EditError, Path, _last_end_line, find

# Each destination type and the fields an admin names for it: the first is its target
# (a menu, a queue, a unit, a prompt...), `then` the menu after it, where it has one.
DEST_FIELDS: dict[str, tuple[str, ...]] = {
    "queue": ("queue",),
    "menu": ("menu",),
    "unit": ("unit",),
    "extension": ("extension",),
    "language": ("language", "then"),
    "case_check": ("then",),
    "record": ("prompt",),
    "announcement": ("prompt",),
    "emergency": ("prompt",),
}
# Settings of a menu written as numbers, not text.
NUMBERS = frozenset({"timeout_s", "max_tries", "extension_digits_max"})


def target_field(kind: str) -> str | None:
    """The field that names where a destination of this type goes (None: only `then`)."""
    fields = DEST_FIELDS.get(kind, ())
    return fields[0] if fields and fields[0] != "then" else None


def destination(
    kind: str, target: str, then: str = "", old: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The destination an admin chose. The same type keeps its other fields (an
    emergency's trunk and number); another type starts afresh."""
    if kind not in DEST_FIELDS:
        raise EditError(f"{kind!r} is not a destination type: {', '.join(DEST_FIELDS)}")
    dest: dict[str, Any] = dict(old) if old and old.get("type") == kind else {"type": kind}
    name = target_field(kind)
    if name is not None:
        dest[name] = target.strip()
    if "then" in DEST_FIELDS[kind]:
        if then.strip():
            dest["then"] = then.strip()
        else:
            dest.pop("then", None)
    return dest


def flow(value: Any) -> str:
    """`{type: queue, queue: "general"}`: one line; text always quoted, so a key or a
    number never changes type."""
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {flow(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def _key_text(key: str) -> str:
    """Menu names and fields bare; DTMF keys in quotes ("1"), as the tables write them."""
    return key if key[:1].isalpha() else json.dumps(key, ensure_ascii=False)


def _block_mapping(text: str, path: Path) -> MappingNode:
    node = find(text, path)
    if not isinstance(node, MappingNode):
        raise EditError("not a mapping")
    if node.flow_style:
        raise EditError("written on one line ({...}): write it one entry a line to edit it here")
    return node


def _entry(node: MappingNode, key: str) -> tuple[Node, Node] | None:
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return k, v
    return None


def _indent(text: str, line: int) -> str:
    lines = text.splitlines()
    whole = lines[line] if line < len(lines) else ""
    return whole[: len(whole) - len(whole.lstrip(" "))]


def _comment(line: str, after: int) -> str:
    """A `# ...` comment at the end of a line, after column `after` (kept on a rewrite)."""
    at = line.find(" #", after)
    return "  " + line[at:].strip() if at >= 0 else ""


def put(text: str, path: Path, key: str, value: Any) -> str:
    """The file with entry `key` of the mapping at `path` set to `value`, on one line;
    added after the last entry if it is not there."""
    node = _block_mapping(text, path)
    lines = text.splitlines(keepends=True)
    found = _entry(node, key)
    if found is not None:
        k, v = found
        first, last = k.start_mark.line, _last_end_line(v) + 1
        indent = _indent(text, first)
        tail = _comment(lines[first].rstrip("\n"), k.end_mark.column)
        line = f"{indent}{_key_text(key)}: {flow(value)}{tail}\n"
        return "".join([*lines[:first], line, *lines[last:]])
    if not node.value:
        raise EditError("an empty mapping cannot be added to here")
    indent = " " * node.value[0][0].start_mark.column
    end = _last_end_line(node.value[-1][1]) + 1
    if 0 < end <= len(lines) and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    added = f"{indent}{_key_text(key)}: {flow(value)}\n"
    return "".join([*lines[:end], added, *lines[end:]])


def drop(text: str, path: Path, key: str) -> str:
    """The file without entry `key` of the mapping at `path`, with the comment lines
    right above it that belong to it."""
    node = _block_mapping(text, path)
    found = _entry(node, key)
    if found is None:
        raise EditError(f"no entry {key!r}")
    if len(node.value) == 1:
        raise EditError(f"{key!r} is the only entry: a mapping is never left empty")
    k, v = found
    lines = text.splitlines(keepends=True)
    first, last = k.start_mark.line, _last_end_line(v) + 1
    indent = " " * k.start_mark.column
    while first > 0 and lines[first - 1].startswith(indent + "#"):
        first -= 1
    return "".join(lines[:first] + lines[last:])


def add_menu(text: str, name: str, prompt: str, dest: Mapping[str, Any]) -> str:
    """A new menu at the end of `menus`: its prompt, key 0 and `on_exhausted` both to `dest`."""
    node = _block_mapping(text, ["menus"])
    if _entry(node, name) is not None:
        raise EditError(f"there is already a menu {name!r}")
    if not node.value:
        raise EditError("menus is empty")
    indent = " " * node.value[0][0].start_mark.column
    inner = indent + "  "
    block = (
        f"\n{indent}{name}:\n{inner}prompt: {flow(prompt)}\n{inner}options:\n"
        f'{inner}  "0": {flow(dict(dest))}\n{inner}on_exhausted: {flow(dict(dest))}\n'
    )
    lines = text.splitlines(keepends=True)
    end = _last_end_line(node.value[-1][1]) + 1
    if 0 < end <= len(lines) and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    return "".join([*lines[:end], block, *lines[end:]])


def _walk(node: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    yield loc, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*loc, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*loc, i))


def menu_refs(document: Mapping[str, Any], name: str) -> list[tuple[str, str, str]]:
    """(file, field path, what) of everything in the parsed tables that leads to menu
    `name`: the entry, options, exhausted and closed-hours routes."""
    found: list[tuple[str, str, str]] = []
    menus = document.get(MENUS)
    if isinstance(menus, dict) and menus.get("entry") == name:
        found.append((MENUS, "entry", f"callers start in menu {name}"))
    for file, data in document.items():
        for loc, node in _walk(data, ()):
            if not isinstance(node, dict):
                continue
            for field in ("menu", "then"):
                if node.get(field) == name and field in DEST_FIELDS.get(str(node.get("type")), ()):
                    found.append((file, render_loc((*loc, field)), f"leads callers to menu {name}"))
    return found
