"""Which language an agent hears: their own where the hotline has its prompts.

An agent's feature-code confirmations (*45, *46, *47, *48) and a queue's whisper are
played in the agent's language (agents.yaml `language`, else their first language
skill). A language the profile has not enabled has no prompts yet (Taiwanese, Hakka
until their recordings exist), so those agents hear the profile's default language.
"""

from __future__ import annotations

from ivr.routing.agents_table import Agent
from ivr.routing.tables import RoutingTables


def agent_prompt_language(tables: RoutingTables, agent: Agent) -> str:
    own = agent.own_language
    profile = tables.profile
    return own if own in profile.enabled_languages else profile.default_language


def agent_by_extension(tables: RoutingTables, extension: str) -> Agent | None:
    return next((a for a in tables.agents.agents if a.extension == extension), None)
