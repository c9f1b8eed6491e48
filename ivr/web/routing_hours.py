"""The weekly hours editor of a routing draft (issue 17): hours.yaml's `weekly` (when
the line answers) and `office_hours` (the working hours the callback clock runs in),
each day's ranges, for its page and the JSON API.

A day's ranges are saved as typed, as a unit's extension is: the checker (the code of
`ivr routing check`) judges them on the page, at the day, and publishing refuses the
draft until they are right. Only what cannot be written as ranges at all
("8 to 12") is refused at the field before anything is saved. The rows, the checker's
problems at them and the save are `ivr.web.routing_lists`'.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ivr.routing import publish as pub
from ivr.routing.hours_table import Weekday
from ivr.routing.yaml_edit import EditError
from ivr.routing.yaml_rows import remove_key, set_key
from ivr.store import routing_versions as rv
from ivr.store.users import User
from ivr.web import routing_admin as admin
from ivr.web import routing_lists as lists
from ivr.web.context import Console
from ivr.web.routing_hours_closed import ClosedRoute, route_of

HOURS = "hours.yaml"
TABLES = ("weekly", "office_hours")
DAYS = tuple(d.value for d in Weekday)
FIELD = "ranges"
# Commas and dashes as typed on a Chinese keyboard too (full-width, en dash, 至).
_PIECES = re.compile("[,;\uff0c\uff1b\u3001]")
_DASH = re.compile("\\s*[-\u2013~\u301c\u81f3]\\s*")


@dataclass(frozen=True)
class DayHours:
    day: str
    # As typed and shown: "08:30-12:30, 13:30-17:30"; "" is closed all day.
    text: str
    ranges: list[list[str]]
    errors: dict[str, list[str]]

    @property
    def word(self) -> str:
        return f"day_{self.day}"

    def error(self) -> str | None:
        found = [r for rs in self.errors.values() for r in rs]
        return "; ".join(found) if found else None


@dataclass(frozen=True)
class WeekTable:
    key: str
    # False: the file has no such table (`weekly` where the line is always open).
    present: bool
    days: list[DayHours]
    # The checker's problems at the table as a whole ("never open").
    errors: list[str]

    # The words of its heading, its introduction and a day's label.
    @property
    def heading(self) -> str:
        return f"hours_{self.key}"

    @property
    def intro(self) -> str:
        return f"hours_{self.key}_intro"

    @property
    def label(self) -> str:
        return f"hours_of_{self.key}"

    def error(self) -> str | None:
        return "; ".join(self.errors) if self.errors else None


@dataclass
class HoursPage:
    draft: rv.DraftRecord
    always_open: bool
    tables: list[WeekTable]
    problems: list[pub.FieldProblem]
    elsewhere: list[pub.FieldProblem] = field(default_factory=list)
    # Where callers go outside service hours, with the checker's problems at it.
    closed: ClosedRoute | None = None


def table_of(key: str) -> str:
    if key not in TABLES:
        raise admin.AdminError(404, f"{key!r}: hours.yaml's weekly tables are {', '.join(TABLES)}")
    return key


def day_of(day: str) -> str:
    if day not in DAYS:
        raise admin.AdminError(404, f"{day!r}: a day is one of {', '.join(DAYS)}")
    return day


def _range_text(raw: Any) -> str:
    if isinstance(raw, list) and len(raw) == 2:
        return f"{lists.text_of(raw[0])}-{lists.text_of(raw[1])}"
    return json.dumps(raw, ensure_ascii=False, default=str)


def _ranges(raw: Any) -> list[list[str]]:
    if not isinstance(raw, list):
        return []
    return [[lists.text_of(x) for x in r] for r in raw if isinstance(r, list)]


def show_ranges(raw: Any) -> str:
    """A day's ranges as an admin types them; what is not a list is shown as it is."""
    if raw is None:
        return ""
    if not isinstance(raw, list):
        return lists.text_of(raw)
    return ", ".join(_range_text(r) for r in raw)


def parse_ranges(typed: str) -> list[list[str]]:
    """ "08:30-12:30, 13:30-17:30" as [["08:30", "12:30"], ["13:30", "17:30"]]; "" closed.

    Only the shape is read here; the times themselves are the checker's to judge.
    """
    out: list[list[str]] = []
    for piece in (p.strip() for p in _PIECES.split(typed)):
        if not piece:
            continue
        parts = _DASH.split(piece)
        if len(parts) != 2 or not all(parts):
            raise lists.FormRefused(
                f"{HOURS}: nothing was saved",
                {FIELD: [f"{piece!r} is not a range written HH:MM-HH:MM (e.g. 08:30-12:30)"]},
                [],
            )
        out.append(parts)
    return out


def _table(key: str, data: Any, problems: list[pub.FieldProblem]) -> tuple[WeekTable, list[Any]]:
    table = data.get(key) if isinstance(data, dict) else None
    rest = problems
    days: list[DayHours] = []
    for day in DAYS:
        raw = table.get(day) if isinstance(table, dict) else None
        errors, rest = lists.placed(rest, HOURS, (key, day), (FIELD,))
        days.append(DayHours(day, show_ranges(raw), _ranges(raw), errors))
    whole, rest = lists.placed(rest, HOURS, (key,), ())
    reasons = [r for rs in whole.values() for r in rs]
    return WeekTable(key, isinstance(table, dict), days, reasons), rest


async def page(console: Console, draft_id: int) -> HoursPage:
    site = admin.site_of(console)
    draft = await admin._draft(console, draft_id)
    problems = await admin.check(site, draft)
    data = lists.data_of(draft.files.get(HOURS))
    rest = problems
    tables: list[WeekTable] = []
    for key in TABLES:
        table, rest = _table(key, data, rest)
        tables.append(table)
    always_open = isinstance(data, dict) and data.get("always_open") is True
    closed, rest = route_of(data, rest)
    return HoursPage(draft, always_open, tables, problems, rest, closed)


async def set_day(
    console: Console,
    user: User,
    draft_id: int,
    key: str,
    day: str,
    *,
    revision: int,
    ranges: Sequence[Sequence[str]],
    address: str | None = None,
) -> rv.DraftRecord:
    """Save a day's ranges in the draft as given (empty: closed all day); see the module."""
    path: list[str | int] = [table_of(key)]
    value = [[str(t).strip() for t in r] for r in ranges]
    return await lists.save_as_typed(
        console,
        user,
        draft_id,
        HOURS,
        lambda text: set_key(text, path, day_of(day), value),
        revision=revision,
        address=address,
    )


async def day_problems(console: Console, draft: rv.DraftRecord, key: str, day: str) -> list[Any]:
    """The checker's problems at a day of the draft, as the page shows them."""
    problems = await admin.check(admin.site_of(console), draft)
    return [p for p in problems if lists.at(p, HOURS, (key, day))]


def _starting_week(data: Any) -> dict[str, Any]:
    """A new `weekly` table's first days: the office hours as the file has them (the
    admin edits from there), or none (closed, which the checker names)."""
    office = data.get("office_hours") if isinstance(data, dict) else None
    if not isinstance(office, dict):
        return {}
    return {d: _ranges(office[d]) for d in DAYS if d in office}


def _block(key: str, week: dict[str, Any]) -> str:
    """`key:` and one day a line, as the shipped files write a week."""
    if not week:
        return f"{key}: {{}}\n"
    days = "".join(f"  {d}: {json.dumps(r, ensure_ascii=False)}\n" for d, r in week.items())
    return f"{key}:\n{days}"


def with_mode(text: str, always_open: bool) -> str:
    """hours.yaml answering always (`weekly` goes: the checker allows one or the other),
    or by a weekly table (made from the office hours when the file has none). Pure."""
    try:
        if always_open:
            return set_key(remove_key(text, [], "weekly"), [], "always_open", True)
        data = lists.data_of(text)
        out = set_key(text, [], "always_open", False)
        if isinstance(data, dict) and isinstance(data.get("weekly"), dict):
            return out
        week = _starting_week(data)
        if isinstance(data, dict) and "weekly" in data:
            return set_key(out, [], "weekly", week)
        return out + ("" if out.endswith("\n") else "\n") + _block("weekly", week)
    except EditError as exc:
        raise admin.AdminError(422, f"{HOURS}: {exc}") from None


async def set_always_open(
    console: Console,
    user: User,
    draft_id: int,
    *,
    revision: int,
    always_open: bool,
    address: str | None = None,
) -> rv.DraftRecord:
    """Answer always, or by the weekly table (made if there is none); saved as typed,
    as a day is: a `closed` destination still missing is the checker's to name."""
    return await lists.save_as_typed(
        console,
        user,
        draft_id,
        HOURS,
        lambda text: with_mode(text, always_open),
        revision=revision,
        address=address,
    )
