"""The block list editor of a routing draft (issue 17), for its page and the JSON API.

An admin adds a suspended caller (number or prefix, reason, expiry) or removes one.
Who added it and when are the signed-in admin and the console's clock, never typed.
A new entry is checked with the same code as `ivr routing check` before it is saved:
if the checker finds a problem at the new entry, nothing is saved and its reasons go
back to the form's fields. Problems elsewhere in the draft never block a save
(publishing needs the whole draft valid, saving does not).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ivr.routing import publish as pub
from ivr.routing.loader import render_loc
from ivr.routing.versions import parse_text
from ivr.routing.yaml_edit import EditError, append, remove
from ivr.store import routing_versions as rv
from ivr.store.users import User
from ivr.web import routing_admin as admin
from ivr.web.context import Console

BLOCKLIST = "blocklist.yaml"
ENTRIES: list[str | int] = ["entries"]
FIELDS = ("pattern", "reason", "expires_at")


class FormRefused(admin.AdminError):
    """The new entry is refused: the reasons by form field ("" for the entry as a whole)."""

    code = "web.blocklist_refused"

    def __init__(
        self, detail: str, at_field: dict[str, list[str]], problems: list[pub.FieldProblem]
    ) -> None:
        super().__init__(422, detail, problems)
        self.at_field = at_field


@dataclass(frozen=True)
class Entry:
    index: int
    pattern: str
    reason: str
    added_by: str
    added_at: str
    expires_at: str
    # field name -> the checker's reasons ("" for the entry as a whole)
    errors: dict[str, list[str]]

    def error(self, name: str) -> str | None:
        found = self.errors.get(name)
        return "; ".join(found) if found else None


@dataclass
class BlocklistPage:
    draft: rv.DraftRecord
    entries: list[Entry]
    problems: list[pub.FieldProblem]
    # Problems in other files or in no entry: shown above the table.
    elsewhere: list[pub.FieldProblem] = field(default_factory=list)


def entry_path(index: int) -> str:
    return render_loc(("entries", index))


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _placed(
    problems: list[pub.FieldProblem], index: int
) -> tuple[dict[str, list[str]], list[pub.FieldProblem]]:
    """The problems at entry `index`, by field; and the rest."""
    prefix = entry_path(index)
    mine: dict[str, list[str]] = {}
    rest: list[pub.FieldProblem] = []
    for p in problems:
        if p.file == BLOCKLIST and _at(p, index):
            name = p.path[len(prefix) + 1 :]
            mine.setdefault(name if name in FIELDS else "", []).append(p.reason)
        else:
            rest.append(p)
    return mine, rest


def _entries(text: str | None) -> list[Any]:
    data = parse_text(text) if text is not None else None
    entries = data.get("entries") if isinstance(data, dict) else None
    return entries if isinstance(entries, list) else []


def _at(problem: pub.FieldProblem, index: int) -> bool:
    prefix = entry_path(index)
    return problem.path == prefix or problem.path.startswith(prefix + ".")


async def page(console: Console, draft_id: int) -> BlocklistPage:
    site = admin.site_of(console)
    draft = await admin._draft(console, draft_id)
    problems = await admin.check(site, draft)
    rest = problems
    entries: list[Entry] = []
    for i, raw in enumerate(_entries(draft.files.get(BLOCKLIST))):
        item = raw if isinstance(raw, dict) else {}
        errors, rest = _placed(rest, i)
        entries.append(
            Entry(
                i,
                _text(item.get("pattern")),
                _text(item.get("reason")),
                _text(item.get("added_by")),
                _text(item.get("added_at")),
                _text(item.get("expires_at")),
                errors,
            )
        )
    return BlocklistPage(draft, entries, problems, rest)


async def add(
    console: Console,
    user: User,
    draft_id: int,
    *,
    revision: int,
    pattern: str,
    reason: str,
    expires_at: str,
    address: str | None = None,
) -> rv.DraftRecord:
    """Add an entry at the end of the draft's block list, checked first; see the module."""
    admin._require(user, admin.EDITORS, "edit drafts")
    site = admin.site_of(console)
    draft = await admin._draft(console, draft_id)
    if revision != draft.revision:
        # Said before the check runs: the page the admin saw is out of date anyway.
        raise admin.AdminError(
            409,
            f"draft {draft_id} changed since revision {revision} (now {draft.revision}): "
            "look at it again before saving",
        )
    text = draft.files.get(BLOCKLIST)
    if text is None:
        raise admin.AdminError(404, f"the draft has no {BLOCKLIST}")
    index = len(_entries(text))
    tz = console.routing_view().office.tz
    entry = {
        "pattern": pattern.strip(),
        "reason": reason.strip(),
        "added_by": user.display_name or user.username,
        "added_at": console.clock().astimezone(tz).isoformat(timespec="seconds"),
        "expires_at": expires_at.strip() or None,
    }
    try:
        new_text = append(text, ENTRIES, entry)
    except EditError as exc:
        raise admin.AdminError(422, f"{BLOCKLIST}: {exc}") from None
    problems = await asyncio.to_thread(pub.check_files, site, {**draft.files, BLOCKLIST: new_text})
    mine, _ = _placed(problems, index)
    # The whole file unreadable after the edit (a character YAML cannot hold): the
    # entry is what made it so, since the draft's file was read to add it.
    whole = [p for p in problems if p.file == BLOCKLIST and not p.path]
    if whole:
        mine.setdefault("", []).extend(p.reason for p in whole)
    if mine:
        at_entry = [p for p in problems if p.file == BLOCKLIST and (p in whole or _at(p, index))]
        raise FormRefused(
            f"{BLOCKLIST}: the new entry is refused; nothing was saved", mine, at_entry
        )
    return await admin._edit(
        console, user, draft_id, revision, BLOCKLIST, lambda _old: new_text, address
    )


async def remove_entry(
    console: Console,
    user: User,
    draft_id: int,
    *,
    revision: int,
    index: int,
    address: str | None = None,
) -> rv.DraftRecord:
    """Remove entry `index` from the draft's block list (the caller is served again)."""
    return await admin._edit(
        console,
        user,
        draft_id,
        revision,
        BLOCKLIST,
        lambda text: remove(text, ENTRIES, index),
        address,
    )
