"""The calendar exceptions editor of a routing draft, keyboard only in Debian's
chromium, axe on every state (issue 17): an impossible date refused at its field, a
local day off and a half day added, one removed, published, rolled back.
"""

from __future__ import annotations

import yaml
from playwright.sync_api import Page, expect

from ivr.routing.publish import Site
from ivr.routing.versions import read_document
from ivr.store import routing_versions as rv
from ivr.web.routing_calendar import LISTS
from ivr.web.routing_words import keys
from tests.web.conftest import ConsoleServer, assert_accessible, screenshot
from tests.web.routing_editor import (
    api_draft,
    fill,
    follow,
    open_editor,
    publish,
    roll_back,
)
from tests.web.test_routing_admin import Reloads, site

__all__ = ["site"]  # the fixture, shared with the editor's other tests


def test_every_list_and_field_has_its_words() -> None:
    words = set(keys())
    for key, fields in LISTS.items():
        assert {f"cal_{key}", f"cal_add_{key}"} <= words
        assert {f"cal_field_{f}" for f in fields} <= words
        assert {f"cal_hint_{f}" for f in fields} <= words


def test_admin_adds_a_day_off_is_refused_at_the_field_publishes_and_rolls_back(
    console_server: ConsoleServer, site: tuple[Site, Reloads], page: Page
) -> None:
    made, reloads = site
    base = console_server.url
    draft_id = open_editor(page, console_server, "calendar")
    expect(page.locator("#holidays-none")).to_be_visible()
    assert_accessible(page, "calendar exceptions, none yet")

    fill(page, {"date": "2027-02-30", "name": "市府停止上班"}, "holidays")
    error = page.locator("#holidays-date-error")
    expect(error).to_contain_text("day value is outside expected range")
    field = page.locator("#holidays-date")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "holidays-date-hint holidays-date-error")
    expect(page.locator("#holidays-name")).to_have_value("市府停止上班")
    assert_accessible(page, "impossible date refused at the field")
    draft = console_server.run(rv.draft(console_server.console.store, draft_id))
    assert draft.revision == 1

    fill(page, {"date": "2027-05-03"}, "holidays")
    expect(page.locator(".notice[role=status]")).to_have_text("Draft saved.")
    expect(page.locator("#holidays-0")).to_contain_text("2027-05-03")
    expect(page.locator("#holidays-0")).to_contain_text("市府停止上班")
    fill(page, {"date": "2027-02-03", "name": "春節前半日", "closes_at": "12:00"}, "half_days")
    expect(page.locator("#half_days-0")).to_contain_text("12:00")
    assert_accessible(page, "a day off and a half day")
    screenshot(page, "routing-calendar")
    follow(page, "#half_days-remove-0")
    expect(page.locator("#half_days-none")).to_be_visible()
    draft = console_server.run(rv.draft(console_server.console.store, draft_id))
    hours = yaml.safe_load(draft.files["hours.yaml"])
    assert hours["holidays"] == [{"date": "2027-05-03", "name": "市府停止上班"}]
    assert hours["half_days"] == []

    follow(page, f'a[href="/admin/routing/drafts/{draft_id}"]')
    publish(page, "City offices closed on 3 May 2027")
    expect(page.locator(".notice")).to_have_text("Version 2 published.")
    expect(page.locator("tr.change").first).to_contain_text("hours.yaml")
    expect(page.locator("main")).to_contain_text("2027-05-03")
    assert_accessible(page, "calendar published")
    on_disk = yaml.safe_load(read_document(made.routing_dir)["hours.yaml"])
    assert [h["name"] for h in on_disk["holidays"]] == ["市府停止上班"]

    page.goto(f"{base}/admin/routing")
    roll_back(page, "Not a day off after all")
    expect(page.locator(".notice")).to_have_text("Version 3 published.")
    assert yaml.safe_load(read_document(made.routing_dir)["hours.yaml"])["holidays"] == []
    assert len(reloads.seen) == 2


def test_the_calendar_through_the_api(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    admin, a, agent, agent_a, _, url = api_draft(console_server, "calendar")
    assert agent.get(url).status_code == 403
    day = {"revision": 1, "date": "2027-02-03", "name": "春節前半日", "closes_at": "25:00"}
    assert agent.post(f"{url}/half_days", json=day, headers=agent_a).status_code == 403
    bad = admin.post(f"{url}/half_days", json=day, headers=a)
    assert bad.status_code == 422
    assert [p["path"] for p in bad.json()["problems"]] == ["half_days[0].closes_at"]
    assert admin.post(f"{url}/weekends", json=day, headers=a).status_code == 422
    done = admin.post(f"{url}/half_days", json={**day, "closes_at": "12:00"}, headers=a)
    assert done.status_code == 200, done.text
    listed = admin.get(url).json()
    assert listed["half_days"] == [
        {
            "index": 0,
            "date": "2027-02-03",
            "name": "春節前半日",
            "closes_at": "12:00",
            "problems": [],
        }
    ]
    assert listed["holidays"] == []
    gone = admin.post(
        f"{url}/half_days/0/remove", json={"revision": done.json()["revision"]}, headers=a
    )
    assert gone.status_code == 200, gone.text
    assert admin.get(url).json()["half_days"] == []
