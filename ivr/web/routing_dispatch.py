"""The dispatch items editor of a routing draft (issue 17): dispatch_items.yaml's
catalogue (T6, K7), list, add, change and remove items, for its pages and the JSON API.

A list editor of `ivr.web.routing_lists`: a new or changed item is checked before it
is saved (an unknown unit, a repeated number, a stage given twice are refused at
their fields with the checker's text). Before an item is removed, what refers to it
is shown: the open dispatch orders of that item, and any table field that names it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ivr.routing.files import DISPATCH
from ivr.routing.versions import parse_document
from ivr.store import routing_versions as rv
from ivr.store.case_reads import CaseReader
from ivr.store.users import User
from ivr.web import routing_admin as admin
from ivr.web import routing_lists as lists
from ivr.web.context import Console
from ivr.web.routing_lists import Field, FormRefused, ListSpec

_STAGE = "dh_stage"
SPEC = ListSpec(
    file=DISPATCH,
    key="items",
    fields=(
        Field("item", "df_item", "dh_item", maxlength=3),
        Field("name", "df_name", maxlength=200),
        Field("name_en", "df_name_en", maxlength=200),
        Field("agency", "df_agency", "dh_agency", maxlength=64),
        Field("unit", "df_unit", "dh_unit", maxlength=64),
        Field("stage1_hours", "df_stage1_hours", _STAGE, maxlength=8, required=False),
        Field("stage2_days", "df_stage2_days", _STAGE, maxlength=8, required=False),
        Field("stage2_hours", "df_stage2_hours", _STAGE, maxlength=8, required=False),
        Field(
            "stage2_variants",
            "df_stage2_variants",
            "dh_stage2_variants",
            maxlength=200,
            required=False,
        ),
        Field("same_day_rule", "df_same_day_rule", required=False, kind="checkbox"),
        Field(
            "contact_attempts",
            "df_contact_attempts",
            "dh_contact_attempts",
            maxlength=2,
            required=False,
        ),
        Field("note", "df_note", maxlength=500, required=False),
    ),
    heading="dispatch_items",
    caption="dispatch_caption",
    none="dispatch_none",
    add_heading="dispatch_add",
    add_button="dispatch_add_button",
    remove="dispatch_remove",
    named_by=("item", "name"),
    columns=("item", "name", "agency", "unit", "stage1_hours", "stage2_days", "stage2_hours"),
)
_NUMBERS = ("item", "stage1_hours", "stage2_days", "stage2_hours", "contact_attempts")


def as_number(text: str) -> int | float | str:
    """A typed number as YAML would read it; anything else as text, for the checker to judge."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _variants(text: str) -> dict[str, int | float | str] | None:
    out: dict[str, int | float | str] = {}
    for piece in (p.strip() for p in text.split(",")):
        if not piece:
            continue
        name, sep, days = piece.replace(":", "=").partition("=")
        if not sep or not name.strip():
            raise FormRefused(
                f"{DISPATCH}: nothing was saved",
                {"stage2_variants": [f"{piece!r} is not written name=days (e.g. wiring=3)"]},
                [],
            )
        out[name.strip()] = as_number(days.strip())
    return out or None


def entry_of(typed: Mapping[str, str]) -> dict[str, object]:
    """An item as typed in the form, as the table holds it: numbers as numbers, empty
    optional fields left out (their defaults hold), the same-day rule only when on."""
    entry: dict[str, object] = {}
    for f in SPEC.fields:
        text = typed.get(f.name, "").strip()
        if f.name == "same_day_rule":
            entry[f.name] = True if text == "true" else None
        elif f.name == "stage2_variants":
            entry[f.name] = _variants(text)
        elif not text:
            entry[f.name] = "" if f.required else None
        else:
            entry[f.name] = as_number(text) if f.name in _NUMBERS else text
    return entry


async def page(console: Console, draft_id: int) -> lists.ListPage:
    return await lists.page(console, draft_id, [SPEC])


async def add(
    console: Console,
    user: User,
    draft_id: int,
    *,
    revision: int,
    typed: Mapping[str, str],
    address: str | None = None,
) -> rv.DraftRecord:
    return await lists.add(
        console,
        user,
        draft_id,
        SPEC,
        revision=revision,
        entry=entry_of(typed),
        what="the new item",
        address=address,
    )


async def change(
    console: Console,
    user: User,
    draft_id: int,
    *,
    revision: int,
    index: int,
    typed: Mapping[str, str],
    address: str | None = None,
) -> rv.DraftRecord:
    return await lists.replace(
        console,
        user,
        draft_id,
        SPEC,
        revision=revision,
        index=index,
        entry=entry_of(typed),
        what="the changed item",
        address=address,
    )


@dataclass(frozen=True)
class ItemRef:
    """Something that points at an item: a table field, or an open dispatch order."""

    where: str
    path: str
    what: str


def _walk(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def table_refs(files: Mapping[str, str], number: int) -> list[ItemRef]:
    """Every field of the other tables named `dispatch_item` that holds `number`."""
    found: list[ItemRef] = []
    for file, data in parse_document(files).items():
        if file == DISPATCH:
            continue
        for path, node in _walk(data, ""):
            if isinstance(node, dict) and node.get("dispatch_item") == number:
                what = f"names dispatch item {number}"
                found.append(ItemRef(file, f"{path}.dispatch_item", what))
    return found


async def item_at(console: Console, draft_id: int, index: int) -> tuple[rv.DraftRecord, lists.Row]:
    seen = await page(console, draft_id)
    rows = seen.rows(SPEC.key)
    if not 0 <= index < len(rows):
        raise admin.AdminError(404, f"{DISPATCH}: no item at {index}")
    return seen.draft, rows[index]


async def references(console: Console, draft_id: int, index: int) -> list[ItemRef]:
    """What refers to the item at `index`: table fields, then open orders, oldest first."""
    draft, row = await item_at(console, draft_id, index)
    number = as_number(row.values["item"])
    if not isinstance(number, int):
        return []
    found = table_refs(draft.files, number)
    book = CaseReader.of(console.store, console.tables().profile.name)
    for order in await book.open_orders(number):
        found.append(
            ItemRef("cases", order.number, f"open dispatch order {order.number} of item {number}")
        )
    return found


class Referred(lists.Referred):
    """The item is referred to: shown first, removed only when the admin says so again."""

    code = "web.dispatch_referred"


async def remove(
    console: Console,
    user: User,
    draft_id: int,
    *,
    revision: int,
    index: int,
    confirm: bool = False,
    address: str | None = None,
) -> rv.DraftRecord:
    """Remove the item at `index`; refused with what refers to it unless `confirm`."""
    admin._require(user, admin.EDITORS, "edit drafts")
    if not confirm:
        refs = await references(console, draft_id, index)
        if refs:
            raise Referred(
                f"{DISPATCH}: {len(refs)} thing(s) refer to the item at {index}; "
                "remove it again to confirm",
                refs,
            )
    return await lists.remove_row(
        console, user, draft_id, SPEC, revision=revision, index=index, address=address
    )
