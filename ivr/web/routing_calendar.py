"""The calendar overrides editor of a routing draft (issue 17): local days off, half
days and make-up working days in hours.yaml, for its page and the JSON API.

As for the block list (`ivr.web.routing_blocklist`): a new day is checked with the
code of `ivr routing check` before it is saved, and refused at its fields if the
checker finds a problem there; problems elsewhere never block a save.
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
from ivr.web.routing_blocklist import FormRefused

HOURS = "hours.yaml"
# Each list the page edits, and the fields an admin types for one of its days.
LISTS: dict[str, tuple[str, ...]] = {
    "holidays": ("date", "name"),
    "half_days": ("date", "name", "closes_at"),
    "makeup_workdays": ("date", "name"),
}


@dataclass(frozen=True)
class Day:
    index: int
    values: dict[str, str]
    errors: dict[str, list[str]]

    def error(self, name: str) -> str | None:
        found = self.errors.get(name)
        return "; ".join(found) if found else None


@dataclass(frozen=True)
class DayList:
    key: str
    fields: tuple[str, ...]
    days: list[Day]


@dataclass
class CalendarPage:
    draft: rv.DraftRecord
    lists: list[DayList]
    problems: list[pub.FieldProblem]
    elsewhere: list[pub.FieldProblem] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        text: str = value.isoformat()
        return text[:5] if len(text) == 8 and text.endswith(":00") else text
    return str(value)


def _at(problem: pub.FieldProblem, key: str, index: int) -> bool:
    prefix = render_loc((key, index))
    return problem.file == HOURS and (
        problem.path == prefix or problem.path.startswith(prefix + ".")
    )


def _placed(
    problems: list[pub.FieldProblem], key: str, index: int
) -> tuple[dict[str, list[str]], list[pub.FieldProblem]]:
    prefix = render_loc((key, index))
    mine: dict[str, list[str]] = {}
    rest: list[pub.FieldProblem] = []
    for p in problems:
        if _at(p, key, index):
            name = p.path[len(prefix) + 1 :]
            mine.setdefault(name if name in LISTS[key] else "", []).append(p.reason)
        else:
            rest.append(p)
    return mine, rest


def _days(text: str | None, key: str) -> list[Any]:
    data = parse_text(text) if text is not None else None
    days = data.get(key) if isinstance(data, dict) else None
    return days if isinstance(days, list) else []


def _list_key(key: str) -> str:
    if key not in LISTS:
        raise admin.AdminError(404, f"{key!r}: the calendar has {', '.join(LISTS)}")
    return key


async def page(console: Console, draft_id: int) -> CalendarPage:
    site = admin.site_of(console)
    draft = await admin._draft(console, draft_id)
    problems = await admin.check(site, draft)
    rest = problems
    lists: list[DayList] = []
    text = draft.files.get(HOURS)
    for key, fields in LISTS.items():
        days: list[Day] = []
        for i, raw in enumerate(_days(text, key)):
            item = raw if isinstance(raw, dict) else {}
            errors, rest = _placed(rest, key, i)
            days.append(Day(i, {f: _text(item.get(f)) for f in fields}, errors))
        lists.append(DayList(key, fields, days))
    return CalendarPage(draft, lists, problems, rest)


async def add(
    console: Console,
    user: User,
    draft_id: int,
    key: str,
    *,
    revision: int,
    values: dict[str, str],
    address: str | None = None,
) -> rv.DraftRecord:
    """Add a day at the end of one of the calendar's lists, checked first."""
    admin._require(user, admin.EDITORS, "edit drafts")
    fields = LISTS[_list_key(key)]
    site = admin.site_of(console)
    draft = await admin._draft(console, draft_id)
    if revision != draft.revision:
        raise admin.AdminError(
            409,
            f"draft {draft_id} changed since revision {revision} (now {draft.revision}): "
            "look at it again before saving",
        )
    text = draft.files.get(HOURS)
    if text is None:
        raise admin.AdminError(404, f"the draft has no {HOURS}")
    index = len(_days(text, key))
    entry: dict[str, str | None] = {f: values.get(f, "").strip() for f in fields}
    try:
        new_text = append(text, [key], entry)
    except EditError as exc:
        raise admin.AdminError(422, f"{HOURS}: {exc}") from None
    problems = await asyncio.to_thread(pub.check_files, site, {**draft.files, HOURS: new_text})
    mine, _ = _placed(problems, key, index)
    whole = [p for p in problems if p.file == HOURS and not p.path]
    if whole:
        mine.setdefault("", []).extend(p.reason for p in whole)
    if mine:
        at_day = [p for p in problems if p in whole or _at(p, key, index)]
        raise FormRefused(f"{HOURS}: the new day is refused; nothing was saved", mine, at_day)
    return await admin._edit(
        console, user, draft_id, revision, HOURS, lambda _old: new_text, address
    )


async def remove_day(
    console: Console,
    user: User,
    draft_id: int,
    key: str,
    *,
    revision: int,
    index: int,
    address: str | None = None,
) -> rv.DraftRecord:
    path: list[str | int] = [_list_key(key)]
    return await admin._edit(
        console,
        user,
        draft_id,
        revision,
        HOURS,
        lambda text: remove(text, path, index),
        address,
    )
