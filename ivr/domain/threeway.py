"""The emergency three-way call (K2(1), K4(1)): who stays when someone leaves. Pure.

An agent conferences 110 or 119 into a live call and stays on it. The bridge holds the
citizen, the agent and, once it answers, the emergency line. The rules:

- Two or more still in the bridge keep talking: 119 hanging up leaves the citizen and
  the agent together; the citizen hanging up leaves the agent briefing 119; the agent
  leaving keeps the citizen on the line with 119.
- One left alone while the emergency line still rings waits for it: the citizen (or
  the agent, who may still report what the citizen said) is connected when it answers.
- One left alone with nothing ringing is hung up, and the bridge is destroyed.
- The emergency line not answering (busy, no answer, refused) changes nothing for the
  citizen and the agent, who were bridged before it was dialled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from ivr.domain.vocabulary import ConferenceParty, DialStatus, EmergencyService, ThreewayOutcome
from ivr.errors import NotFound

CITIZEN = ConferenceParty.CITIZEN
AGENT = ConferenceParty.AGENT
EMERGENCY = ConferenceParty.EMERGENCY


@dataclass(frozen=True)
class Conference:
    """Who is in the bridge, and whether the emergency line is still being dialled."""

    present: frozenset[ConferenceParty]
    ringing: bool


@dataclass(frozen=True)
class Next:
    """The conference after an event, and what the adapter must do about it."""

    conference: Conference
    hang_up: frozenset[ConferenceParty] = frozenset()
    cancel_dial: bool = False
    destroy_bridge: bool = False

    @property
    def over(self) -> bool:
        return self.destroy_bridge


def started() -> Conference:
    """The citizen and the agent are bridged, and the emergency line is being dialled."""
    return Conference(frozenset({CITIZEN, AGENT}), ringing=True)


def answered(conference: Conference) -> Next:
    """The emergency line answered: it joins whoever is still there."""
    if not conference.present:
        # Everyone left while it rang and the cancel crossed the answer: end it.
        return Next(Conference(frozenset(), False), frozenset({EMERGENCY}), destroy_bridge=True)
    return Next(Conference(conference.present | {EMERGENCY}, ringing=False))


def dial_ended(conference: Conference) -> Next:
    """The emergency line did not answer (busy, no answer, refused)."""
    return _settle(replace(conference, ringing=False))


def left(conference: Conference, party: ConferenceParty) -> Next:
    """`party` hung up (or its channel left the bridge)."""
    ringing = conference.ringing and party != EMERGENCY
    return _settle(Conference(conference.present - {party}, ringing))


def resumed(present: Iterable[ConferenceParty], ringing: bool) -> Next:
    """Who is still in the bridge when the engine comes back (it saw nothing meanwhile):
    the same rules, applied to what is there now."""
    return _settle(Conference(frozenset(present), ringing))


def _settle(conference: Conference) -> Next:
    present = conference.present
    if len(present) >= 2:
        return Next(conference)
    if len(present) == 1 and conference.ringing:
        return Next(conference)
    if len(present) == 1:
        return Next(Conference(frozenset(), False), present, destroy_bridge=True)
    return Next(
        Conference(frozenset(), False),
        cancel_dial=conference.ringing,
        destroy_bridge=True,
    )


# DIALSTATUS of the emergency leg's dial; anything else (RINGING, PROGRESS, "") is not
# an end.
_OUTCOMES: dict[str, ThreewayOutcome] = {
    DialStatus.ANSWER: ThreewayOutcome.ANSWERED,
    DialStatus.BUSY: ThreewayOutcome.BUSY,
    DialStatus.NOANSWER: ThreewayOutcome.NO_ANSWER,
    DialStatus.CANCEL: ThreewayOutcome.CANCELLED,
    DialStatus.CONGESTION: ThreewayOutcome.FAILED,
    DialStatus.CHANUNAVAIL: ThreewayOutcome.FAILED,
    DialStatus.DONTCALL: ThreewayOutcome.FAILED,
    DialStatus.TORTURE: ThreewayOutcome.FAILED,
    DialStatus.INVALIDARGS: ThreewayOutcome.FAILED,
}

# Q.850 causes of an emergency leg that ended before any final DIALSTATUS was seen.
_CAUSES = {17: ThreewayOutcome.BUSY, 18: ThreewayOutcome.NO_ANSWER, 19: ThreewayOutcome.NO_ANSWER}


def dial_outcome(dialstatus: str) -> ThreewayOutcome | None:
    """The outcome a DIALSTATUS means; None while the dial is still going."""
    return _OUTCOMES.get(dialstatus)


def ended_outcome(cause: int | None) -> ThreewayOutcome:
    """The outcome of an emergency leg that ended unanswered with hangup `cause`."""
    return _CAUSES.get(cause or 0, ThreewayOutcome.FAILED)


class NoSuchLine(NotFound):
    """The tables offer no line for that service: nothing is dialled."""

    code = "threeway.no_line"


class Line(Protocol):
    """A row of the tables' emergency lines (directory.yaml `emergency_lines`)."""

    @property
    def service(self) -> EmergencyService: ...


L = TypeVar("L", bound=Line)


def line_for(lines: Iterable[L], service: EmergencyService) -> L:
    """The table's line for `service`: only a number the tables hold is ever dialled."""
    for line in lines:
        if line.service == service:
            return line
    raise NoSuchLine(service)
