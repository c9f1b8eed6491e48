"""The routing editor in the console: keyboard only in Debian's chromium, axe on every
page, and the roles (issue 17).

A real console over a real SQLite store; each test publishes into its own copy of
Taipei's profile, checked with the `ivr routing check` code. No engine runs here, so
the reload step is the one edge replaced: it counts, and reads what is on disk.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ivr.cli.routing import routing_problems as _routing_problems
from ivr.domain.vocabulary import Role
from ivr.routing.publish import ReloadOutcome, Site, publish_due
from ivr.routing.versions import read_document
from ivr.store import routing_versions as rv
from tests.web.conftest import (
    REPO,
    ConsoleServer,
    assert_accessible,
    screenshot,
    sign_in_by_keyboard,
)
from tests.web.routing_editor import (
    follow,
    person,
    publish,
    roll_back,
    signed_in,
    tab_to,
)


@dataclass
class Reloads:
    seen: list[str] = field(default_factory=list)


@pytest.fixture
def site(console_server: ConsoleServer, tmp_path: Path) -> Iterator[tuple[Site, Reloads]]:
    """A profile of this test's own (its name unique), published into by the console."""
    profile = tmp_path / "routing" / f"taipei-{uuid.uuid4().hex[:8]}"
    shutil.copytree(REPO / "routing" / "taipei", profile)
    reloads = Reloads()

    def check(directory: Path) -> list:  # type: ignore[type-arg]
        return _routing_problems(directory, REPO / "recordings")

    async def reload() -> ReloadOutcome:
        reloads.seen.append(read_document(profile)["directory.yaml"])
        return ReloadOutcome(True, ("reloaded",))

    made = Site(profile.name, profile, tmp_path / "run", check, reload)
    before = console_server.console.routing_site
    console_server.console.routing_site = made
    yield made, reloads
    console_server.console.routing_site = before


def test_admin_changes_an_extension_sees_the_error_fixes_publishes_and_rolls_back(
    console_server: ConsoleServer, site: tuple[Site, Reloads], page: Page
) -> None:
    made, reloads = site
    base = console_server.url
    sign_in_by_keyboard(page, base, person(console_server, Role.ADMIN))

    follow(page, 'nav a[href="/admin/routing"]')
    expect(page.locator("#running")).to_contain_text("version 1")
    assert_accessible(page, "routing overview")

    follow(page, "#new-draft")
    expect(page.locator("h1")).to_contain_text("from version 1")
    assert_accessible(page, "new draft")

    tab_to(page, "#q")
    page.keyboard.type("hydraulic")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    field = page.locator("#ext-hydraulic")
    expect(field).to_have_value("2501")
    assert_accessible(page, "search results")

    # 2401 is the streetlights office's number already.
    tab_to(page, "#ext-hydraulic")
    page.keyboard.press("Control+A")
    page.keyboard.type("2401")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    error = page.locator("#ext-hydraulic-error")
    expect(error).to_have_text(
        "extension 2401 is already unit parks-lights's; a number reaches one place"
    )
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "ext-hydraulic-error")
    assert_accessible(page, "duplicate extension at the field")
    screenshot(page, "routing-duplicate-extension")

    tab_to(page, "#ext-hydraulic")
    page.keyboard.press("Control+A")
    page.keyboard.type("2509")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#ext-hydraulic-error")).to_have_count(0)
    expect(page.locator("#check-ok")).to_be_visible()

    publish(page, "Hydraulic office moved to 2509")
    expect(page.locator(".notice")).to_have_text("Version 2 published.")
    row = page.locator("tr.change")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("agencies[pwd].units[hydraulic].primary.number")
    expect(row).to_contain_text('"2501"')
    expect(row).to_contain_text('"2509"')
    assert_accessible(page, "published diff")
    screenshot(page, "routing-published-diff")
    assert '"2509"' in read_document(made.routing_dir)["directory.yaml"]
    assert len(reloads.seen) == 1

    follow(page, 'a[href="/admin/routing"]')
    roll_back(page, "Wrong office: back to 2501")
    expect(page.locator(".notice")).to_have_text("Version 3 published.")
    expect(page.locator("tr.change")).to_contain_text('"2501"')
    assert_accessible(page, "rolled back")
    assert '"2501"' in read_document(made.routing_dir)["directory.yaml"]
    assert len(reloads.seen) == 2

    page.goto(f"{base}/admin/routing")
    expect(page.locator("#version-3")).to_contain_text("Wrong office: back to 2501")
    assert_accessible(page, "versions after rollback")
    screenshot(page, "routing-versions")


def test_an_agent_can_neither_see_nor_publish_routing(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    admin, _ = signed_in(console_server, person(console_server, Role.ADMIN))
    agent, csrf = signed_in(console_server, person(console_server, Role.AGENT))
    assert agent.get("/admin/routing").status_code == 403
    assert agent.get("/api/v1/routing").status_code == 403
    headers = {"X-CSRF-Token": csrf}
    assert agent.post("/api/v1/routing/drafts", headers=headers).status_code == 403
    made = admin.get("/api/v1/routing")
    assert made.status_code == 200
    publish = agent.post(
        "/api/v1/routing/drafts/1/publish", json={"revision": 1, "comment": "x"}, headers=headers
    )
    assert publish.status_code == 403
    assert "versions" not in publish.text


def test_under_the_two_person_rule_an_admin_needs_a_supervisors_approval(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    made, reloads = site
    console_server.run(
        rv.set_two_person_rule(
            console_server.console.store,
            made.profile,
            on=True,
            by="head",
            at=console_server.clock(),
        )
    )
    admin, admin_csrf = signed_in(console_server, person(console_server, Role.ADMIN))
    boss, boss_csrf = signed_in(console_server, person(console_server, Role.SUPERVISOR))
    a = {"X-CSRF-Token": admin_csrf}
    draft = admin.post("/api/v1/routing/drafts", headers=a)
    assert draft.status_code == 201, draft.text
    d = draft.json()
    edited = admin.put(
        f"/api/v1/routing/drafts/{d['id']}/agencies/0/units/2/primary",
        json={"revision": d["revision"], "number": "2509"},
        headers=a,
    )
    assert edited.status_code == 200, edited.text
    revision = edited.json()["revision"]
    refused = admin.post(
        f"/api/v1/routing/drafts/{d['id']}/publish",
        json={"revision": revision, "comment": "move"},
        headers=a,
    )
    assert refused.status_code == 403
    assert "two-person rule" in refused.json()["detail"]
    assert reloads.seen == []
    # The maker may not approve their own draft, nor may an admin approve at all.
    own = admin.post(
        f"/api/v1/routing/drafts/{d['id']}/approve", json={"revision": revision}, headers=a
    )
    assert own.status_code == 403
    approved = boss.post(
        f"/api/v1/routing/drafts/{d['id']}/approve",
        json={"revision": revision},
        headers={"X-CSRF-Token": boss_csrf},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_by"]
    boss_publish = boss.post(
        f"/api/v1/routing/drafts/{d['id']}/publish",
        json={"revision": revision, "comment": "move"},
        headers={"X-CSRF-Token": boss_csrf},
    )
    assert boss_publish.status_code == 403
    done = admin.post(
        f"/api/v1/routing/drafts/{d['id']}/publish",
        json={"revision": revision, "comment": "move"},
        headers=a,
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["version"]["number"] == 2
    assert body["version"]["approved_by"] == approved.json()["approved_by"]
    assert [c["text"] for c in body["changes"]] == [
        'directory.yaml: agencies[pwd].units[hydraulic].primary.number: "2501" → "2509"'
    ]
    assert len(reloads.seen) == 1


def test_a_stale_publish_through_the_api_is_told_so(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    admin, csrf = signed_in(console_server, person(console_server, Role.ADMIN))
    a = {"X-CSRF-Token": csrf}
    first = admin.post("/api/v1/routing/drafts", headers=a).json()
    second = admin.post("/api/v1/routing/drafts", headers=a).json()
    for d, number in ((first, "2509"), (second, "2409")):
        unit = 2 if number == "2509" else 1
        reply = admin.put(
            f"/api/v1/routing/drafts/{d['id']}/agencies/0/units/{unit}/primary",
            json={"revision": 1, "number": number},
            headers=a,
        )
        assert reply.status_code == 200, reply.text
    won = admin.post(
        f"/api/v1/routing/drafts/{first['id']}/publish",
        json={"revision": 2, "comment": "first"},
        headers=a,
    )
    assert won.status_code == 200, won.text
    stale = admin.post(
        f"/api/v1/routing/drafts/{second['id']}/publish",
        json={"revision": 2, "comment": "second"},
        headers=a,
    )
    assert stale.status_code == 409
    assert "version 2 is running now" in stale.json()["detail"]


def test_what_refers_to_a_unit_is_shown_before_it_is_deleted(
    console_server: ConsoleServer, site: tuple[Site, Reloads], page: Page
) -> None:
    admin, csrf = signed_in(console_server, person(console_server, Role.ADMIN))
    d = admin.post("/api/v1/routing/drafts", headers={"X-CSRF-Token": csrf}).json()
    found = admin.get(
        f"/api/v1/routing/drafts/{d['id']}/references",
        params={"kind": "unit", "name": "new-construction"},
    )
    assert found.status_code == 200
    assert any(r["file"] == "dispatch_items.yaml" for r in found.json())
    sign_in_by_keyboard(page, console_server.url, person(console_server, Role.ADMIN))
    page.goto(f"{console_server.url}/admin/routing/drafts/{d['id']}?q=new-construction")
    follow(page, f'a[href^="/admin/routing/drafts/{d["id"]}/references"]')
    expect(page.locator("tbody tr").first).to_contain_text("dispatch_items.yaml")
    assert_accessible(page, "what refers to a unit")


def test_a_scheduled_publish_is_checked_then_and_a_refusal_is_shown_to_admins(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    made, reloads = site
    admin, csrf = signed_in(console_server, person(console_server, Role.ADMIN))
    a = {"X-CSRF-Token": csrf}
    first = admin.post("/api/v1/routing/drafts", headers=a).json()
    second = admin.post("/api/v1/routing/drafts", headers=a).json()
    bad = admin.put(
        f"/api/v1/routing/drafts/{first['id']}/agencies/0/units/2/primary",
        json={"revision": 1, "number": "2401"},
        headers=a,
    ).json()
    later = console_server.clock() + timedelta(hours=1)
    refused_now = admin.post(
        f"/api/v1/routing/drafts/{first['id']}/schedule",
        json={"at": later.isoformat(), "comment": "holiday hours"},
        headers=a,
    )
    assert refused_now.status_code == 422
    assert "2401" in refused_now.json()["problems"][0]["reason"]
    admin.put(
        f"/api/v1/routing/drafts/{first['id']}/agencies/0/units/2/primary",
        json={"revision": bad["revision"], "number": "2509"},
        headers=a,
    )
    for d, at in ((first, later), (second, later + timedelta(minutes=1))):
        scheduled = admin.post(
            f"/api/v1/routing/drafts/{d['id']}/schedule",
            json={"at": at.isoformat(), "comment": f"scheduled {d['id']}"},
            headers=a,
        )
        assert scheduled.status_code == 200, scheduled.text
        assert scheduled.json()["scheduled_at"] is not None
    store = console_server.console.store
    assert console_server.run(publish_due(store, made, console_server.clock())) == []
    outcomes = console_server.run(
        publish_due(store, made, console_server.clock() + timedelta(hours=2))
    )
    assert [o.published is not None for o in outcomes] == [True, False]
    assert '"2509"' in read_document(made.routing_dir)["directory.yaml"]
    assert len(reloads.seen) == 1
    # The second was made from version 1: stale once the first went live, and said so.
    page = admin.get("/admin/routing")
    assert "version 2 is running now" in page.text
    overview = admin.get("/api/v1/routing").json()
    [left] = [d for d in overview["drafts"] if d["id"] == second["id"]]
    assert left["scheduled_at"] is None
    assert "version 2 is running now" in left["refusal"]
