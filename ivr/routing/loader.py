"""Routing tables from YAML: one profile directory in, a complete `RoutingTables` out.

Loading never half-applies: `load_profile` returns every table validated and
cross-checked, or raises `RoutingError` listing every problem it found, each naming
the file, the field path and the reason, so an admin can fix them all in one pass.
Nothing in a file can make it raise anything else: reading (size, encoding, nesting,
aliases, impossible dates) is `ivr.routing.yaml_read`'s, and a validator that fails
unexpectedly refuses the table with "could not be checked" rather than crashing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import structlog
from pydantic import BaseModel

from ivr.prompts import Catalogue
from ivr.routing.cross_checks import Tables as _Tables
from ivr.routing.dispatch_table import DispatchItems, dispatch_problems
from ivr.routing.faq_table import FILE as FAQ
from ivr.routing.faq_table import FaqTable, faq_problems

# The table file names, problems and prompt checks live in their own modules; they are
# re-exported here, where the rest of the project has always imported them from.
from ivr.routing.files import (
    AGENTS,
    BLOCKLIST,
    DIRECTORY,
    DISPATCH,
    HOURS,
    MENUS,
    PROFILE,
)
from ivr.routing.menus import MenuTable
from ivr.routing.problems import MAX_REASON, UNCHECKED, Problem, RoutingError, render_loc
from ivr.routing.prompt_refs import PromptRef, catalogue_problems, prompt_refs
from ivr.routing.referrals import FILE as REFERRALS
from ivr.routing.referrals import Referrals
from ivr.routing.replies import FILE as REPLIES
from ivr.routing.replies import ReplyTemplates
from ivr.routing.tables import AgentsTable, Blocklist, Directory, Hours, Profile, RoutingTables
from ivr.routing.validate_file import validate as _validate
from ivr.routing.yaml_read import read_table

__all__ = [
    "AGENTS",
    "BLOCKLIST",
    "DIRECTORY",
    "DISPATCH",
    "FILES",
    "HOURS",
    "MAX_REASON",
    "MENUS",
    "OPTIONAL_FILES",
    "PROFILE",
    "UNCHECKED",
    "Problem",
    "PromptRef",
    "RoutingError",
    "catalogue_problems",
    "load_profile",
    "prompt_refs",
    "render_loc",
    "table_problems",
]

FILES: dict[str, type[BaseModel]] = {
    PROFILE: Profile,
    MENUS: MenuTable,
    HOURS: Hours,
    BLOCKLIST: Blocklist,
    DIRECTORY: Directory,
    AGENTS: AgentsTable,
}

# Files a profile may leave out; the default table applies then.
OPTIONAL_FILES: dict[str, type[BaseModel]] = {
    DISPATCH: DispatchItems,
    REPLIES: ReplyTemplates,
    REFERRALS: Referrals,
    FAQ: FaqTable,
}

log = structlog.get_logger()

# ---------------------------------------------------------------- reading YAML


def _read_yaml(path: Path, file: str) -> tuple[Any, list[Problem]]:
    data, found, exists = read_table(path)
    if not exists:
        return None, [Problem(file, "", f"missing: a profile has {', '.join(FILES)}")]
    return data, [Problem(file, render_loc(loc), reason) for loc, reason in found]


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
        faq = parsed.get(FAQ)
        if complete is not None and isinstance(faq, FaqTable):
            known = {a.id for a in complete.directory.agencies}
            problems += [
                Problem(str(directory / FAQ), path, reason)
                for path, reason in faq_problems(faq, known)
            ]
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
