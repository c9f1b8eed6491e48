"""The transfer sequence: busy twice, adjacent lines, liaison deputies, then a ticket."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.domain.transfer import (
    Answered,
    CallerLeft,
    Dial,
    GiveUp,
    Line,
    TransferSpec,
    next_step,
)

PRIMARY = Line("2301", "local")
ADJ = (Line("2302", "local"), Line("2303", "local"))
DEPUTIES = (Line("2101", "local", "一"), Line("2102", "local", "二"), Line("2103", "local", "三"))
SPEC = TransferSpec("new-construction", "pwd", PRIMARY, ADJ, DEPUTIES)
STATUSES = ["ANSWER", "BUSY", "NOANSWER", "CONGESTION", "CHANUNAVAIL"]


def _dialled(results: list[str]) -> list[tuple[str, str, int]]:
    """Replay the sequence: every Dial it asks for, in order, fed with `results`."""
    out = []
    for i in range(len(results) + 1):
        step = next_step(SPEC, results[:i])
        if isinstance(step, Dial):
            out.append((step.line.number, step.role, step.attempt))
    return out


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([], Dial(PRIMARY, "primary", 1, 0.0, 20)),
        (["BUSY"], Dial(PRIMARY, "primary", 2, 2.0, 20)),
        (["BUSY", "BUSY"], Dial(ADJ[0], "adjacent", 1, 0.0, 20)),
        (["NOANSWER"], Dial(ADJ[0], "adjacent", 1, 0.0, 20)),
        (["CHANUNAVAIL"], Dial(ADJ[0], "adjacent", 1, 0.0, 20)),
        (["BUSY", "CONGESTION"], Dial(ADJ[0], "adjacent", 1, 0.0, 20)),
        (["BUSY", "BUSY", "BUSY", "BUSY"], Dial(DEPUTIES[0], "liaison", 1, 0.0, 20)),
        (["BUSY", "BUSY", "BUSY", "BUSY", "NOANSWER"], Dial(DEPUTIES[1], "liaison", 1, 0.0, 20)),
        (["ANSWER"], Answered(PRIMARY, "primary")),
        (["BUSY", "ANSWER"], Answered(PRIMARY, "primary")),
        (["BUSY", "BUSY", "NOANSWER", "ANSWER"], Answered(ADJ[1], "adjacent")),
        (["BUSY", "BUSY", "BUSY", "BUSY", "NOANSWER", "ANSWER"], Answered(DEPUTIES[1], "liaison")),
        (["BUSY", "BUSY", "BUSY", "BUSY", "BUSY", "BUSY", "BUSY"], GiveUp("busy")),
        (["NOANSWER"] * 6, GiveUp("no_answer")),
        (["CANCEL"], CallerLeft()),
        (["BUSY", "BUSY", "CANCEL"], CallerLeft()),
        (
            ["BUSY", "NOANSWER", "NOANSWER", "NOANSWER", "NOANSWER", "NOANSWER", "NOANSWER"],
            GiveUp("busy"),
        ),
        (["NOANSWER", "BUSY", "NOANSWER", "NOANSWER", "NOANSWER", "NOANSWER"], GiveUp("busy")),
    ],
    ids=[
        "first-ring",
        "busy-redials-after-pause",
        "busy-twice-tries-adjacent",
        "no-answer-no-retry",
        "unavailable-no-retry",
        "congestion-no-second-retry",
        "unit-exhausted-liaison-first-deputy",
        "first-deputy-silent-second-deputy",
        "answered-at-once",
        "answered-on-redial",
        "adjacent-answers",
        "second-deputy-answers",
        "everyone-busy-ticket-busy",
        "nobody-answers-ticket-no-answer",
        "caller-hangs-up-while-primary-rings",
        "caller-hangs-up-during-redial",
        "primary-busy-once-counts-as-busy",
        "adjacent-busy-counts-as-busy",
    ],
)
def test_next_step(results: list[str], expected: object) -> None:
    """Each history of dial results leads to exactly one next step."""
    assert next_step(SPEC, results) == expected


def test_busy_primary_is_dialled_exactly_twice_before_moving_on() -> None:
    """The seed's rule: a busy line is dialled twice, never a third time."""
    dialled = _dialled(["BUSY"] * 7)
    assert [d for d in dialled if d[1] == "primary"] == [
        ("2301", "primary", 1),
        ("2301", "primary", 2),
    ]
    assert [d[0] for d in dialled if d[1] == "liaison"] == ["2101", "2102", "2103"]


def test_unit_without_adjacent_lines_goes_straight_to_the_liaison_window() -> None:
    """With no adjacent extensions, two busy signals lead to the first deputy."""
    spec = TransferSpec("u", "a", PRIMARY, (), DEPUTIES)
    assert next_step(spec, ["BUSY", "BUSY"]) == Dial(DEPUTIES[0], "liaison", 1, 0.0, 20)


@given(st.lists(st.sampled_from(STATUSES), max_size=12))
def test_any_history_ends_and_never_over_dials(results: list[str]) -> None:
    """Whatever the lines answer, the sequence is finite and dials each line as allowed."""
    steps = 0
    history: list[str] = []
    feed = iter(results)
    while True:
        step = next_step(SPEC, history)
        if not isinstance(step, Dial):
            break
        steps += 1
        history.append(next(feed, "NOANSWER"))
    assert steps <= SPEC.busy_attempts + len(ADJ) + len(DEPUTIES)
    assert sum(1 for _ in filter(None, [s == "ANSWER" for s in history])) <= 1
