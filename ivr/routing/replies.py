"""`replies.yaml`: a profile's reply templates for petitions (P annex 2), as validated data.

Each template has an id an officer names (`ivr cases reply N --template other-agency`),
a title, and a body with named blanks in braces: `{matter}`, `{agency}`, `{officer}`,
`{phone}`, `{signature}` and `{findings}`. A blank the officer does not fill stays as ○,
as the annex prints it, so a reply never goes out with a Python error or a raw brace.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator

from ivr.errors import HotlineError
from ivr.routing.menus import Ident, Strict
from ivr.routing.yaml_read import read_table

FILE = "replies.yaml"
BLANKS = frozenset({"matter", "agency", "officer", "phone", "signature", "findings"})
UNFILLED = "○○○"


class ReplyTemplate(Strict):
    id: Ident
    title: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(min_length=1, max_length=8000)]

    @field_validator("body")
    @classmethod
    def _known_blanks(cls, body: str) -> str:
        try:
            parts = [p for p in string.Formatter().parse(body) if p[1] is not None]
        except ValueError as exc:
            raise ValueError(f"a brace that opens no blank: {exc}") from None
        if any(spec or conversion for _, _, spec, conversion in parts):
            raise ValueError("a blank is its name in braces, e.g. {matter}, nothing more")
        names = {name for _, name, _, _ in parts if name is not None}
        unknown = names - BLANKS
        if unknown:
            raise ValueError(
                f"unknown blank(s) {', '.join(sorted(unknown))}; "
                f"a template may use {', '.join(sorted(BLANKS))}"
            )
        return body


class ReplyTemplates(Strict):
    templates: list[ReplyTemplate] = Field(default_factory=list, max_length=100)

    @field_validator("templates")
    @classmethod
    def _unique(cls, templates: list[ReplyTemplate]) -> list[ReplyTemplate]:
        seen: set[str] = set()
        for t in templates:
            if t.id in seen:
                raise ValueError(f"template {t.id!r} is listed more than once")
            seen.add(t.id)
        return templates

    def get(self, template_id: str) -> ReplyTemplate:
        for t in self.templates:
            if t.id == template_id:
                return t
        known = ", ".join(t.id for t in self.templates) or "none in this profile"
        raise KeyError(f"no reply template {template_id!r} ({known})")


class RepliesError(HotlineError, ValueError):
    """The profile's replies.yaml was refused; the message names file, field and reason."""

    code = "routing.replies_invalid"


def load_replies(profile_dir: Path) -> ReplyTemplates:
    """The profile's reply templates; none when it has no replies.yaml."""
    path = profile_dir / FILE
    data, problems, exists = read_table(path)
    if not exists:
        return ReplyTemplates()
    if problems:
        loc, reason = problems[0]
        raise RepliesError(f"{path}: {'.'.join(map(str, loc))}: {reason}")
    try:
        return ReplyTemplates.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RepliesError(f"{path}: {where}: {first['msg']}") from None


def fill(template: ReplyTemplate, **blanks: str) -> str:
    """The template's body with the given blanks filled and the rest left as ○○○."""
    values = {name: (blanks.get(name) or UNFILLED) for name in BLANKS}
    text = template.body.format_map(values)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
