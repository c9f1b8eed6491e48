"""The routing tables of one profile, and the one place each table's model is imported from.

Each model takes one YAML file (see `routing/README.md`) and refuses unknown fields; it
lives in a module of its own (`profile_table`, `hours_table`, `blocklist_table`,
`directory_table`, `agents_table`, `dispatch_table`; menus in `menus`), with the field
types they share in `table_fields`. A model checks what it can see by itself (a time
range, a deputy count); rules that span several entries or files (unique ids,
references, overlaps between holidays and make-up days) are the loader's, which names
the exact entry at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ivr.routing.agents_table import (
    LOOPBACK,
    Agent,
    AgentsTable,
    Network,
    Networks,
    Queue,
    Secret,
    Skill,
    _secret,
)
from ivr.routing.blocklist_table import BlockEntry, Blocklist, BlockPattern, Moment
from ivr.routing.directory_table import (
    DEPUTY_HEAD,
    HEAD,
    LOCAL,
    Agency,
    Deputy,
    Directory,
    EmergencyContact,
    ExtensionRef,
    Liaison,
    Trunk,
    Unit,
)
from ivr.routing.dispatch_table import DispatchItems
from ivr.routing.hours_table import (
    CalendarSource,
    DatedDay,
    DayRanges,
    Disaster,
    HalfDay,
    Hours,
    Sla,
    TimeRange,
    Weekday,
    WeeklyHours,
)
from ivr.routing.menus import Menu, MenuTable
from ivr.routing.profile_table import LANGUAGE_CODES, LanguageCode, Profile, ProfileLanguage
from ivr.routing.table_fields import Email, Name, Phone, Text

# Every model stays importable from here: the loader, the flow and the tests name this module.
__all__ = [
    "DEPUTY_HEAD",
    "HEAD",
    "LANGUAGE_CODES",
    "LOCAL",
    "LOOPBACK",
    "Agency",
    "Agent",
    "AgentsTable",
    "BlockEntry",
    "BlockPattern",
    "Blocklist",
    "CalendarSource",
    "DatedDay",
    "DayRanges",
    "Deputy",
    "Directory",
    "Disaster",
    "Email",
    "EmergencyContact",
    "ExtensionRef",
    "HalfDay",
    "Hours",
    "LanguageCode",
    "Liaison",
    "Moment",
    "Name",
    "Network",
    "Networks",
    "Phone",
    "Profile",
    "ProfileLanguage",
    "Queue",
    "RoutingTables",
    "Secret",
    "Skill",
    "Sla",
    "Text",
    "TimeRange",
    "Trunk",
    "Unit",
    "Weekday",
    "WeeklyHours",
    "_secret",
]

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
