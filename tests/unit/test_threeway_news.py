"""What the agent's page is told of its three-way call, and when its wrap-up is shown:
the news in both languages, kept on the pop and sent to the agent's pages only, and
the wrap-up the queue asks for at the move into the bridge held until the agent's part
ends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from ivr.adapters.threeway_parts import News
from ivr.domain.vocabulary import ConferenceParty, EmergencyService, ThreewayOutcome
from ivr.web import threeway_news
from ivr.web.hub import Message, PopHub
from ivr.web.i18n import translator

CALL_ID = 41


def news(**what: Any) -> News:
    return News("tw-1", CALL_ID, "a01", EmergencyService.FIRE, "119", **what)


def on_a_call(hub: PopHub, **extra: object) -> dict[str, object]:
    pop: dict[str, object] = {"uniqueid": "1.1", "call_id": CALL_ID, "phase": "answered"}
    pop.update(extra)
    hub.last_pop["a01"] = pop
    return pop


async def listening(hub: PopHub, agent: str, act: Callable[[], None]) -> list[Message]:
    """The messages an open page of `agent` gets while `act()` runs."""
    async with hub.subscribe(agent) as queue:
        act()
        return [queue.get_nowait() for _ in range(queue.qsize())]


@pytest.mark.parametrize("outcome", list(ThreewayOutcome))
def test_every_outcome_is_said_in_both_languages(outcome: ThreewayOutcome) -> None:
    key = threeway_news.news_key(news(outcome=outcome))
    assert key == str(outcome)
    told = {"key": key, "number": "119", "service": "fire"}
    zh = threeway_news.text(translator("zh-TW"), told)
    en = threeway_news.text(translator("en"), told)
    assert "119" in zh
    assert "119" in en
    assert "消防" in zh
    assert zh != en


def test_who_left_and_the_end_have_words_and_the_agents_own_leaving_none() -> None:
    assert threeway_news.news_key(news(left=ConferenceParty.EMERGENCY)) == "emergency_left"
    assert threeway_news.news_key(news(left=ConferenceParty.CITIZEN)) == "citizen_left"
    assert threeway_news.news_key(news(over=True)) == "over"
    assert threeway_news.news_key(news(left=ConferenceParty.AGENT)) is None
    en = translator("en")
    told = {"key": "emergency_left", "number": "119", "service": "fire"}
    assert threeway_news.text(en, told) == (
        "119 (fire and ambulance) hung up. The caller is still on the line with you."
    )


def test_a_busy_line_is_kept_on_the_pop_and_sent_to_the_agents_pages_only() -> None:
    hub = PopHub()
    pop = on_a_call(hub)

    async def run() -> tuple[list[Message], list[Message]]:
        async with hub.subscribe("a02") as other:
            mine = await listening(
                hub, "a01", lambda: threeway_news.on_news(hub, news(outcome=ThreewayOutcome.BUSY))
            )
            return mine, [other.get_nowait() for _ in range(other.qsize())]

    mine, theirs = asyncio.run(run())
    told = {"key": "busy", "number": "119", "service": "fire"}
    assert mine == [Message("threeway", told)]
    assert theirs == []
    assert pop[threeway_news.NEWS] == told


def test_news_of_a_call_no_longer_on_screen_is_not_shown() -> None:
    hub = PopHub()
    pop = on_a_call(hub, call_id=CALL_ID + 1)
    sent = asyncio.run(
        listening(hub, "a01", lambda: threeway_news.on_news(hub, news(outcome="busy")))
    )
    assert sent == []
    assert threeway_news.NEWS not in pop


def test_the_wrapup_waits_while_the_agent_is_in_the_bridge_and_comes_when_they_leave() -> None:
    hub = PopHub()
    on_a_call(hub, threeway="fire")
    # The move into the bridge ends the queue call: AgentComplete. Not yet.
    assert threeway_news.defer_wrapup(hub, "a01") is True
    assert hub.last_pop["a01"]["phase"] == "answered"
    # 119 hangs up: the agent is still with the caller. Still not.
    early = asyncio.run(
        listening(
            hub, "a01", lambda: threeway_news.on_news(hub, news(left=ConferenceParty.EMERGENCY))
        )
    )
    assert [m.event for m in early] == ["threeway"]
    assert hub.last_pop["a01"]["phase"] == "answered"
    # The caller hangs up and the agent, left alone, is let go: now the wrap-up.
    sent = asyncio.run(
        listening(
            hub,
            "a01",
            lambda: threeway_news.on_news(
                hub,
                news(left=ConferenceParty.CITIZEN, ended=frozenset({ConferenceParty.AGENT})),
            ),
        )
    )
    assert [(m.event, m.data.get("phase")) for m in sent] == [
        ("threeway", None),
        ("pop", "wrap_up"),
    ]
    assert hub.last_pop["a01"]["phase"] == "wrap_up"
    # A later AgentComplete (the agent's own leg) is not held again.
    assert threeway_news.defer_wrapup(hub, "a01") is False


def test_a_call_without_a_three_way_call_wraps_up_at_once() -> None:
    hub = PopHub()
    on_a_call(hub)
    assert threeway_news.defer_wrapup(hub, "a01") is False
    assert threeway_news.defer_wrapup(PopHub(), "a01") is False


def test_the_end_of_the_agents_part_without_a_due_wrapup_shows_nothing() -> None:
    hub = PopHub()
    on_a_call(hub, threeway="police")
    sent = asyncio.run(listening(hub, "a01", lambda: threeway_news.agent_done(hub, "a01")))
    assert sent == []
    assert hub.last_pop["a01"]["phase"] == "answered"
