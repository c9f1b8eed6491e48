"""The block list editor of a routing draft, keyboard only in Debian's chromium, axe on
every state (issue 17): refused at the field, added, removed, published, rolled back.

A real console over a real SQLite store publishing into this test's own copy of
Taipei's profile, checked with the `ivr routing check` code (see test_routing_admin).
"""

from __future__ import annotations

import yaml
from playwright.sync_api import Page, expect

from ivr.domain.vocabulary import Role
from ivr.routing.publish import Site
from ivr.routing.versions import read_document
from ivr.store import routing_versions as rv
from tests.web.conftest import ConsoleServer, assert_accessible, screenshot
from tests.web.routing_editor import (
    api_draft,
    follow,
    open_editor,
    person,
    publish,
    roll_back,
    signed_in,
    tab_to,
)
from tests.web.test_routing_admin import Reloads, site

__all__ = ["site"]  # the fixture, shared with the editor's other tests

REASON = "Abusive calls after three warnings (case 1150312-0042)"


def blocked(text: str) -> list[str]:
    return [e["pattern"] for e in yaml.safe_load(text)["entries"]]


def test_admin_blocks_a_number_is_refused_at_the_field_removes_publishes_and_rolls_back(
    console_server: ConsoleServer, site: tuple[Site, Reloads], page: Page
) -> None:
    made, reloads = site
    base = console_server.url
    admin = person(console_server, Role.ADMIN)
    draft_id = open_editor(page, console_server, "blocklist", admin)
    expect(page.locator("h1")).to_contain_text("Block list: draft")
    expect(page.locator("#entries-none")).to_be_visible()
    assert_accessible(page, "empty block list")

    # A prefix of two digits would silence a whole network: the checker refuses it.
    tab_to(page, "#entries-pattern")
    page.keyboard.type("09*")
    tab_to(page, "#entries-reason")
    page.keyboard.type(REASON)
    follow(page, "#entries-pattern")
    error = page.locator("#entries-pattern-error")
    expect(error).to_have_text(
        "'09*': a prefix pattern needs at least 4 digits before \"*\"", use_inner_text=True
    )
    field = page.locator("#entries-pattern")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute(
        "aria-describedby", "entries-pattern-hint entries-pattern-error"
    )
    expect(field).to_have_value("09*")
    expect(page.locator("#entries-reason")).to_have_value(REASON)
    expect(page.locator("#entries-none")).to_be_visible()
    assert_accessible(page, "pattern refused at the field")
    draft = console_server.run(rv.draft(console_server.console.store, draft_id))
    assert draft.revision == 1
    assert blocked(draft.files["blocklist.yaml"]) == []

    for pattern in ("0912345678", "0204*"):
        tab_to(page, "#entries-pattern")
        page.keyboard.press("Control+A")
        page.keyboard.type(pattern)
        if pattern == "0204*":
            tab_to(page, "#entries-reason")
            page.keyboard.type(REASON)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.locator(".notice[role=status]")).to_have_text("Draft saved.")
    rows = page.locator("#entries tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("0912345678")
    expect(rows.nth(0)).to_contain_text(REASON)
    expect(rows.nth(0)).to_contain_text(admin)
    assert_accessible(page, "two numbers blocked")
    screenshot(page, "routing-blocklist")

    follow(page, "#entries-remove-1")
    expect(rows).to_have_count(1)
    draft = console_server.run(rv.draft(console_server.console.store, draft_id))
    assert blocked(draft.files["blocklist.yaml"]) == ["0912345678"]
    # The shipped file's comments are kept: only the list changed.
    assert draft.files["blocklist.yaml"].startswith("# Callers whose service is suspended")

    follow(page, f'a[href="/admin/routing/drafts/{draft_id}"]')
    publish(page, "Suspend 0912345678 after three warnings")
    expect(page.locator(".notice")).to_have_text("Version 2 published.")
    change = page.locator("tr.change")
    expect(change.first).to_contain_text("blocklist.yaml")
    expect(page.locator("main")).to_contain_text("0912345678")
    assert_accessible(page, "block list published")
    assert blocked(read_document(made.routing_dir)["blocklist.yaml"]) == ["0912345678"]
    assert len(reloads.seen) == 1

    page.goto(f"{base}/admin/routing")
    roll_back(page, "Blocked the wrong caller")
    expect(page.locator(".notice")).to_have_text("Version 3 published.")
    assert blocked(read_document(made.routing_dir)["blocklist.yaml"]) == []
    assert len(reloads.seen) == 2


def test_only_admins_edit_the_block_list_and_a_stale_revision_is_refused(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    admin, csrf = signed_in(console_server, person(console_server, Role.ADMIN))
    auditor, auditor_csrf = signed_in(console_server, person(console_server, Role.AUDITOR))
    d = admin.post("/api/v1/routing/drafts", headers={"X-CSRF-Token": csrf}).json()
    url = f"/admin/routing/drafts/{d['id']}/blocklist"
    entry = {"pattern": "0912345678", "reason": REASON, "expires_at": "2027-06-12"}
    read = auditor.get(url)
    assert read.status_code == 200
    assert 'id="entries-add"' not in read.text
    refused = auditor.post(f"{url}/add", data={"csrf_token": auditor_csrf, "revision": 1, **entry})
    assert refused.status_code == 403
    added = admin.post(f"{url}/add", data={"csrf_token": csrf, "revision": 1, **entry})
    assert added.status_code == 303, added.text
    stale = admin.post(f"{url}/add", data={"csrf_token": csrf, "revision": 1, **entry})
    assert stale.status_code == 409
    assert "changed since revision 1" in stale.text
    draft = console_server.run(rv.draft(console_server.console.store, d["id"]))
    [saved] = yaml.safe_load(draft.files["blocklist.yaml"])["entries"]
    assert saved["expires_at"] == "2027-06-12"
    assert saved["added_at"].endswith("+08:00")
    gone = admin.post(f"{url}/remove", data={"csrf_token": csrf, "revision": 2, "index": 5})
    assert gone.status_code == 422
    assert "no entry 5 to remove" in gone.text


def test_the_block_list_through_the_api(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    admin, a, agent, agent_a, _, url = api_draft(console_server, "blocklist")
    assert agent.get(url).status_code == 403
    entry = {"revision": 1, "pattern": "0912345678", "reason": REASON}
    assert agent.post(url, json=entry, headers=agent_a).status_code == 403
    bad = admin.post(url, json={**entry, "expires_at": "2027-02-30"}, headers=a)
    assert bad.status_code == 422
    [problem] = bad.json()["problems"]
    assert (problem["file"], problem["path"]) == ("blocklist.yaml", "entries[0].expires_at")
    assert "day is out of range" in problem["reason"] or "2027-02-30" in problem["reason"]
    # A character YAML cannot hold in a table makes the file unreadable: refused too.
    odd = admin.post(url, json={**entry, "reason": "\ufffe"}, headers=a)
    assert odd.status_code == 422
    assert admin.get(url).json() == []
    done = admin.post(url, json=entry, headers=a)
    assert done.status_code == 200, done.text
    [listed] = admin.get(url).json()
    assert (listed["pattern"], listed["reason"], listed["problems"]) == ("0912345678", REASON, [])
    removed = admin.post(f"{url}/0/remove", json={"revision": done.json()["revision"]}, headers=a)
    assert removed.status_code == 200, removed.text
    assert admin.get(url).json() == []
