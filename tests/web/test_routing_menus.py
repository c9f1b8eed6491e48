"""The menu editor of a routing draft, keyboard only in Debian's chromium, axe on every
state (issue 17): a key sent to a queue that does not exist is saved and shown wrong
at its field with the CLI's words, publishing is refused, the key fixed and published;
and the same in the JSON API, where an agent is refused.
"""

from __future__ import annotations

import yaml
from playwright.sync_api import Page, expect

from ivr.routing.menu_edit import DEST_FIELDS, add_menu, destination, drop, menu_refs, put
from ivr.routing.publish import Site, check_files
from ivr.routing.versions import parse_document, read_document
from ivr.store import routing_versions as rv
from ivr.web.routing_menu_words import keys
from tests.web.conftest import (
    REPO,
    ConsoleServer,
    assert_accessible,
    screenshot,
)
from tests.web.routing_editor import (
    api_draft,
    open_editor,
    publish,
    type_into,
)
from tests.web.test_routing_admin import Reloads, site

__all__ = ["site"]  # the fixture, shared with the editor's other tests

MENUS = (REPO / "routing" / "taipei" / "menus.yaml").read_text(encoding="utf-8")
NO_QUEUE = "no queue 'nowhere' in agents.yaml"


def test_every_destination_type_has_its_words() -> None:
    assert {f"type_{k}" for k in DEST_FIELDS} <= set(keys())


def test_edits_change_only_their_lines_and_keep_comments() -> None:
    # A one-line option, a block option (key 4, five lines) and a new key.
    text = put(MENUS, ["menus", "main", "options"], "1", {"type": "queue", "queue": "petition"})
    text = put(text, ["menus", "main", "options"], "4", {"type": "unit", "unit": "pwd-roads"})
    text = put(text, ["menus", "main", "options"], "7", {"type": "menu", "menu": "taiwanese"})
    text = put(text, ["menus", "main"], "max_tries", 2)
    data = yaml.safe_load(text)
    main = data["menus"]["main"]
    assert main["options"]["1"] == {"type": "queue", "queue": "petition"}
    assert main["options"]["4"] == {"type": "unit", "unit": "pwd-roads"}
    assert main["options"]["7"] == {"type": "menu", "menu": "taiwanese"}
    assert main["max_tries"] == 2
    assert data["menus"]["main-en"] == yaml.safe_load(MENUS)["menus"]["main-en"]
    assert "# 諮詢 consultation" in text
    assert "# 派工 report a problem" in text
    assert len(text.splitlines()) == len(MENUS.splitlines()) - 5 + 2


def test_a_same_type_destination_keeps_its_other_fields() -> None:
    old = {"type": "emergency", "prompt": "a", "trunk": "t", "number": "119"}
    assert destination("emergency", "b", old=old) == {**old, "prompt": "b"}
    assert destination("queue", "general", old=old) == {"type": "queue", "queue": "general"}
    assert destination("case_check", "", "main") == {"type": "case_check", "then": "main"}


def test_a_menu_is_added_and_what_leads_to_it_is_found() -> None:
    dest = {"type": "queue", "queue": "general"}
    text = add_menu(MENUS, "parks", "parks-menu", dest)
    assert yaml.safe_load(text)["menus"]["parks"] == {
        "prompt": "parks-menu",
        "options": {"0": dest},
        "on_exhausted": dest,
    }
    text = put(text, ["menus", "main", "options"], "8", {"type": "menu", "menu": "parks"})
    refs = menu_refs(parse_document({"menus.yaml": text}), "parks")
    assert [(f, p) for f, p, _ in refs] == [("menus.yaml", 'menus.main.options["8"].menu')]
    text = drop(text, ["menus", "main", "options"], "8")
    text = drop(text, ["menus"], "parks")
    assert yaml.safe_load(text) == yaml.safe_load(MENUS)
    taiwanese = menu_refs(parse_document({"menus.yaml": MENUS}), "taiwanese")
    assert [p for _, p, _ in taiwanese] == ['menus.language.options["5"].menu']


def test_admin_sends_a_key_nowhere_sees_it_at_the_field_fixes_and_publishes(
    console_server: ConsoleServer, site: tuple[Site, Reloads], page: Page
) -> None:
    made, reloads = site
    base = console_server.url
    draft_id = open_editor(page, console_server, "menus")
    expect(page.locator("#check-ok")).to_be_visible()
    expect(page.locator("#r-main-1-target")).to_have_value("general")
    expect(page.locator("#refs-taiwanese")).to_contain_text('menus.language.options["5"].menu')
    assert_accessible(page, "menus of a new draft")

    type_into(page, "#r-main-1-target", "nowhere")
    expect(page.locator(".notice[role=status]")).to_have_text("Draft saved.")
    error = page.locator("#r-main-1-target-error")
    expect(error).to_have_text(NO_QUEUE)
    field = page.locator("#r-main-1-target")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute(
        "aria-describedby", "r-main-1-target-hint r-main-1-target-error"
    )
    assert_accessible(page, "a key sent to a queue that does not exist")
    draft = console_server.run(rv.draft(console_server.console.store, draft_id))
    assert draft.revision == 2
    # The same words as `ivr routing check`, which the site's checker is.
    assert 'menus.yaml: menus.main.options["1"].queue: ' + NO_QUEUE in {
        str(p) for p in check_files(made, draft.files)
    }

    page.goto(f"{base}/admin/routing/drafts/{draft_id}")
    publish(page, "Key 1 to a queue that is not there")
    expect(page.locator("main")).to_contain_text(NO_QUEUE)
    assert reloads.seen == []

    page.goto(f"{base}/admin/routing/drafts/{draft_id}/menus")
    type_into(page, "#r-main-1-target", "petition")
    expect(page.locator("#check-ok")).to_be_visible()
    expect(page.locator("#r-main-1-target-error")).to_have_count(0)
    type_into(page, "#s-main-max_tries", "2")
    expect(page.locator("#s-main-max_tries")).to_have_value("2")
    assert_accessible(page, "fixed")
    screenshot(page, "routing-menus")

    page.goto(f"{base}/admin/routing/drafts/{draft_id}")
    publish(page, "Key 1 of the main menu goes to petitions")
    expect(page.locator(".notice")).to_contain_text("published.")
    on_disk = yaml.safe_load(read_document(made.routing_dir)["menus.yaml"])
    assert on_disk["menus"]["main"]["options"]["1"] == {"type": "queue", "queue": "petition"}
    assert on_disk["menus"]["main"]["max_tries"] == 2
    assert len(reloads.seen) == 1


def test_the_menus_through_the_api(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    admin, a, agent, agent_a, d, url = api_draft(console_server, "menus")
    assert agent.get(url).status_code == 403
    route = {"revision": d["revision"], "type": "queue", "target": "nowhere"}
    refused = agent.post(f"{url}/main/routes/1", json=route, headers=agent_a)
    assert refused.status_code == 403
    saved = admin.post(f"{url}/main/routes/1", json=route, headers=a)
    assert saved.status_code == 200, saved.text
    seen = admin.get(url).json()
    main = next(m for m in seen["menus"] if m["name"] == "main")
    one = next(r for r in main["routes"] if r["key"] == "1")
    assert one == {
        "key": "1",
        "type": "queue",
        "target": "nowhere",
        "then": "",
        "problems": [NO_QUEUE],
    }
    assert "petition" in seen["choices"]["queue"]
    assert "taiwanese" in seen["choices"]["menu"]

    stale = admin.post(f"{url}/main/routes/1", json=route, headers=a)
    assert stale.status_code == 409
    used = admin.get(f"{url}/taiwanese/references").json()
    assert used == ['menus.yaml: menus.language.options["5"].menu: leads callers to menu taiwanese']
    kept = admin.post(f"{url}/taiwanese/remove", json={"revision": 2}, headers=a)
    assert kept.status_code == 409
    assert "menus.language.options" in kept.json()["detail"]
    assert admin.post(f"{url}/main/routes/x", json=route, headers=a).status_code == 422
    bad_type = admin.post(
        f"{url}/main/routes/1", json={**route, "revision": 2, "type": "teleport"}, headers=a
    )
    assert bad_type.status_code == 422
    paths = admin.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/routing/drafts/{draft_id}/menus/{menu}/routes/{key}" in paths
