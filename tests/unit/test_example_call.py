"""The example call `ivr run` prints reaches a person on every shipped profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.domain.menu import Go, decide, start
from ivr.routing.example import END, PAUSE, example_keys
from ivr.routing.loader import load_profile
from ivr.routing.menus import ToLanguage, ToMenu, ToQueue
from ivr.routing.view import build_view

REPO = Path(__file__).resolve().parents[2]
PROFILES = sorted(p.name for p in (REPO / "routing").iterdir() if (p / "menus.yaml").exists())


@pytest.mark.parametrize("profile", PROFILES)
def test_printed_example_keys_reach_a_queue(profile: str) -> None:
    """Each key of the example is a valid choice of the menu the caller is in."""
    tables = load_profile(REPO / "routing" / profile)
    keys = example_keys(tables)
    assert keys, f"{profile}: no example keys"
    menus = build_view(tables).menus
    state = start(menus)
    extensions: frozenset[str] = frozenset()
    reached = None
    for entry in keys.split(PAUSE):
        assert entry.endswith(END), f"{profile}: entry {entry} is not ended by {END}"
        key = entry.removesuffix(END)
        menu = menus.menus[state.menu]
        decision = decide(menu, state, key, extensions)
        assert isinstance(decision, Go), f"{profile}: key {key} is invalid in {state.menu}"
        dest = decision.destination
        if isinstance(dest, ToLanguage):
            state = start(menus, dest.then)
        elif isinstance(dest, ToMenu):
            state = start(menus, dest.menu)
        else:
            reached = dest
    assert isinstance(reached, ToQueue), f"{profile}: {keys} ends at {reached}"


def test_taipei_example_picks_mandarin_first() -> None:
    """Taipei's languages are 9, 5 and 0: the example keys 9, then the consultation queue."""
    assert example_keys(load_profile(REPO / "routing" / "taipei")) == "9#ww1#"


def test_kinmen_example_is_one_key() -> None:
    assert example_keys(load_profile(REPO / "routing" / "kinmen")) == "1#"
