"""A queued callback: the waiting caller hangs up and keeps their place (issue 18). Pure.

The place is held by a virtual entry in the same queue (a Local channel). When an
agent with the language takes it, the agent is connected first; only then is the
citizen dialled over the outbound trunk and bridged. Every attempt has a channel id
made from the callback and the attempt number, recorded before the origination:
Asterisk refuses a second live channel with the same id, and a restarted engine can
ask Asterisk whether the attempt is still alive instead of dialling again.

This module decides: the channel ids, what an attempt's end means, what follows it,
what a restarted engine does with an attempt it finds recorded, and where the
virtual entry joins the queue. The clock is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ivr.domain.vocabulary import CallbackAttemptOutcome as Outcome
from ivr.domain.vocabulary import QueuedCallbackState as State

# Tries before a failed callback becomes a ticket, unless the tables say otherwise.
DEFAULT_MAX_ATTEMPTS = 3
# A citizen who did not answer is tried again after this long.
DEFAULT_RETRY_AFTER_S = 120
# How long the virtual entry holds the place before the callback becomes a ticket.
DEFAULT_HOLD_S = 3600
# What the dialplan leaves in AstDB (family QUEUED_CALLBACK_DB) while an attempt runs;
# the final word is Asterisk's DIALSTATUS, or `queue-<QUEUESTATUS>` with no agent.
MARK_QUEUED = "queued"
MARK_DIALLING = "dialling"
QUEUE_MARK_PREFIX = "queue-"


@dataclass(frozen=True)
class CallbackPolicy:
    """A queue's callback settings (agents.yaml: callback_attempts, callback_retry_s,
    callback_hold_s)."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_after_s: int = DEFAULT_RETRY_AFTER_S
    hold_s: int = DEFAULT_HOLD_S


_FINAL = {
    "ANSWER": Outcome.CONNECTED,
    "NOANSWER": Outcome.NO_ANSWER,
    "BUSY": Outcome.BUSY,
}


def channel_id(callback_id: int, attempt: int) -> str:
    """The attempt's citizen half (`;1`): the same callback and attempt, the same id."""
    if callback_id < 1 or attempt < 1:
        raise ValueError("callback id and attempt start at 1")
    return f"qcb-{callback_id}-{attempt}"


def queue_channel_id(callback_id: int, attempt: int) -> str:
    """The attempt's queue half (`;2`, the virtual entry)."""
    return f"{channel_id(callback_id, attempt)}-q"


def outcome_of(mark: str | None) -> Outcome:
    """What the dialplan's last word on an ended attempt means.

    None: Asterisk never heard of the attempt. A mark of a running step on an
    attempt that is gone is LOST: the citizen may have been called.
    """
    if mark is None or mark == "":
        return Outcome.FAILED
    if mark.startswith(QUEUE_MARK_PREFIX):
        return Outcome.NO_AGENT
    if mark in (MARK_QUEUED, MARK_DIALLING):
        return Outcome.LOST
    return _FINAL.get(mark, Outcome.FAILED)


@dataclass(frozen=True)
class Retry:
    at: datetime


@dataclass(frozen=True)
class Settled:
    """No more attempts: COMPLETED, or TICKETED (a callback ticket in the language)."""

    state: State


Next = Retry | Settled


def after_attempt(
    outcome: Outcome,
    attempt: int,
    *,
    now: datetime,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_after_s: int = DEFAULT_RETRY_AFTER_S,
) -> Next:
    """What follows an attempt's end."""
    if outcome == Outcome.IN_FLIGHT:
        raise ValueError("an attempt in flight has not ended")
    if outcome == Outcome.CONNECTED:
        return Settled(State.COMPLETED)
    # Unknown end: never dial a citizen who may already have been called; an officer
    # calls back instead. No agent in the whole hold: an officer too.
    if outcome in (Outcome.LOST, Outcome.NO_AGENT):
        return Settled(State.TICKETED)
    if attempt >= max_attempts:
        return Settled(State.TICKETED)
    return Retry(now + timedelta(seconds=retry_after_s))


@dataclass(frozen=True)
class Watch:
    """The attempt is alive in Asterisk: wait for its end, never originate it again."""


@dataclass(frozen=True)
class Originate:
    """Asterisk never had the attempt (the engine stopped between record and origination)."""


@dataclass(frozen=True)
class Ended:
    outcome: Outcome


Resume = Watch | Originate | Ended


def resume(*, alive: bool, mark: str | None) -> Resume:
    """A restarted engine finds an attempt recorded and unfinished: what to do with it.

    `alive`: Asterisk has a channel with the attempt's id. `mark`: what the dialplan
    left in AstDB for it (None: nothing, so Asterisk never ran it).
    """
    if alive:
        return Watch()
    if mark is None:
        return Originate()
    return Ended(outcome_of(mark))


def queue_position(waits_s: Iterable[float], waited_s: float) -> int:
    """Where the virtual entry joins: behind everyone who has waited longer than the
    caller had when they hung up, ahead of those who came after (1 is the head)."""
    return 1 + sum(1 for w in waits_s if w > waited_s)
