"""Routing tables other than menus: profile, hours, block list, directory, agents.

Each model takes one YAML file (see `routing/README.md`) and refuses unknown fields.
A model checks what it can see by itself (a time range, a deputy count); rules that
span several entries or files (unique ids, references, overlaps between holidays and
make-up days) are the loader's, which names the exact entry at fault.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ivr.routing.dispatch_table import DispatchItems
from ivr.routing.menus import Destination, Digits, Ident, Key, Menu, MenuTable, PromptName, Strict
from ivr.routing.privacy import Privacy

# Characters that end or bend a line wherever text is written (config files, logs, mail
# headers, AGI commands): C0/C1 controls, line and paragraph separators, and format
# characters such as the bidi overrides that make a name read differently than it is.
_UNPRINTABLE = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
# Quotes and backslashes end or escape a quoted value in Asterisk config and AGI.
_CONFIG_UNSAFE = frozenset("\"'`\\")


def _printable(value: str) -> str:
    for i, ch in enumerate(value):
        if unicodedata.category(ch) in _UNPRINTABLE:
            raise PydanticCustomError(
                "text_control",
                "holds the control character {char} at position {position}: "
                "write it on one line, with printable characters only",
                {"char": f"U+{ord(ch):04X}", "position": i + 1},
            )
    return value


def _config_safe(value: str) -> str:
    _printable(value)
    bad = sorted(_CONFIG_UNSAFE.intersection(value))
    if bad:
        raise PydanticCustomError(
            "text_quote",
            "may not hold {chars}: it is written into the Asterisk config",
            {"chars": " ".join(bad)},
        )
    return value


# Text an admin must fill in: an empty name reads as a forgotten field, not a choice.
# Every free-text field has a bound, so no table value can fill a log line or a prompt.
Text = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_printable)]
# A name that reaches Asterisk config (a caller id, a queue's name): no quotes either.
Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_config_safe)]


def _email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(_email), AfterValidator(_printable)]


def _phone(value: str) -> str:
    if not re.fullmatch(r"\+?[0-9]{6,15}", value):
        raise ValueError(
            f"{value!r} is not a phone number: digits only (6 to 15), optionally starting "
            'with "+", no spaces or dashes, e.g. "0227208889"'
        )
    return value


Phone = Annotated[str, AfterValidator(_phone)]


# ---------------------------------------------------------------- profile.yaml

LanguageCode = Literal["zh-TW", "en", "nan", "hak"]
LANGUAGE_CODES: tuple[str, ...] = get_args(LanguageCode)


class ProfileLanguage(Strict):
    code: LanguageCode
    # The key that selects this language in the entry menu; the loader checks the
    # entry menu really sends that key to this language.
    key: Key | None = None
    # Stays false until every prompt has a recording in this language.
    enabled: bool


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    # OSError: a key too long for a file name, or naming a directory such as "Asia".
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone, e.g. Asia/Taipei") from exc
    return value


class Profile(Strict):
    name: Ident
    description: Text
    timezone: Annotated[str, Field(max_length=64), AfterValidator(_timezone)]
    default_language: LanguageCode
    # Each hotline greets with its own name; the catalogue's `greeting` is Taipei's.
    greeting: PromptName
    languages: Annotated[list[ProfileLanguage], Field(min_length=1)]
    # Sample data shipped with the code: it may keep published, weak SIP secrets in
    # agents.yaml. A live hotline leaves this false.
    demo: bool = False
    # Retention periods and per-caller limits (ivr.routing.privacy); defaults if absent.
    privacy: Privacy = Privacy()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def enabled_languages(self) -> tuple[str, ...]:
        return tuple(lang.code for lang in self.languages if lang.enabled)


# ---------------------------------------------------------------- hours.yaml


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @classmethod
    def of(cls, day: date) -> Weekday:
        return list(cls)[day.weekday()]


_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def _hhmm(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if isinstance(value, int):
        # YAML 1.1 reads unquoted 20:00 as the sexagesimal number 1200.
        raise PydanticCustomError(
            "time_unquoted",
            'write times in quotes, e.g. "20:00" (YAML read this one as {value})',
            {"value": value},
        )
    if not isinstance(value, str) or not (m := _HHMM.fullmatch(value)):
        raise PydanticCustomError(
            "time_format",
            '{value} is not a time of day written "HH:MM" (00:00 to 23:59)',
            {"value": repr(value)},
        )
    return time(int(m[1]), int(m[2]))


class TimeRange(Strict):
    """From `start` (included) to `end` (excluded), same day; written ["08:00", "20:00"]."""

    start: Annotated[time, BeforeValidator(_hhmm)]
    end: Annotated[time, BeforeValidator(_hhmm)]

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(value) != 2:
                raise ValueError(f'a time range is ["start", "end"], got {len(value)} items')
            return {"start": value[0], "end": value[1]}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.start >= self.end:
            raise ValueError(
                f"{self} ends before it starts (a range cannot cross midnight; split it)"
            )
        return self

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _no_overlap(ranges: list[TimeRange]) -> list[TimeRange]:
    ordered = sorted(ranges, key=lambda r: r.start)
    clashes = [f"{a} and {b}" for a, b in pairwise(ordered) if b.start < a.end]
    if clashes:
        raise ValueError(f"time ranges overlap: {'; '.join(clashes)}")
    # Sorted, so the calendar can walk a day's ranges in order.
    return ordered


DayRanges = Annotated[list[TimeRange], AfterValidator(_no_overlap)]
# A weekday missing from the mapping (or with no ranges) is closed all day.
WeeklyHours = dict[Weekday, DayRanges]


class DatedDay(Strict):
    date: date
    name: Text


class Sla(Strict):
    """The callback deadline for registered matters (T4(2)1: half a day, 4 hours)."""

    callback_hours: Annotated[int, Field(ge=1, le=168)]
    # working_hours: the clock runs only inside office_hours on working days.
    basis: Literal["working_hours", "wall_clock"]


class Disaster(Strict):
    """Disaster mode (K10(1)): 24-hour service that opens with its own announcement."""

    announcement: PromptName


class HalfDay(Strict):
    """A working day that ends early: no working time from `closes_at` on."""

    date: date
    name: Text
    closes_at: Annotated[time, BeforeValidator(_hhmm)]


class CalendarSource(Strict):
    """Where the working calendar's national holidays come from, and how far it is checked."""

    # Public holidays and their observed days from the `holidays` package; None: none.
    national_holidays: Literal["TW"] | None = "TW"
    # The last day whose official office calendar (make-up workdays, bridge days) has
    # been compared with the package and entered in this file; `ivr routing check`
    # warns as it comes near.
    checked_through: date | None = None


class Hours(Strict):
    # When the hotline has agents: `always_open`, or `weekly` ranges.
    always_open: bool = False
    weekly: WeeklyHours | None = None
    # every_day: `weekly` holds on holidays too (Kinmen, K10(1)); working_days: the line
    # is closed on the working calendar's days off and open on its make-up days.
    service_days: Literal["every_day", "working_days"] = "every_day"
    # The agencies' working calendar; it drives callback deadlines, not the hotline.
    calendar: CalendarSource = Field(default_factory=CalendarSource)
    # Days off beyond the national holidays (local days off).
    holidays: list[DatedDay] = Field(default_factory=list)
    # Days worked though off: a Saturday swapped for a bridge day (補班), or a national
    # holiday the offices do not take.
    makeup_workdays: list[DatedDay] = Field(default_factory=list)
    half_days: list[HalfDay] = Field(default_factory=list)
    office_hours: WeeklyHours
    sla: Sla
    # Where callers go outside service hours; required unless always_open.
    closed: Destination | None = None
    disaster: Disaster | None = None
    # A transfer outside office hours: "dial" the unit anyway, or "record" the matter
    # for the next working day and ring nobody (Kinmen K4(4)).
    off_hours_transfers: Literal["dial", "record"] = "dial"


# ---------------------------------------------------------------- blocklist.yaml

_PATTERN = re.compile(r"\+?([0-9]+)(\*?)")


def _block_pattern(value: str) -> str:
    m = _PATTERN.fullmatch(value)
    if m is None:
        raise ValueError(
            f'{value!r} is not a number pattern: digits, optionally a leading "+" and '
            'a trailing "*" for a prefix, e.g. "0912345678" or "0204*"'
        )
    digits, prefix = m[1], m[2]
    if prefix and len(digits) < 4:
        # A short prefix ("09*") would silence a whole network: a mistake, never a policy.
        raise ValueError(f'{value!r}: a prefix pattern needs at least 4 digits before "*"')
    if not prefix and not 3 <= len(digits) <= 15:
        raise ValueError(f"{value!r}: a phone number has 3 to 15 digits")
    return value


BlockPattern = Annotated[str, AfterValidator(_block_pattern)]


def _aware(value: date | datetime) -> date | datetime:
    if isinstance(value, datetime) and value.utcoffset() is None:
        raise ValueError(
            f"{value.isoformat()} has no UTC offset; write e.g. 2026-03-01T09:00:00+08:00 "
            "or just the date"
        )
    return value


def _moment(value: Any) -> Any:
    """One reason for a bad moment, not one per member of the date | datetime union."""
    if isinstance(value, date):  # datetime is a date too
        return value
    if not isinstance(value, str):
        # YAML reads 20260301 as a number, which would pass as seconds since 1970.
        raise PydanticCustomError(
            "moment_type",
            "{value} is not a date (2026-06-12) or a time with its UTC offset",
            {"value": repr(value)},
        )
    try:
        return date.fromisoformat(value) if len(value) <= 10 else datetime.fromisoformat(value)
    except ValueError as exc:
        raise PydanticCustomError(
            "moment",
            "{value} is not a date (2026-06-12) or a time with its UTC offset "
            "(2026-03-01T09:00:00+08:00): {why}",
            {"value": repr(value), "why": str(exc)},
        ) from exc


Moment = Annotated[datetime | date, BeforeValidator(_moment), AfterValidator(_aware)]


class BlockEntry(Strict):
    """A caller whose service is suspended after warnings (T7), with who and why."""

    pattern: BlockPattern
    reason: Text
    added_by: Text
    added_at: Moment
    # A date alone means the block holds through that whole day.
    expires_at: Moment | None = None

    def matches(self, number: str) -> bool:
        if self.pattern.endswith("*"):
            return number.startswith(self.pattern[:-1])
        return number == self.pattern


class Blocklist(Strict):
    entries: list[BlockEntry] = Field(default_factory=list)


# ---------------------------------------------------------------- directory.yaml

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


class Agency(Strict):
    id: Ident
    name: Name
    name_en: Name
    supervisor_email: Email
    liaison: Liaison
    # Called in this order for urgent matters out of office hours (T2(4)4, K4(4)).
    emergency_contacts: list[EmergencyContact]
    units: Annotated[list[Unit], Field(min_length=1)]

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


# ---------------------------------------------------------------- agents.yaml

Skill = Literal["zh-TW", "en", "nan", "hak", "dispatch", "petition", "sign-language", "supervisor"]


def _secret(value: str) -> str:
    if len(value) < 12:
        raise ValueError(f"a SIP secret needs at least 12 characters, found {len(value)}")
    # It is written into pjsip.conf, where ";" starts a comment and quotes nest badly.
    if not re.fullmatch(r"[A-Za-z0-9!$%&()*+,\-./:<=>?@\[\]^_{|}~]+", value):
        raise ValueError('a SIP secret may not hold spaces, ";", "#", quotes or backslashes')
    return value


Secret = Annotated[str, Field(max_length=128), AfterValidator(_secret)]


def _network(value: str) -> str:
    """One network in CIDR form (a bare address is one host), as Asterisk's ACL takes it."""
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not a network: write an address and prefix length with no host "
            f'bits, e.g. "10.20.0.0/16" or "127.0.0.1/32" ({exc})'
        ) from None


Network = Annotated[str, Field(max_length=50), AfterValidator(_network)]
# At least one network: a phone allowed from nowhere is a phone to remove instead.
Networks = Annotated[list[Network], Field(min_length=1, max_length=100)]
# Secure by default: phones on the machine itself only, until an admin names networks.
LOOPBACK = ["127.0.0.0/8", "::1/128"]


class Agent(Strict):
    id: Ident
    name: Name
    extension: Digits
    # Only a demo profile may keep secrets here; a live one uses the stack's secrets
    # file or environment (ivr.routing.agent_secrets).
    secret: Secret | None = None
    skills: list[Skill]
    # Where this phone may register and call from, instead of the table's phone_networks.
    phone_networks: Networks | None = None

    def __repr__(self) -> str:
        # Secrets never reach logs or test output through a repr.
        return f"Agent(id={self.id!r}, extension={self.extension!r}, skills={self.skills!r})"


class Queue(Strict):
    id: Ident
    name: Name
    # A queue serves callers who need all of these skills.
    skills: Annotated[list[Skill], Field(min_length=1)]
    strategy: Literal["rrmemory", "leastrecent", "ringall"] = "rrmemory"
    announce_position: bool = True
    max_wait_s: Annotated[int, Field(ge=30, le=3600)] = 600
    # Queue waiting (issue 18, ivr.domain.queueing): ask the caller after this long in
    # one go; the queue offered on key 3 to a caller who accepts agents without this
    # queue's language; a prompt played to the agent alone before the bridge.
    offer_after_s: Annotated[int, Field(ge=20, le=3600)] = 180
    other_language_queue: Ident | None = None
    whisper: PromptName | None = None


class AgentsTable(Strict):
    agents: Annotated[list[Agent], Field(min_length=1)]
    queues: Annotated[list[Queue], Field(min_length=1)]
    # The networks agents' phones may register and call from (Asterisk's endpoint ACL).
    phone_networks: Networks = Field(default_factory=lambda: list(LOOPBACK))

    def networks_of(self, agent: Agent) -> list[str]:
        return agent.phone_networks if agent.phone_networks is not None else self.phone_networks

    def queue(self, queue_id: str) -> Queue:
        for queue in self.queues:
            if queue.id == queue_id:
                return queue
        raise KeyError(queue_id)

    def agents_for(self, queue: Queue) -> list[Agent]:
        return [a for a in self.agents if set(queue.skills) <= set(a.skills)]


# ---------------------------------------------------------------- the whole profile


@dataclass(frozen=True)
class RoutingTables:
    """One profile, every file validated and cross-checked: only the loader builds it."""

    source: Path
    profile: Profile
    menus: MenuTable
    hours: Hours
    blocklist: Blocklist
    directory: Directory
    agents: AgentsTable
    # Optional file: a profile without dispatch_items.yaml takes no dispatch orders.
    dispatch: DispatchItems = field(default_factory=DispatchItems)

    def menu(self, name: str) -> Menu:
        return self.menus.menus[name]
