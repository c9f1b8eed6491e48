"""What the routing editor's keyboard-only tests do again and again: reach a control
with Tab, type into fields and send the form, start a draft and open one of its
editors, publish a draft, roll a version back.

Every step is by keyboard, as an admin without a mouse works; a control that Tab does
not reach fails the test.
"""

from __future__ import annotations

import uuid

from playwright.sync_api import Page

from ivr.domain.vocabulary import Role
from tests.web.conftest import ConsoleServer, sign_in_by_keyboard


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
