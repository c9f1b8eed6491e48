"""The case-merge radius of a draft's dispatch catalogue (issue 17): how near an open
order of the same item a new report must be to merge into it (`merge_radius_m` in
dispatch_items.yaml, T6(6)1), shown and changed on the dispatch items page.

Checked before it is saved, as a row is: the checker's reason (the text of `ivr
routing check`) goes back to the field and nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ivr.routing.files import DISPATCH
from ivr.routing.yaml_edit import EditError
from ivr.routing.yaml_rows import set_key
from ivr.store import routing_versions as rv
from ivr.store.users import User
from ivr.web import routing_admin as admin
from ivr.web import routing_dispatch as dispatch
from ivr.web import routing_lists as lists
from ivr.web.context import Console

KEY = "merge_radius_m"
LOC: lists.Loc = (KEY,)


@dataclass
class DispatchPage(lists.ListPage):
    # The radius as the file has it ("" when left to the table's default) and the
    # checker's reasons at it.
    radius: str = ""
    radius_errors: list[str] = field(default_factory=list)


def typed_radius(typed: str) -> int | float | str:
    """A typed radius as YAML would read it; anything else as text, for the checker."""
    return dispatch.as_number(typed.strip())


async def page(console: Console, draft_id: int) -> DispatchPage:
    seen = await dispatch.page(console, draft_id)
    data = lists.data_of(seen.draft.files.get(DISPATCH))
    value = data.get(KEY) if isinstance(data, dict) else None
    mine, rest = lists.placed(seen.elsewhere, DISPATCH, LOC, ())
    return DispatchPage(
        seen.draft,
        seen.lists,
        seen.problems,
        rest,
        lists.text_of(value),
        [r for rs in mine.values() for r in rs],
    )


async def set_radius(
    console: Console,
    user: User,
    draft_id: int,
    *,
    revision: int,
    typed: str,
    address: str | None = None,
) -> rv.DraftRecord:
    """Set the merge radius in metres, checked first (refused at the field)."""
    draft, text = await lists.current(console, user, draft_id, revision, DISPATCH)
    try:
        new_text = set_key(text, [], KEY, typed_radius(typed))
    except EditError as exc:
        raise admin.AdminError(422, f"{DISPATCH}: {exc}") from None
    return await lists.save_checked(
        console,
        user,
        draft,
        DISPATCH,
        new_text,
        LOC,
        (),
        "the merge radius",
        address,
    )
