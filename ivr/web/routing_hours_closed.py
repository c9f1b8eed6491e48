"""Where callers go outside service hours (hours.yaml's `closed`), on the hours page
(issue 17): a profile that answers by the week needs it, and one that stops being
always open has none yet.

Chosen as a menu option's destination is (`ivr.routing.menu_edit`: its type, what it
leads to, and the menu after for a language or case check); the same type keeps its
other fields (a recorded message's reason and length). Saved as chosen: the checker's
words show at the form, and publishing refuses the draft until it is right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.routing import publish as pub
from ivr.routing.menu_edit import DEST_FIELDS, destination, put, target_field
from ivr.store import routing_versions as rv
from ivr.store.users import User
from ivr.web import routing_lists as lists
from ivr.web.context import Console
from ivr.web.routing_menus import checked_kind

HOURS = "hours.yaml"
KEY = "closed"
KINDS = tuple(DEST_FIELDS)


@dataclass(frozen=True)
class ClosedRoute:
    kind: str  # "" when the file has none
    target: str
    then: str
    errors: list[str]

    def error(self) -> str | None:
        return "; ".join(self.errors) if self.errors else None


def route_of(
    data: Any, problems: list[pub.FieldProblem]
) -> tuple[ClosedRoute, list[pub.FieldProblem]]:
    """The file's `closed` route and the checker's problems at it; and the rest."""
    raw = data.get(KEY) if isinstance(data, dict) else None
    dest = raw if isinstance(raw, dict) else {}
    kind = str(dest.get("type", ""))
    name = target_field(kind) if kind in DEST_FIELDS else None
    target = lists.text_of(dest.get(name)) if name else ""
    mine, rest = lists.placed(problems, HOURS, (KEY,), ())
    reasons = [r for rs in mine.values() for r in rs]
    return ClosedRoute(kind, target, lists.text_of(dest.get("then")), reasons), rest


async def set_closed(
    console: Console,
    user: User,
    draft_id: int,
    *,
    revision: int,
    kind: str,
    target: str = "",
    then: str = "",
    address: str | None = None,
) -> rv.DraftRecord:
    """Where callers go outside service hours; saved as chosen (see the module)."""
    checked_kind(kind)

    def edit(text: str) -> str:
        data = lists.data_of(text)
        old = data.get(KEY) if isinstance(data, dict) else None
        dest = destination(kind, target, then, old if isinstance(old, dict) else None)
        return put(text, [], KEY, dest)

    return await lists.save_as_typed(
        console, user, draft_id, HOURS, edit, revision=revision, address=address
    )
