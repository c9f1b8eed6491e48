"""Agents hear their own language, and each queue gives its agents a wrap-up time
(issue 18, item 8): what agents.yaml accepts and what is written into Asterisk's
config. tests/integration/test_agent_language.py checks what Asterisk does with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.asterisk.generate import pjsip_conf, queues_conf
from ivr.routing.agent_language import agent_by_extension, agent_prompt_language
from ivr.routing.loader import RoutingError, load_profile
from tests.unit.test_phone_acl_trunk_auth import STACK_SECRET, copy_of, edit, sections

A02 = '{id: a02, name: 林志豪, extension: "7002",'
A05 = '{id: a05, name: 李佩珊, extension: "7005",'
GENERAL = "{id: general, name: 一般諮詢,"


def _language(tmp_path: Path, agent: str, language: str) -> Path:
    profile = copy_of(tmp_path)
    edit(profile / "agents.yaml", agent, f"{agent} language: {language},")
    return profile


def test_an_agent_hears_their_first_language_skill_by_default() -> None:
    tables = load_profile(Path(__file__).resolve().parents[2] / "routing" / "taipei")
    a05 = agent_by_extension(tables, "7005")
    assert a05 is not None
    assert a05.skills[:2] == ["zh-TW", "nan"]
    assert a05.own_language == "zh-TW"
    assert agent_prompt_language(tables, a05) == "zh-TW"


def test_an_agent_with_english_hears_english_and_the_endpoint_says_so(tmp_path: Path) -> None:
    tables = load_profile(_language(tmp_path, A02, "en"))
    a02 = agent_by_extension(tables, "7002")
    assert a02 is not None
    assert agent_prompt_language(tables, a02) == "en"
    conf = sections(pjsip_conf(tables, STACK_SECRET))
    assert "language = en" in conf["7002"]
    assert "language = zh-TW" in conf["7001"]


def test_a_language_without_prompts_falls_back_to_the_default(tmp_path: Path) -> None:
    """Taiwanese is disabled until its recordings exist: the agent hears Mandarin."""
    tables = load_profile(_language(tmp_path, A05, "nan"))
    a05 = agent_by_extension(tables, "7005")
    assert a05 is not None
    assert a05.own_language == "nan"
    assert agent_prompt_language(tables, a05) == "zh-TW"


def test_a_language_the_agent_does_not_speak_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RoutingError) as caught:
        load_profile(_language(tmp_path, A02, "nan"))
    [problem] = caught.value.problems
    assert problem.file.endswith("agents.yaml")
    assert problem.path == "agents[1].language"
    assert "not one of the agent's skills" in problem.reason


def test_wrapup_time_is_rendered_per_queue(tmp_path: Path) -> None:
    profile = copy_of(tmp_path)
    edit(profile / "agents.yaml", GENERAL, f"{GENERAL} wrapup_s: 30,")
    conf = sections(queues_conf(load_profile(profile)))
    assert "wrapuptime = 30" in conf["hotline-general"]
    # A queue that names none: the next call at once, as before.
    assert "wrapuptime = 0" in conf["hotline-english"]


@pytest.mark.parametrize("value", ["-1", "601", "ten"])
def test_a_bad_wrapup_time_is_refused(tmp_path: Path, value: str) -> None:
    profile = copy_of(tmp_path)
    edit(profile / "agents.yaml", GENERAL, f"{GENERAL} wrapup_s: {value},")
    with pytest.raises(RoutingError) as caught:
        load_profile(profile)
    [problem] = caught.value.problems
    assert problem.path == "queues[0].wrapup_s"


def test_a_wrapup_form_is_asked_only_by_the_queues_that_say_so(tmp_path: Path) -> None:
    """`wrapup_form: true` (issue 16): the console holds the agent until the form is done."""
    profile = copy_of(tmp_path)
    edit(profile / "agents.yaml", GENERAL, f"{GENERAL} wrapup_form: true,")
    queues = {q.id: q.wrapup_form for q in load_profile(profile).agents.queues}
    assert queues["general"] is True
    assert queues["english"] is False


def test_a_bad_wrapup_form_flag_is_refused(tmp_path: Path) -> None:
    profile = copy_of(tmp_path)
    edit(profile / "agents.yaml", GENERAL, f"{GENERAL} wrapup_form: sometimes,")
    with pytest.raises(RoutingError) as caught:
        load_profile(profile)
    [problem] = caught.value.problems
    assert problem.path == "queues[0].wrapup_form"
