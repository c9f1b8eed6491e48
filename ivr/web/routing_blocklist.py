"""The block list editor of a routing draft (issue 17), for its page and the JSON API.

An admin adds a suspended caller (number or prefix, reason, expiry) or removes one.
Who added it and when are the signed-in admin and the console's clock, never typed.
A new entry is checked before it is saved, as every list editor's row is
(`ivr.web.routing_lists`): refused at its fields if the checker finds a problem there.
"""

from __future__ import annotations

from ivr.store import routing_versions as rv
from ivr.store.users import User
from ivr.web import routing_lists as lists
from ivr.web.context import Console
from ivr.web.routing_lists import Field, FormRefused, ListSpec

__all__ = ["BLOCKLIST", "SPEC", "FormRefused", "add", "page", "remove_entry"]

BLOCKLIST = "blocklist.yaml"
SPEC = ListSpec(
    file=BLOCKLIST,
    key="entries",
    fields=(
        Field("pattern", "pattern", "pattern_hint"),
        Field("reason", "block_reason", "reason_hint", maxlength=500),
        Field("added_by", "added_by", typed=False),
        Field("added_at", "added_at", typed=False),
        Field(
            "expires_at",
            "expires_at",
            "expires_hint",
            required=False,
            kind="date",
            empty="no_expiry",
        ),
    ),
    heading="blocked_numbers",
    caption="blocked_caption",
    none="no_blocked",
    add_heading="block_add",
    add_button="block_add_button",
    remove="unblock",
)


async def page(console: Console, draft_id: int) -> lists.ListPage:
    return await lists.page(console, draft_id, [SPEC])


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
    tz = console.routing_view().office.tz
    entry = {
        "pattern": pattern.strip(),
        "reason": reason.strip(),
        "added_by": user.display_name or user.username,
        "added_at": console.clock().astimezone(tz).isoformat(timespec="seconds"),
        "expires_at": expires_at.strip() or None,
    }
    return await lists.add(
        console, user, draft_id, SPEC, revision=revision, entry=entry, address=address
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
    return await lists.remove_row(
        console, user, draft_id, SPEC, revision=revision, index=index, address=address
    )
