"""The agents and queues editor of a routing draft (issue 17): every field an agent or
a queue has in agents.yaml, changed, added and removed.

Rows of `ivr.web.routing_lists`: the page places the checker's problems at their
fields (the same text as `ivr routing check`); a change or a new row is checked before
it is saved and refused at its fields. A field left empty is left out of the table, so
the table's default applies (an agent's first language, a queue's 180 s offer); the
page shows those defaults. An agent's SIP secret is never shown, typed or dropped: a
change keeps it as it was. A queue is removed only after the admin has seen what
refers to it (menus, other queues), as a unit or a dispatch item is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_core import PydanticUndefined

from ivr.routing.agents_table import Agent, Queue
from ivr.routing.references import Reference, references
from ivr.routing.yaml_rows import replace_entry
from ivr.store import routing_versions as rv
from ivr.store.users import User, UserStore
from ivr.web import routing_admin as admin
from ivr.web import routing_lists as lists
from ivr.web import routing_rename as rename
from ivr.web.context import Console
from ivr.web.routing_lists import Field, ListSpec, Row, RowList

AGENTS = "agents.yaml"
# Where a reference that is no table file lives, as the "what refers to this" page says.
CONSOLE_USERS = "console users"
CHECKBOX = "checkbox"


def _spec(key: str, fields: tuple[Field, ...]) -> ListSpec:
    return ListSpec(
        file=AGENTS,
        key=key,
        fields=fields,
        heading=f"ag_{key}",
        caption="ag_caption",
        none="ag_none",
        add_heading=f"ag_add_{key}",
        add_button=f"ag_add_{key}_button",
        remove="ag_remove",
        named_by=("id",),
        columns=("id", "name"),
    )


def _number(name: str, hint: str = "", *, required: bool = False) -> Field:
    return Field(name, f"ag_{name}", hint or f"ag_{name}_hint", maxlength=6, required=required)


def _optional(name: str, maxlength: int = 64) -> Field:
    return Field(name, f"ag_{name}", f"ag_{name}_hint", maxlength=maxlength, required=False)


AGENT_SPEC = _spec(
    "agents",
    (
        Field("id", "ag_id", "ag_id_hint", maxlength=64),
        Field("name", "ag_name", maxlength=100),
        Field("extension", "ag_extension", "ag_extension_hint", maxlength=16),
        Field("skills", "ag_skills", "ag_skills_hint", maxlength=200),
        _optional("language", 32),
        _optional("phone_networks", 500),
    ),
)
QUEUE_SPEC = _spec(
    "queues",
    (
        Field("id", "ag_id", "ag_id_hint", maxlength=64),
        Field("name", "ag_name", maxlength=100),
        Field("skills", "ag_skills", "ag_skills_hint", maxlength=200),
        Field("strategy", "ag_strategy", "ag_strategy_hint", maxlength=16),
        Field("announce_position", "ag_announce_position", required=False, kind=CHECKBOX),
        _number("max_wait_s", required=True),
        _number("offer_after_s"),
        _optional("other_language_queue"),
        _optional("whisper"),
        _number("wrapup_s"),
        Field(
            "wrapup_form", "ag_wrapup_form", "ag_wrapup_form_hint", required=False, kind=CHECKBOX
        ),
        _number("announce_every_s"),
        _number("offer_when_estimate_over_s"),
        _number("callback_attempts"),
        _number("callback_retry_s"),
        _number("callback_hold_s"),
        _optional("video_codecs", 32),
    ),
)
SPECS = {AGENT_SPEC.key: AGENT_SPEC, QUEUE_SPEC.key: QUEUE_SPEC}
MODELS: dict[str, type[Agent] | type[Queue]] = {"agents": Agent, "queues": Queue}
# Typed as "a, b, c"; held as a list.
LISTS = frozenset({"skills", "phone_networks", "video_codecs"})
WHOLE = frozenset(
    f.name for f in QUEUE_SPEC.fields if f.name.endswith("_s") or f.name == "callback_attempts"
)


def spec_of(key: str) -> ListSpec:
    if key not in SPECS:
        raise admin.AdminError(404, f"{key!r}: agents.yaml's lists are {', '.join(SPECS)}")
    return SPECS[key]


def skills_of(typed: str) -> list[str]:
    return [s.strip() for s in typed.replace("\uff0c", ",").split(",") if s.strip()]


def _whole(typed: str) -> int | str:
    try:
        return int(typed)
    except ValueError:
        return typed  # the checker says what is wrong with it, at the field


def defaults(key: str) -> dict[str, str]:
    """The table's default of each field that has one, as the page shows it."""
    out: dict[str, str] = {}
    for name, info in MODELS[key].model_fields.items():
        if info.default is not PydanticUndefined and info.default is not None:
            out[name] = lists.text_of(info.default)
    return out


def _shown(row_list: RowList) -> RowList:
    """Rows with the table's defaults in the fields the file leaves out."""
    fallback = defaults(row_list.spec.key)
    rows = [
        Row(r.index, {k: v or fallback.get(k, "") for k, v in r.values.items()}, r.errors)
        for r in row_list.rows
    ]
    return RowList(row_list.spec, rows)


async def page(console: Console, draft_id: int) -> lists.ListPage:
    seen = await lists.page(console, draft_id, list(SPECS.values()))
    seen.lists = [_shown(rl) for rl in seen.lists]
    return seen


def value_of(spec: ListSpec, name: str, typed: str) -> object:
    """A typed field as the table holds it; None: left out (the default applies)."""
    kind = next((f.kind for f in spec.fields if f.name == name), "text")
    text = typed.strip()
    if kind == CHECKBOX:
        return text == "true"
    if not text:
        return None
    if name in LISTS:
        return skills_of(text)
    if name in WHOLE:
        return _whole(text)
    return text


def beyond_defaults(spec: ListSpec, typed: Mapping[str, str]) -> dict[str, str]:
    """The typed fields that differ from the table's defaults (a checkbox left off is
    "false")."""
    fallback = defaults(spec.key)
    checkboxes = {f.name for f in spec.fields if f.kind == CHECKBOX}
    out: dict[str, str] = {}
    for name, value in typed.items():
        text = value.strip()
        if name in checkboxes:
            text = "true" if text == "true" else "false"
        if fallback.get(name) != text:
            out[name] = value
    return out


def entry_of(
    spec: ListSpec, typed: Mapping[str, str], current: Mapping[str, Any] | None = None
) -> dict[str, object]:
    """The row to write: `current` (its secret and anything not typed) with the typed
    fields over it, in the table's order of fields."""
    entry: dict[str, object] = dict(current or {})
    for f in spec.fields:
        if f.name in typed:
            entry[f.name] = value_of(spec, f.name, typed[f.name])
    # Unknown keys stay (the checker names them); known ones go in the fields' order.
    order = [f.name for f in spec.fields] + ["secret"]
    ordered = {k: entry[k] for k in order if k in entry}
    ordered.update({k: v for k, v in entry.items() if k not in ordered})
    return {k: v for k, v in ordered.items() if v is not None}


async def change(
    console: Console,
    user: User,
    draft_id: int,
    key: str,
    *,
    revision: int,
    index: int,
    typed: Mapping[str, str],
    address: str | None = None,
) -> rv.DraftRecord:
    """Change an agent's or a queue's typed fields (the others kept), checked first."""
    spec = spec_of(key)
    draft, text = await lists.current(console, user, draft_id, revision, spec.file)
    rows = lists.items(text, spec.key)
    if not 0 <= index < len(rows):
        raise admin.AdminError(404, f"{AGENTS}: no {key} entry {index}")
    raw = rows[index] if isinstance(rows[index], dict) else {}
    # The page shows the defaults of the fields the row leaves out; sent back as shown,
    # they stay out, so a change touches only what the admin changed.
    beyond = beyond_defaults(spec, typed)
    typed = {k: v for k, v in typed.items() if k in raw or k in beyond}
    entry = entry_of(spec, typed, raw)
    await _refuse_referred_rename(console, draft, spec, index, text, rows, entry)
    return await lists.replace(
        console,
        user,
        draft_id,
        spec,
        revision=revision,
        index=index,
        entry=entry,
        what=f"the changed {key[:-1]}",
        address=address,
        clashes=True,
    )


async def add(
    console: Console,
    user: User,
    draft_id: int,
    key: str,
    *,
    revision: int,
    typed: Mapping[str, str],
    address: str | None = None,
) -> rv.DraftRecord:
    """Add an agent or a queue at the end of its list, checked first; a field typed as
    its default is left out, so the file stays as short as a hand-written one."""
    spec = spec_of(key)
    return await lists.add(
        console,
        user,
        draft_id,
        spec,
        revision=revision,
        entry=entry_of(spec, beyond_defaults(spec, typed)),
        what=f"the new {key[:-1]}",
        address=address,
        clashes=True,
    )


async def row_at(console: Console, draft_id: int, key: str, index: int) -> tuple[Any, Row]:
    spec = spec_of(key)
    seen = await page(console, draft_id)
    rows = seen.rows(spec.key)
    if not 0 <= index < len(rows):
        raise admin.AdminError(404, f"{AGENTS}: no {key} entry {index}")
    return seen.draft, rows[index]


async def refs(console: Console, draft_id: int, key: str, index: int) -> list[Reference]:
    """What refers to the queue at `index` (menus, other queues), or to the agent (the
    console accounts that sign in as that agent: their agent page would lose its phone)."""
    draft, row = await row_at(console, draft_id, key, index)
    name = row.values["id"]
    if not name:
        return []
    return await refs_to(console, draft.files, key, name)


async def refs_to(
    console: Console, files: Mapping[str, str], key: str, name: str
) -> list[Reference]:
    if key == QUEUE_SPEC.key:
        return references(files, "queue", name)
    return [
        Reference(CONSOLE_USERS, u.username, f"console account {u.username} is agent {name}")
        for u in await UserStore(console.store).list()
        if u.agent_id == name and not u.disabled
    ]


async def _refuse_referred_rename(
    console: Console,
    draft: rv.DraftRecord,
    spec: ListSpec,
    index: int,
    text: str,
    rows: list[Any],
    entry: Mapping[str, object],
) -> None:
    """A changed id of a queue or an agent that something refers to is refused, as a
    removal would be shown first (`routing_rename`)."""
    row = rows[index]
    old, new = (row.get("id") if isinstance(row, dict) else None), entry.get("id")
    if not isinstance(old, str) or not old or not new or new == old:
        return  # no id before, or none now (the checker refuses that at the row)
    if any(isinstance(r, dict) and r.get("id") == old for i, r in enumerate(rows) if i != index):
        return  # another row still has the id: what names it still leads somewhere
    new_text = lists._edited(spec.file, lambda: replace_entry(text, [spec.key], index, dict(entry)))
    await rename.refuse_if_referred(
        admin.site_of(console),
        draft,
        file=spec.file,
        loc=spec.loc(index),
        kind=spec.key[:-1],
        old=old,
        new=str(new or ""),
        new_text=new_text,
        refs=await refs_to(console, draft.files, spec.key, old),
    )


class Referred(lists.Referred):
    """The row is referred to: shown first, removed only when the admin says so again."""

    code = "web.queue_referred"


async def remove(
    console: Console,
    user: User,
    draft_id: int,
    key: str,
    *,
    revision: int,
    index: int,
    confirm: bool = False,
    address: str | None = None,
) -> rv.DraftRecord:
    """Remove an agent or a queue, after what refers to it (unless `confirm`)."""
    spec = spec_of(key)
    admin._require(user, admin.EDITORS, "edit drafts")
    if not confirm:
        found = await refs(console, draft_id, key, index)
        if found:
            raise Referred(
                f"{AGENTS}: {len(found)} thing(s) refer to the {key[:-1]} at {index}; "
                "remove it again to confirm",
                found,
            )
    return await lists.remove_row(
        console, user, draft_id, spec, revision=revision, index=index, address=address
    )
