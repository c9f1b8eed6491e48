"""Routing tables from YAML: one profile directory in, a complete `RoutingTables` out.

Loading never half-applies: `load_profile` returns every table validated and
cross-checked, or raises `RoutingError` listing every problem it found, each naming
the file, the field path and the reason, so an admin can fix them all in one pass.
Nothing in a file can make it raise anything else: reading (size, encoding, nesting,
aliases, impossible dates) is `ivr.routing.yaml_read`'s, and a validator that fails
unexpectedly refuses the table with "could not be checked" rather than crashing.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import structlog
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ivr.domain.workdays import national_holidays
from ivr.prompts import Catalogue
from ivr.routing.dispatch_table import DispatchItems, dispatch_problems
from ivr.routing.menus import (
    Destination,
    Menu,
    MenuTable,
    ToAnnouncement,
    ToEmergency,
    ToExtension,
    ToLanguage,
    ToMenu,
    ToQueue,
    ToRecord,
    ToUnit,
)
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
    RoutingTables,
    Weekday,
)
from ivr.routing.validate_secrets import table_secret_problems
from ivr.routing.yaml_read import Loc, read_table

PROFILE = "profile.yaml"
MENUS = "menus.yaml"
HOURS = "hours.yaml"
BLOCKLIST = "blocklist.yaml"
DIRECTORY = "directory.yaml"
AGENTS = "agents.yaml"
DISPATCH = "dispatch_items.yaml"
FILES: dict[str, type[BaseModel]] = {
    PROFILE: Profile,
    MENUS: MenuTable,
    HOURS: Hours,
    BLOCKLIST: Blocklist,
    DIRECTORY: Directory,
    AGENTS: AgentsTable,
}

# Files a profile may leave out; the default table applies then.
OPTIONAL_FILES: dict[str, type[BaseModel]] = {DISPATCH: DispatchItems}

log = structlog.get_logger()

# A check that failed on data it should have refused with a reason; tests assert it
# never appears.
UNCHECKED = "could not be checked (a defect in the checker; please report it)"
MAX_REASON = 300


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a table: where (file, field path) and why."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.path}: {self.reason}"
            if self.path
            else f"{self.file}: {self.reason}"
        )


class RoutingError(Exception):
    """A profile was refused as a whole; `problems` lists everything found wrong."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def render_loc(loc: Iterable[str | int]) -> str:
    """`("agencies", 2, "liaison")` → `agencies[2].liaison`; odd keys are quoted: `options["1"]`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}" if out else part
        else:
            # JSON quoting keeps a key holding quotes or a newline on one readable line.
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


# ---------------------------------------------------------------- reading YAML


def _read_yaml(path: Path, file: str) -> tuple[Any, list[Problem]]:
    data, found, exists = read_table(path)
    if not exists:
        return None, [Problem(file, "", f"missing: a profile has {', '.join(FILES)}")]
    return data, [Problem(file, render_loc(loc), reason) for loc, reason in found]


# ---------------------------------------------------------------- validating one file

# Pydantic states a pattern; admins need the rule in words.
_PATTERNS = {
    r"^[0-9*#]$": "a key is one of 0-9, * or # (in quotes)",
    r"^[a-z0-9][a-z0-9-]*$": "a prompt name uses a-z, 0-9 and -",
    r"^[a-z0-9][a-z0-9_-]*$": "an id uses a-z, 0-9, _ and -, starting with a letter or digit",
    r"^[0-9]{2,8}$": "expected 2 to 8 digits (in quotes)",
    r"^[a-z]{2,3}(-[A-Z]{2})?$": "expected a language code such as zh-TW, en, nan or hak",
}


_PLAIN = {
    "extra_forbidden": "unknown field (misspelt, or not one this table takes)",
    "missing": "required field missing",
    "union_tag_not_found": 'a destination needs a "type" (menu, queue, unit, extension, ...)',
}


def _reason(error: ErrorDetails) -> str:
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    reason = _PLAIN.get(kind)
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        reason = f'write it in quotes ("{value}"): YAML reads unquoted {value} as a number'
    elif kind == "string_pattern_mismatch" and str(ctx.get("pattern")) in _PATTERNS:
        reason = f"{value!r}: {_PATTERNS[str(ctx['pattern'])]}"
    elif kind == "union_tag_invalid":
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        reason = f"unknown destination type {ctx.get('tag')!r}; expected one of: {expected}"
    return reason or error["msg"].removeprefix("Value error, ")


def _loc(error: ErrorDetails, data: Any) -> Loc:
    """The error's field path, without the union tags pydantic inserts into it."""
    loc = list(error["loc"])
    out: list[str | int] = []
    node = data
    i = 0
    while i < len(loc):
        part = loc[i]
        if part == "[key]":  # the key itself is wrong: point at it
            i += 1
            continue
        is_tag = (
            isinstance(node, dict)
            and node.get("type") == part
            and (i + 1 < len(loc) or part not in node)
        )
        if not is_tag:
            out.append(part)
            node = _child(node, part)
        i += 1
    return tuple(out)


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _validate(
    model: type[BaseModel], data: Any, file: str
) -> tuple[BaseModel | None, list[Problem]]:
    if not isinstance(data, dict):
        return None, [
            Problem(file, "", f"expected a mapping of fields, found {type(data).__name__}")
        ]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [
            Problem(file, render_loc(_loc(err, data)), _clip(_reason(err))) for err in exc.errors()
        ]
    except Exception as exc:  # a validator bug must refuse the table, not stop the engine
        log.exception("routing_validator_failed", file=file)
        return None, [Problem(file, "", f"{UNCHECKED}: {type(exc).__name__}: {exc}")]


def _clip(reason: str) -> str:
    # A reason quotes the bad value: a 1 MB value must not make a 1 MB line.
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


# ---------------------------------------------------------------- loading a profile


def load_profile(directory: Path, *, catalogue: Catalogue | None = None) -> RoutingTables:
    """Every table of one profile, validated and cross-checked, or `RoutingError`.

    With a `catalogue`, every prompt the tables name must also have a text in every
    enabled language (`ivr.routing.check` adds the audio files).
    """
    if not directory.is_dir():
        raise RoutingError([Problem(str(directory), "", "not a profile directory")])
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    for extra in sorted(directory.glob("*.y*ml")):
        if extra.name not in FILES and extra.name not in OPTIONAL_FILES:
            problems.append(
                Problem(str(extra), "", f"not a table file; a profile has {', '.join(FILES)}")
            )
    optional, optional_problems = _optional_tables(directory)
    parsed.update(optional)
    problems += optional_problems
    for name, model in FILES.items():
        obj, found = _read_model(directory, name, model)
        problems += found
        if obj is not None:
            parsed[name] = obj
    tables = _Tables(
        directory,
        profile=parsed.get(PROFILE),
        menus=parsed.get(MENUS),
        hours=parsed.get(HOURS),
        blocklist=parsed.get(BLOCKLIST),
        directory=parsed.get(DIRECTORY),
        agents=parsed.get(AGENTS),
    )
    try:
        problems += tables.problems()
        complete = tables.complete()
        dispatch = parsed.get(DISPATCH)
        if complete is not None and isinstance(dispatch, DispatchItems):
            units = {a.id: [u.id for u in a.units] for a in complete.directory.agencies}
            problems += [
                Problem(str(directory / DISPATCH), path, reason)
                for path, reason in dispatch_problems(dispatch, units)
            ]
            complete = replace(complete, dispatch=dispatch)
        if complete is not None and catalogue is not None:
            problems += catalogue_problems(complete, catalogue)
    except Exception as exc:  # as in _validate: refuse, never crash the caller
        log.exception("routing_check_failed", directory=str(directory))
        problems.append(Problem(str(directory), "", f"{UNCHECKED}: {type(exc).__name__}: {exc}"))
        complete = None
    if problems or complete is None:
        raise RoutingError(problems)
    return complete


def _optional_tables(directory: Path) -> tuple[dict[str, BaseModel], list[Problem]]:
    parsed: dict[str, BaseModel] = {}
    problems: list[Problem] = []
    for name, model in OPTIONAL_FILES.items():
        if not (directory / name).exists():
            continue
        obj, found = _read_model(directory, name, model)
        problems += found
        if obj is not None:
            parsed[name] = obj
    return parsed, problems


def _read_model(
    directory: Path, name: str, model: type[BaseModel]
) -> tuple[BaseModel | None, list[Problem]]:
    """One table file read and validated; the model only when it was read cleanly."""
    file = str(directory / name)
    data, read_problems = _read_yaml(directory / name, file)
    if data is None:
        return None, read_problems
    obj, invalid = _validate(model, data, file)
    return (obj if not read_problems else None), [*read_problems, *invalid]


def table_problems(tables: RoutingTables) -> list[Problem]:
    """Every cross-file rule on a complete profile (the loader already applied them)."""
    return _Tables.of(tables).problems()


# ---------------------------------------------------------------- prompts


@dataclass(frozen=True)
class PromptRef:
    """A prompt named by a table: the file and field that name it."""

    file: str
    path: str
    prompt: str


def prompt_refs(tables: RoutingTables) -> list[PromptRef]:
    d = tables.source
    refs = [PromptRef(str(d / PROFILE), "greeting", tables.profile.greeting)]
    for name, menu in tables.menus.menus.items():
        base: Loc = ("menus", name)
        refs.append(PromptRef(str(d / MENUS), render_loc((*base, "prompt")), menu.prompt))
        refs.append(
            PromptRef(str(d / MENUS), render_loc((*base, "retry_prompt")), menu.retry_prompt)
        )
        for loc, dest in _menu_destinations(name, menu):
            if isinstance(dest, ToEmergency | ToAnnouncement | ToRecord):
                refs.append(PromptRef(str(d / MENUS), render_loc((*loc, "prompt")), dest.prompt))
    hours = tables.hours
    if isinstance(hours.closed, ToEmergency | ToAnnouncement | ToRecord):
        refs.append(PromptRef(str(d / HOURS), "closed.prompt", hours.closed.prompt))
    if hours.disaster is not None:
        refs.append(PromptRef(str(d / HOURS), "disaster.announcement", hours.disaster.announcement))
    return refs


def catalogue_problems(tables: RoutingTables, catalogue: Catalogue) -> list[Problem]:
    """Every prompt a table names has a catalogue text in every enabled language."""
    problems: list[Problem] = []
    profile_file = str(tables.source / PROFILE)
    for i, lang in enumerate(tables.profile.languages):
        if lang.enabled and lang.code not in catalogue.languages:
            problems.append(
                Problem(
                    profile_file,
                    render_loc(("languages", i, "enabled")),
                    f"{lang.code} is enabled but the prompt catalogue declares no such language",
                )
            )
    enabled = tables.profile.enabled_languages
    for ref in prompt_refs(tables):
        texts = catalogue.prompts.get(ref.prompt)
        if texts is None:
            problems.append(
                Problem(ref.file, ref.path, f"prompt {ref.prompt!r} is not in the prompt catalogue")
            )
            continue
        missing = [lang for lang in enabled if lang not in texts]
        if missing:
            problems.append(
                Problem(
                    ref.file,
                    ref.path,
                    f"prompt {ref.prompt!r} has no {', '.join(missing)} text in the prompt "
                    "catalogue, and every enabled language needs one",
                )
            )
    return problems


# ---------------------------------------------------------------- cross-file rules


def _menu_destinations(name: str, menu: Menu) -> Iterator[tuple[Loc, Destination]]:
    for key, dest in menu.options.items():
        yield ("menus", name, "options", key), dest
    yield ("menus", name, "on_exhausted"), menu.on_exhausted


def _next_menu(dest: Destination) -> str | None:
    if isinstance(dest, ToMenu):
        return dest.menu
    if isinstance(dest, ToLanguage):
        return dest.then
    return None


def _dupes(values: Iterable[Hashable]) -> set[Hashable]:
    return {v for v, n in Counter(values).items() if n > 1}


def _national_holiday(hours: Hours, day: date) -> bool:
    # A make-up day may take back a national holiday the offices do not observe.
    country = hours.calendar.national_holidays
    return country is not None and national_holidays(country).holiday(day) is not None


def _day(moment: date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


class _Tables:
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
    def of(cls, t: RoutingTables) -> _Tables:
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
        return self.found

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
            elif hours.office_hours.get(weekday) and not _national_holiday(hours, day.date):
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
            if entry.expires_at is not None and _day(entry.expires_at) < _day(entry.added_at):
                self.add(BLOCKLIST, ("entries", i, "expires_at"), "expires before it was added")

    # -- directory.yaml

    def _directory(self, directory: Directory) -> None:
        trunk_ids = [t.id for t in directory.trunks]
        if directory.outbound_trunk is not None and directory.outbound_trunk not in trunk_ids:
            self.add(
                DIRECTORY, ("outbound_trunk",), f"no trunk {directory.outbound_trunk!r} in trunks"
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
            for s in _dupes(agent.skills):
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
            if not any(s in LANGUAGE_CODES for s in queue.skills):
                self.add(
                    AGENTS,
                    ("queues", i, "skills"),
                    "name the language the queue's agents speak (DOMAIN 3a: a language "
                    "choice is honoured)",
                )
        for loc, reason in queue_problems(agents):
            self.add(AGENTS, loc, reason)

    # -- menus.yaml (and hours.closed, which leads into the menus too)

    def _menus(self, menus: MenuTable) -> None:
        if menus.entry not in menus.menus:
            self.add(MENUS, ("entry",), f"no menu {menus.entry!r} under menus")
        for name, menu in menus.menus.items():
            for loc, dest in _menu_destinations(name, menu):
                self._destination(MENUS, loc, dest)
            if isinstance(menu.on_exhausted, ToAnnouncement | ToEmergency):
                self.add(
                    MENUS,
                    ("menus", name, "on_exhausted", "type"),
                    "never hang up on a caller who simply did not press anything: "
                    "on_exhausted must reach a person (a queue, unit, record...), "
                    f"not {menu.on_exhausted.type}",
                )
        self._reachable(menus)
        self._exits(menus)
        self._language_keys(menus)
        self._languages_honoured(menus)

    def _destination(self, file: str, loc: Loc, dest: Destination) -> None:
        # A table that did not parse cannot be searched: skip checks that need it.
        menus = self.menus.menus if self.menus is not None else None
        if isinstance(dest, ToMenu) and menus is not None and dest.menu not in menus:
            self.add(file, (*loc, "menu"), f"no menu {dest.menu!r} in menus.yaml")
        elif isinstance(dest, ToLanguage):
            if menus is not None and dest.then not in menus:
                self.add(file, (*loc, "then"), f"no menu {dest.then!r} in menus.yaml")
            if self.profile is not None and dest.language not in self.profile.enabled_languages:
                self.add(
                    file,
                    (*loc, "language"),
                    f"{dest.language} is not an enabled language in profile.yaml",
                )
        elif isinstance(dest, ToQueue) and self.agents is not None:
            if dest.queue not in {q.id for q in self.agents.queues}:
                self.add(file, (*loc, "queue"), f"no queue {dest.queue!r} in agents.yaml")
        elif isinstance(dest, ToUnit) and self.directory is not None:
            if dest.unit not in {u.id for a in self.directory.agencies for u in a.units}:
                self.add(file, (*loc, "unit"), f"no unit {dest.unit!r} in directory.yaml")
        elif isinstance(dest, ToExtension) and self.directory is not None:
            if dest.extension not in self.directory.extensions():
                self.add(
                    file, (*loc, "extension"), f"no extension {dest.extension} in directory.yaml"
                )
        elif isinstance(dest, ToEmergency):
            self._emergency(file, loc, dest)

    def _emergency(self, file: str, loc: Loc, dest: ToEmergency) -> None:
        connect = (dest.connect_key, dest.trunk, dest.number)
        if any(v is not None for v in connect) and any(v is None for v in connect):
            self.add(
                file,
                loc,
                "connecting an emergency call needs connect_key, trunk and number together",
            )
        trunks = {t.id for t in self.directory.trunks} if self.directory is not None else None
        if dest.trunk is not None and trunks is not None and dest.trunk not in trunks:
            self.add(file, (*loc, "trunk"), f"no trunk {dest.trunk!r} in directory.yaml")

    def _edges(self, menus: MenuTable) -> dict[str, set[str]]:
        return {
            name: {
                target
                for _, dest in _menu_destinations(name, menu)
                if (target := _next_menu(dest)) is not None and target in menus.menus
            }
            for name, menu in menus.menus.items()
        }

    def _reachable(self, menus: MenuTable) -> None:
        if self.hours is None or menus.entry not in menus.menus:
            return  # the roots are not all known: do not guess
        roots = {menus.entry}
        if self.hours.closed is not None and (m := _next_menu(self.hours.closed)) is not None:
            roots.add(m)
        edges = self._edges(menus)
        seen: set[str] = set()
        todo = [r for r in roots if r in menus.menus]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(edges[name])
        for name in menus.menus:
            if name not in seen:
                self.add(
                    MENUS,
                    ("menus", name),
                    f"unreachable: no path leads here from the entry menu {menus.entry!r}",
                )

    def _exits(self, menus: MenuTable) -> None:
        edges = self._edges(menus)
        for group in _cycles(edges):
            members = set(group)
            escapes = any(
                _next_menu(dest) not in members
                for name in group
                for _, dest in _menu_destinations(name, menus.menus[name])
            )
            if not escapes:
                first = min(group)
                self.add(
                    MENUS,
                    ("menus", first),
                    f"menus {', '.join(sorted(group))} loop with no exit: every option and "
                    "on_exhausted leads back into them, so a caller can never reach a person",
                )

    def _language_keys(self, menus: MenuTable) -> None:
        if self.profile is None or menus.entry not in menus.menus:
            return
        entry = menus.menus[menus.entry]
        for i, lang in enumerate(self.profile.languages):
            if lang.key is None or not lang.enabled:
                continue
            dest = entry.options.get(lang.key)
            if not (isinstance(dest, ToLanguage) and dest.language == lang.code):
                self.add(
                    PROFILE,
                    ("languages", i, "key"),
                    f"key {lang.key} should select {lang.code}, but in menus.yaml "
                    f'menus.{menus.entry}.options["{lang.key}"] '
                    + ("is missing" if dest is None else f"goes to a {dest.type}"),
                )

    def _languages_honoured(self, menus: MenuTable) -> None:
        """After a caller chooses a language, every queue ahead must have agents speaking it.

        The 2023 Taipei complaint (DOMAIN 3a): callers who chose Taiwanese were quietly
        handed to Mandarin-only agents. Only choices are followed: before any ToLanguage
        or a language's key in the entry menu (even a disabled language's) the caller has
        chosen nothing, so any queue may serve them.
        """
        if self.agents is None or menus.entry not in menus.menus:
            return
        skills = {q.id: set(q.skills) for q in self.agents.queues}
        # A language's key in the entry menu is its choice even when it leads to a plain
        # menu (a disabled language's notice, as Taipei's key 5): the caller pressed
        # "Taiwanese", and a disabled language is promised as much as an enabled one.
        chosen_by_key: dict[Loc, str] = {
            ("menus", menus.entry, "options", lang.key): lang.code
            for lang in (self.profile.languages if self.profile is not None else [])
            if lang.key is not None
        }
        start: list[tuple[str, str | None]] = [(menus.entry, None)]
        if self.hours is not None and self.hours.closed is not None:
            nxt = _next_menu(self.hours.closed)
            if nxt is not None:
                lang = (
                    self.hours.closed.language
                    if isinstance(self.hours.closed, ToLanguage)
                    else None
                )
                start.append((nxt, lang))
        seen: set[tuple[str, str | None]] = set()
        reported: set[tuple[Loc, str]] = set()
        while start:
            name, lang = state = start.pop()
            if state in seen or name not in menus.menus:
                continue
            seen.add(state)
            for loc, dest in _menu_destinations(name, menus.menus[name]):
                lang = state[1] if state[1] is not None else chosen_by_key.get(loc)
                if isinstance(dest, ToMenu):
                    start.append((dest.menu, lang))
                elif isinstance(dest, ToLanguage):
                    start.append((dest.then, dest.language))
                elif (
                    isinstance(dest, ToQueue)
                    and lang is not None
                    and dest.queue in skills
                    and lang not in skills[dest.queue]
                    and (loc, lang) not in reported
                ):
                    reported.add((loc, lang))
                    self.add(
                        MENUS,
                        (*loc, "queue"),
                        f"callers who chose {lang} reach queue {dest.queue!r}, whose agents "
                        f"need not speak {lang}; send them to a queue with skill {lang} "
                        "(DOMAIN 3a)",
                    )


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of menus that form a loop (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in edges[node]:
                    groups.append(sorted(group))
    return groups
