"""Waiting in a queue on a scripted Asterisk: the choice, the callback in the caller's
language, key 3 only where the tables name another-language queue, the longest wait.

The engine's clock moves on by each unanswered Queue() round's timeout (the scripted
Asterisk counts them), so the longest wait is reached as on a real line.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import text

from ivr import dialplan_vars as dv
from ivr.asterisk.generate import queue_name
from ivr.store.queue_legs import QueueLegs
from tests.flow.conftest import Finished, FlowEngine
from tests.flow.scripted import On, key, queue

TAIPEI_MAIN = [key("taipei-language-menu", "9")]
TAIWANESE = [key("taipei-language-menu", "5"), key("taipei-taiwanese-notice", "1")]
MAIN_MENU = "taipei-main-menu"


def signed_in(name: str, agents: int) -> dict[str, str]:
    """Channel variables as Asterisk reports `agents` signed in to the queue `name`."""
    return {f"QUEUE_MEMBER({queue_name(name)},logged)": str(agents)}


def offers(done: Finished) -> list[tuple[object, object, object]]:
    return [(e["reason"], e["keys"], e["choice"]) for e in done.events("queue_offer")]


async def _ticket_language(engine: FlowEngine, done: Finished) -> str | None:
    [opened] = done.events("ticket")
    ticket = await engine.store.get_ticket_by_number(str(opened["number"]))
    assert ticket is not None
    assert ticket.reason == "queue_callback"
    async with engine.store.engine.connect() as conn:
        row = (
            await conn.execute(text("SELECT language FROM tickets WHERE id = :i"), {"i": ticket.id})
        ).one()
    return row[0]  # type: ignore[no-any-return]


async def test_with_nobody_signed_in_the_caller_is_told_and_asked_before_any_round(
    engine: FlowEngine,
) -> None:
    """No agent of the queue: told at entry, and a choice (keys 1 and 2, no key 3 where
    the queue names no other-language queue); key 1 keeps them waiting in that queue."""
    done = await engine.call(
        [
            *TAIPEI_MAIN,
            key(MAIN_MENU, "2"),
            key("queue-key-callback", "1"),
            queue(queue_name("dispatch"), agent="agent-07"),
        ]
    )
    first = done.asterisk.sent("EXEC Read")[-1]
    assert first.prompts == ("queue-no-agents", "queue-key-wait", "queue-key-callback")
    assert offers(done) == [("no_agents", "12", "1")]
    # The round comes only after the choice: the caller was never queued unasked.
    reads_then_queue = [c.line.split()[1] for c in done.asterisk.sent("EXEC ")][-2:]
    assert reads_then_queue == ["Read", "Queue"]
    assert done.events("queue_leave")[0]["agent"] == "agent-07"
    assert not done.events("language_waived")


async def test_key_2_makes_a_callback_ticket_in_the_language_of_the_queue(
    engine: FlowEngine,
) -> None:
    """A caller who pressed Taiwanese is owed a Taiwanese callback, though the prompts
    they heard were Mandarin."""
    done = await engine.call(
        [*TAIWANESE, key("queue-key-callback", "2"), key("callback-number-confirm", "1")]
    )
    assert offers(done) == [("no_agents", "123", "2")]
    assert not done.asterisk.sent("EXEC Queue")
    assert done.events("queue_callback") == [{"queue": "taiwanese", "language": "nan", "ok": True}]
    assert await _ticket_language(engine, done) == "nan"
    assert done.record.outcome == "ticket"
    assert done.next == dv.NEXT_HANGUP


async def test_key_3_moves_the_caller_to_the_other_language_queue_only_when_pressed(
    engine: FlowEngine,
) -> None:
    done = await engine.call(
        [
            *TAIWANESE,
            key("queue-key-other-language", "3"),
            queue(queue_name("general"), agent="agent-01"),
        ],
        variables=signed_in("general", 1),
    )
    assert offers(done) == [("no_agents", "123", "3")]
    assert done.events("language_waived") == [
        {"language": "nan", "queue": "general", "agent_language": "zh-TW"}
    ]
    rounds = done.asterisk.sent("EXEC Queue")
    assert [queue_name("general") in r.names for r in rounds] == [True]
    assert done.events("queue_leave")[0]["agent"] == "agent-01"


async def test_key_3_is_neither_offered_nor_followed_without_another_language_queue(
    engine: FlowEngine,
) -> None:
    """The general queue names no other-language queue: 3 is not offered, and pressing it
    anyway keeps the caller waiting where they are."""
    done = await engine.call(
        [
            *TAIPEI_MAIN,
            key(MAIN_MENU, "1"),
            key("queue-key-callback", "3"),
            queue(queue_name("general"), agent="agent-02"),
        ]
    )
    assert offers(done) == [("no_agents", "12", "1")]
    assert "queue-key-other-language" not in done.played
    assert not done.events("language_waived")
    assert all(queue_name("general") in r.names for r in done.asterisk.sent("EXEC Queue"))


async def test_the_longest_wait_ends_in_a_callback_in_the_callers_language(
    engine: FlowEngine,
) -> None:
    """Agents signed in but busy: rounds of offer_after_s, a choice after each (silence
    keeps waiting), and at max_wait_s a callback that keeps the caller's place, never
    another round."""
    steps: list[On] = [*TAIWANESE, key("callback-number-confirm", "1")]
    done = await engine.call(steps, variables=signed_in("taiwanese", 1))
    rounds = done.asterisk.sent("EXEC Queue")
    # taiwanese: offer_after_s 120, max_wait_s 600: five rounds of 120 s.
    assert [r.words[2].split(",")[4] for r in rounds] == ["120"] * 5
    assert [o[0] for o in offers(done)] == ["long_wait"] * 4
    assert done.events("queue_max_wait") == [{"queue": "taiwanese", "waited_s": 600}]
    assert "queue-max-wait" in done.played
    [kept] = done.events("queue_callback_kept")
    assert (kept["queue"], kept["language"]) == ("taiwanese", "nan")
    assert done.next == dv.NEXT_HANGUP


async def test_the_entry_estimate_counts_the_caller_and_only_unpaused_agents(
    engine: FlowEngine,
) -> None:
    """Three callers ahead, two agents signed in of whom one is paused: the caller
    joins fourth, one agent can answer, and with no answered stays in the store
    nothing is said of the wait (the timeline says why)."""
    name = queue_name("general")
    done = await engine.call(
        [*TAIPEI_MAIN, key(MAIN_MENU, "1"), queue(name, agent="agent-01")],
        variables={
            **signed_in("general", 2),
            f"QUEUE_WAITING_COUNT({name})": "3",
            f"QUEUE_MEMBER_LIST({name})": "PJSIP/7001,PJSIP/7002",
            f"QUEUE_MEMBER({name},paused,PJSIP/7001)": "0",
            f"QUEUE_MEMBER({name},paused,PJSIP/7002)": "1",
        },
    )
    assert done.events("queue_estimate") == [
        {"queue": "general", "position": 4, "agents": 1, "answered": 0, "prompt": None}
    ]
    # Computed before the caller joined: the estimate is there when Asterisk plays it.
    kinds = [e.kind for e in done.record.events]
    assert kinds.index("queue_estimate") < kinds.index("queue_leave")


async def _answered_stays(engine: FlowEngine, queue: str, talk_s: float, count: int = 5) -> None:
    """`count` answered stays of `queue` that ended ten minutes before the call."""
    legs = QueueLegs.of(engine.store)
    ended = engine.now.astimezone(UTC) - timedelta(minutes=10)
    for n in range(count):
        uid = f"seeded-{queue}-{n}"
        joined = ended - timedelta(seconds=talk_s + 30)
        await legs.joined(uniqueid=uid, queue=queue, language="nan", at=joined)
        await legs.answered(
            uniqueid=uid, queue=queue, agent="a05", hold_s=30, at=joined + timedelta(seconds=30)
        )
        await legs.completed(uniqueid=uid, queue=queue, talk_s=talk_s, transferred=False, at=ended)


async def test_an_estimate_past_the_threshold_is_said_and_asked_before_any_round(
    engine: FlowEngine,
) -> None:
    """The Taiwanese queue asks past 300 s. Five stays of 400 s in the last hour and one
    agent signed in: the caller, next in line, would wait about 7 minutes. They hear
    that at once, with the choice, before they are ever queued; key 1 then queues them."""
    await _answered_stays(engine, "taiwanese", 400.0)
    done = await engine.call(
        [
            *TAIWANESE,
            key("queue-busy-now", "1"),
            queue(queue_name("taiwanese"), agent="agent-05"),
        ],
        variables=signed_in("taiwanese", 1),
    )
    asked = done.asterisk.sent("EXEC Read")[-1]
    assert asked.prompts == (
        "queue-busy-now",
        "queue-wait-about-7",
        "queue-key-wait",
        "queue-key-callback",
        "queue-key-other-language",
    )
    [offer] = done.events("queue_offer")
    assert offer == {
        "queue": "taiwanese",
        "reason": "long_estimate",
        "keys": "123",
        "choice": "1",
        "estimate": "queue-wait-about-7",
    }
    reads_then_queue = [c.line.split()[1] for c in done.asterisk.sent("EXEC ")][-2:]
    assert reads_then_queue == ["Read", "Queue"]
    # Computed on entry, and again as the caller joined after the question.
    assert [e["answered"] for e in done.events("queue_estimate")] == [5, 5]
    assert done.events("queue_leave")[0]["agent"] == "agent-05"


async def test_an_estimate_under_the_threshold_queues_the_caller_at_once(
    engine: FlowEngine,
) -> None:
    """Five stays of 100 s: about 2 minutes, under 300 s. No question; one estimate,
    computed once, then the round."""
    await _answered_stays(engine, "taiwanese", 100.0)
    done = await engine.call(
        [*TAIWANESE, queue(queue_name("taiwanese"), agent="agent-05")],
        variables=signed_in("taiwanese", 1),
    )
    assert offers(done) == []
    assert [(e["position"], e["answered"]) for e in done.events("queue_estimate")] == [(1, 5)]
    assert len(done.asterisk.sent("EXEC Queue")) == 1


async def test_with_too_little_data_nothing_is_asked_on_the_estimate(
    engine: FlowEngine,
) -> None:
    """Four long stays are too few to say anything: no guess, no question, a round."""
    await _answered_stays(engine, "taiwanese", 900.0, count=4)
    done = await engine.call(
        [*TAIWANESE, queue(queue_name("taiwanese"), agent="agent-05")],
        variables=signed_in("taiwanese", 1),
    )
    assert offers(done) == []
    assert not [p for p in done.played if p.startswith("queue-wait-")]


async def test_the_question_after_a_round_says_the_estimate(engine: FlowEngine) -> None:
    """A round ends unanswered (the agents are busy): the question says the wait of a
    caller rejoining now, about 2 minutes, before the keys."""
    await _answered_stays(engine, "general", 100.0)
    done = await engine.call(
        [
            *TAIPEI_MAIN,
            key(MAIN_MENU, "1"),
            queue(queue_name("general"), status="TIMEOUT"),
            key("queue-long-wait", "1"),
            queue(queue_name("general"), agent="agent-01"),
        ],
        variables=signed_in("general", 1),
    )
    asked = done.asterisk.sent("EXEC Read")[-1]
    assert asked.prompts == (
        "queue-long-wait",
        "queue-wait-about-2",
        "queue-key-wait",
        "queue-key-callback",
    )
    assert [(o[0], o[2]) for o in offers(done)] == [("long_wait", "1")]
