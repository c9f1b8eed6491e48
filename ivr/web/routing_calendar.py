"""The calendar overrides editor of a routing draft (issue 17): local days off, half
days and make-up working days in hours.yaml, for its page and the JSON API.

Each is a list editor of `ivr.web.routing_lists`: a new day is checked before it is
saved and refused at its fields if the checker finds a problem there.
"""

from __future__ import annotations

from ivr.store import routing_versions as rv
from ivr.store.users import User
from ivr.web import routing_admin as admin
from ivr.web import routing_lists as lists
from ivr.web.context import Console
from ivr.web.routing_lists import Field, ListSpec

HOURS = "hours.yaml"


def _spec(key: str, *names: str) -> ListSpec:
    return ListSpec(
        file=HOURS,
        key=key,
        fields=tuple(
            Field(n, f"cal_field_{n}", f"cal_hint_{n}", maxlength=200 if n == "name" else 32)
            for n in names
        ),
        heading=f"cal_{key}",
        caption="cal_caption",
        none="cal_none",
        add_heading=f"cal_add_{key}",
        add_button="cal_add_button",
        remove="cal_remove",
        named_by=("date", "name"),
    )


SPECS = {
    s.key: s
    for s in (
        _spec("holidays", "date", "name"),
        _spec("half_days", "date", "name", "closes_at"),
        _spec("makeup_workdays", "date", "name"),
    )
}
# Each list the page edits, and the fields an admin types for one of its days.
LISTS: dict[str, tuple[str, ...]] = {k: s.names for k, s in SPECS.items()}


def spec_of(key: str) -> ListSpec:
    if key not in SPECS:
        raise admin.AdminError(404, f"{key!r}: the calendar has {', '.join(SPECS)}")
    return SPECS[key]


async def page(console: Console, draft_id: int) -> lists.ListPage:
    return await lists.page(console, draft_id, list(SPECS.values()))


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
    spec = spec_of(key)
    entry = {f: values.get(f, "").strip() for f in spec.names}
    return await lists.add(
        console,
        user,
        draft_id,
        spec,
        revision=revision,
        entry=entry,
        what="the new day",
        address=address,
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
    return await lists.remove_row(
        console, user, draft_id, spec_of(key), revision=revision, index=index, address=address
    )
