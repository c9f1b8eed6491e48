"""What refers to a unit, queue or prompt: shown before it is deleted. Pure.

Like FreePBX's `ivr_check_destinations`: every menu option, exhausted-menu route,
closed-hours route, dispatch item or table field that names the thing, with its file
and field path, so an admin sees what would break before the checker refuses it.
Works on a draft's parsed files, valid or not.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ivr.routing.versions import parse_document, render_path
from ivr.routing.yaml_read import Loc

_PROMPT_FIELDS = frozenset({"prompt", "retry_prompt", "greeting", "announcement"})


@dataclass(frozen=True)
class Reference:
    file: str
    path: str
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.what}"


def _walk(node: Any, loc: Loc) -> Iterator[tuple[Loc, Any]]:
    yield loc, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*loc, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*loc, i))


def unit_numbers(files: Mapping[str, str], unit: str) -> set[str]:
    directory = parse_document({"directory.yaml": files.get("directory.yaml", "")})
    numbers: set[str] = set()
    for _, node in _walk(directory.get("directory.yaml"), ()):
        if isinstance(node, dict) and node.get("id") == unit and "primary" in node:
            for ref in [node.get("primary"), *(node.get("adjacent") or [])]:
                if isinstance(ref, dict) and isinstance(ref.get("number"), str):
                    numbers.add(ref["number"])
            if isinstance(node.get("dial_code"), str):
                numbers.add(node["dial_code"])
    return numbers


def references(files: Mapping[str, str], kind: str, name: str) -> list[Reference]:
    """Everything in the files that names unit, queue or prompt `name`."""
    numbers = unit_numbers(files, name) if kind == "unit" else set()
    found: list[Reference] = []
    for file, data in parse_document(files).items():
        for loc, node in _walk(data, ()):
            what = _names(node, loc, kind, name, numbers, file)
            if what:
                found.append(Reference(file, render_path(loc), what))
    return found


def _names(node: Any, loc: Loc, kind: str, name: str, numbers: set[str], file: str) -> str | None:
    if kind == "prompt":
        hit = node == name and bool(loc) and loc[-1] in _PROMPT_FIELDS
        return f"plays prompt {name}" if hit else None
    if not isinstance(node, dict):
        return None
    if kind == "queue":
        if node.get("type") == "queue" and node.get("queue") == name:
            return f"sends callers to queue {name}"
        if node.get("other_language_queue") == name:
            return f"queue {node.get('id')} offers queue {name} to callers on key 3"
        return None
    return _names_unit(node, name, numbers, file) if kind == "unit" else None


def _names_unit(node: dict[str, Any], name: str, numbers: set[str], file: str) -> str | None:
    what = None
    if node.get("type") == "unit" and node.get("unit") == name:
        what = f"transfers callers to unit {name}"
    elif node.get("type") == "extension" and node.get("extension") in numbers:
        what = f"transfers to extension {node['extension']}, a line of unit {name}"
    elif file == "dispatch_items.yaml" and node.get("unit") == name:
        what = f"dispatch item {node.get('item')} is handled by unit {name}"
    return what
