"""Menu decisions on the pure core: keys, extensions, invalid input, timeouts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.domain.menu import (
    INTERDIGIT_S,
    Go,
    Listen,
    MenuState,
    Reason,
    Retry,
    decide,
    listen,
)
from ivr.routing.menus import Menu, ToExtension, ToMenu, ToQueue

MAIN = Menu.model_validate(
    {
        "prompt": "main-menu",
        "options": {
            "1": {"type": "queue", "queue": "general"},
            "2": {"type": "queue", "queue": "dispatch"},
            "9": {"type": "menu", "menu": "language"},
        },
        "on_exhausted": {"type": "queue", "queue": "general"},
        "max_tries": 3,
    }
)
EXTENSIONS = frozenset({"1743", "2101", "8800"})


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("1", Go(ToQueue(type="queue", queue="general"), Reason.OPTION)),
        ("9", Go(ToMenu(type="menu", menu="language"), Reason.OPTION)),
        ("1743", Go(ToExtension(type="extension", extension="1743"), Reason.EXTENSION)),
        ("8800", Go(ToExtension(type="extension", extension="8800"), Reason.EXTENSION)),
    ],
    ids=["option-1", "option-9", "extension-1743", "extension-8800"],
)
def test_valid_entries_leave_the_menu(entry: str, expected: Go) -> None:
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
    assert decision == Go(ToQueue(type="queue", queue="general"), Reason.EXHAUSTED)


def test_an_entry_is_collected_up_to_the_longest_extension() -> None:
    """The whole entry is read at once: as many digits as the longest known extension."""
    assert listen(MAIN, EXTENSIONS) == Listen(5.0, INTERDIGIT_S, 4)
    # A 5-digit number on an agency PBX is reachable as well as a 4-digit one.
    assert listen(MAIN, EXTENSIONS | {"61001"}).max_digits == 5


def test_without_extension_dialing_an_entry_is_still_read_whole() -> None:
    """With extension dialing off, a multi-digit entry is one entry, not several keys."""
    no_dialing = MAIN.model_copy(update={"extension_dialing": False})
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
    assert decide(MAIN, MenuState("main"), "61001", extensions) == Go(
        ToExtension(type="extension", extension="61001"), Reason.EXTENSION
    )
    assert decide(MAIN, MenuState("main"), "6100", extensions) == Go(
        ToExtension(type="extension", extension="6100"), Reason.EXTENSION
    )


def test_extension_dialing_off_refuses_extensions() -> None:
    """With extension dialing off a keyed extension is just an invalid entry."""
    no_dialing = MAIN.model_copy(update={"extension_dialing": False})
    assert isinstance(decide(no_dialing, MenuState("main"), "1743", EXTENSIONS), Retry)


@given(entries=st.lists(st.text(alphabet="0123456789*#xA \n", max_size=6), min_size=1, max_size=12))
def test_any_sequence_of_input_ends_in_a_defined_state(entries: list[str]) -> None:
    """Fuzzed keys and silences never raise and always leave within max_tries failures."""
    state = MenuState("main")
    failures = 0
    for entry in entries:
        decision = decide(MAIN, state, entry, EXTENSIONS)
        if isinstance(decision, Go):
            assert failures < MAIN.max_tries
            return
        failures += 1
        assert decision.state.tries == failures
        state = decision.state
    assert failures < MAIN.max_tries
