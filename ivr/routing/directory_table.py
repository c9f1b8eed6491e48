"""directory.yaml: trunks, agencies, their units, liaison windows and emergency contacts."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ivr.routing.emergency_lines import EmergencyLine, unique_services
from ivr.routing.menus import Digits, Ident, Strict
from ivr.routing.table_fields import Email, Name, Phone

LOCAL = "local"


class Trunk(Strict):
    """An agency PBX (or the carrier) reached over SIP."""

    id: Ident
    host: Annotated[str, Field(pattern=r"^[A-Za-z0-9.:\-\[\]]+$", max_length=253)]
    port: Annotated[int, Field(ge=1, le=65535)] = 5060
    # Only what the Asterisk config renderer writes today.
    transport: Literal["udp"] = "udp"
    # Digest credentials for calls we send to this PBX, where it asks for them. The
    # password never lives here: see ivr.routing.trunk_secrets.
    auth_username: Annotated[str, Field(pattern=r"^[A-Za-z0-9._~+\-]+$", max_length=64)] | None = (
        None
    )
    # Also register to the PBX with those credentials (some PBXs route only to a
    # registered peer).
    registration: bool = False

    @model_validator(mode="after")
    def _register_needs_auth(self) -> Trunk:
        if self.registration and self.auth_username is None:
            raise ValueError("registration: true needs auth_username (and the trunk's password)")
        return self


class ExtensionRef(Strict):
    """A number on a local PJSIP endpoint, or on an agency PBX behind trunk `via`."""

    number: Digits
    via: Ident = LOCAL


class Deputy(Strict):
    name: Name
    extension: ExtensionRef


class Liaison(Strict):
    """The agency's liaison window (話務聯繫窗口): deputies are tried in order."""

    name: Name
    email: Email
    deputies: list[Deputy]

    @field_validator("deputies")
    @classmethod
    def _deputy_order(cls, deputies: list[Deputy]) -> list[Deputy]:
        if len(deputies) < 3:
            raise ValueError(f"at least 3 deputies are required (K3(2)), found {len(deputies)}")
        return deputies


class EmergencyContact(Strict):
    name: Name
    role: Ident
    phone: Phone


HEAD = "head"
DEPUTY_HEAD = "deputy_head"
# K4(4): urgent matters go to the head, then the deputy head, then the section chiefs
# (and any other officer, in the order listed).
_ESCALATION_RANK = {HEAD: 0, DEPUTY_HEAD: 1}


def _escalation_faults(contacts: list[EmergencyContact]) -> list[str]:
    faults: list[str] = []
    heads = [i + 1 for i, c in enumerate(contacts) if c.role == HEAD]
    if len(heads) > 1:
        faults.append(
            f"an agency has one head, found role head at positions {', '.join(map(str, heads))}"
        )
    ranks = [_ESCALATION_RANK.get(c.role, 2) for c in contacts]
    for i, (before, after) in enumerate(pairwise(ranks)):
        if after < before:
            faults.append(
                f"{contacts[i + 1].name} ({contacts[i + 1].role}, position {i + 2}) comes after "
                f"{contacts[i].name} ({contacts[i].role}): urgent matters escalate to the head, "
                "then the deputy head, then section chiefs (K4(4))"
            )
            break
    return faults


class Unit(Strict):
    id: Ident
    name: Name
    name_en: Name
    primary: ExtensionRef
    # Tried after the primary is busy (K4(2)), in order.
    adjacent: list[ExtensionRef] = Field(default_factory=list)
    # Dial attempts before the caller goes to the liaison window (T4(2)1: two).
    busy_attempts: Annotated[int, Field(ge=1, le=5)] = 2
    ring_timeout_s: Annotated[int, Field(ge=5, le=120)] = 20
    retry_pause_s: Annotated[float, Field(ge=0, le=30)] = 2
    # Short digits a caller or agent keys to reach the unit, when its number is long or
    # sits on an agency PBX.
    dial_code: Digits | None = None
    # Gets the 08:00 digest of the unit's overdue dispatch orders (K7(3)); when absent,
    # the agency's supervisor_email does.
    supervisor_email: Email | None = None


class AgencyDayOff(Strict):
    """A day the agency does not work though the office calendar does (its own closure)."""

    date: date
    name: Name


class Agency(Strict):
    id: Ident
    name: Name
    name_en: Name
    supervisor_email: Email
    liaison: Liaison
    # Called in this order for urgent matters out of office hours (T2(4)4, K4(4)).
    emergency_contacts: list[EmergencyContact]
    units: Annotated[list[Unit], Field(min_length=1)]
    # The agency's working calendar for case deadlines: the office calendar of the
    # profile with these days off as well (P7: "the agency's working days").
    days_off: list[AgencyDayOff] = Field(default_factory=list)

    @field_validator("emergency_contacts")
    @classmethod
    def _contacts(cls, contacts: list[EmergencyContact]) -> list[EmergencyContact]:
        faults = []
        if len(contacts) < 4:
            faults.append(
                f"at least 4 emergency contacts are required (T2(4)4), found {len(contacts)}"
            )
        if not any(c.role == HEAD for c in contacts):
            faults.append('one emergency contact must be the agency head (role "head", T2(4)4)')
        else:
            faults += _escalation_faults(contacts)
        if faults:
            raise ValueError("; ".join(faults))
        return contacts


class Directory(Strict):
    trunks: list[Trunk] = Field(default_factory=list)
    # The trunk officers' click-to-callback calls citizens over (the carrier line).
    outbound_trunk: Ident | None = None
    agencies: Annotated[list[Agency], Field(min_length=1)]
    # 110 and 119 for the agent's emergency three-way call (ivr/routing/emergency_lines.py).
    emergency_lines: list[EmergencyLine] = Field(default_factory=list)

    @field_validator("emergency_lines")
    @classmethod
    def _one_line_per_service(cls, lines: list[EmergencyLine]) -> list[EmergencyLine]:
        return unique_services(lines)

    def unit(self, unit_id: str) -> tuple[Agency, Unit]:
        for agency in self.agencies:
            for unit in agency.units:
                if unit.id == unit_id:
                    return agency, unit
        raise KeyError(unit_id)

    def trunk(self, trunk_id: str) -> Trunk:
        for trunk in self.trunks:
            if trunk.id == trunk_id:
                return trunk
        raise KeyError(trunk_id)

    def extensions(self) -> dict[str, ExtensionRef]:
        """Every directory number a ToExtension may name, with how to reach it."""
        found: dict[str, ExtensionRef] = {}
        for agency in self.agencies:
            for deputy in agency.liaison.deputies:
                found.setdefault(deputy.extension.number, deputy.extension)
            for unit in agency.units:
                for ref in (unit.primary, *unit.adjacent):
                    found.setdefault(ref.number, ref)
        return found
