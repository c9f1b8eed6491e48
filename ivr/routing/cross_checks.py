"""Cross-file rules on profile, hours, blocklist, directory and agents (menus: cross_menus)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable

from ivr.routing.cross_base import as_day, dupes, national_holiday
from ivr.routing.cross_menus import MenuRules
from ivr.routing.files import AGENTS, BLOCKLIST, DIRECTORY, HOURS, PROFILE
from ivr.routing.menus import ToAnnouncement, ToEmergency
from ivr.routing.problems import Problem
from ivr.routing.queue_check import queue_problems
from ivr.routing.tables import (
    LANGUAGE_CODES,
    LOCAL,
    AgentsTable,
    Blocklist,
    Directory,
    ExtensionRef,
    Hours,
    Profile,
    Weekday,
)
from ivr.routing.validate_secrets import table_secret_problems
from ivr.routing.video_check import video_problems
from ivr.routing.yaml_read import Loc


class Tables(MenuRules):
    """Every cross-file rule, run on the tables that parsed."""

    def problems(self) -> list[Problem]:
        self.found = []
        if self.profile is not None:
            self._profile(self.profile)
        if self.hours is not None:
            self._hours(self.hours)
        if self.blocklist is not None:
            self._blocklist(self.blocklist)
        if self.directory is not None:
            self._directory(self.directory)
        if self.agents is not None:
            self._agents(self.agents)
        if self.menus is not None:
            self._menus(self.menus)
        if self.hours is not None and self.hours.closed is not None:
            self._destination(HOURS, ("closed",), self.hours.closed)
        if self.profile is not None and self.directory is not None:
            self._cap_line(self.profile, self.directory)
        return self.found

    def _cap_line(self, profile: Profile, directory: Directory) -> None:
        cap = profile.call_cap
        trunks = {t.id for t in directory.trunks}
        if cap is not None and cap.direct_line.via != LOCAL and cap.direct_line.via not in trunks:
            self.add(
                PROFILE,
                ("call_cap", "direct_line", "via"),
                f'no trunk {cap.direct_line.via!r} in directory.yaml trunks (or "{LOCAL}")',
            )

    # -- profile.yaml

    def _profile(self, profile: Profile) -> None:
        langs = list(enumerate(profile.languages))
        self.unique(PROFILE, "language", ((("languages", i, "code"), g.code) for i, g in langs))
        self.unique(PROFILE, "key", ((("languages", i, "key"), g.key) for i, g in langs if g.key))
        if profile.default_language not in profile.enabled_languages:
            self.add(
                PROFILE,
                ("default_language",),
                f"{profile.default_language} must be declared under languages and enabled",
            )

    # -- hours.yaml

    def _hours(self, hours: Hours) -> None:
        if hours.always_open and hours.weekly is not None:
            self.add(HOURS, ("weekly",), "give either always_open: true or weekly hours, not both")
        if not hours.always_open:
            if hours.weekly is None:
                self.add(HOURS, ("weekly",), "required unless always_open: true")
            elif not any(hours.weekly.values()):
                self.add(HOURS, ("weekly",), "the hotline is never open; give hours or always_open")
            if hours.closed is None:
                self.add(
                    HOURS,
                    ("closed",),
                    "required unless always_open: true: where callers go "
                    "outside service hours (K4(4): record the matter for a callback)",
                )
        if hours.closed is not None and isinstance(hours.closed, ToAnnouncement | ToEmergency):
            self.add(
                HOURS,
                ("closed", "type"),
                "outside service hours the caller's matter is recorded for a callback (K4(4)); "
                f"type {hours.closed.type} would end the call with nobody told",
            )
        if hours.sla.basis == "working_hours" and not any(hours.office_hours.values()):
            self.add(HOURS, ("office_hours",), "sla.basis working_hours needs office hours")
        self._calendar(hours)

    def _calendar(self, hours: Hours) -> None:
        for field, days in (
            ("holidays", hours.holidays),
            ("makeup_workdays", hours.makeup_workdays),
        ):
            self.unique(HOURS, "date", (((field, i, "date"), d.date) for i, d in enumerate(days)))
        halves = enumerate(hours.half_days)
        self.unique(HOURS, "date", ((("half_days", i, "date"), d.date) for i, d in halves))
        holidays = {d.date: d.name for d in hours.holidays}
        for i, day in enumerate(hours.makeup_workdays):
            weekday = Weekday.of(day.date)
            if day.date in holidays:
                self.add(
                    HOURS,
                    ("makeup_workdays", i, "date"),
                    f"{day.date} is both a make-up working day and a holiday "
                    f"({holidays[day.date]})",
                )
            elif hours.office_hours.get(weekday) and not national_holiday(hours, day.date):
                self.add(
                    HOURS,
                    ("makeup_workdays", i, "date"),
                    f"{day.date} is a {weekday.value}, already a working day; "
                    "make-up days move work to a day off (usually a Saturday)",
                )

    # -- blocklist.yaml

    def _blocklist(self, blocklist: Blocklist) -> None:
        entries = list(enumerate(blocklist.entries))
        self.unique(
            BLOCKLIST, "pattern", ((("entries", i, "pattern"), e.pattern) for i, e in entries)
        )
        for i, entry in entries:
            if entry.expires_at is not None and as_day(entry.expires_at) < as_day(entry.added_at):
                self.add(BLOCKLIST, ("entries", i, "expires_at"), "expires before it was added")

    # -- directory.yaml

    def _directory(self, directory: Directory) -> None:
        trunk_ids = [t.id for t in directory.trunks]
        if directory.outbound_trunk is not None and directory.outbound_trunk not in trunk_ids:
            self.add(
                DIRECTORY, ("outbound_trunk",), f"no trunk {directory.outbound_trunk!r} in trunks"
            )
        for i, line in enumerate(directory.emergency_lines):
            if line.via not in trunk_ids:
                self.add(
                    DIRECTORY, ("emergency_lines", i, "via"), f"no trunk {line.via!r} in trunks"
                )
        for i, trunk in enumerate(directory.trunks):
            if trunk.id == LOCAL:
                self.add(DIRECTORY, ("trunks", i, "id"), f'"{LOCAL}" means a local extension')
        self.unique(
            DIRECTORY,
            "trunk",
            ((("trunks", i, "id"), t.id) for i, t in enumerate(directory.trunks)),
        )
        agencies = list(enumerate(directory.agencies))
        self.unique(DIRECTORY, "agency", ((("agencies", i, "id"), a.id) for i, a in agencies))
        self.unique(
            DIRECTORY,
            "unit",
            (
                (("agencies", ai, "units", ui, "id"), u.id)
                for ai, a in agencies
                for ui, u in enumerate(a.units)
            ),
        )
        owners = self._numbers(directory, trunk_ids)
        self._dial_codes(directory, owners)

    def _numbers(self, directory: Directory, trunk_ids: list[str]) -> dict[str, str]:
        """Check every extension is unique and reachable; return each number's owner."""
        places: dict[str, list[tuple[Loc, str]]] = defaultdict(list)
        for ai, agency in enumerate(directory.agencies):
            for di, deputy in enumerate(agency.liaison.deputies):
                loc: Loc = ("agencies", ai, "liaison", "deputies", di, "extension")
                self._via(loc, deputy.extension, trunk_ids)
                places[deputy.extension.number].append((loc, f"{agency.id} liaison deputy"))
            for ui, unit in enumerate(agency.units):
                at: Loc = ("agencies", ai, "units", ui)
                subs: list[Loc] = [
                    ("primary",),
                    *(("adjacent", j) for j in range(len(unit.adjacent))),
                ]
                for sub, ref in zip(subs, (unit.primary, *unit.adjacent), strict=True):
                    self._via((*at, *sub), ref, trunk_ids)
                    places[ref.number].append(((*at, *sub), f"unit {unit.id}"))
        for number, found in places.items():
            for loc, _ in found[1:]:
                self.add(
                    DIRECTORY,
                    (*loc, "number"),
                    f"extension {number} is already {found[0][1]}'s; a number reaches one place",
                )
        return {number: found[0][1] for number, found in places.items()}

    def _via(self, loc: Loc, ref: ExtensionRef, trunk_ids: list[str]) -> None:
        if ref.via != LOCAL and ref.via not in trunk_ids:
            self.add(DIRECTORY, (*loc, "via"), f'no trunk {ref.via!r} in trunks (or "{LOCAL}")')

    def _dial_codes(self, directory: Directory, owners: dict[str, str]) -> None:
        codes: list[tuple[Loc, Hashable]] = []
        for ai, agency in enumerate(directory.agencies):
            for ui, unit in enumerate(agency.units):
                code = unit.dial_code
                if code is None:
                    continue
                loc: Loc = ("agencies", ai, "units", ui, "dial_code")
                codes.append((loc, code))
                own = {unit.primary.number, *(r.number for r in unit.adjacent)}
                if code in owners and code not in own:
                    self.add(DIRECTORY, loc, f"dial code {code} is {owners[code]}'s extension")
        self.unique(DIRECTORY, "dial code", codes)

    def _dialable(self) -> dict[str, str]:
        """Digits a caller or agent can key, and whose they are."""
        found: dict[str, str] = {}
        if self.directory is not None:
            for agency in self.directory.agencies:
                for deputy in agency.liaison.deputies:
                    found.setdefault(deputy.extension.number, f"{agency.id} liaison deputy")
                for unit in agency.units:
                    for ref in (unit.primary, *unit.adjacent):
                        found.setdefault(ref.number, f"unit {unit.id}")
                    if unit.dial_code:
                        found.setdefault(unit.dial_code, f"unit {unit.id}")
        return found

    # -- agents.yaml

    def _agents(self, agents: AgentsTable) -> None:
        staff = list(enumerate(agents.agents))
        self.unique(AGENTS, "agent", ((("agents", i, "id"), a.id) for i, a in staff))
        self.unique(
            AGENTS, "extension", ((("agents", i, "extension"), a.extension) for i, a in staff)
        )
        if self.profile is not None and not self.profile.demo:
            for loc, reason in table_secret_problems(agents):
                self.add(AGENTS, loc, reason)
        directory = self._dialable()
        for i, agent in staff:
            if agent.extension in directory:
                self.add(
                    AGENTS,
                    ("agents", i, "extension"),
                    f"{agent.extension} is already {directory[agent.extension]}'s extension "
                    "in directory.yaml",
                )
            for s in dupes(agent.skills):
                self.add(AGENTS, ("agents", i, "skills"), f"{s} is listed twice")
        queues = list(enumerate(agents.queues))
        self.unique(AGENTS, "queue", ((("queues", i, "id"), q.id) for i, q in queues))
        for i, queue in queues:
            if not agents.agents_for(queue):
                self.add(
                    AGENTS,
                    ("queues", i, "skills"),
                    f"no agent has all of {', '.join(queue.skills)}: callers would wait forever",
                )
            # A video queue's language is sign language (video_check.py holds it to that).
            if queue.video_codecs is None and not any(s in LANGUAGE_CODES for s in queue.skills):
                self.add(
                    AGENTS,
                    ("queues", i, "skills"),
                    "name the language the queue's agents speak (DOMAIN 3a: a language "
                    "choice is honoured)",
                )
        for loc, reason in queue_problems(agents):
            self.add(AGENTS, loc, reason)
        for loc, reason in video_problems(agents):
            self.add(AGENTS, loc, reason)
