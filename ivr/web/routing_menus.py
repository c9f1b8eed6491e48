"""The menu editor of a routing draft (issue 17): each menu's keys and where they
lead, its prompts, retries and timeout, for its page and the JSON API.

As for a unit's extension (`ivr.web.routing_admin`), what an admin chooses is saved
as chosen: the checker (`ivr routing check`, the same code) then places its problems
at the field, with the CLI's text, and only publishing needs the whole draft valid. A
menu is deleted only when nothing leads to it any more; what does is shown first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ivr.routing import publish as pub
from ivr.routing.files import AGENTS, DIRECTORY, MENUS, PROFILE
from ivr.routing.menu_edit import (
    DEST_FIELDS,
    NUMBERS,
    add_menu,
    destination,
    drop,
    menu_refs,
    put,
    target_field,
)
from ivr.routing.problems import render_loc
from ivr.routing.versions import parse_document
from ivr.routing.yaml_edit import EditError
from ivr.store import routing_versions as rv
from ivr.store.users import User
from ivr.web import routing_admin as admin
from ivr.web.context import Console

__all__ = ["DEST_FIELDS", "EXHAUSTED", "SETTINGS", "MenusPage", "Route", "page"]

SETTINGS = ("prompt", "retry_prompt", "timeout_s", "max_tries")
EXHAUSTED = "on_exhausted"


@dataclass(frozen=True)
class Route:
    """One key of a menu (or its `on_exhausted`), and the checker's reasons at it:
    "target", "then", or "" for the route as a whole."""

    key: str
    kind: str
    target: str
    then: str
    errors: dict[str, list[str]]

    def error(self, name: str) -> str | None:
        found = self.errors.get(name)
        return "; ".join(found) if found else None

    @property
    def slug(self) -> str:
        """The key as an HTML id: `*` and `#` are not safe in one."""
        return {"*": "star", "#": "hash"}.get(self.key, self.key)


@dataclass(frozen=True)
class MenuView:
    name: str
    settings: dict[str, str]
    routes: list[Route]
    exhausted: Route
    errors: dict[str, list[str]]
    refs: list[tuple[str, str, str]]

    def error(self, name: str) -> str | None:
        found = self.errors.get(name)
        return "; ".join(found) if found else None


@dataclass
class MenusPage:
    draft: rv.DraftRecord
    entry: str
    menus: list[MenuView]
    # destination type -> the names that exist for it (menus, queues, units, languages)
    choices: dict[str, list[str]]
    problems: list[pub.FieldProblem]
    elsewhere: list[pub.FieldProblem] = field(default_factory=list)


def _ids(items: Any, key: str = "id") -> list[str]:
    return [str(i[key]) for i in items or [] if isinstance(i, dict) and key in i]


def choices(document: dict[str, Any]) -> dict[str, list[str]]:
    """What exists for each destination type to lead to, from the draft itself."""
    menus = document.get(MENUS)
    agents = document.get(AGENTS)
    directory = document.get(DIRECTORY)
    profile = document.get(PROFILE)
    units: list[str] = []
    for agency in (directory or {}).get("agencies") or [] if isinstance(directory, dict) else []:
        if isinstance(agency, dict):
            units += _ids(agency.get("units"))
    names = sorted((menus or {}).get("menus") or {}) if isinstance(menus, dict) else []
    languages = (profile or {}).get("enabled_languages") if isinstance(profile, dict) else None
    return {
        "menu": names,
        "queue": _ids((agents or {}).get("queues")) if isinstance(agents, dict) else [],
        "unit": units,
        "language": [str(x) for x in languages or []],
    }


class _Placer:
    """Hands each checker problem to the field it names, once; the rest stay."""

    def __init__(self, problems: list[pub.FieldProblem]) -> None:
        self.rest = list(problems)

    def take(self, loc: tuple[str, ...]) -> dict[str, list[str]]:
        """Problems at `loc` or under it: {the path's remainder: reason}, in order."""
        prefix = render_loc(loc)
        mine, rest = [], []
        for p in self.rest:
            if p.file == MENUS and (p.path == prefix or p.path.startswith(prefix + ".")):
                mine.append((p.path[len(prefix) + 1 :], p.reason))
            else:
                rest.append(p)
        self.rest = rest
        out: dict[str, list[str]] = {}
        for name, reason in mine:
            out.setdefault(name, []).append(reason)
        return out


def _route(key: str, raw: Any, placer: _Placer, loc: tuple[str, ...]) -> Route:
    dest = raw if isinstance(raw, dict) else {}
    kind = str(dest.get("type", ""))
    name = target_field(kind)
    found = placer.take(loc)
    errors: dict[str, list[str]] = {}
    for sub, reasons in found.items():
        first = sub.split(".")[0]
        slot = "then" if first == "then" else "target" if first in (name, "type") else ""
        errors.setdefault(slot, []).extend(reasons)
    target = str(dest.get(name, "")) if name else ""
    return Route(key, kind, target, str(dest.get("then", "") or ""), errors)


async def page(console: Console, draft_id: int) -> MenusPage:
    site = admin.site_of(console)
    draft = await admin._draft(console, draft_id)
    problems = await admin.check(site, draft)
    document = parse_document(draft.files)
    data = document.get(MENUS)
    table = data if isinstance(data, dict) else {}
    placer = _Placer(problems)
    views: list[MenuView] = []
    for name, raw in (table.get("menus") or {}).items():
        menu = raw if isinstance(raw, dict) else {}
        found_options = menu.get("options")
        options: dict[Any, Any] = found_options if isinstance(found_options, dict) else {}
        routes = [
            _route(str(k), d, placer, ("menus", name, "options", str(k)))
            for k, d in options.items()
        ]
        exhausted = _route(EXHAUSTED, menu.get(EXHAUSTED), placer, ("menus", name, EXHAUSTED))
        errors: dict[str, list[str]] = {}
        for s in SETTINGS:
            found = placer.take(("menus", name, s))
            if found:
                errors[s] = [r for rs in found.values() for r in rs]
        whole = placer.take(("menus", name))
        errors[""] = [r for rs in whole.values() for r in rs]
        settings = {s: "" if menu.get(s) is None else str(menu.get(s)) for s in SETTINGS}
        refs = menu_refs(document, name)
        views.append(MenuView(str(name), settings, routes, exhausted, errors, refs))
    return MenusPage(
        draft, str(table.get("entry", "")), views, choices(document), problems, placer.rest
    )


def _menu_path(name: str) -> list[str | int]:
    return ["menus", name]


async def _edit(
    console: Console, user: User, draft_id: int, revision: int, edit: Any, address: str | None
) -> rv.DraftRecord:
    return await admin._edit(console, user, draft_id, revision, MENUS, edit, address)


def _old(text: str, menu: str, key: str) -> dict[str, Any] | None:
    data: Any = parse_document({MENUS: text}).get(MENUS)
    try:
        found = data["menus"][menu]
        found = found[key] if key == EXHAUSTED else found["options"][key]
    except (KeyError, TypeError):
        return None
    return found if isinstance(found, dict) else None


def checked_kind(kind: str) -> str:
    """`kind` if it is a destination type (a menu key's, the closed hours'); else refused."""
    if kind not in DEST_FIELDS:
        raise admin.AdminError(422, f"{kind!r}: a destination is one of {', '.join(DEST_FIELDS)}")
    return kind


def _key(key: str) -> str:
    if key != EXHAUSTED and (len(key) != 1 or key not in "0123456789*#"):
        raise admin.AdminError(422, f"{key!r}: a key is one of 0-9, * or #")
    return key


async def set_route(
    console: Console,
    user: User,
    draft_id: int,
    menu: str,
    key: str,
    *,
    revision: int,
    kind: str,
    target: str = "",
    then: str = "",
    address: str | None = None,
) -> rv.DraftRecord:
    """Where a key (or `on_exhausted`) leads; a new key is added. Saved as chosen."""
    _key(key)
    checked_kind(kind)

    def edit(text: str) -> str:
        dest = destination(kind, target, then, _old(text, menu, key))
        if key == EXHAUSTED:
            return put(text, _menu_path(menu), key, dest)
        return put(text, [*_menu_path(menu), "options"], key, dest)

    return await _edit(console, user, draft_id, revision, edit, address)


async def remove_route(
    console: Console,
    user: User,
    draft_id: int,
    menu: str,
    key: str,
    *,
    revision: int,
    address: str | None = None,
) -> rv.DraftRecord:
    if _key(key) == EXHAUSTED:
        raise admin.AdminError(422, "a menu always has somewhere to go when tries run out")
    path = [*_menu_path(menu), "options"]
    return await _edit(
        console, user, draft_id, revision, lambda text: drop(text, path, key), address
    )


async def set_settings(
    console: Console,
    user: User,
    draft_id: int,
    menu: str,
    *,
    revision: int,
    values: dict[str, str],
    address: str | None = None,
) -> rv.DraftRecord:
    """A menu's prompts, tries and timeout, as typed (a number only if it is one)."""

    def typed(name: str, value: str) -> Any:
        value = value.strip()
        if name in NUMBERS:
            try:
                return int(value) if value.isdigit() else float(value)
            except ValueError:
                return value
        return value

    def edit(text: str) -> str:
        for name, value in values.items():
            if name not in SETTINGS:
                raise EditError(f"{name!r} is not a menu setting: {', '.join(SETTINGS)}")
            if value.strip():
                text = put(text, _menu_path(menu), name, typed(name, value))
        return text

    return await _edit(console, user, draft_id, revision, edit, address)


async def new_menu(
    console: Console,
    user: User,
    draft_id: int,
    *,
    revision: int,
    name: str,
    prompt: str,
    queue: str,
    address: str | None = None,
) -> rv.DraftRecord:
    """A new menu: its prompt, and key 0 and tries-run-out both to a queue (a person)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name.strip()):
        raise admin.AdminError(422, f"{name!r}: a menu name is lower-case letters, digits, - or _")
    dest = {"type": "queue", "queue": queue.strip()}
    return await _edit(
        console,
        user,
        draft_id,
        revision,
        lambda text: add_menu(text, name.strip(), prompt.strip(), dest),
        address,
    )


async def remove_menu(
    console: Console,
    user: User,
    draft_id: int,
    menu: str,
    *,
    revision: int,
    address: str | None = None,
) -> rv.DraftRecord:
    """Delete a menu, refused while anything still leads to it (listed in the refusal)."""
    draft = await admin._draft(console, draft_id)
    refs = menu_refs(parse_document(draft.files), menu)
    if refs:
        listed = "; ".join(f"{f}: {p}" for f, p, _ in refs)
        raise admin.AdminError(409, f"menu {menu} is still used: {listed}")
    return await _edit(
        console, user, draft_id, revision, lambda text: drop(text, ["menus"], menu), address
    )


async def references(console: Console, draft_id: int, menu: str) -> list[tuple[str, str, str]]:
    draft = await admin._draft(console, draft_id)
    return menu_refs(parse_document(draft.files), menu)
