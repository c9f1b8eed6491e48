"""The prompts a profile's tables name, and whether the catalogue has their texts."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.prompts import Catalogue
from ivr.routing.cross_base import menu_destinations
from ivr.routing.files import HOURS, MENUS, PROFILE
from ivr.routing.menus import ToAnnouncement, ToEmergency, ToRecord
from ivr.routing.problems import Problem, render_loc
from ivr.routing.tables import RoutingTables
from ivr.routing.yaml_read import Loc


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
        for loc, dest in menu_destinations(name, menu):
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
