"""The agents and queues editor of a routing draft, keyboard only in Debian's chromium,
axe on every state (issue 17): a language the agent does not speak refused at its
field, fixed with a skill, published; a queue's wait refused at its field; the API's roles.
"""

from __future__ import annotations

import yaml
from playwright.sync_api import Page, expect

from ivr.routing.publish import Site
from ivr.routing.versions import read_document
from ivr.store import routing_versions as rv
from tests.web.conftest import ConsoleServer, assert_accessible, screenshot
from tests.web.routing_editor import (
    api_draft,
    fill,
    open_editor,
    publish,
)
from tests.web.test_routing_admin import Reloads, site

__all__ = ["site"]  # the fixture, shared with the editor's other tests


def test_admin_changes_an_agents_skills_and_language_and_publishes(
    console_server: ConsoleServer, site: tuple[Site, Reloads], page: Page
) -> None:
    made, reloads = site
    base = console_server.url
    draft_id = open_editor(page, console_server, "agents")
    expect(page.locator("#agents-1-skills")).to_have_value("zh-TW, en, dispatch")
    # A SIP secret never reaches the page.
    expect(page.locator("main")).not_to_contain_text("dev-7002")
    assert_accessible(page, "agents and queues as shipped")

    fill(page, {"language": "nan"}, "agents-1")
    error = page.locator("#agents-1-language-error")
    expect(error).to_contain_text("nan is not one of the agent's skills")
    expect(page.locator("#agents-1-language")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "a language refused at its field")
    assert console_server.run(rv.draft(console_server.console.store, draft_id)).revision == 1

    fill(page, {"skills": "zh-TW, en, nan, dispatch", "language": "nan"}, "agents-1")
    expect(page.locator(".notice[role=status]")).to_have_text("Draft saved.")
    expect(page.locator("#agents-1-skills")).to_have_value("zh-TW, en, nan, dispatch")

    fill(page, {"max_wait_s": "10"}, "queues-1")
    expect(page.locator("#queues-1-max_wait_s-error")).to_contain_text("30")
    assert_accessible(page, "a queue's wait refused at its field")
    screenshot(page, "routing-agents")

    page.goto(f"{base}/admin/routing/drafts/{draft_id}")
    publish(page, "a02 takes Taiwanese callers")
    expect(page.locator(".notice")).to_have_text("Version 2 published.")
    text = read_document(made.routing_dir)["agents.yaml"]
    a02 = yaml.safe_load(text)["agents"][1]
    assert (a02["skills"], a02["language"]) == (["zh-TW", "en", "nan", "dispatch"], "nan")
    assert a02["secret"] == "dev-7002-Taipei!"
    assert len(reloads.seen) == 1


def test_agents_and_queues_through_the_api(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    admin, a, agent, agent_a, _, url = api_draft(console_server, "agents")
    assert agent.get(url).status_code == 403
    queue = {"revision": 1, "skills": ["zh-TW"], "strategy": "ringall", "max_wait_s": 10}
    put = agent.put(f"{url}/queues/0", json=queue, headers=agent_a)
    assert put.status_code == 403
    bad = admin.put(f"{url}/queues/0", json=queue, headers=a)
    assert bad.status_code == 422
    assert [p["path"] for p in bad.json()["problems"]] == ["queues[0].max_wait_s"]
    done = admin.put(f"{url}/queues/0", json={**queue, "max_wait_s": 900}, headers=a)
    assert done.status_code == 200, done.text
    [general] = [q for q in admin.get(url).json()["queues"] if q["values"]["id"] == "general"]
    assert general["values"]["strategy"] == "ringall"
    assert general["values"]["max_wait_s"] == "900"
    assert "secret" not in admin.get(url).json()["agents"][0]["values"]
    assert (
        admin.put(f"{url}/queues/99", json={**queue, "revision": 2}, headers=a).status_code == 404
    )
