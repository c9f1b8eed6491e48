"""What the routing editor's keyboard-only tests do again and again: reach a control
with Tab, type into fields and send the form, start a draft and open one of its
editors, publish a draft, roll a version back; and in the JSON API, a new draft's
editor with an admin and an agent signed in.

Every step is by keyboard, as an admin without a mouse works; a control that Tab does
not reach fails the test.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, NamedTuple

import httpx
from playwright.sync_api import Page

from ivr.domain.vocabulary import Role
from tests.web.conftest import PASSWORD, ConsoleServer, sign_in_by_keyboard


def person(server: ConsoleServer, role: Role) -> str:
    name = f"{role.value}-{uuid.uuid4().hex[:6]}"
    server.user(name, role, language="en")
    return name


def tab_to(page: Page, selector: str, most: int = 80) -> None:
    """Press Tab until the control is focused: it is reachable by keyboard, in order."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} was not reached with Tab")


def enter(page: Page) -> None:
    """Press Enter on the focused control and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def follow(page: Page, selector: str, most: int = 80) -> None:
    """Tab to a link or button and press Enter on it."""
    tab_to(page, selector, most)
    enter(page)


def fill(page: Page, values: dict[str, str], prefix: str, most: int = 200) -> None:
    """Type each value over the field `#{prefix}-{name}`, then send the form."""
    for name, value in values.items():
        tab_to(page, f"#{prefix}-{name}", most)
        page.keyboard.press("Control+A")
        page.keyboard.type(value)
    enter(page)


def type_into(page: Page, selector: str, text: str, most: int = 200) -> None:
    """Type `text` over one field and send its form."""
    tab_to(page, selector, most)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    enter(page)


def open_editor(page: Page, server: ConsoleServer, editor: str, admin: str | None = None) -> int:
    """Sign in as an admin (a new one unless named), start a new draft from the routing
    overview and open its `editor` (the `#edit-…` link): the draft's id."""
    sign_in_by_keyboard(page, server.url, admin or person(server, Role.ADMIN))
    page.goto(f"{server.url}/admin/routing")
    follow(page, "#new-draft")
    draft_id = int(page.url.rsplit("/", 1)[1].split("?")[0])
    follow(page, f"#edit-{editor}")
    return draft_id


def publish(page: Page, comment: str) -> None:
    """On a draft's page: type the comment and press Publish."""
    tab_to(page, "#comment")
    page.keyboard.type(comment)
    follow(page, "#publish")


def roll_back(page: Page, comment: str) -> None:
    """On the routing overview: roll back to version 1, with the comment."""
    tab_to(page, "#rollback-comment-1")
    page.keyboard.type(comment)
    page.keyboard.press("Tab")
    enter(page)


def signed_in(server: ConsoleServer, username: str) -> tuple[httpx.Client, str]:
    c = httpx.Client(base_url=server.url, follow_redirects=False, timeout=60)
    form = c.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    reply = c.post(
        "/signin", data={"username": username, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert reply.status_code == 303, reply.text
    home = c.get(reply.headers["location"])
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert csrf is not None
    return c, csrf[1]


class ApiDraft(NamedTuple):
    """A new draft in the API, by an admin, and an agent signed in beside them."""

    admin: httpx.Client
    headers: dict[str, str]  # the admin's CSRF header
    agent: httpx.Client
    agent_headers: dict[str, str]
    draft: dict[str, Any]
    url: str  # the draft's `part` editor


def api_draft(server: ConsoleServer, part: str) -> ApiDraft:
    admin, csrf = signed_in(server, person(server, Role.ADMIN))
    agent, agent_csrf = signed_in(server, person(server, Role.AGENT))
    headers = {"X-CSRF-Token": csrf}
    d = admin.post("/api/v1/routing/drafts", headers=headers).json()
    url = f"/api/v1/routing/drafts/{d['id']}/{part}"
    return ApiDraft(admin, headers, agent, {"X-CSRF-Token": agent_csrf}, d, url)
