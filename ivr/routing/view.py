"""What a call needs from the routing tables, resolved once per table load. Pure.

The loader proves the tables consistent; this turns them into lookups a call uses
(keyed extension → dial target, queue → wait limit) and into the calendar types of
`ivr.domain.calendar`, so the call flow never walks YAML-shaped models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from zoneinfo import ZoneInfo

from ivr.domain.calendar import ALWAYS_OPEN, Calendar, DayOff, ServiceHours, SlaPolicy
from ivr.domain.calendar import TimeRange as CalRange
from ivr.domain.call_cap import CapPolicy
from ivr.domain.menu import Menu, MenuTable
from ivr.domain.queueing import QueuePolicy
from ivr.domain.transfer import Line, OffHoursTransfers, TransferSpec
from ivr.domain.vocabulary import CapAction
from ivr.domain.workdays import national_holidays
from ivr.routing import menus as tables_menus
from ivr.routing.menus import Destination
from ivr.routing.privacy import CallerLimits
from ivr.routing.queue_view import queue_policies
from ivr.routing.tables import (
    LOCAL,
    BlockEntry,
    Hours,
    RoutingTables,
    Unit,
    Weekday,
    WeeklyHours,
)

_DAY_INDEX = {day: i for i, day in enumerate(Weekday)}


def dialstring(line: Line) -> str:
    """A local PJSIP endpoint, or a number behind an agency trunk."""
    return f"PJSIP/{line.number}" if line.via == LOCAL else f"PJSIP/{line.number}@{line.via}"


@dataclass(frozen=True)
class RoutingView:
    profile: str
    default_language: str
    languages: frozenset[str]
    greeting: str
    menus: MenuTable[Destination]
    service_hours: ServiceHours
    office: Calendar
    sla: SlaPolicy
    closed: Destination | None
    off_hours_transfers: OffHoursTransfers
    disaster_prompt: str | None
    blocklist: tuple[BlockEntry, ...]
    # What a caller may key at a menu ("1999 轉 分機"): directory numbers and dial
    # codes, each with the transfer sequence it starts.
    extensions: Mapping[str, TransferSpec]
    # The sequence for a transfer to a unit as such (ToUnit, agents, admins).
    units: Mapping[str, TransferSpec]
    queue_max_wait_s: Mapping[str, int]
    # Whether declared closures close the line too (service_days: working_days).
    service_follows_office: bool = False
    # Each queue as a waiting caller meets it (ivr.routing.queue_view).
    queues: Mapping[str, QueuePolicy] = field(default_factory=dict)
    # Per caller number (profile.yaml privacy.limits).
    limits: CallerLimits = CallerLimits()  # noqa: RUF009 - frozen, so one shared default is safe
    # How long one conversation with a person may last (profile.yaml call_cap).
    call_cap: CapPolicy | None = None
    # The sign-language video queue and its video codecs (agents.yaml), if any: a call
    # whose negotiated video is in one of them goes there past the menus (flow/video.py).
    video_queue: str | None = None
    video_codecs: tuple[str, ...] = ()


def _weekly(hours: WeeklyHours) -> dict[int, tuple[CalRange, ...]]:
    return {
        _DAY_INDEX[day]: tuple(CalRange(r.start, r.end) for r in ranges)
        for day, ranges in hours.items()
    }


def _unit_spec(
    first: Line, unit: Unit, lines: list[Line], agency_id: str, deputies: tuple[Line, ...]
) -> TransferSpec:
    return TransferSpec(
        unit_id=unit.id,
        agency_id=agency_id,
        primary=first,
        adjacent=tuple(line for line in lines if line != first),
        deputies=deputies,
        busy_attempts=unit.busy_attempts,
        ring_timeout_s=unit.ring_timeout_s,
        retry_pause_s=unit.retry_pause_s,
    )


def menu_table(table: tables_menus.MenuTable) -> MenuTable[Destination]:
    """The menus as the domain reads them; destinations stay the tables' typed union."""
    return MenuTable(
        entry=table.entry,
        menus={name: _menu(menu) for name, menu in table.menus.items()},
    )


def _menu(menu: tables_menus.Menu) -> Menu[Destination]:
    return Menu(
        prompt=menu.prompt,
        options=dict(menu.options),
        on_exhausted=menu.on_exhausted,
        timeout_s=menu.timeout_s,
        max_tries=menu.max_tries,
        retry_prompt=menu.retry_prompt,
        extension_dialing=menu.extension_dialing,
        extension_digits_max=menu.extension_digits_max,
    )


def working_calendar(hours: Hours, zone: ZoneInfo) -> Calendar:
    """The offices' working time (what SLA clocks count): national holidays plus the tables."""
    source = hours.calendar.national_holidays
    days_off: dict[date, DayOff] = {d.date: DayOff(d.name) for d in hours.holidays}
    for half in hours.half_days:
        days_off.setdefault(half.date, DayOff(half.name, "half_day", half.closes_at))
    return Calendar(
        zone,
        _weekly(hours.office_hours),
        makeup_workdays=frozenset(d.date for d in hours.makeup_workdays),
        national=national_holidays(source) if source is not None else None,
        days_off=days_off,
    )


def service_calendar(hours: Hours, office: Calendar) -> ServiceHours:
    """When the line answers: its own weekly hours, tied to the working calendar or not."""
    if hours.always_open or hours.weekly is None:
        return ALWAYS_OPEN
    if hours.service_days == "working_days":
        return replace(office, weekly=_weekly(hours.weekly))
    # Every day means every day: holidays do not close the line (Kinmen, K10(1)).
    return Calendar(office.tz, _weekly(hours.weekly))


def build_view(tables: RoutingTables) -> RoutingView:
    hours = tables.hours
    office = working_calendar(hours, tables.profile.zone)
    service = service_calendar(hours, office)
    video = tables.agents.video_queue()

    extensions: dict[str, TransferSpec] = {}
    units: dict[str, TransferSpec] = {}
    for agency in tables.directory.agencies:
        deputies = tuple(
            Line(d.extension.number, d.extension.via, d.name) for d in agency.liaison.deputies
        )
        for unit in agency.units:
            lines = [Line(r.number, r.via) for r in (unit.primary, *unit.adjacent)]

            units[unit.id] = _unit_spec(lines[0], unit, lines, agency.id, deputies)
            # Keying a particular line rings that line first, then the unit's others.
            for line in lines:
                extensions.setdefault(
                    line.number, _unit_spec(line, unit, lines, agency.id, deputies)
                )
            if unit.dial_code:
                extensions.setdefault(unit.dial_code, units[unit.id])
        for deputy in deputies:
            others = tuple(d for d in deputies if d != deputy)
            extensions.setdefault(
                deputy.number,
                TransferSpec(
                    unit_id=f"{agency.id}-liaison",
                    agency_id=agency.id,
                    primary=deputy,
                    adjacent=(),
                    deputies=others,
                ),
            )

    return RoutingView(
        profile=tables.profile.name,
        default_language=tables.profile.default_language,
        languages=frozenset(tables.profile.enabled_languages),
        greeting=tables.profile.greeting,
        menus=menu_table(tables.menus),
        service_hours=service,
        office=office,
        sla=SlaPolicy(float(hours.sla.callback_hours), hours.sla.basis),
        closed=hours.closed,
        off_hours_transfers=hours.off_hours_transfers,
        disaster_prompt=hours.disaster.announcement if hours.disaster else None,
        blocklist=tuple(tables.blocklist.entries),
        extensions=extensions,
        units=units,
        queue_max_wait_s={q.id: q.max_wait_s for q in tables.agents.queues},
        queues=queue_policies(tables),
        service_follows_office=isinstance(service, Calendar) and hours.service_days != "every_day",
        limits=tables.profile.privacy.limits,
        call_cap=_call_cap(tables),
        video_queue=video.id if video else None,
        video_codecs=tuple(video.video_codecs or ()) if video else (),
    )


def _call_cap(tables: RoutingTables) -> CapPolicy | None:
    cap = tables.profile.call_cap
    if cap is None:
        return None
    line = Line(cap.direct_line.number, cap.direct_line.via, "direct line")
    return CapPolicy(cap.limit_s, cap.warning_before_s, CapAction(cap.at_limit), line)
