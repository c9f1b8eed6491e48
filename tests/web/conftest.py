"""A real console over a real (SQLite) store, and Debian's chromium driven by Playwright.

The server runs in a thread with its own event loop; a test reaches the store through
`console_server.run(coro)`, which runs the coroutine on that loop. The clock is one the
test can move (session expiry), passed in as the engine passes its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from argon2 import PasswordHasher
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

from ivr.domain.vocabulary import Role
from ivr.routing.loader import load_profile
from ivr.routing.publish import ReloadOutcome, Site
from ivr.routing.view import build_view
from ivr.store import CaseStore, default_sqlite_url
from ivr.store.users import User
from ivr.web.app import create_app
from ivr.web.context import Console
from tests.harness import free_port
from tests.migrated import copy_migrated_sqlite

T = TypeVar("T")
PASSWORD = "correct-horse-battery-staple"
# Every HTTP request a test makes waits up to this: a guard against a hang, not a speed
# target. httpx's own 5 s is one: the first request for the OpenAPI document builds
# it, and on a loaded 2-core machine that took longer.
HTTP_TIMEOUT = 60.0
# The users a test adds get argon2id at its least cost. A password is checked against
# the parameters its own stored hash names, so each sign-in then costs a millisecond
# instead of 0.3 s of CPU, and the browser tests sign in hundreds of times. Hashing at
# the console's own cost is tested in tests/store/test_console_users.py.
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# Debian's build of Chromium's headless shell: the same Blink, layout and
# accessibility tree as the full browser, without its windowing and GPU stack. It is
# what Playwright itself runs for headless tests, and it costs about a third less CPU
# per page than the full `chromium` in its new headless mode (bench/README.md).
CHROMIUM = "/usr/bin/chromium-headless-shell"
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "console"


@dataclass
class MovableClock:
    """The console's clock, set by the test: real time plus an offset it can grow."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class ConsoleServer:
    url: str
    console: Console
    loop: asyncio.AbstractEventLoop
    clock: MovableClock

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def user(self, username: str, role: Role, **fields: Any) -> User:
        return self.run(
            self.console.users.add(
                username, PASSWORD, role=role, at=self.clock(), display_name=username, **fields
            )
        )


def routing_site(work: Path) -> Site:
    """Routing versions published into a copy of Taipei's profile, with the real check;
    no engine runs here, so reloading is a no-op that says so."""
    from ivr.cli.routing import routing_problems as _routing_problems

    profile = work / "taipei"
    shutil.copytree(REPO / "routing" / "taipei", profile)

    async def reload() -> ReloadOutcome:
        return ReloadOutcome(True, ("no engine in this test",))

    def check(directory: Path) -> list[Any]:
        return _routing_problems(directory, REPO / "recordings")

    return Site("taipei", profile, work / "run", check, reload)


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    """A console on a free port, on a migrated SQLite store, without a phone system."""
    tables = load_profile(REPO / "routing" / "taipei")
    view = build_view(tables)
    db_path = tmp_path_factory.mktemp("console") / "cases.db"
    copy_migrated_sqlite(db_path)
    db = default_sqlite_url(db_path)
    loop = asyncio.new_event_loop()
    clock = MovableClock()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        store = await CaseStore.open(db)
        await store.migrate()
        console = Console(
            store=store,
            tables=lambda: tables,
            clock=clock,
            view=lambda: view,
            routing_site=routing_site(tmp_path_factory.mktemp("routing")),
            password_hasher=TEST_HASHER,
        )
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(console), host="127.0.0.1", port=port, log_config=None, access_log=False
            )
        )
        holder.update(console=console, server=server, port=port)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                return
            await asyncio.sleep(0.02)
        ready.set()
        await task
        await store.close()

    def thread_main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main())

    thread = threading.Thread(target=thread_main, daemon=True)
    thread.start()
    assert ready.wait(30), "console did not start"
    yield ConsoleServer(
        url=f"http://127.0.0.1:{holder['port']}", console=holder["console"], loop=loop, clock=clock
    )
    holder["server"].should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium; Playwright never downloads a browser here."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    pg = context.new_page()
    yield pg
    context.close()


_axe = Axe()


def assert_accessible(page: Page, state: str) -> None:
    """axe-core (WCAG 2.x A/AA and best practices) finds nothing on the page as it is."""
    results = _axe.run(page)
    violations = results.response["violations"]
    described = [
        f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
        for v in violations
    ]
    assert results.violations_count == 0, f"{state}: {described}"


def sign_in_by_keyboard(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in with the keyboard alone: Tab to each field, type, Enter."""
    page.goto(f"{base}/signin?lang=en")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the language link
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
