"""Cross-file rules' common ground: the tables that parsed, and where problems go.

`TablesBase` holds the tables that parsed (some may be missing: each rule runs where
its inputs exist); `ivr.routing.cross_menus` and `ivr.routing.cross_checks` add the
rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Self

from ivr.domain.workdays import national_holidays
from ivr.routing.menus import Destination, Menu, MenuTable, ToLanguage, ToMenu
from ivr.routing.problems import Problem, render_loc
from ivr.routing.tables import (
    AgentsTable,
    Blocklist,
    Directory,
    Hours,
    Profile,
    RoutingTables,
)
from ivr.routing.yaml_read import Loc


def menu_destinations(name: str, menu: Menu) -> Iterator[tuple[Loc, Destination]]:
    for key, dest in menu.options.items():
        yield ("menus", name, "options", key), dest
    yield ("menus", name, "on_exhausted"), menu.on_exhausted


def next_menu(dest: Destination) -> str | None:
    if isinstance(dest, ToMenu):
        return dest.menu
    if isinstance(dest, ToLanguage):
        return dest.then
    return None


def dupes(values: Iterable[Hashable]) -> set[Hashable]:
    return {v for v, n in Counter(values).items() if n > 1}


def national_holiday(hours: Hours, day: date) -> bool:
    # A make-up day may take back a national holiday the offices do not observe.
    country = hours.calendar.national_holidays
    return country is not None and national_holidays(country).holiday(day) is not None


def as_day(moment: date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


class TablesBase:
    """The tables that parsed, some possibly missing: rules run where their inputs exist."""

    def __init__(
        self,
        source: Path,
        *,
        profile: Profile | None,
        menus: MenuTable | None,
        hours: Hours | None,
        blocklist: Blocklist | None,
        directory: Directory | None,
        agents: AgentsTable | None,
    ) -> None:
        self.source = source
        self.profile = profile
        self.menus = menus
        self.hours = hours
        self.blocklist = blocklist
        self.directory = directory
        self.agents = agents
        self.found: list[Problem] = []

    @classmethod
    def of(cls, t: RoutingTables) -> Self:
        return cls(
            t.source,
            profile=t.profile,
            menus=t.menus,
            hours=t.hours,
            blocklist=t.blocklist,
            directory=t.directory,
            agents=t.agents,
        )

    def complete(self) -> RoutingTables | None:
        p, m, h, b, d, a = (
            self.profile,
            self.menus,
            self.hours,
            self.blocklist,
            self.directory,
            self.agents,
        )
        if p is None or m is None or h is None or b is None or d is None or a is None:
            return None
        return RoutingTables(self.source, p, m, h, b, d, a)

    def add(self, file: str, loc: Loc, reason: str) -> None:
        self.found.append(Problem(str(self.source / file), render_loc(loc), reason))

    def unique(self, file: str, what: str, places: Iterable[tuple[Loc, Hashable]]) -> None:
        """Report each repeat of a value at its place, pointing back to the first one."""
        first: dict[Hashable, Loc] = {}
        for loc, value in places:
            if value in first:
                self.add(file, loc, f"{what} {value} is already at {render_loc(first[value])}")
            else:
                first[value] = loc
