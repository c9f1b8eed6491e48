"""What a three-way call tells (`News`, to the agent's page) and what its bridge carries
about itself (`Label`), so that an engine that was not there when it was made can
take it back (docs/decisions/0005-threeway-call.md).

Asterisk keeps our Stasis app's channels and bridges when the engine goes away (its
event socket closes: the app is only deactivated while it still has channels), and
sends nothing of what happened meanwhile. On the next connect the engine lists the
bridges; each three-way bridge's name says whose call it is (the call's id in the
store), which line was dialled and which channel is the citizen's and which the
agent's, so the rules (ivr/domain/threeway.py) can be applied to who is still there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ivr.domain.vocabulary import ConferenceParty, EmergencyService, ThreewayOutcome

PREFIX = "threeway"
# Channels parked in [hotline-threeway] on their way into the app: c-<id> the
# citizen's, a-<id> the agent's (dialplans/hotline.conf).
CITIZEN_EXTEN = "c-"
AGENT_EXTEN = "a-"


@dataclass(frozen=True)
class Line:
    """The checked line to dial (a row of the tables' emergency_lines)."""

    service: EmergencyService
    number: str
    trunk: str

    @property
    def endpoint(self) -> str:
        return f"PJSIP/{self.number}@{self.trunk}"


@dataclass(frozen=True)
class Label:
    call_id: int
    service: EmergencyService
    number: str
    citizen: str
    agent: str
    owner: str

    def name(self) -> str:
        fields = (self.call_id, self.service, self.number, self.citizen, self.agent, self.owner)
        return ":".join([PREFIX, *(str(f) for f in fields)])


def parse(name: str) -> Label | None:
    """The label a bridge name holds; None for a bridge that is not one of ours."""
    parts = name.split(":")
    if len(parts) != 7 or parts[0] != PREFIX or not parts[1].isdigit():
        return None
    try:
        service = EmergencyService(parts[2])
    except ValueError:
        return None
    return Label(int(parts[1]), service, parts[3], parts[4], parts[5], parts[6])


@dataclass(frozen=True)
class News:
    """What happened to a three-way call, for whoever listens (the agent's page).

    One of: the emergency line's `outcome`; a party that `left` (and who was `ended`
    because of it); or the call is `over` (the bridge destroyed).
    """

    session_id: str
    call_id: int
    owner: str
    service: EmergencyService
    number: str
    outcome: ThreewayOutcome | None = None
    left: ConferenceParty | None = None
    ended: frozenset[ConferenceParty] = frozenset()
    over: bool = False

    @property
    def agent_gone(self) -> bool:
        """The agent's part of the call ended with this."""
        return self.over or ConferenceParty.AGENT in ({self.left} | self.ended)


Listener = Callable[[News], None]
