"""The dispatch items editor of a routing draft, keyboard only in Debian's chromium, axe
on every state (issue 17): a new item refused at its fields with the checker's text,
added, changed, "what refers to this" before a removal, published; the API's roles.
"""

from __future__ import annotations

import yaml
from playwright.sync_api import Page, expect

from ivr.domain.vocabulary import CaseKind
from ivr.routing.publish import Site
from ivr.routing.versions import read_document
from ivr.store import routing_versions as rv
from ivr.store.case_records import NewCase
from ivr.store.cases import CaseBook
from tests.web.conftest import ConsoleServer, assert_accessible, screenshot
from tests.web.routing_editor import (
    api_draft,
    fill,
    follow,
    open_editor,
    publish,
    type_into,
)
from tests.web.test_routing_admin import Reloads, site

__all__ = ["site"]  # the fixture, shared with the editor's other tests

NEW = {
    "item": "22",
    "name": "流浪犬通報",
    "name_en": "Stray dog report",
    "agency": "economic",
    "unit": "no-such-unit",
    "stage1_hours": "8",
}


def items(text: str) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = yaml.safe_load(text)["items"]
    return listed


def open_order(server: ConsoleServer, item: int) -> str:
    """An open dispatch order of `item` in the console's store, as the case desk makes one."""
    book = CaseBook.of(server.console.store, server.console.tables().profile.name)
    new = NewCase(
        kind=CaseKind.DISPATCH,
        agency_id="economic",
        unit_id="animal-protection",
        summary="stray dog at the market",
        created_at=server.clock(),
        item=item,
    )
    made, _ = server.run(book.create(new, who="officer"))
    return made.number


def test_admin_adds_an_item_is_refused_at_the_fields_changes_it_and_publishes(
    console_server: ConsoleServer, site: tuple[Site, Reloads], page: Page
) -> None:
    made, reloads = site
    base = console_server.url
    draft_id = open_editor(page, console_server, "dispatch")
    expect(page.locator("#items tbody tr")).to_have_count(22)
    expect(page.locator("#items-21")).to_contain_text("動物救援")
    assert_accessible(page, "the shipped dispatch items")

    # Number 22 is taken and the unit does not exist: refused at both fields.
    fill(page, NEW, "items")
    expect(page.locator("#items-item-error")).to_have_text("item 22 is listed more than once")
    expect(page.locator("#items-unit-error")).to_have_text(
        "agency 'economic' has no unit 'no-such-unit'"
    )
    expect(page.locator("#items-unit")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#items-name")).to_have_value("流浪犬通報")
    assert_accessible(page, "a new item refused at its fields")
    draft = console_server.run(rv.draft(console_server.console.store, draft_id))
    assert draft.revision == 1

    fill(page, {"item": "23", "unit": "animal-protection"}, "items")
    expect(page.locator(".notice[role=status]")).to_have_text("Draft saved.")
    expect(page.locator("#items tbody tr")).to_have_count(23)
    expect(page.locator("#items-22")).to_contain_text("流浪犬通報")
    screenshot(page, "routing-dispatch")

    # Change it: a stage that is not a number is refused with the checker's words.
    follow(page, "#items-edit-22", most=200)
    expect(page.locator("#item-item")).to_have_value("23")
    assert_accessible(page, "an item's form")
    fill(page, {"stage2_days": "ten"}, "item")
    expect(page.locator("#item-stage2_days-error")).to_contain_text("valid number")
    expect(page.locator("#item-stage2_days")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "a changed item refused at its field")
    fill(page, {"stage2_days": "10"}, "item")
    expect(page.locator(".notice[role=status]")).to_have_text("Draft saved.")
    expect(page.locator("#items-22")).to_contain_text("10")

    # An open order of item 23 refers to it: shown before it is removed; kept.
    number = open_order(console_server, 23)
    follow(page, "#items-remove-22", most=200)
    expect(page.locator("h1")).to_contain_text("What refers to item 23")
    expect(page.locator("#refs")).to_contain_text(number)
    assert_accessible(page, "what refers to an item")
    follow(page, "#keep")
    expect(page.locator("#items tbody tr")).to_have_count(23)

    page.goto(f"{base}/admin/routing/drafts/{draft_id}")
    publish(page, "Stray dog reports get an item of their own")
    expect(page.locator(".notice")).to_have_text("Version 2 published.")
    expect(page.locator("main")).to_contain_text("dispatch_items.yaml")
    on_disk = items(read_document(made.routing_dir)["dispatch_items.yaml"])
    assert on_disk[-1] == {
        "item": 23,
        "name": "流浪犬通報",
        "name_en": "Stray dog report",
        "agency": "economic",
        "unit": "animal-protection",
        "stage1_hours": 8,
        "stage2_days": 10,
    }
    assert len(reloads.seen) == 1


def test_dispatch_items_through_the_api(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    admin, a, agent, agent_a, _, url = api_draft(console_server, "dispatch")
    assert agent.get(url).status_code == 403
    new = {**NEW, "revision": 1, "item": "24", "unit": "animal-protection"}
    assert agent.post(url, json=new, headers=agent_a).status_code == 403
    bad = admin.post(url, json={**new, "stage2_days": "8", "stage2_hours": "4"}, headers=a)
    assert bad.status_code == 422
    assert [p["reason"] for p in bad.json()["problems"]] == [
        "give stage 2 in days or in hours, not both"
    ]
    done = admin.post(url, json=new, headers=a)
    assert done.status_code == 200, done.text
    listed = admin.get(url).json()
    assert listed[-1]["values"]["item"] == "24"
    assert listed[-1]["problems"] == []
    changed = admin.put(f"{url}/22", json={**new, "revision": 2, "note": "dogs only"}, headers=a)
    assert changed.status_code == 200, changed.text
    assert admin.get(url).json()[-1]["values"]["note"] == "dogs only"

    # What refers to item 24: an open order. Removal is refused until confirmed.
    number = open_order(console_server, 24)
    refs = admin.get(f"{url}/22/references").json()
    assert [r["where"] for r in refs] == ["cases"]
    assert number in refs[0]["what"]
    told = admin.post(f"{url}/22/remove", json={"revision": 3}, headers=a)
    assert told.status_code == 409
    assert told.json()["references"] == refs
    gone = admin.post(f"{url}/22/remove", json={"revision": 3, "confirm": True}, headers=a)
    assert gone.status_code == 200, gone.text
    assert len(admin.get(url).json()) == 22
    # Nothing refers to item 1: removed at once.
    first = admin.post(f"{url}/0/remove", json={"revision": 4}, headers=a)
    assert first.status_code == 200, first.text
    spec = admin.get("/api/v1/openapi.json").json()
    assert "/api/v1/routing/drafts/{draft_id}/dispatch/{index}/remove" in spec["paths"]


def test_admin_changes_the_merge_radius_refused_at_the_field_then_saved(
    console_server: ConsoleServer, site: tuple[Site, Reloads], page: Page
) -> None:
    draft_id = open_editor(page, console_server, "dispatch")
    expect(page.locator("#merge_radius_m")).to_have_value("30")

    def save(typed: str) -> None:
        type_into(page, "#merge_radius_m", typed)

    save("9000")
    expect(page.locator("#merge_radius_m-error")).to_contain_text("5000")
    expect(page.locator("#merge_radius_m")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#merge_radius_m")).to_have_value("9000")
    assert_accessible(page, "a merge radius refused at its field")
    assert console_server.run(rv.draft(console_server.console.store, draft_id)).revision == 1

    save("50")
    expect(page.locator(".notice[role=status]")).to_have_text("Draft saved.")
    expect(page.locator("#merge_radius_m")).to_have_value("50")
    text = console_server.run(rv.draft(console_server.console.store, draft_id)).files[
        "dispatch_items.yaml"
    ]
    assert yaml.safe_load(text)["merge_radius_m"] == 50


def test_the_merge_radius_through_the_api(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    admin, a, agent, agent_a, _, url = api_draft(console_server, "dispatch/settings/merge_radius_m")
    assert admin.get(url).json() == {"merge_radius_m": "30", "problems": []}
    body = {"revision": 1, "merge_radius_m": 12.5}
    assert agent.put(url, json=body, headers=agent_a).status_code == 403
    bad = admin.put(url, json={**body, "merge_radius_m": -1}, headers=a)
    assert bad.status_code == 422, bad.text
    assert [p["path"] for p in bad.json()["problems"]] == ["merge_radius_m"]
    assert admin.put(url, json=body, headers=a).status_code == 200
    assert admin.get(url).json()["merge_radius_m"] == "12.5"
