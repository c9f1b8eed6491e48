"""Agents' SIP secrets (issue 13): sample and weak ones refused on a live profile,
kept out of its tables, read from a 0600 file or the environment, and `ivr phones`.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ivr import cli
from ivr import config as stack_config
from ivr import logging as ivr_logging
from ivr.asterisk.generate import generated_files
from ivr.routing.agent_secrets import (
    resolve,
    secrets_file,
    store_new_secret,
    with_agent_secrets,
)
from ivr.routing.loader import Problem, RoutingError, load_profile
from ivr.routing.validate_secrets import weakness


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    yield
    # cli.main points logging at this test's captured stderr, which closes with the test.
    ivr_logging.configure(stream=sys.__stderr__)


ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "routing"
DEMO_LINE = "demo: true\n"
STRONG = "Vq7%mR2!xLp9@wZt4&"


def live_copy(tmp_path: Path, *, keep_secrets: bool = False) -> Path:
    """The Taipei profile as a live hotline would have it: no demo flag, no secrets."""
    target = tmp_path / "live"
    shutil.copytree(SHIPPED / "taipei", target)
    profile = target / "profile.yaml"
    text = profile.read_text(encoding="utf-8")
    assert text.count(DEMO_LINE) == 1
    profile.write_text(text.replace(DEMO_LINE, ""), encoding="utf-8")
    if not keep_secrets:
        agents = target / "agents.yaml"
        text = agents.read_text(encoding="utf-8")
        agents.write_text(re.sub(r' secret: "[^"]*",', "", text), encoding="utf-8")
    return target


def write_secrets(state_dir: Path, secrets: dict[str, str], mode: int = 0o600) -> Path:
    path = secrets_file(state_dir)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(secrets, default_style='"'), encoding="utf-8")
    path.chmod(mode)
    return path


def all_strong(tables_dir: Path) -> dict[str, str]:
    tables = load_profile(tables_dir)
    return {a.extension: f"{STRONG}{i}" for i, a in enumerate(tables.agents.agents)}


# ---------------------------------------------------------------- weak secrets


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("dev-7001-Taipei!", "published sample"),
        ("dev-7003-Kinmen!", "published sample"),
        ("Ab3!Ab3!Ab3!", "too short"),
        ("Xy7001-long-enough!", "own extension"),
        ("MyPassword2026!!x", "common word 'password'"),
        ("abcdefghijklmnopq1", "too few kinds"),
        ("aA1!aA1!aA1!aA1!aA1!", "too few distinct"),
    ],
)
def test_weak_secrets_are_named_with_why(secret: str, reason: str) -> None:
    found = weakness(secret, extension="7001", agent_id="a01")
    assert found is not None
    assert reason in found


def test_a_strong_secret_and_a_generated_one_pass() -> None:
    assert weakness(STRONG, extension="7001", agent_id="a01") is None
    assert weakness("k3J9_vQx-2mZp8LrT0wYbN4s", extension="7001", agent_id="a01") is None


# ---------------------------------------------------------------- the tables


def test_a_live_profile_refuses_the_sample_secrets_in_its_tables(tmp_path: Path) -> None:
    """The shipped secrets pass only because the samples are demos; live, each is named."""
    directory = live_copy(tmp_path, keep_secrets=True)
    with pytest.raises(RoutingError) as refused:
        load_profile(directory)
    problems = [p for p in refused.value.problems if p.file.endswith("agents.yaml")]
    assert [p.path for p in problems] == [f"agents[{i}].secret" for i in range(6)]
    assert "keeps SIP secrets out of the tables" in problems[0].reason
    assert "published sample secret" in problems[0].reason


def test_the_shipped_demo_profiles_keep_their_sample_secrets() -> None:
    for profile in ("taipei", "kinmen"):
        tables = load_profile(SHIPPED / profile)
        assert tables.profile.demo
        assert all(a.secret for a in tables.agents.agents)


def test_a_live_profile_without_secrets_loads(tmp_path: Path) -> None:
    tables = load_profile(live_copy(tmp_path))
    assert not tables.profile.demo
    assert all(a.secret is None for a in tables.agents.agents)


# ---------------------------------------------------------------- the secrets file and env


def test_secrets_come_from_the_file_and_the_environment_first(tmp_path: Path) -> None:
    tables = load_profile(live_copy(tmp_path))
    state = tmp_path / "state"
    stored = all_strong(tables.source)
    write_secrets(state, stored)
    env = {"HOTLINE_AGENT_SECRET_7002": "Env-Vq_9x!Kq2mT7z"}
    found, problems = resolve(tables, state, env)
    assert problems == []
    assert found == {**stored, "7002": "Env-Vq_9x!Kq2mT7z"}
    filled = with_agent_secrets(tables, state, env)
    conf = generated_files(filled, "stack")["pjsip_hotline.conf"]
    assert f"password = {stored['7001']}\n" in conf
    assert "password = Env-Vq_9x!Kq2mT7z\n" in conf


def test_a_live_profile_with_no_secret_for_an_agent_says_where_to_put_it(
    tmp_path: Path,
) -> None:
    tables = load_profile(live_copy(tmp_path))
    state = tmp_path / "state"
    stored = all_strong(tables.source)
    del stored["7003"]
    write_secrets(state, stored)
    with pytest.raises(RoutingError) as refused:
        with_agent_secrets(tables, state, {})
    (problem,) = refused.value.problems
    assert (Path(problem.file).name, problem.path) == ("agents.yaml", "agents[2].secret")
    assert str(secrets_file(state)) in problem.reason
    assert "HOTLINE_AGENT_SECRET_7003" in problem.reason


def test_a_secrets_file_others_can_read_is_refused(tmp_path: Path) -> None:
    tables = load_profile(live_copy(tmp_path))
    state = tmp_path / "state"
    path = write_secrets(state, all_strong(tables.source), mode=0o644)
    _, problems = resolve(tables, state, {})
    assert (
        Problem(
            str(path),
            "",
            f"mode 0644 lets other users read the agents' secrets: "
            f"chmod 600 {path} (and 700 its directory)",
        )
        in problems
    )


def test_weak_or_unknown_entries_in_the_secrets_file_are_refused(tmp_path: Path) -> None:
    tables = load_profile(live_copy(tmp_path))
    state = tmp_path / "state"
    stored = {**all_strong(tables.source), "7001": "dev-7001-Taipei!", "7999": STRONG}
    path = write_secrets(state, stored)
    found, problems = resolve(tables, state, {"HOTLINE_AGENT_SECRET_7002": "short"})
    assert "7001" not in found
    assert {(p.file, p.path) for p in problems} == {
        (str(path), "7999"),
        (str(path), "7001"),
        ("$HOTLINE_AGENT_SECRET_7002", "7002"),
    }


def test_a_demo_profile_uses_the_secrets_in_its_tables(tmp_path: Path) -> None:
    tables = load_profile(SHIPPED / "taipei")
    found, problems = resolve(tables, tmp_path / "state", {})
    assert problems == []
    assert found["7001"] == "dev-7001-Taipei!"


# ---------------------------------------------------------------- ivr phones


def stack(tmp_path: Path, profile: Path | str) -> Path:
    state = tmp_path / "state"
    stack_config.init(state, stack_config.Ports(sip=15060), None, str(profile))
    return state


def test_ivr_phones_prints_one_phones_provisioning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = stack(tmp_path, "taipei")
    assert cli.main(["--state-dir", str(state), "phones", "7002", "--json"]) == 0
    details = json.loads(capsys.readouterr().out)
    assert details == {
        "agent": "a02",
        "server": "127.0.0.1",
        "port": "15060",
        "user": "7002",
        "password": "dev-7002-Taipei!",
        "transport": "udp",
        "allowed_from": "127.0.0.0/8, ::1/128",
    }


def test_ivr_phones_new_secret_writes_a_0600_file_the_config_then_uses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = stack(tmp_path, live_copy(tmp_path))
    # Before: the live profile has no secret for 7001, and says where to put one.
    assert cli.main(["--state-dir", str(state), "phones", "7001"]) == 1
    assert "HOTLINE_AGENT_SECRET_7001" in capsys.readouterr().err
    assert cli.main(["--state-dir", str(state), "phones", "7001", "--new-secret", "--json"]) == 0
    password = json.loads(capsys.readouterr().out)["password"]
    path = secrets_file(state)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == {"7001": password}
    assert weakness(password, extension="7001", agent_id="a01") is None
    # A second phone keeps the first one's secret.
    store_new_secret(state, "7002")
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["7001"] == password


def test_ivr_phones_unknown_extension_is_one_line_not_a_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = stack(tmp_path, "taipei")
    assert cli.main(["--state-dir", str(state), "phones", "9999"]) == 1
    err = capsys.readouterr().err
    assert "no agent has extension '9999'" in err
    assert "Traceback" not in err


def test_asterisk_config_for_a_live_profile_without_secrets_is_refused_with_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = stack(tmp_path, live_copy(tmp_path))
    assert cli.main(["--state-dir", str(state), "asterisk", "config"]) == 1
    err = capsys.readouterr().err
    assert "agents.yaml: agents[0].secret: agent a01 (extension 7001) has no SIP secret" in err
    assert not (state / "etc" / "asterisk" / "pjsip_hotline.conf").exists()


def test_routing_reload_refuses_a_live_profile_whose_phones_lack_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reload is refused before the engine is told, naming each phone with no secret."""
    state = stack(tmp_path, live_copy(tmp_path))
    assert cli.main(["--state-dir", str(state), "routing", "reload"]) == 1
    err = capsys.readouterr().err
    assert "agents[5].secret: agent a06 (extension 7006) has no SIP secret" in err
    assert "reload refused; the running table keeps serving" in err
