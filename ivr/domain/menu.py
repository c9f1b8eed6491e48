"""Menu decisions: what a key, a keyed extension or a silence leads to. Pure.

A caller's entry is judged whole. `listen` says how to collect it: the adapter asks
Asterisk for it in one command, which ends after an inter-digit pause, at `#`, or
once no known extension is longer; so no digit of it is left over to be taken as the
next menu's key (an unknown "7001" is one invalid try, not a 7 and then three keys).
`decide` then maps the whole entry to an option, a keyed extension or a retry.
Invalid entries and timeouts cost a try; after the last try the caller goes to the
menu's `on_exhausted` destination — a person, never a hangup.

The menus are generic in their destination type `D`: the routing tables' own union
(`ivr.routing.view` builds these menus from the tables), or anything a test likes.
This module never looks inside a destination, so it needs none of the tables' models.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Generic, Literal, TypeVar

DTMF = frozenset("0123456789*#")
# An entry ends this long after its last key: long enough for a caller keying an
# extension, short enough that a single key is not kept waiting. `#` ends it at once.
INTERDIGIT_S = 1.5

D = TypeVar("D")


class Reason(StrEnum):
    OPTION = "option"
    EXTENSION = "extension"
    EXHAUSTED = "exhausted"


@dataclass(frozen=True)
class Menu(Generic[D]):
    """One menu: the prompt, the keys' destinations, and how long and often to ask."""

    prompt: str
    options: Mapping[str, D]
    on_exhausted: D
    timeout_s: float = 5.0
    max_tries: int = 3
    retry_prompt: str = "invalid-retry"
    # Callers may key a unit extension ("1999 轉 分機") instead of a menu option.
    extension_dialing: bool = True
    # Digits collected after the first key when dialling an extension.
    extension_digits_max: int = 4


@dataclass(frozen=True)
class MenuTable(Generic[D]):
    entry: str
    menus: Mapping[str, Menu[D]]


@dataclass(frozen=True)
class MenuState:
    menu: str
    tries: int = 0


@dataclass(frozen=True)
class Go(Generic[D]):
    """Leave this menu for one of its destinations (an option, or `on_exhausted`)."""

    destination: D
    reason: Literal[Reason.OPTION, Reason.EXHAUSTED]


@dataclass(frozen=True)
class Dialled:
    """Leave this menu for a known extension the caller keyed."""

    extension: str
    reason: Literal[Reason.EXTENSION] = Reason.EXTENSION


@dataclass(frozen=True)
class Retry:
    """Play the retry prompt and ask again."""

    state: MenuState
    prompt: str
    cause: Literal["invalid", "timeout"]


Decision = Go[D] | Dialled | Retry


@dataclass(frozen=True)
class Listen:
    """How one entry is collected: a wait for the first key after the prompts, then
    keys until `interdigit_s` passes without one, `#` is pressed, or `max_digits`."""

    first_s: float
    interdigit_s: float
    max_digits: int


def start(table: MenuTable[D], menu: str | None = None) -> MenuState:
    return MenuState(menu=menu or table.entry)


def listen(menu: Menu[D], extensions: Set[str]) -> Listen:
    """How to collect one whole entry at `menu`.

    Up to the longest known extension when callers may key one (a 5-digit number on
    an agency PBX as well as a 4-digit one), and never fewer than the table's
    `extension_digits_max`: a caller keying more digits than any option has still
    makes one entry, judged once.
    """
    longest = max((len(e) for e in extensions), default=1) if menu.extension_dialing else 1
    return Listen(
        first_s=menu.timeout_s,
        interdigit_s=INTERDIGIT_S,
        max_digits=max(longest, menu.extension_digits_max),
    )


def decide(menu: Menu[D], state: MenuState, entry: str, extensions: Set[str]) -> Decision[D]:
    """The next step for what the caller keyed (`entry`, "" for a timeout)."""
    cleaned = entry if entry and set(entry) <= DTMF else None
    if cleaned is not None:
        if len(cleaned) == 1 and cleaned in menu.options:
            return Go(menu.options[cleaned], Reason.OPTION)
        if menu.extension_dialing and cleaned in extensions:
            return Dialled(cleaned)
    cause: Literal["invalid", "timeout"] = "timeout" if not entry else "invalid"
    tries = state.tries + 1
    if tries >= menu.max_tries:
        return Go(menu.on_exhausted, Reason.EXHAUSTED)
    return Retry(replace(state, tries=tries), menu.retry_prompt, cause)
