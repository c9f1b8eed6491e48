"""The agents and queues editor of a routing draft, keyboard only in Debian's chromium,
axe on every state (issue 17): a language the agent does not speak refused at its
field, fixed with a skill, published; a queue's wait refused at its field; the API's roles.
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
    open_editor,
    person,
    publish,
    tab_to,
)
from tests.web.routing_editor import fill as send
from tests.web.test_routing_admin import Reloads, site

__all__ = ["site"]  # the fixture, shared with the editor's other tests


def open_form(page: Page, prefix: str) -> None:
    """Open a row's (or an add form's) disclosure by keyboard, unless it is open."""
    row = prefix[-1].isdigit()
    details, summary = (f"#{prefix}-details", f"#{prefix}-edit")
    if not row:
        details, summary = (f"#{prefix}-add-details", f"#{prefix}-add-open")
    if page.locator(details).get_attribute("open") is None:
        tab_to(page, summary, most=200)
        page.keyboard.press("Enter")


def fill(page: Page, values: dict[str, str], prefix: str) -> None:
    """Open the row's form, then type the values and send it."""
    open_form(page, prefix)
    send(page, values, prefix)


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


def test_admin_adds_a_queue_removes_one_after_seeing_what_refers_to_it_and_an_agent(
    console_server: ConsoleServer, site: tuple[Site, Reloads], page: Page
) -> None:
    made, _ = site
    draft_id = open_editor(page, console_server, "agents")
    # Every field of a queue is on the page, the table's defaults where the file has none.
    open_form(page, "queues-0")
    expect(page.locator("#queues-0-offer_after_s")).to_have_value("180")
    expect(page.locator("#queues-0-announce_position")).to_be_checked()

    open_form(page, "queues")
    expect(page.locator("#queues-announce_position")).to_be_checked()
    expect(page.locator("#queues-callback_hold_s")).to_have_value("3600")
    water = {"id": "water", "name": "自來水", "skills": "zh-TW", "strategy": "ringall"}
    fill(page, {**water, "max_wait_s": "600", "other_language_queue": "nosuch"}, "queues")
    expect(page.locator("#queues-other_language_queue-error")).to_contain_text("nosuch")
    expect(page.locator("#queues-name")).to_have_value("自來水")
    assert_accessible(page, "a new queue refused at its field")
    assert console_server.run(rv.draft(console_server.console.store, draft_id)).revision == 1

    fill(page, {"other_language_queue": "english", "wrapup_s": "15"}, "queues")
    expect(page.locator(".notice[role=status]")).to_have_text("Draft saved.")
    expect(page.locator("#queues-6-row")).to_contain_text("water")

    # An agent's extension taken by another agent: the checker's words at the field.
    # Its first place is this row, so the checker reports the other: refused here all
    # the same, at the extension.
    fill(page, {"extension": "7002"}, "agents-0")
    expect(page.locator("#agents-0-extension-error")).to_contain_text(
        "agents[1].extension: extension 7002 is already at agents[0].extension"
    )
    expect(page.locator("#agents-0-extension")).to_have_attribute("aria-invalid", "true")
    fill(page, {"extension": "7011", "name": "陳淑芳"}, "agents-0")
    expect(page.locator(".notice[role=status]")).to_have_text("Draft saved.")

    # The general queue is where menus send callers: shown first, kept.
    tab_to(page, "#queues-remove-0", most=400)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#refs")).to_contain_text("sends callers to queue general")
    expect(page.locator("#refs")).to_contain_text("queue taiwanese offers queue general")
    assert_accessible(page, "what refers to a queue")
    tab_to(page, "#keep")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#queues-0-row")).to_contain_text("general")

    # Nothing names agent a06: removed at once.
    tab_to(page, "#agents-remove-5", most=400)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".notice[role=status]")).to_have_text("Draft saved.")
    expect(page.locator("#agents-5-row")).to_have_count(0)
    assert_accessible(page, "agents and queues after the changes")

    text = console_server.run(rv.draft(console_server.console.store, draft_id)).files["agents.yaml"]
    table = yaml.safe_load(text)
    assert [a["id"] for a in table["agents"]] == ["a01", "a02", "a03", "a04", "a05"]
    a01 = table["agents"][0]
    assert (a01["extension"], a01["name"], a01["secret"]) == ("7011", "陳淑芳", "dev-7001-Taipei!")
    # What was typed as the table's default (600 s, announced position) is left out.
    assert table["queues"][-1] == {
        **water,
        "skills": ["zh-TW"],
        "other_language_queue": "english",
        "wrapup_s": 15,
    }
    del made


def test_agents_and_queues_added_changed_removed_through_the_api(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    admin, a, agent, agent_a, _, url = api_draft(console_server, "agents")
    new = {"id": "a09", "name": "Kim", "extension": "7009", "skills": ["zh-TW", "en"]}
    refused = agent.post(f"{url}/agents", json={"revision": 1, **new}, headers=agent_a)
    assert refused.status_code == 403
    taken = admin.post(f"{url}/agents", json={"revision": 1, **new, "id": "a01"}, headers=a)
    assert taken.status_code == 422
    assert [p["path"] for p in taken.json()["problems"]] == ["agents[6].id"]
    added = admin.post(f"{url}/agents", json={"revision": 1, **new, "language": "en"}, headers=a)
    assert added.status_code == 200, added.text
    assert added.json()["revision"] == 2
    [kim] = [r for r in admin.get(url).json()["agents"] if r["values"]["id"] == "a09"]
    assert kim["values"]["language"] == "en"

    clash = admin.put(f"{url}/agents/0", json={"revision": 2, "extension": "7002"}, headers=a)
    assert clash.status_code == 422
    assert [p["path"] for p in clash.json()["problems"]] == ["agents[1].extension"]

    # A queue's fields beyond the first few; null gives a field back to its default.
    change = {"revision": 2, "wrapup_form": True, "callback_attempts": 4, "whisper": None}
    changed = admin.put(f"{url}/queues/4", json=change, headers=a)
    assert changed.status_code == 200, changed.text
    [taiwanese] = [q for q in admin.get(url).json()["queues"] if q["values"]["id"] == "taiwanese"]
    assert taiwanese["values"]["wrapup_form"] == "true"
    assert taiwanese["values"]["callback_attempts"] == "4"
    assert taiwanese["values"]["whisper"] == ""
    assert taiwanese["values"]["offer_after_s"] == "120"  # not sent: kept

    refs = admin.get(f"{url}/queues/0/references").json()
    assert "queues[4]" in [r["path"] for r in refs]
    held = admin.post(f"{url}/queues/0/remove", json={"revision": 3}, headers=a)
    assert held.status_code == 409
    assert held.json()["references"] == refs
    gone = admin.post(f"{url}/queues/1/remove", json={"revision": 3, "confirm": True}, headers=a)
    assert gone.status_code == 200, gone.text
    assert [q["values"]["id"] for q in admin.get(url).json()["queues"]][:2] == [
        "general",
        "dispatch",
    ]
    assert admin.post(f"{url}/agents/99/remove", json={"revision": 4}, headers=a).status_code == 404

    # An agent a console account signs in as: that account is shown first.
    username = person(console_server, Role.SUPERVISOR)  # a unique name
    console_server.user(f"{username}-a02", Role.AGENT, agent_id="a02")
    account = {
        "file": "console users",
        "path": f"{username}-a02",
        "what": f"console account {username}-a02 is agent a02",
    }
    assert account in admin.get(f"{url}/agents/1/references").json()
    held = admin.post(f"{url}/agents/1/remove", json={"revision": 4}, headers=a)
    assert held.status_code == 409
    assert account in held.json()["references"]
    # Kim, added above, is nobody's account yet.
    assert admin.get(f"{url}/agents/6/references").json() == []


def test_a_queue_or_agent_that_something_names_is_not_renamed(
    console_server: ConsoleServer, site: tuple[Site, Reloads], page: Page
) -> None:
    made, _ = site
    admin = person(console_server, Role.ADMIN)
    console_server.user(f"{admin}-a02", Role.AGENT, agent_id="a02")
    draft_id = open_editor(page, console_server, "agents", admin)

    # Menus and the Taiwanese queue send callers to general: the new id is refused at
    # the field, with each place and what the checker would say of it.
    fill(page, {"id": "consult"}, "queues-0")
    error = page.locator("#queues-0-id-error")
    expect(error).to_contain_text("queue general cannot be renamed to consult: 5 place(s)")
    expect(error).to_contain_text(
        'menus.yaml: menus.main.options["1"]: sends callers to queue general'
    )
    expect(error).to_contain_text("no queue 'general' in agents.yaml")
    expect(error).to_contain_text("queue taiwanese offers queue general to callers on key 3")
    expect(page.locator("#queues-0-id")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#queues-0-id")).to_have_value("consult")
    assert_accessible(page, "a referred queue's rename refused at its id")
    assert console_server.run(rv.draft(console_server.console.store, draft_id)).revision == 1

    # An agent a console account signs in as: the same, at the agent's id.
    fill(page, {"id": "a12"}, "agents-1")
    expect(page.locator("#agents-1-id-error")).to_contain_text(
        f"console account {admin}-a02 is agent a02"
    )
    assert console_server.run(rv.draft(console_server.console.store, draft_id)).revision == 1

    # Nothing names the sign-language queue: renamed at once.
    page.goto(f"{console_server.url}/admin/routing/drafts/{draft_id}/agents")
    fill(page, {"id": "video"}, "queues-5")
    expect(page.locator(".notice[role=status]")).to_have_text("Draft saved.")
    text = console_server.run(rv.draft(console_server.console.store, draft_id)).files["agents.yaml"]
    queues = yaml.safe_load(text)["queues"]
    assert [q["id"] for q in queues] == [
        "general",
        "english",
        "dispatch",
        "petition",
        "taiwanese",
        "video",
    ]
    # Only the id changed: the row's other fields, its neighbours and the comments are
    # the text they were (the defaults the page showed are not written in).
    shipped = read_document(made.routing_dir)["agents.yaml"]
    assert text == shipped.replace("{id: sign-language,", '{id: "video",')


def test_a_referred_rename_through_the_api(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    admin, a, _, _, _, url = api_draft(console_server, "agents")
    refs = admin.get(f"{url}/queues/0/references").json()
    refused = admin.put(f"{url}/queues/0", json={"revision": 1, "id": "consult"}, headers=a)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["references"] == refs
    paths = [p["path"] for p in body["problems"]]
    assert paths[0] == "queues[0].id"
    assert 'menus.main.options["1"].queue' in paths
    assert "queues[4].other_language_queue" in paths
    assert admin.get(url).json()["queues"][0]["values"]["id"] == "general"

    username = person(console_server, Role.SUPERVISOR)
    console_server.user(f"{username}-a03", Role.AGENT, agent_id="a03")
    held = admin.put(f"{url}/agents/2", json={"revision": 1, "id": "a13"}, headers=a)
    assert held.status_code == 422, held.text
    assert {
        "file": "console users",
        "path": f"{username}-a03",
        "what": f"console account {username}-a03 is agent a03",
    } in held.json()["references"]
    # A name change keeps the id: saved; an agent nobody signs in as is renamed.
    assert admin.put(f"{url}/queues/0", json={"revision": 1, "name": "諮詢"}, headers=a).is_success
    done = admin.put(f"{url}/agents/5", json={"revision": 2, "id": "a16"}, headers=a)
    assert done.status_code == 200, done.text
    assert admin.get(url).json()["agents"][5]["values"]["id"] == "a16"
