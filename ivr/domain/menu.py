"""Menu decisions: what a key, a keyed extension or a silence leads to. Pure.

The adapter asks `first_key` whether one key settles the choice or more digits may
follow (an extension such as 1743 starts with the option key 1); then it hands the
whole entry to `decide`. Invalid keys and timeouts cost a try; after the last try
the caller goes to the menu's `on_exhausted` destination — a person, never a hangup.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal

from ivr.routing.menus import Destination, Menu, MenuTable, ToExtension

DTMF = frozenset("0123456789*#")


class Reason(StrEnum):
    OPTION = "option"
    EXTENSION = "extension"
    EXHAUSTED = "exhausted"


@dataclass(frozen=True)
class MenuState:
    menu: str
    tries: int = 0


@dataclass(frozen=True)
class Go:
    """Leave this menu for a destination."""

    destination: Destination
    reason: Reason


@dataclass(frozen=True)
class Retry:
    """Play the retry prompt and ask again."""

    state: MenuState
    prompt: str
    cause: Literal["invalid", "timeout"]


Decision = Go | Retry


def start(table: MenuTable, menu: str | None = None) -> MenuState:
    return MenuState(menu=menu or table.entry)


def first_key(menu: Menu, key: str, extensions: Set[str]) -> Literal["done", "collect"]:
    """Whether more digits may follow the first key.

    More are collected only when the key can begin a known extension; otherwise the
    caller's choice is taken at once and nobody waits for an inter-digit timeout.
    """
    if menu.extension_dialing and any(e.startswith(key) and len(e) > 1 for e in extensions):
        return "collect"
    return "done"


def decide(menu: Menu, state: MenuState, entry: str, extensions: Set[str]) -> Decision:
    """The next step for what the caller keyed (`entry`, "" for a timeout)."""
    cleaned = entry if entry and set(entry) <= DTMF else None
    if cleaned is not None:
        if len(cleaned) == 1 and cleaned in menu.options:
            return Go(menu.options[cleaned], Reason.OPTION)
        if menu.extension_dialing and cleaned in extensions:
            return Go(ToExtension(type="extension", extension=cleaned), Reason.EXTENSION)
    cause: Literal["invalid", "timeout"] = "timeout" if not entry else "invalid"
    tries = state.tries + 1
    if tries >= menu.max_tries:
        return Go(menu.on_exhausted, Reason.EXHAUSTED)
    return Retry(replace(state, tries=tries), menu.retry_prompt, cause)
