"""referrals.yaml: the referral numbers (告知電話) agents give, as a validated table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.routing.loader import RoutingError, load_profile
from ivr.routing.referrals import load_referrals

REPO = Path(__file__).resolve().parents[2]


def test_taipeis_referrals_load_and_are_found_by_topic_name_or_number() -> None:
    referrals = load_referrals(REPO / "routing" / "taipei")
    assert [r.id for r in referrals.search("fraud")] == ["anti-fraud"]
    assert [r.id for r in referrals.search("健保")] == ["nhi"]
    assert [r.id for r in referrals.search("1955")] == ["labor"]
    assert referrals.search("   ") == []


@pytest.mark.parametrize(
    ("entry", "path", "reason"),
    [
        ('{id: x, name: 甲, name_en: A, phone: "16-5"}', "referrals[0].phone", "pattern"),
        ("{id: x, name: 甲, name_en: A}", "referrals[0].phone", "required"),
        (
            '{id: x, name: 甲, name_en: A, phone: "165", fax: "1"}',
            "referrals[0].fax",
            "unknown field",
        ),
    ],
)
def test_a_bad_referral_refuses_the_profile_with_file_and_field(
    tmp_path: Path, entry: str, path: str, reason: str
) -> None:
    profile = tmp_path / "taipei"
    shutil.copytree(REPO / "routing" / "taipei", profile)
    (profile / "referrals.yaml").write_text(f"referrals:\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(RoutingError) as refused:
        load_profile(profile)
    [problem] = refused.value.problems
    assert problem.file.endswith("referrals.yaml")
    assert problem.path == path
    assert reason in problem.reason.lower()


def test_a_referral_listed_twice_is_refused(tmp_path: Path) -> None:
    profile = tmp_path / "taipei"
    shutil.copytree(REPO / "routing" / "taipei", profile)
    twice = '  - {id: x, name: 甲, name_en: A, phone: "165"}\n'
    (profile / "referrals.yaml").write_text("referrals:\n" + twice * 2, encoding="utf-8")
    with pytest.raises(RoutingError) as refused:
        load_profile(profile)
    assert "more than once" in refused.value.problems[0].reason
