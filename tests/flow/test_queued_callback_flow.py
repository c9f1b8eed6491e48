"""The caller's side of a queued callback on a scripted Asterisk: the number confirmed
(the Taiwan rule), the place committed before the caller hears it is kept, and a
ticket instead where there is no place to keep."""

from __future__ import annotations

from ivr import dialplan_vars as dv
from ivr.domain.vocabulary import QueuedCallbackState
from ivr.store.queued_callbacks import QueuedCallbacks
from tests.flow.conftest import FlowEngine
from tests.flow.scripted import On, hang_up, key, keyed, queue
from tests.flow.test_queue_waiting import TAIPEI_MAIN, TAIWANESE, signed_in

MAIN_MENU = "taipei-main-menu"
KEPT = "queue-callback-kept"


async def test_key_2_after_a_long_wait_keeps_the_callers_place_in_their_language(
    engine: FlowEngine,
) -> None:
    """Agents signed in and busy: key 2 at the first question; the caller confirms the
    number read out, the callback is committed, then they hear their place is kept."""
    done = await engine.call(
        [*TAIWANESE, key("queue-key-callback", "2"), key("callback-number-confirm", "1")],
        variables=signed_in("taiwanese", 1),
    )
    [kept] = done.events("queue_callback_kept")
    assert (kept["queue"], kept["language"]) == ("taiwanese", "nan")
    assert done.events("ticket") == []
    # The number was read out and confirmed before anything was promised.
    played = done.played
    assert played.index("callback-number-confirm") < played.index(KEPT)
    assert played[-1] == KEPT
    assert done.next == dv.NEXT_HANGUP
    assert done.record.outcome == "queued"
    held = await QueuedCallbacks.of(engine.store).get(int(str(kept["callback"])))
    assert held is not None
    assert (held.number, held.language, held.queue, held.state) == (
        "0912345678",
        "nan",
        "taiwanese",
        QueuedCallbackState.WAITING,
    )
    # Where the virtual entry joins: the caller's first entry into the queue.
    assert held.waiting_since <= held.requested_at


async def test_a_keyed_number_is_the_one_called_back(engine: FlowEngine) -> None:
    """The caller id is refused at the confirmation (key 2) and a Taiwan number keyed."""
    steps: list[On] = [
        *TAIWANESE,
        key("queue-key-callback", "2"),
        key("callback-number-confirm", "2"),
        keyed("callback-number-enter", "0223456789"),
    ]
    done = await engine.call(steps, variables=signed_in("taiwanese", 1))
    [kept] = done.events("queue_callback_kept")
    held = await QueuedCallbacks.of(engine.store).get(int(str(kept["callback"])))
    assert held is not None
    assert held.number == "0223456789"


async def test_with_nobody_signed_in_key_2_is_a_ticket_not_a_held_place(
    engine: FlowEngine,
) -> None:
    """No agent with the language: no place to keep, the callback ticket as before."""
    done = await engine.call(
        [
            *TAIPEI_MAIN,
            key(MAIN_MENU, "1"),
            key("queue-key-callback", "2"),
            key("callback-number-confirm", "1"),
        ]
    )
    assert done.events("queue_callback_kept") == []
    assert done.events("ticket")[0]["reason"] == "queue_callback"
    assert KEPT not in done.played
    assert await QueuedCallbacks.of(engine.store).open_callbacks() == []


async def test_a_caller_who_keeps_waiting_is_not_called_back(engine: FlowEngine) -> None:
    done = await engine.call(
        [*TAIWANESE, key("queue-key-callback", "1"), queue("hotline-taiwanese", agent="a05")],
        variables=signed_in("taiwanese", 1),
    )
    assert done.events("queue_callback_kept") == []
    assert await QueuedCallbacks.of(engine.store).open_callbacks() == []


async def test_a_caller_who_hangs_up_at_the_number_keeps_no_place(engine: FlowEngine) -> None:
    """Hung up while the number was read out: no machine calls them; the ticket path
    (an officer) takes the callback, as before places were kept."""
    done = await engine.call(
        [
            *TAIWANESE,
            key("queue-key-callback", "2"),
            hang_up("EXEC Read", "callback-number-confirm"),
        ],
        variables=signed_in("taiwanese", 1),
    )
    assert done.events("queue_callback_kept") == []
    assert await QueuedCallbacks.of(engine.store).open_callbacks() == []
