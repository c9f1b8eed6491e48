"""A queued callback's rules: channel ids, what an end means, retries, restart, place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.domain import queued_callback as qcb
from ivr.domain.queue_report import Callback, one_per_caller
from ivr.domain.vocabulary import CallbackAttemptOutcome as Outcome
from ivr.domain.vocabulary import QueuedCallbackState as State

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_channel_ids_are_one_per_callback_and_attempt() -> None:
    assert qcb.channel_id(7, 2) == qcb.channel_id(7, 2) == "qcb-7-2"
    assert qcb.queue_channel_id(7, 2) == "qcb-7-2-q"
    ids = {qcb.channel_id(c, a) for c in range(1, 30) for a in range(1, 5)}
    assert len(ids) == 29 * 4
    with pytest.raises(ValueError, match="start at 1"):
        qcb.channel_id(0, 1)


@pytest.mark.parametrize(
    ("mark", "outcome"),
    [
        ("ANSWER", Outcome.CONNECTED),
        ("NOANSWER", Outcome.NO_ANSWER),
        ("BUSY", Outcome.BUSY),
        ("CONGESTION", Outcome.FAILED),
        ("CHANUNAVAIL", Outcome.FAILED),
        ("CANCEL", Outcome.FAILED),
        ("queue-TIMEOUT", Outcome.NO_AGENT),
        ("queue-LEAVEEMPTY", Outcome.NO_AGENT),
        # Gone in the middle of a step: the citizen may have been called.
        ("dialling", Outcome.LOST),
        ("queued", Outcome.LOST),
    ],
)
def test_what_the_dialplan_left_means(mark: str, outcome: Outcome) -> None:
    assert qcb.outcome_of(mark) == outcome


def test_a_connected_callback_is_completed() -> None:
    assert qcb.after_attempt(Outcome.CONNECTED, 1, now=T0) == qcb.Settled(State.COMPLETED)


def test_no_answer_is_tried_again_until_the_last_attempt_then_a_ticket() -> None:
    assert qcb.after_attempt(Outcome.NO_ANSWER, 1, now=T0, max_attempts=3) == qcb.Retry(
        T0 + timedelta(seconds=qcb.DEFAULT_RETRY_AFTER_S)
    )
    assert isinstance(qcb.after_attempt(Outcome.BUSY, 2, now=T0, max_attempts=3), qcb.Retry)
    assert qcb.after_attempt(Outcome.BUSY, 3, now=T0, max_attempts=3) == qcb.Settled(State.TICKETED)


def test_an_unknown_end_is_never_dialled_again() -> None:
    """FreePBX's double dial: an attempt whose end we missed becomes a ticket."""
    assert qcb.after_attempt(Outcome.LOST, 1, now=T0) == qcb.Settled(State.TICKETED)
    assert qcb.after_attempt(Outcome.NO_AGENT, 1, now=T0) == qcb.Settled(State.TICKETED)
    with pytest.raises(ValueError, match="not ended"):
        qcb.after_attempt(Outcome.IN_FLIGHT, 1, now=T0)


def test_a_restarted_engine_originates_only_what_asterisk_never_had() -> None:
    assert qcb.resume(alive=True, mark="queued") == qcb.Watch()
    assert qcb.resume(alive=True, mark=None) == qcb.Watch()
    assert qcb.resume(alive=False, mark=None) == qcb.Originate()
    assert qcb.resume(alive=False, mark="ANSWER") == qcb.Ended(Outcome.CONNECTED)
    assert qcb.resume(alive=False, mark="dialling") == qcb.Ended(Outcome.LOST)


def test_the_virtual_entry_joins_behind_earlier_callers_and_ahead_of_later_ones() -> None:
    # The caller had waited 200 s; two in the queue waited longer, three came later.
    assert qcb.queue_position([400, 250, 120, 30, 5], 200) == 3
    assert qcb.queue_position([], 200) == 1
    assert qcb.queue_position([10, 20], 200) == 1


def test_a_kept_place_that_became_a_ticket_is_one_callback_in_the_report() -> None:
    tickets = [Callback("c1", False), Callback("c3", True)]
    kept = [Callback("c1", False), Callback("c2", True)]
    merged = sorted(one_per_caller(tickets, kept), key=lambda c: c.uniqueid)
    assert merged == [Callback("c1", False), Callback("c2", True), Callback("c3", True)]
