"""One table file against its pydantic model: each error as a Problem an admin can act on."""

from __future__ import annotations

from typing import Any

import structlog
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ivr.routing.problems import UNCHECKED, Problem, clip, render_loc
from ivr.routing.yaml_read import Loc

log = structlog.get_logger()


# Pydantic states a pattern; admins need the rule in words.
_PATTERNS = {
    r"^[0-9*#]$": "a key is one of 0-9, * or # (in quotes)",
    r"^[a-z0-9][a-z0-9-]*$": "a prompt name uses a-z, 0-9 and -",
    r"^[a-z0-9][a-z0-9_-]*$": "an id uses a-z, 0-9, _ and -, starting with a letter or digit",
    r"^[0-9]{2,8}$": "expected 2 to 8 digits (in quotes)",
    r"^[a-z]{2,3}(-[A-Z]{2})?$": "expected a language code such as zh-TW, en, nan or hak",
}


_PLAIN = {
    "extra_forbidden": "unknown field (misspelt, or not one this table takes)",
    "missing": "required field missing",
    "union_tag_not_found": 'a destination needs a "type" (menu, queue, unit, extension, ...)',
}


def _reason(error: ErrorDetails) -> str:
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    reason = _PLAIN.get(kind)
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        reason = f'write it in quotes ("{value}"): YAML reads unquoted {value} as a number'
    elif kind == "string_pattern_mismatch" and str(ctx.get("pattern")) in _PATTERNS:
        reason = f"{value!r}: {_PATTERNS[str(ctx['pattern'])]}"
    elif kind == "union_tag_invalid":
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        reason = f"unknown destination type {ctx.get('tag')!r}; expected one of: {expected}"
    return reason or error["msg"].removeprefix("Value error, ")


def _loc(error: ErrorDetails, data: Any) -> Loc:
    """The error's field path, without the union tags pydantic inserts into it."""
    loc = list(error["loc"])
    out: list[str | int] = []
    node = data
    i = 0
    while i < len(loc):
        part = loc[i]
        if part == "[key]":  # the key itself is wrong: point at it
            i += 1
            continue
        is_tag = (
            isinstance(node, dict)
            and node.get("type") == part
            and (i + 1 < len(loc) or part not in node)
        )
        if not is_tag:
            out.append(part)
            node = _child(node, part)
        i += 1
    return tuple(out)


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def validate(
    model: type[BaseModel], data: Any, file: str
) -> tuple[BaseModel | None, list[Problem]]:
    if not isinstance(data, dict):
        return None, [
            Problem(file, "", f"expected a mapping of fields, found {type(data).__name__}")
        ]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [
            Problem(file, render_loc(_loc(err, data)), clip(_reason(err))) for err in exc.errors()
        ]
    except Exception as exc:  # a validator bug must refuse the table, not stop the engine
        log.exception("routing_validator_failed", file=file)
        return None, [Problem(file, "", f"{UNCHECKED}: {type(exc).__name__}: {exc}")]
