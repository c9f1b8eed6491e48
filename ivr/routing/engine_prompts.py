"""Prompts the engine plays by itself, checked like the ones the tables name.

Which prompts those are is data: the catalogue's `engine` list. Nothing of the engine
is imported to know them, so `ivr routing check` loads the tables and the catalogue
only.
"""

from __future__ import annotations

from collections.abc import Set

from ivr.prompts import CATALOGUE, Catalogue
from ivr.routing.loader import Problem
from ivr.routing.tables import RoutingTables


def engine_prompt_problems(
    tables: RoutingTables, available: Set[tuple[str, str]], catalogue: Catalogue
) -> list[Problem]:
    problems = []
    for name in catalogue.engine:
        for lang in tables.profile.enabled_languages:
            if (lang, name) not in available:
                problems.append(
                    Problem(
                        f"recordings/{CATALOGUE}",
                        f"prompts.{name}.{lang}",
                        "the engine plays this prompt: give it a text (or a studio "
                        f"recording recordings/{lang}/{name}.wav) for every enabled language",
                    )
                )
    return problems
