"""The emergency three-way call's pure parts: who stays, what a dial status means, and
the tables' emergency lines (only a checked number is dialled)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.adapters.threeway_parts import Label, Line, parse
from ivr.domain import threeway as rules
from ivr.domain.vocabulary import ConferenceParty, EmergencyService, ThreewayOutcome
from ivr.routing.loader import RoutingError, load_profile

CITIZEN, AGENT, EMERGENCY = (
    ConferenceParty.CITIZEN,
    ConferenceParty.AGENT,
    ConferenceParty.EMERGENCY,
)
SHIPPED = Path(__file__).resolve().parents[2] / "routing"


def all_three() -> rules.Conference:
    return rules.answered(rules.started()).conference


def test_the_emergency_line_answering_joins_the_citizen_and_the_agent() -> None:
    step = rules.answered(rules.started())
    assert step.conference == rules.Conference(frozenset({CITIZEN, AGENT, EMERGENCY}), False)
    assert not step.hang_up
    assert not step.destroy_bridge


def test_119_hanging_up_leaves_the_citizen_and_the_agent_talking() -> None:
    step = rules.left(all_three(), EMERGENCY)
    assert step.conference.present == {CITIZEN, AGENT}
    assert not step.hang_up
    assert not step.destroy_bridge


@pytest.mark.parametrize(
    ("leaver", "stay"), [(CITIZEN, {AGENT, EMERGENCY}), (AGENT, {CITIZEN, EMERGENCY})]
)
def test_two_left_keep_talking(leaver: ConferenceParty, stay: set[ConferenceParty]) -> None:
    step = rules.left(all_three(), leaver)
    assert step.conference.present == stay
    assert not step.destroy_bridge


def test_the_last_one_alone_is_hung_up_and_the_bridge_destroyed() -> None:
    two = rules.left(all_three(), EMERGENCY).conference
    step = rules.left(two, CITIZEN)
    assert step.hang_up == {AGENT}
    assert step.destroy_bridge
    assert step.conference.present == frozenset()


def test_no_answer_changes_nothing_for_the_two_already_bridged() -> None:
    step = rules.dial_ended(rules.started())
    assert step.conference == rules.Conference(frozenset({CITIZEN, AGENT}), False)
    assert not step.hang_up
    assert not step.destroy_bridge


def test_one_alone_waits_while_the_emergency_line_rings_then_is_connected() -> None:
    step = rules.left(rules.started(), CITIZEN)
    assert step.conference == rules.Conference(frozenset({AGENT}), True)
    assert not step.destroy_bridge
    joined = rules.answered(step.conference)
    assert joined.conference.present == {AGENT, EMERGENCY}


def test_one_alone_after_the_line_failed_is_hung_up() -> None:
    alone = rules.left(rules.started(), AGENT).conference
    step = rules.dial_ended(alone)
    assert step.hang_up == {CITIZEN}
    assert step.destroy_bridge


def test_everyone_gone_while_it_rings_cancels_the_dial() -> None:
    alone = rules.left(rules.started(), AGENT).conference
    step = rules.left(alone, CITIZEN)
    assert step.cancel_dial
    assert step.destroy_bridge
    assert not step.hang_up


def test_an_answer_after_everyone_left_is_ended_at_once() -> None:
    step = rules.answered(rules.Conference(frozenset(), True))
    assert step.hang_up == {EMERGENCY}
    assert step.destroy_bridge


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("ANSWER", ThreewayOutcome.ANSWERED),
        ("BUSY", ThreewayOutcome.BUSY),
        ("NOANSWER", ThreewayOutcome.NO_ANSWER),
        ("CHANUNAVAIL", ThreewayOutcome.FAILED),
        ("CONGESTION", ThreewayOutcome.FAILED),
        ("CANCEL", ThreewayOutcome.CANCELLED),
        ("RINGING", None),
        ("PROGRESS", None),
        ("", None),
    ],
)
def test_dial_status_means_an_outcome_only_at_the_end(
    status: str, outcome: ThreewayOutcome | None
) -> None:
    assert rules.dial_outcome(status) == outcome


def test_an_unanswered_end_is_told_by_its_cause() -> None:
    assert rules.ended_outcome(17) == ThreewayOutcome.BUSY
    assert rules.ended_outcome(19) == ThreewayOutcome.NO_ANSWER
    assert rules.ended_outcome(None) == ThreewayOutcome.FAILED


# ------------------------------------------------- after the engine was away


def test_taken_back_two_still_talking_are_left_alone() -> None:
    step = rules.resumed({CITIZEN, EMERGENCY}, ringing=False)
    assert step.conference.present == {CITIZEN, EMERGENCY}
    assert not step.hang_up
    assert not step.destroy_bridge


def test_taken_back_one_alone_is_let_go_unless_the_line_still_rings() -> None:
    alone = rules.resumed({AGENT}, ringing=False)
    assert alone.hang_up == {AGENT}
    assert alone.destroy_bridge
    waiting = rules.resumed({CITIZEN}, ringing=True)
    assert not waiting.hang_up
    assert not waiting.destroy_bridge


def test_taken_back_empty_bridge_is_destroyed_and_its_dial_cancelled() -> None:
    step = rules.resumed(set(), ringing=True)
    assert step.destroy_bridge
    assert step.cancel_dial


def test_a_bridge_label_says_whose_call_and_who_is_who() -> None:
    tag = Label(41, EmergencyService.FIRE, "119", "1764.5", "1764.6", "a01")
    assert tag.name() == "threeway:41:fire:119:1764.5:1764.6:a01"
    assert parse(tag.name()) == tag
    without_agent = Label(41, EmergencyService.POLICE, "110", "1764.5", "", "a01")
    assert parse(without_agent.name()) == without_agent


@pytest.mark.parametrize(
    "name",
    ["", "threeway", "mixing-bridge", "threeway:x:fire:119:a:b:c", "threeway:1:navy:1:a:b:c"],
)
def test_a_bridge_that_is_not_ours_has_no_label(name: str) -> None:
    assert parse(name) is None


# ---------------------------------------------------------------- the tables


def test_taipei_lists_110_and_119_on_the_carrier_trunk_and_kinmen_none() -> None:
    taipei = load_profile(SHIPPED / "taipei").directory
    lines = {line.service: (line.number, line.via) for line in taipei.emergency_lines}
    assert lines == {
        EmergencyService.POLICE: ("110", "emergency-pstn"),
        EmergencyService.FIRE: ("119", "emergency-pstn"),
    }
    fire = rules.line_for(taipei.emergency_lines, EmergencyService.FIRE)
    assert Line(fire.service, fire.number, fire.via).endpoint == "PJSIP/119@emergency-pstn"
    # Kinmen has no carrier trunk: its agents are offered no three-way call.
    kinmen = load_profile(SHIPPED / "kinmen").directory
    with pytest.raises(rules.NoSuchLine):
        rules.line_for(kinmen.emergency_lines, EmergencyService.FIRE)


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    target = tmp_path / "taipei"
    shutil.copytree(SHIPPED / "taipei", target)
    path = target / "directory.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("old", "new", "where", "reason"),
    [
        (
            '{service: fire, number: "119", via: emergency-pstn}',
            '{service: fire, number: "119", via: no-such-trunk}',
            "emergency_lines[1].via",
            "no trunk 'no-such-trunk' in trunks",
        ),
        (
            '{service: fire, number: "119", via: emergency-pstn}',
            '{service: police, number: "119", via: emergency-pstn}',
            "emergency_lines",
            "listed twice",
        ),
        (
            '{service: fire, number: "119", via: emergency-pstn}',
            '{service: coastguard, number: "118", via: emergency-pstn}',
            "emergency_lines[1].service",
            "",
        ),
        (
            '{service: fire, number: "119", via: emergency-pstn}',
            '{service: fire, number: "119;x", via: emergency-pstn}',
            "emergency_lines[1].number",
            "",
        ),
    ],
    ids=["unknown-trunk", "service-twice", "unknown-service", "not-digits"],
)
def test_a_bad_emergency_line_is_refused_whole_with_file_field_and_reason(
    tmp_path: Path, old: str, new: str, where: str, reason: str
) -> None:
    directory = _broken(tmp_path, old, new)
    with pytest.raises(RoutingError) as refused:
        load_profile(directory)
    problems = refused.value.problems
    found = [
        p
        for p in problems
        if p.file.endswith("directory.yaml") and p.path == where and reason in p.reason
    ]
    assert found, "\n".join(str(p) for p in problems)
