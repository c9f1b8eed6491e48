"""The call cap: the table that sets it (refused whole, with file, field and reason)
and the pure schedule and prompts of ivr.domain.call_cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.domain.call_cap import CapPolicy, digits, limit_prompts, warning_prompts
from ivr.domain.transfer import Line
from ivr.domain.vocabulary import CapAction, CapLeg
from ivr.prompts import load_catalogue
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view
from tests.unit.test_routing_tables import ROOT, SHIPPED, broken, problems_of

TAIPEI_CAP = '  direct_line: {number: "0227208889", via: emergency-pstn}\n'


def test_taipei_caps_calls_at_ten_minutes_and_kinmen_has_no_cap() -> None:
    taipei = build_view(load_profile(SHIPPED / "taipei")).call_cap
    assert taipei is not None
    assert (taipei.limit_s, taipei.warning_at_s, taipei.at_limit) == (600, 540, CapAction.END)
    assert taipei.direct_line == Line("0227208889", "emergency-pstn", "direct line")
    assert build_view(load_profile(SHIPPED / "kinmen")).call_cap is None


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        ("  limit_s: 600\n", "  limit_s: 5\n", "call_cap.limit_s", "greater than or equal to 20"),
        ("  limit_s: 600\n", "  limit_s: 99999\n", "call_cap.limit_s", "less than or equal"),
        (
            "  warning_before_s: 60\n",
            "  warning_before_s: 600\n",
            "call_cap",
            "warning_before_s (600) must be shorter than limit_s (600)",
        ),
        ("  at_limit: end\n", "  at_limit: hang-up\n", "call_cap.at_limit", "'end' or 'transfer'"),
        (
            TAIPEI_CAP,
            '  direct_line: {number: "02-2720-8889", via: emergency-pstn}\n',
            "call_cap.direct_line.number",
            "should match pattern",
        ),
        (
            TAIPEI_CAP,
            '  direct_line: {number: "0227208889", via: no-such-trunk}\n',
            "call_cap.direct_line.via",
            "no trunk 'no-such-trunk' in directory.yaml trunks",
        ),
        (TAIPEI_CAP, "", "call_cap.direct_line", "required field missing"),
        (
            "  at_limit: end\n",
            "  at_limit: end\n  hang_up: true\n",
            "call_cap.hang_up",
            "unknown field",
        ),
    ],
)
def test_a_bad_cap_is_refused_with_file_field_and_reason(
    tmp_path: Path, old: str, new: str, field: str, reason: str
) -> None:
    directory = broken(tmp_path, "profile.yaml", [(old, new)])
    problems = problems_of(directory)
    assert [(Path(p.file).name, p.path) for p in problems] == [("profile.yaml", field)], problems
    assert reason in problems[0].reason, problems[0].reason


POLICY = CapPolicy(30, 12, CapAction.END, Line("0227208889", "t-pstn"))


def test_the_warning_comes_before_the_limit_and_asterisk_ends_the_leg_after_it() -> None:
    assert POLICY.warning_at_s == 18
    assert POLICY.hard_limit_s > POLICY.limit_s


def test_both_legs_hear_a_tone_first_and_the_direct_line_at_the_limit() -> None:
    number = digits("0227208889")
    assert number[:3] == ("digit-0", "digit-2", "digit-2")
    assert len(number) == 10
    assert warning_prompts(CapLeg.CALLER) == ("cap-tone", "cap-warning-caller")
    assert warning_prompts(CapLeg.AGENT) == ("cap-tone", "cap-warning-agent")
    assert limit_prompts(POLICY, CapLeg.CALLER) == (
        "cap-tone",
        "cap-limit-caller-end",
        *number,
        "cap-limit-caller-end-then",
    )
    transfer = CapPolicy(30, 12, CapAction.TRANSFER, Line("0227208889", "t-pstn"))
    assert limit_prompts(transfer, CapLeg.AGENT)[1] == "cap-limit-agent-transfer"
    assert limit_prompts(transfer, CapLeg.AGENT)[-1] == "cap-limit-agent-transfer-then"


@pytest.mark.parametrize("action", list(CapAction))
@pytest.mark.parametrize("leg", list(CapLeg))
def test_every_cap_prompt_is_in_the_catalogue_in_both_languages(
    action: CapAction, leg: CapLeg
) -> None:
    catalogue = load_catalogue(ROOT / "recordings")
    policy = CapPolicy(30, 12, action, Line("0227208889", "t-pstn"))
    for name in {*warning_prompts(leg), *limit_prompts(policy, leg)}:
        assert name in catalogue.engine, name
        if name != "cap-tone":  # generated, like silence
            assert set(catalogue.prompts[name]) >= {"zh-TW", "en"}, name
