"""Prompts the engine plays by itself, checked like the ones the tables name."""

from __future__ import annotations

from collections.abc import Set

from ivr.adapters.agi.agent import AGENT_PROMPTS
from ivr.adapters.agi.hotline import ENGINE_PROMPTS
from ivr.prompts import CATALOGUE
from ivr.routing.loader import Problem
from ivr.routing.tables import RoutingTables


def engine_prompt_problems(tables: RoutingTables, available: Set[tuple[str, str]]) -> list[Problem]:
    problems = []
    for name in (*ENGINE_PROMPTS, *AGENT_PROMPTS):
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
