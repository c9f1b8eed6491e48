"""The admin's routing editor, shared by its pages and the JSON API (issue 17).

Everything here goes through `ivr.routing.publish` and the store's routing versions:
the web never writes a table file or a version itself. Edits change one value in a
draft's text (comments kept); the checker's problems are placed at the field they
name, with the same text as `ivr routing check`.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ivr.domain.vocabulary import Role
from ivr.errors import ExitStatus, HotlineError
from ivr.routing import publish as pub
from ivr.routing.directory_search import DirectoryIndex, UnitHit
from ivr.routing.loader import render_loc
from ivr.routing.references import Reference, references
from ivr.routing.versions import Change, diff, parse_document
from ivr.routing.yaml_edit import EditError, set_text, swap
from ivr.store import routing_versions as rv
from ivr.store.users import User
from ivr.web.context import Console

DIRECTORY = "directory.yaml"
EDITORS = frozenset({Role.ADMIN})
APPROVERS = frozenset({Role.SUPERVISOR})
READERS = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR})
_CHECKS_KEPT = 32


class AdminError(HotlineError):
    """Refused, with an HTTP status and a reason an admin can act on."""

    code = "web.admin_refused"
    exit_status = ExitStatus.REFUSED

    def __init__(self, status: int, detail: str, problems: list[pub.FieldProblem] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.problems = problems or []


def site_of(console: Console) -> pub.Site:
    if console.routing_site is None:
        raise AdminError(503, "routing versions are not available in this console")
    return console.routing_site


# Checking takes a moment; a draft's content is checked once per digest.
_checked: OrderedDict[tuple[str, str], list[pub.FieldProblem]] = OrderedDict()


async def check(site: pub.Site, draft: rv.DraftRecord) -> list[pub.FieldProblem]:
    key = (site.profile, draft.digest)
    if key not in _checked:
        _checked[key] = await asyncio.to_thread(pub.check_files, site, draft.files)
        while len(_checked) > _CHECKS_KEPT:
            _checked.popitem(last=False)
    _checked.move_to_end(key)
    return _checked[key]


def extension_path(agency_index: int, unit_index: int) -> str:
    return render_loc(("agencies", agency_index, "units", unit_index, "primary", "number"))


def deputy_path(agency_index: int, deputy_index: int) -> str:
    return render_loc(("agencies", agency_index, "liaison", "deputies", deputy_index))


@dataclass(frozen=True)
class Deputy:
    index: int
    name: str
    number: str


@dataclass(frozen=True)
class AgencyDeputies:
    agency: str
    index: int
    name: str
    deputies: list[Deputy]


@dataclass
class DraftPage:
    draft: rv.DraftRecord
    running: rv.VersionRecord
    query: str
    units: list[UnitHit]
    agencies: list[AgencyDeputies]
    # (file, field path) -> reasons, for the fields on the page; the rest below.
    at_field: dict[str, list[str]] = field(default_factory=dict)
    elsewhere: list[pub.FieldProblem] = field(default_factory=list)
    problems: list[pub.FieldProblem] = field(default_factory=list)
    two_person_rule: bool = False

    def error_at(self, path: str) -> str | None:
        found = self.at_field.get(f"{DIRECTORY}:{path}")
        return "; ".join(found) if found else None


def _agencies(directory: Any, hits: list[UnitHit]) -> list[AgencyDeputies]:
    wanted = sorted({h.agency_index for h in hits})
    agencies = directory.get("agencies") if isinstance(directory, dict) else None
    out: list[AgencyDeputies] = []
    for ai in wanted:
        agency = agencies[ai] if isinstance(agencies, list) and ai < len(agencies) else None
        if not isinstance(agency, dict):
            continue
        liaison: dict[str, Any] = agency.get("liaison") or {}
        deputies = []
        for di, d in enumerate(liaison.get("deputies") or [] if isinstance(liaison, dict) else []):
            if isinstance(d, dict):
                ext: dict[str, Any] = d.get("extension") or {}
                ext = ext if isinstance(ext, dict) else {}
                deputies.append(Deputy(di, str(d.get("name", "")), str(ext.get("number", ""))))
        out.append(
            AgencyDeputies(str(agency.get("id", "")), ai, str(agency.get("name", "")), deputies)
        )
    return out


async def draft_page(console: Console, draft_id: int, query: str) -> DraftPage:
    site = site_of(console)
    draft = await _draft(console, draft_id)
    running = await pub.ensure_imported(console.store, site, by=pub.SYSTEM, now=console.clock())
    parsed = parse_document(draft.files)
    index = DirectoryIndex(parsed.get(DIRECTORY), parsed.get("dispatch_items.yaml"))
    hits = index.search(query) if query.strip() else []
    page = DraftPage(draft, running, query, hits, _agencies(parsed.get(DIRECTORY), hits))
    page.problems = await check(site, draft)
    shown = {extension_path(h.agency_index, h.unit_index) for h in hits}
    for p in page.problems:
        if p.file == DIRECTORY and p.path in shown:
            page.at_field.setdefault(f"{p.file}:{p.path}", []).append(p.reason)
        else:
            page.elsewhere.append(p)
    page.two_person_rule = await rv.two_person_rule(console.store, site.profile)
    return page


async def _draft(console: Console, draft_id: int) -> rv.DraftRecord:
    try:
        found = await rv.draft(console.store, draft_id)
    except rv.NotFound as exc:
        raise AdminError(404, str(exc)) from None
    if found.profile != site_of(console).profile:
        raise AdminError(404, f"no draft {draft_id} of this profile")
    return found


def _require(user: User, roles: frozenset[Role], what: str) -> None:
    if user.role not in roles:
        raise AdminError(403, f"the {user.role} role may not {what}")


async def new_draft(console: Console, user: User, key: str | None = None) -> rv.DraftRecord:
    _require(user, EDITORS, "make drafts")
    return await pub.new_draft(
        console.store,
        site_of(console),
        by=user.username,
        now=console.clock(),
        idempotency_key=key,
    )


async def _edit(
    console: Console,
    user: User,
    draft_id: int,
    revision: int,
    file: str,
    edit: Any,
    address: str | None,
) -> rv.DraftRecord:
    _require(user, EDITORS, "edit drafts")
    draft = await _draft(console, draft_id)
    text = draft.files.get(file)
    if text is None:
        raise AdminError(404, f"the draft has no {file}")
    try:
        new_text = edit(text)
    except EditError as exc:
        raise AdminError(422, f"{file}: {exc}") from None
    try:
        return await pub.edit_draft(
            console.store,
            draft_id,
            {**draft.files, file: new_text},
            revision=revision,
            by=user.username,
            now=console.clock(),
            address=address,
        )
    except rv.StaleVersion as exc:
        raise AdminError(409, str(exc)) from None


async def set_extension(
    console: Console,
    user: User,
    draft_id: int,
    *,
    revision: int,
    agency_index: int,
    unit_index: int,
    number: str,
    address: str | None = None,
) -> rv.DraftRecord:
    """Save a unit's primary extension in the draft, as typed (the checker judges it)."""
    path: list[str | int] = ["agencies", agency_index, "units", unit_index, "primary", "number"]
    return await _edit(
        console,
        user,
        draft_id,
        revision,
        DIRECTORY,
        lambda text: set_text(text, path, number.strip()),
        address,
    )


async def move_deputy(
    console: Console,
    user: User,
    draft_id: int,
    *,
    revision: int,
    agency_index: int,
    deputy_index: int,
    up: bool,
    address: str | None = None,
) -> rv.DraftRecord:
    """Move a liaison deputy one place up or down (deputies are tried in order)."""
    path: list[str | int] = ["agencies", agency_index, "liaison", "deputies"]
    other = deputy_index - 1 if up else deputy_index + 1
    return await _edit(
        console,
        user,
        draft_id,
        revision,
        DIRECTORY,
        lambda text: swap(text, path, deputy_index, other),
        address,
    )


async def approve(console: Console, user: User, draft_id: int, revision: int) -> rv.DraftRecord:
    _require(user, APPROVERS, "approve drafts")
    await _draft(console, draft_id)
    try:
        return await rv.approve(
            console.store, draft_id, revision=revision, by=user.username, at=console.clock()
        )
    except rv.StaleVersion as exc:
        raise AdminError(409, str(exc)) from None
    except rv.VersionError as exc:
        raise AdminError(403, str(exc)) from None


async def _going_live(
    change: Awaitable[pub.Published], refusal: type[rv.VersionError], status: int
) -> pub.Published:
    """Publish or roll back: a refusal becomes the status it means, `refusal` as `status`."""
    try:
        return await change
    except pub.PublishRefused as exc:
        raise AdminError(422, str(exc), exc.problems) from None
    except refusal as exc:
        raise AdminError(status, str(exc)) from None
    except rv.StaleVersion as exc:
        raise AdminError(409, str(exc)) from None
    except rv.VersionError as exc:
        raise AdminError(422, str(exc)) from None


async def publish(
    console: Console,
    user: User,
    draft_id: int,
    *,
    revision: int | None,
    comment: str,
    address: str | None = None,
) -> pub.Published:
    _require(user, EDITORS, "publish")
    await _draft(console, draft_id)
    return await _going_live(
        pub.publish(
            console.store,
            site_of(console),
            draft_id,
            by=user.username,
            comment=comment,
            now=console.clock(),
            revision=revision,
            address=address,
        ),
        pub.NeedsApproval,
        403,
    )


async def rollback(
    console: Console,
    user: User,
    number: int,
    *,
    expected_head: int | None,
    comment: str,
    address: str | None = None,
) -> pub.Published:
    _require(user, EDITORS, "roll back")
    return await _going_live(
        pub.rollback(
            console.store,
            site_of(console),
            number,
            by=user.username,
            comment=comment,
            now=console.clock(),
            expected_head=expected_head,
            address=address,
        ),
        rv.NotFound,
        404,
    )


async def schedule(
    console: Console, user: User, draft_id: int, *, when: datetime | None, comment: str
) -> rv.DraftRecord:
    """Publish the draft at `when` (checked now, and again then); None cancels it."""
    _require(user, EDITORS, "schedule publishing")
    draft = await _draft(console, draft_id)
    if when is not None:
        if when <= console.clock():
            raise AdminError(422, f"{when.isoformat()} is not in the future")
        problems = await check(site_of(console), draft)
        if problems:
            raise AdminError(422, f"refused: {len(problems)} problem(s) in the draft", problems)
    try:
        return await rv.schedule(
            console.store,
            draft_id,
            when=when,
            comment=comment,
            by=user.username,
            at=console.clock(),
        )
    except rv.VersionError as exc:
        raise AdminError(422, str(exc)) from None


async def set_rule(console: Console, user: User, on: bool) -> None:
    _require(user, EDITORS, "change the two-person rule")
    await rv.set_two_person_rule(
        console.store, site_of(console).profile, on=on, by=user.username, at=console.clock()
    )


@dataclass(frozen=True)
class Overview:
    profile: str
    running: rv.VersionRecord
    versions: list[rv.VersionRecord]
    drafts: list[rv.DraftRecord]
    two_person_rule: bool


async def overview(console: Console) -> Overview:
    site = site_of(console)
    running = await pub.ensure_imported(console.store, site, by=pub.SYSTEM, now=console.clock())
    return Overview(
        site.profile,
        running,
        await rv.versions(console.store, site.profile),
        await rv.drafts(console.store, site.profile),
        await rv.two_person_rule(console.store, site.profile),
    )


async def changes(console: Console, a: int, b: int) -> list[Change]:
    site = site_of(console)
    await pub.ensure_imported(console.store, site, by=pub.SYSTEM, now=console.clock())
    try:
        old = await rv.version(console.store, site.profile, a)
        new = await rv.version(console.store, site.profile, b)
    except rv.NotFound as exc:
        raise AdminError(404, str(exc)) from None
    return diff(old.files, new.files)


async def refs(console: Console, draft_id: int, kind: str, name: str) -> list[Reference]:
    if kind not in ("unit", "queue", "prompt"):
        raise AdminError(422, f"{kind!r}: ask about a unit, a queue or a prompt")
    draft = await _draft(console, draft_id)
    return references(draft.files, kind, name)
