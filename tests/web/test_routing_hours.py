"""The weekly hours editor of a routing draft, keyboard only in Debian's chromium, axe on
every state (issue 17): a day's ranges saved as typed, the checker's error shown at the
day with the CLI's own text, a publish refused for it, fixed, published; the API's roles.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from playwright.sync_api import Page, expect

from ivr.cli.routing import routing_problems
from ivr.domain.vocabulary import Role
from ivr.routing.publish import Site
from ivr.routing.versions import read_document, write_document
from ivr.store import routing_versions as rv
from ivr.store.audit import entries
from tests.web.conftest import (
    REPO,
    ConsoleServer,
    assert_accessible,
    screenshot,
)
from tests.web.routing_editor import (
    api_draft,
    follow,
    open_editor,
    person,
    publish,
    tab_to,
    type_into,
)
from tests.web.test_routing_admin import Reloads, site

__all__ = ["site"]  # the fixture, shared with the editor's other tests


def cli_reasons(files: dict[str, str], where: Path, path: str) -> list[str]:
    """What `ivr routing check` says at `path` of hours.yaml for these files."""
    where.mkdir()
    write_document(files, where)
    problems = routing_problems(where, REPO / "recordings")
    return [
        p.reason for p in problems if Path(p.file).name == "hours.yaml" and p.path.startswith(path)
    ]


def test_admin_edits_office_hours_is_refused_at_publish_fixes_and_publishes(
    console_server: ConsoleServer, site: tuple[Site, Reloads], page: Page, tmp_path: Path
) -> None:
    made, reloads = site
    admin = person(console_server, Role.ADMIN)
    draft_id = open_editor(page, console_server, "hours", admin)
    expect(page.locator("h1")).to_contain_text("Weekly hours: draft")
    # Taipei answers around the clock: no weekly hours to edit, only office hours.
    expect(page.locator("#weekly-absent")).to_be_visible()
    expect(page.locator("#office_hours-mon")).to_have_value("08:30-12:30, 13:30-17:30")
    expect(page.locator("#office_hours-sat")).to_have_value("")
    assert_accessible(page, "office hours as shipped")

    # Saved as typed (a draft need not be valid); the checker's words at the day.
    type_into(page, "#office_hours-mon", "13:30-12:30, 13:30-17:30")
    expect(page.locator(".notice[role=status]")).to_have_text("Draft saved.")
    field = page.locator("#office_hours-mon")
    expect(field).to_have_value("13:30-12:30, 13:30-17:30")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "office_hours-hint office_hours-mon-error")
    draft = console_server.run(rv.draft(console_server.console.store, draft_id))
    assert draft.revision == 2
    [reason] = cli_reasons(draft.files, tmp_path / "bad", "office_hours.mon")
    assert "ends before it starts" in reason
    expect(page.locator("#office_hours-mon-error")).to_have_text(reason)
    assert_accessible(page, "a day's error at the field")

    # Publishing refuses the draft, with the same problem at its field.
    follow(page, f'a[href="/admin/routing/drafts/{draft_id}"]')
    publish(page, "Monday afternoons only")
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("refused: 1 problem(s) in the draft")
    expect(summary).to_contain_text(f"hours.yaml: office_hours.mon[0]: {reason}")
    assert_accessible(page, "publish refused")
    assert (
        console_server.run(rv.versions(console_server.console.store, made.profile))[0].number == 1
    )

    follow(page, "#edit-hours")
    expect(page.locator("#office_hours-mon-error")).to_have_text(reason)
    type_into(page, "#office_hours-mon", "08:30-12:30")
    expect(page.locator("#office_hours-mon-error")).to_have_count(0)
    type_into(page, "#office_hours-sat", "09:00-12:00")
    expect(page.locator("#check-ok")).to_be_visible()
    expect(page.locator("#office_hours-sat")).to_have_value("09:00-12:00")
    assert_accessible(page, "office hours changed")
    screenshot(page, "routing-hours")

    follow(page, f'a[href="/admin/routing/drafts/{draft_id}"]')
    publish(page, "Monday mornings; Saturday mornings open")
    expect(page.locator(".notice")).to_have_text("Version 2 published.")
    expect(page.locator("main")).to_contain_text("office_hours")
    on_disk = yaml.safe_load(read_document(made.routing_dir)["hours.yaml"])
    assert on_disk["office_hours"]["mon"] == [["08:30", "12:30"]]
    assert on_disk["office_hours"]["sat"] == [["09:00", "12:00"]]
    assert on_disk["office_hours"]["tue"] == [["08:30", "12:30"], ["13:30", "17:30"]]
    assert len(reloads.seen) == 1
    edits = [
        r
        for r in console_server.run(entries(console_server.console.store, who=admin))
        if r.action == "routing_edit"
    ]
    assert len(edits) == 3
    assert "office_hours" in (edits[-1].detail or "")


def test_the_hours_through_the_api(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    admin, a, agent, agent_a, _, url = api_draft(console_server, "hours")
    assert agent.get(url).status_code == 403
    day = {"revision": 1, "ranges": [["09:00", "25:00"]]}
    put = agent.put(f"{url}/office_hours/sat", json=day, headers=agent_a)
    assert put.status_code == 403
    # Saved, and told what the checker says of it.
    saved = admin.put(f"{url}/office_hours/sat", json=day, headers=a)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["revision"] == 2
    assert [p["path"] for p in body["problems"]] == ["office_hours.sat[0].end"]
    listed = admin.get(url).json()
    assert listed["always_open"] is True
    assert listed["weekly"]["present"] is False
    sat = next(x for x in listed["office_hours"]["days"] if x["day"] == "sat")
    assert sat["ranges"] == [["09:00", "25:00"]]
    assert sat["problems"] == [p["reason"] for p in body["problems"]]
    assert admin.put(f"{url}/office_hours/someday", json=day, headers=a).status_code == 422
    # Taipei has no weekly table to change: refused, nothing saved.
    stale = admin.put(f"{url}/weekly/sat", json={**day, "revision": 2}, headers=a)
    assert stale.status_code == 422
    closed = admin.put(f"{url}/office_hours/sat", json={"revision": 2, "ranges": []}, headers=a)
    assert closed.status_code == 200, closed.text
    assert closed.json()["problems"] == []
    again = admin.put(f"{url}/office_hours/sat", json={"revision": 2, "ranges": []}, headers=a)
    assert again.status_code == 409
    spec = admin.get("/api/v1/openapi.json").json()
    assert "/api/v1/routing/drafts/{draft_id}/hours/{key}/{day}" in spec["paths"]


def test_admin_turns_always_open_off_gets_a_weekly_table_edits_it_and_turns_it_on_again(
    console_server: ConsoleServer, site: tuple[Site, Reloads], page: Page, tmp_path: Path
) -> None:
    draft_id = open_editor(page, console_server, "hours")
    # Taipei answers always: no weekly table to edit, and the box says so.
    expect(page.locator("#always_open")).to_be_checked()
    expect(page.locator("#weekly-absent")).to_be_visible()

    tab_to(page, "#always_open")
    page.keyboard.press("Space")
    tab_to(page, "#mode-save")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".notice[role=status]")).to_have_text("Draft saved.")
    expect(page.locator("#always_open")).not_to_be_checked()
    # The new table starts from the office hours, a day at a time to edit.
    expect(page.locator("#weekly-mon")).to_have_value("08:30-12:30, 13:30-17:30")
    expect(page.locator("#weekly-sat")).to_have_value("")
    # Closed hours now need a destination: the checker's own words, at its form.
    draft = console_server.run(rv.draft(console_server.console.store, draft_id))
    expected = cli_reasons(draft.files, tmp_path / "cli", "closed")
    assert expected
    expect(page.locator("#closed-error")).to_contain_text(expected[0])
    assert_accessible(page, "hours by the week, made from the office hours")

    tab_to(page, "#closed-kind")
    page.keyboard.type("q")
    expect(page.locator("#closed-kind")).to_have_value("queue")
    type_into(page, "#closed-target", "general")
    expect(page.locator("#check-ok")).to_be_visible()
    expect(page.locator("#closed-kind")).to_have_value("queue")

    type_into(page, "#weekly-sat", "09:00-12:00")
    expect(page.locator("#weekly-sat")).to_have_value("09:00-12:00")
    hours = yaml.safe_load(
        console_server.run(rv.draft(console_server.console.store, draft_id)).files["hours.yaml"]
    )
    assert hours["always_open"] is False
    assert hours["weekly"]["sat"] == [["09:00", "12:00"]]
    assert hours["closed"] == {"type": "queue", "queue": "general"}

    tab_to(page, "#always_open")
    page.keyboard.press("Space")
    tab_to(page, "#mode-save")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#weekly-absent")).to_be_visible()
    expect(page.locator("#check-ok")).to_be_visible()
    assert_accessible(page, "always open again")
    hours = yaml.safe_load(
        console_server.run(rv.draft(console_server.console.store, draft_id)).files["hours.yaml"]
    )
    assert hours["always_open"] is True
    assert "weekly" not in hours


def test_always_open_through_the_api(
    console_server: ConsoleServer, site: tuple[Site, Reloads]
) -> None:
    admin, a, agent, agent_a, _, url = api_draft(console_server, "hours")
    off = {"revision": 1, "always_open": False}
    assert agent.put(f"{url}/always_open", json=off, headers=agent_a).status_code == 403
    done = admin.put(f"{url}/always_open", json=off, headers=a)
    assert done.status_code == 200, done.text
    seen = admin.get(url).json()
    assert (seen["always_open"], seen["weekly"]["present"]) == (False, True)
    assert seen["weekly"]["days"][0]["ranges"] == [["08:30", "12:30"], ["13:30", "17:30"]]
    stale = admin.put(f"{url}/always_open", json={**off, "always_open": True}, headers=a)
    assert stale.status_code == 409
    assert seen["closed"]["kind"] == ""
    assert seen["closed"]["problems"]
    route = {"revision": 2, "kind": "queue", "target": "general"}
    assert admin.put(f"{url}/closed", json=route, headers=a).status_code == 200
    seen = admin.get(url).json()
    assert seen["closed"] == {"kind": "queue", "target": "general", "then": "", "problems": []}
    back = admin.put(f"{url}/always_open", json={"revision": 3, "always_open": True}, headers=a)
    assert back.status_code == 200
    assert admin.get(url).json()["weekly"]["present"] is False
