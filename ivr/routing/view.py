"""What a call needs from the routing tables, resolved once per table load. Pure.

The loader proves the tables consistent; this turns them into lookups a call uses
(keyed extension → dial target, queue → wait limit) and into the calendar types of
`ivr.domain.calendar`, so the call flow never walks YAML-shaped models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ivr.domain.calendar import ALWAYS_OPEN, Calendar, ServiceHours, SlaPolicy
from ivr.domain.calendar import TimeRange as CalRange
from ivr.routing.menus import Destination, MenuTable
from ivr.routing.tables import LOCAL, BlockEntry, RoutingTables, Weekday, WeeklyHours

_DAY_INDEX = {day: i for i, day in enumerate(Weekday)}


@dataclass(frozen=True)
class DialTarget:
    """One number to ring: a local PJSIP endpoint or a number behind an agency trunk."""

    number: str
    via: str
    agency_id: str
    unit_id: str | None
    ring_timeout_s: int

    @property
    def dialstring(self) -> str:
        return f"PJSIP/{self.number}" if self.via == LOCAL else f"PJSIP/{self.number}@{self.via}"


@dataclass(frozen=True)
class RoutingView:
    profile: str
    default_language: str
    languages: frozenset[str]
    greeting: str
    menus: MenuTable
    service_hours: ServiceHours
    office: Calendar
    sla: SlaPolicy
    closed: Destination | None
    disaster_prompt: str | None
    blocklist: tuple[BlockEntry, ...]
    # What a caller may key at a menu ("1999 轉 分機"): directory numbers and dial codes.
    extensions: Mapping[str, DialTarget]
    queue_max_wait_s: Mapping[str, int]


def _weekly(hours: WeeklyHours) -> dict[int, tuple[CalRange, ...]]:
    return {
        _DAY_INDEX[day]: tuple(CalRange(r.start, r.end) for r in ranges)
        for day, ranges in hours.items()
    }


def build_view(tables: RoutingTables) -> RoutingView:
    hours = tables.hours
    zone = tables.profile.zone
    holidays = frozenset(d.date for d in hours.holidays)
    makeup: frozenset[date] = frozenset(d.date for d in hours.makeup_workdays)
    office = Calendar(zone, _weekly(hours.office_hours), holidays, makeup)
    service: ServiceHours
    if hours.always_open or hours.weekly is None:
        service = ALWAYS_OPEN
    else:
        service = Calendar(zone, _weekly(hours.weekly), holidays, makeup)

    extensions: dict[str, DialTarget] = {}
    for agency in tables.directory.agencies:
        for unit in agency.units:
            for ref in (unit.primary, *unit.adjacent):
                extensions.setdefault(
                    ref.number,
                    DialTarget(ref.number, ref.via, agency.id, unit.id, unit.ring_timeout_s),
                )
            if unit.dial_code:
                p = unit.primary
                extensions.setdefault(
                    unit.dial_code,
                    DialTarget(p.number, p.via, agency.id, unit.id, unit.ring_timeout_s),
                )
        for deputy in agency.liaison.deputies:
            ref = deputy.extension
            extensions.setdefault(ref.number, DialTarget(ref.number, ref.via, agency.id, None, 20))

    return RoutingView(
        profile=tables.profile.name,
        default_language=tables.profile.default_language,
        languages=frozenset(tables.profile.enabled_languages),
        greeting=tables.profile.greeting,
        menus=tables.menus,
        service_hours=service,
        office=office,
        sla=SlaPolicy(float(hours.sla.callback_hours), hours.sla.basis),
        closed=hours.closed,
        disaster_prompt=hours.disaster.announcement if hours.disaster else None,
        blocklist=tuple(tables.blocklist.entries),
        extensions=extensions,
        queue_max_wait_s={q.id: q.max_wait_s for q in tables.agents.queues},
    )
