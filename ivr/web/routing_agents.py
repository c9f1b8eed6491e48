"""The agents and queues editor of a routing draft (issue 17): each agent's skills and
language, each queue's skills, strategy and longest wait in agents.yaml.

Rows of `ivr.web.routing_lists`: the page places the checker's problems at their
fields; a change is checked before it is saved and refused at its fields (a language
the agent does not speak, a queue nobody can serve). Only the fields changed are
written (an agent's SIP secret is never shown or rewritten here), in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ivr.routing.yaml_edit import EditError
from ivr.routing.yaml_rows import set_key
from ivr.store import routing_versions as rv
from ivr.store.users import User
from ivr.web import routing_admin as admin
from ivr.web import routing_lists as lists
from ivr.web.context import Console
from ivr.web.routing_lists import Field, ListSpec

AGENTS = "agents.yaml"


def _spec(key: str, fields: tuple[Field, ...]) -> ListSpec:
    return ListSpec(
        file=AGENTS,
        key=key,
        fields=fields,
        heading=f"ag_{key}",
        caption="ag_caption",
        none="ag_none",
        add_heading="",
        add_button="",
        remove="",
    )


AGENT_SPEC = _spec(
    "agents",
    (
        Field("id", "ag_id", typed=False),
        Field("name", "ag_name", typed=False),
        Field("extension", "ag_extension", typed=False),
        Field("skills", "ag_skills", "ag_skills_hint", maxlength=200),
        Field("language", "ag_language", "ag_language_hint", required=False),
    ),
)
QUEUE_SPEC = _spec(
    "queues",
    (
        Field("id", "ag_id", typed=False),
        Field("name", "ag_name", typed=False),
        Field("skills", "ag_skills", "ag_skills_hint", maxlength=200),
        Field("strategy", "ag_strategy", "ag_strategy_hint", maxlength=16),
        Field("max_wait_s", "ag_max_wait_s", "ag_max_wait_s_hint", maxlength=5),
    ),
)
SPECS = {AGENT_SPEC.key: AGENT_SPEC, QUEUE_SPEC.key: QUEUE_SPEC}


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
        return typed


async def page(console: Console, draft_id: int) -> lists.ListPage:
    return await lists.page(console, draft_id, list(SPECS.values()))


def _values(key: str, typed: Mapping[str, str], current: Mapping[str, str]) -> dict[str, object]:
    """What to write: the typed fields as the table holds them."""
    skills = skills_of(typed.get("skills", ""))
    out: dict[str, object] = {"skills": skills}
    if key == "agents":
        language = typed.get("language", "").strip()
        if language:
            out["language"] = language
        elif current.get("language"):
            # Emptied: the default, the first language listed, written out.
            out["language"] = skills[0] if skills else ""
    else:
        out["strategy"] = typed.get("strategy", "").strip()
        out["max_wait_s"] = _whole(typed.get("max_wait_s", "").strip())
    return out


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
    """Change an agent's or a queue's typed fields in place, checked first."""
    spec = spec_of(key)
    draft, text = await lists.current(console, user, draft_id, revision, spec.file)
    rows = lists.items(text, spec.key)
    if not 0 <= index < len(rows):
        raise admin.AdminError(404, f"{AGENTS}: no {key} entry {index}")
    current = {k: lists.text_of(v) for k, v in rows[index].items()}
    new_text = text
    for name, value in _values(key, typed, current).items():
        new_text = _set(new_text, [spec.key, index], name, value)
    return await lists.save_checked(
        console,
        user,
        draft,
        spec.file,
        new_text,
        spec.loc(index),
        spec.names,
        f"the changed {key[:-1]}",
        address,
    )


def _set(text: str, path: Sequence[str | int], name: str, value: object) -> str:
    try:
        return set_key(text, path, name, value)
    except EditError as exc:
        raise admin.AdminError(422, f"{AGENTS}: {exc}") from None
