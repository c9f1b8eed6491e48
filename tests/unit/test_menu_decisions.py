"""Menu decisions on the pure core: keys, extensions, invalid input, timeouts.

The domain's menus take any destination type; plain strings stand for the tables'.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.domain.menu import (
    INTERDIGIT_S,
    Decision,
    Dialled,
    Go,
    Listen,
    Menu,
    MenuState,
    Reason,
    Retry,
    decide,
    listen,
)

MAIN = Menu(
    prompt="main-menu",
    options={"1": "queue general", "2": "queue dispatch", "9": "menu language"},
    on_exhausted="queue general",
    max_tries=3,
)
EXTENSIONS = frozenset({"1743", "2101", "8800"})


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("1", Go("queue general", Reason.OPTION)),
        ("9", Go("menu language", Reason.OPTION)),
        ("1743", Dialled("1743")),
        ("8800", Dialled("8800")),
    ],
    ids=["option-1", "option-9", "extension-1743", "extension-8800"],
)
def test_valid_entries_leave_the_menu(entry: str, expected: Decision[str]) -> None:
    """An option key or a known extension leaves the menu for its destination."""
    assert decide(MAIN, MenuState("main"), entry, EXTENSIONS) == expected


@pytest.mark.parametrize(
    ("entry", "cause"),
    [("5", "invalid"), ("1744", "invalid"), ("*", "invalid"), ("", "timeout"), ("x", "invalid")],
    ids=["unbound-key", "unknown-extension", "star", "silence", "garbage"],
)
def test_invalid_entries_and_silence_cost_a_try(entry: str, cause: str) -> None:
    """A bad entry or silence replays the retry prompt with one try used."""
    decision = decide(MAIN, MenuState("main"), entry, EXTENSIONS)
    assert decision == Retry(MenuState("main", tries=1), "invalid-retry", cause)


@pytest.mark.parametrize("entries", [["5", "5", "5"], ["", "", ""], ["5", "", "#"]])
def test_three_failures_reach_a_person_not_a_hangup(entries: list[str]) -> None:
    """After max_tries failures the caller goes to on_exhausted (the agents' queue)."""
    state = MenuState("main")
    decision = None
    for entry in entries:
        decision = decide(MAIN, state, entry, EXTENSIONS)
        if isinstance(decision, Retry):
            state = decision.state
    assert decision == Go("queue general", Reason.EXHAUSTED)


def test_an_entry_is_collected_up_to_the_longest_extension() -> None:
    """The whole entry is read at once: as many digits as the longest known extension."""
    assert listen(MAIN, EXTENSIONS) == Listen(5.0, INTERDIGIT_S, 4)
    # A 5-digit number on an agency PBX is reachable as well as a 4-digit one.
    assert listen(MAIN, EXTENSIONS | {"61001"}).max_digits == 5


def test_without_extension_dialing_an_entry_is_still_read_whole() -> None:
    """With extension dialing off, a multi-digit entry is one entry, not several keys."""
    no_dialing = replace(MAIN, extension_dialing=False)
    assert listen(no_dialing, EXTENSIONS | {"61001"}).max_digits == MAIN.extension_digits_max


def test_an_unknown_extension_is_one_invalid_try_whatever_its_digits() -> None:
    """ "7001" matches nothing: one invalid try; its 0s and 1 are never menu keys."""
    state = MenuState("main")
    decision = decide(MAIN, state, "7001", EXTENSIONS)
    assert decision == Retry(MenuState("main", tries=1), "invalid-retry", "invalid")
    # An entry that starts with an option key is not that option either.
    assert isinstance(decide(MAIN, state, "1001", EXTENSIONS), Retry)
    assert isinstance(decide(MAIN, state, "00", EXTENSIONS), Retry)


def test_extensions_of_any_length_and_their_prefixes_are_told_apart() -> None:
    """A 4-digit dial code that begins a 5-digit PBX number reaches each on its own."""
    extensions = EXTENSIONS | {"6100", "61001"}
    assert decide(MAIN, MenuState("main"), "61001", extensions) == Dialled("61001")
    assert decide(MAIN, MenuState("main"), "6100", extensions) == Dialled("6100")


def test_extension_dialing_off_refuses_extensions() -> None:
    """With extension dialing off a keyed extension is just an invalid entry."""
    no_dialing = replace(MAIN, extension_dialing=False)
    assert isinstance(decide(no_dialing, MenuState("main"), "1743", EXTENSIONS), Retry)


@given(entries=st.lists(st.text(alphabet="0123456789*#xA \n", max_size=6), min_size=1, max_size=12))
def test_any_sequence_of_input_ends_in_a_defined_state(entries: list[str]) -> None:
    """Fuzzed keys and silences never raise and always leave within max_tries failures."""
    state = MenuState("main")
    failures = 0
    for entry in entries:
        decision = decide(MAIN, state, entry, EXTENSIONS)
        if not isinstance(decision, Retry):
            assert failures < MAIN.max_tries
            return
        failures += 1
        assert decision.state.tries == failures
        state = decision.state
    assert failures < MAIN.max_tries
