"""Every menu path of both shipped profiles, on a scripted Asterisk, checked against its tables.

Like the real-call walk (tests/integration/test_menu_walk.py), the paths and where
they end come from the tables, so a menu or option added later is walked too; here
each call also runs to its end: what the caller hears last, where the dialplan takes
them, and what the store keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_never

import pytest

from ivr import dialplan_vars as dv
from ivr.asterisk.generate import queue_name
from ivr.flow.case_check import ASK_NUMBER, ASK_PASSWORD, NUMBER_TRIES
from ivr.routing.menus import (
    Destination,
    ToAnnouncement,
    ToCaseCheck,
    ToEmergency,
    ToExtension,
    ToLanguage,
    ToMenu,
    ToQueue,
    ToRecord,
    ToUnit,
)
from ivr.routing.view import RoutingView
from tests.flow.conftest import Finished, FlowEngine, shipped, view_of
from tests.flow.scripted import On, key
from tests.menu_paths import Option, every_option, next_menu, path_to

PROFILES = ("taipei", "kinmen")
Check = Callable[[Finished], None]


@dataclass(frozen=True)
class End:
    """What the caller does after choosing, and what shows the call ended right."""

    after: list[On]
    check: Check


def _menu_keys(view: RoutingView, path: tuple[tuple[str, str], ...]) -> list[On]:
    return [key(view.menus.menus[menu].prompt, k) for menu, k in path]


def expected_end(  # noqa: PLR0911 - one return per destination type
    view: RoutingView, dest: Destination, fallback: Destination | None
) -> End:
    """Where the tables say a caller who chose `dest` (and then keys nothing) ends."""
    match dest:
        case ToQueue(queue=queue):

            def queued(done: Finished) -> None:
                assert [e["queue"] for e in done.events("queue_enter")] == [queue]
                rounds = done.asterisk.sent("EXEC Queue")
                assert rounds
                assert all(queue_name(queue) in c.names for c in rounds)
                # A silent caller keeps waiting at every choice; nobody answers until the
                # longest wait, which ends in a callback ticket, never in another queue.
                assert done.events("queue_max_wait"), done.kinds
                [opened] = done.events("ticket")
                assert opened["reason"] == "queue_callback"
                assert done.next == dv.NEXT_HANGUP
                assert done.record.outcome == "ticket"

            return End([], queued)
        case ToUnit() | ToExtension():
            unit = (
                dest.unit if isinstance(dest, ToUnit) else view.extensions[dest.extension].unit_id
            )

            def transferred(done: Finished) -> None:
                assert [e["unit"] for e in done.events("transfer")] == [unit]
                # Nobody answers a scripted line: the caller leaves a number and a message.
                assert done.events("ticket"), done.kinds

            return End([], transferred)
        case ToEmergency():
            then = (
                expected_end(view, fallback, None)
                if fallback is not None
                else End([], _ends_announced)
            )

            def advised(done: Finished) -> None:
                assert done.events("emergency_advice") == [{"key": None}]
                assert dest.prompt in done.played
                assert not done.asterisk.sent("EXEC Dial")
                then.check(done)

            return End(then.after, advised)
        case ToAnnouncement(prompt=prompt):

            def announced(done: Finished) -> None:
                assert done.played[-1] == prompt
                _ends_announced(done)

            return End([], announced)
        case ToRecord(reason=reason, prompt=prompt):

            def ticket(done: Finished) -> None:
                assert prompt in done.played
                assert [e["reason"] for e in done.events("ticket")] == [reason]
                assert done.events("recorded")[0]["path"]
                assert "ticket-registered" in done.played
                assert done.record.outcome == "ticket"
                assert done.next == dv.NEXT_HANGUP

            return End([key("callback-number-confirm", "1")], ticket)
        case ToCaseCheck():
            # Keying no case number: asked NUMBER_TRIES times, then the menu's way out.
            onward = (
                expected_end(view, fallback, None)
                if fallback is not None
                else End([], _ends_announced)
            )

            def asked_and_left(done: Finished) -> None:
                asks = [c for c in done.asterisk.sent("EXEC Read") if ASK_NUMBER in c.prompts]
                assert len(asks) == NUMBER_TRIES, done.kinds
                assert done.events("case_check")[-1]["outcome"] == "gave_up"
                assert ASK_PASSWORD not in done.played
                onward.check(done)

            return End(onward.after, asked_and_left)
        case ToMenu() | ToLanguage():
            target = next_menu(dest) or ""
            menu = view.menus.menus[target]
            onward = expected_end(view, menu.on_exhausted, None)

            def next_menu_read(done: Finished) -> None:
                reads = [e for e in done.events("menu") if e["menu"] == target]
                assert len(reads) == menu.max_tries, done.kinds
                if isinstance(dest, ToLanguage):
                    assert done.asterisk.variables["CHANNEL(language)"] == dest.language
                    listened = [
                        c for c in done.asterisk.sent("EXEC Read") if menu.prompt in c.prompts
                    ]
                    assert {lang for c in listened for lang in c.languages} == {dest.language}
                onward.check(done)

            return End(onward.after, next_menu_read)
        case _:
            assert_never(dest)


def _ends_announced(done: Finished) -> None:
    assert done.next == dv.NEXT_HANGUP
    assert done.record.outcome == "announced"


def _options() -> list[tuple[str, Option]]:
    return [
        (profile, option) for profile in PROFILES for option in every_option(view_of(profile).menus)
    ]


@pytest.mark.parametrize(
    ("profile", "option"), _options(), ids=[f"{p}-{o.name}" for p, o in _options()]
)
async def test_every_option_ends_where_the_tables_say(
    engine: FlowEngine, profile: str, option: Option
) -> None:
    """Each option of each menu, reached by its keys, ends where its table says."""
    engine.use(profile)
    view = engine.view
    menu_name, chosen = option.path[-1]
    menu = view.menus.menus[menu_name]
    end = expected_end(view, option.destination, menu.on_exhausted)
    done = await engine.call([*_menu_keys(view, option.path), *end.after])
    decided = [m for m in done.events("menu") if (m["menu"], m["entry"]) == (menu_name, chosen)]
    assert decided[0]["decision"] == {
        "go": option.destination.model_dump(mode="json"),
        "reason": "option",
    }
    end.check(done)
    assert done.hangup is None


def _menus() -> list[tuple[str, str]]:
    return [(p, m) for p in PROFILES for m in sorted(shipped(p).menus.menus)]


@pytest.mark.parametrize(("profile", "menu_name"), _menus(), ids=[f"{p}-{m}" for p, m in _menus()])
async def test_every_menu_gives_up_on_a_silent_or_wrong_caller_for_a_person(
    engine: FlowEngine, profile: str, menu_name: str
) -> None:
    """Wrong keys and silence cost a try each; after the last, the menu's on_exhausted."""
    engine.use(profile)
    view = engine.view
    menu = view.menus.menus[menu_name]
    wrong = next(k for k in "876*" if k not in menu.options)
    end = expected_end(view, menu.on_exhausted, None)
    steps = [*_menu_keys(view, path_to(view.menus, menu_name)), key(menu.prompt, wrong)]
    done = await engine.call([*steps, *end.after])
    here = [e for e in done.events("menu") if e["menu"] == menu_name]
    assert len(here) == menu.max_tries
    assert here[0]["entry"] == wrong
    causes = [e["decision"].get("retry") for e in here[:-1]]
    assert causes == ["invalid", *["timeout"] * (menu.max_tries - 2)][: menu.max_tries - 1]
    assert here[-1]["decision"] == {
        "go": menu.on_exhausted.model_dump(mode="json"),
        "reason": "exhausted",
    }
    # A retry plays the retry prompt in the same read as the menu: no key falls between.
    retried = [c for c in done.asterisk.sent("EXEC Read") if menu.retry_prompt in c.prompts]
    assert len(retried) == menu.max_tries - 1
    assert all(c.prompts[-1] == menu.prompt for c in retried)
    end.check(done)
