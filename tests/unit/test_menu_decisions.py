"""Menu decisions on the pure core: keys, extensions, invalid input, timeouts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.domain.menu import Go, MenuState, Reason, Retry, decide, first_key
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


def test_keys_that_begin_an_extension_wait_for_more_digits() -> None:
    """Only a key that can start an extension makes the caller wait for more digits."""
    assert first_key(MAIN, "1", EXTENSIONS) == "collect"
    assert first_key(MAIN, "9", EXTENSIONS) == "done"
    no_dialing = MAIN.model_copy(update={"extension_dialing": False})
    assert first_key(no_dialing, "1", EXTENSIONS) == "done"


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
