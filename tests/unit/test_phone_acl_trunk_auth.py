"""Agents' phones limited to the admin's networks, and trunks that authenticate (issue 13).

The tables name the networks and the trunks' user names; these tests check what is
validated and what is written into pjsip.conf. tests/integration/test_phone_acl.py
checks that Asterisk enforces it.
"""

from __future__ import annotations

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
from ivr.asterisk import apply
from ivr.asterisk.generate import pjsip_conf
from ivr.routing.loader import RoutingError, load_profile
from ivr.routing.trunk_secrets import env_name, secrets_file, trunk_passwords

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "routing"
STACK_SECRET = "stack-secret"


def sections(conf: str) -> dict[str, list[str]]:
    """Each `[name]` section's lines (repeated names keep their lines apart by type)."""
    out: dict[str, list[str]] = {}
    name = ""
    for line in conf.splitlines():
        head = re.fullmatch(r"\[([^\]]+)\](\(.*\))?", line)
        if head:
            name = head.group(1)
            continue
        if line.strip():
            out.setdefault(name, []).append(line)
    return out


def copy_of(tmp_path: Path, name: str = "taipei") -> Path:
    target = tmp_path / name
    shutil.copytree(SHIPPED / name, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


# ---------------------------------------------------------------- phone ACLs


@pytest.mark.parametrize("profile", ["taipei", "kinmen"])
def test_shipped_profiles_let_agents_phones_in_from_loopback_only(profile: str) -> None:
    tables = load_profile(SHIPPED / profile)
    conf = sections(pjsip_conf(tables, STACK_SECRET))
    for agent in tables.agents.agents:
        lines = conf[agent.extension]
        assert "deny = 0.0.0.0/0" in lines
        assert "deny = ::/0" in lines
        permits = [line for line in lines if line.startswith("permit")]
        assert permits == ["permit = 127.0.0.0/8", "permit = ::1/128"]
        contacts = [line for line in lines if line.startswith("contact_permit")]
        assert contacts == ["contact_permit = 127.0.0.0/8", "contact_permit = ::1/128"]
        # The deny comes first: in an Asterisk ACL the last matching rule wins.
        assert lines.index("deny = 0.0.0.0/0") < lines.index("permit = 127.0.0.0/8")


def test_without_phone_networks_agents_get_loopback_not_the_world(tmp_path: Path) -> None:
    profile = copy_of(tmp_path)
    edit(profile / "agents.yaml", 'phone_networks: [127.0.0.0/8, "::1/128"]\n', "")
    tables = load_profile(profile)
    assert tables.agents.phone_networks == ["127.0.0.0/8", "::1/128"]
    assert "permit = 127.0.0.0/8" in sections(pjsip_conf(tables, STACK_SECRET))["7001"]


def test_an_agents_own_networks_replace_the_tables(tmp_path: Path) -> None:
    profile = copy_of(tmp_path)
    agents = profile / "agents.yaml"
    edit(agents, 'phone_networks: [127.0.0.0/8, "::1/128"]', "phone_networks: [10.20.0.0/16]")
    edit(agents, 'extension: "7002",', 'extension: "7002", phone_networks: [192.168.5.7],')
    conf = sections(pjsip_conf(load_profile(profile), STACK_SECRET))
    assert [x for x in conf["7001"] if x.startswith("permit")] == ["permit = 10.20.0.0/16"]
    # A bare address is one host.
    assert [x for x in conf["7002"] if x.startswith("permit")] == ["permit = 192.168.5.7/32"]
    # Unit phones and trunks get no agent ACL.
    assert not any(x.startswith("permit") for x in conf["agency-pbx"])


@pytest.mark.parametrize(
    ("networks", "field", "reason"),
    [
        ("[10.20.0.1/16]", "phone_networks[0]", "no host bits"),
        ("[10.20.0.0/33]", "phone_networks[0]", "not a network"),
        ("[intranet]", "phone_networks[0]", "not a network"),
        ('["10.0.0.0/8; permit=0.0.0.0/0"]', "phone_networks[0]", "not a network"),
        ("[]", "phone_networks", "at least 1"),
    ],
)
def test_a_network_that_is_not_cidr_is_refused_with_file_field_and_reason(
    tmp_path: Path, networks: str, field: str, reason: str
) -> None:
    profile = copy_of(tmp_path)
    edit(profile / "agents.yaml", '[127.0.0.0/8, "::1/128"]', networks)
    with pytest.raises(RoutingError) as caught:
        load_profile(profile)
    problems = [p for p in caught.value.problems if p.file.endswith("agents.yaml")]
    assert [p.path for p in problems] == [field]
    assert reason in problems[0].reason


def test_an_agents_bad_network_names_the_agent(tmp_path: Path) -> None:
    profile = copy_of(tmp_path)
    edit(
        profile / "agents.yaml",
        'extension: "7003",',
        'extension: "7003", phone_networks: ["::1/64"],',
    )
    with pytest.raises(RoutingError) as caught:
        load_profile(profile)
    assert [p.path for p in caught.value.problems] == ["agents[2].phone_networks[0]"]


# ---------------------------------------------------------------- trunk auth


def with_trunk_auth(tmp_path: Path, extra: str = "") -> Path:
    profile = copy_of(tmp_path)
    edit(
        profile / "directory.yaml",
        "{id: agency-pbx, host: 127.0.0.1, port: 5070, transport: udp}",
        "{id: agency-pbx, host: 127.0.0.1, port: 5070, transport: udp, "
        f"auth_username: hotline-1999{extra}}}",
    )
    return profile


def write_trunk_secrets(state: Path, data: dict[str, str], mode: int = 0o600) -> Path:
    path = secrets_file(state)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, default_style='"'), encoding="utf-8")
    path.chmod(mode)
    return path


def test_a_trunk_with_auth_answers_challenges_with_its_user_and_the_stored_password(
    tmp_path: Path,
) -> None:
    tables = load_profile(with_trunk_auth(tmp_path))
    write_trunk_secrets(tmp_path / "state", {"agency-pbx": "Pbx-pass-42"})
    passwords = trunk_passwords(tables, tmp_path / "state", environ={})
    conf = pjsip_conf(tables, STACK_SECRET, passwords)
    parts = sections(conf)
    assert "outbound_auth = agency-pbx-outbound-auth" in parts["agency-pbx"]
    auth = parts["agency-pbx-outbound-auth"]
    assert "username = hotline-1999" in auth
    assert "password = Pbx-pass-42" in auth
    # Still found by address only, and no registration unless the table asks.
    assert "identify_by = ip" in parts["agency-pbx"]
    assert "agency-pbx-registration" not in parts
    # The other trunk is as before: no credentials at all.
    assert not any("auth" in line for line in parts["emergency-pstn"])


def test_the_environment_wins_over_the_secrets_file(tmp_path: Path) -> None:
    tables = load_profile(with_trunk_auth(tmp_path))
    write_trunk_secrets(tmp_path / "state", {"agency-pbx": "from-the-file"})
    env = {env_name("agency-pbx"): "from-the-env"}
    assert env_name("agency-pbx") == "HOTLINE_TRUNK_SECRET_AGENCY_PBX"
    assert trunk_passwords(tables, tmp_path / "state", env) == {"agency-pbx": "from-the-env"}


def test_registration_true_adds_a_registration_with_the_same_credentials(tmp_path: Path) -> None:
    tables = load_profile(with_trunk_auth(tmp_path, ", registration: true"))
    parts = sections(pjsip_conf(tables, STACK_SECRET, {"agency-pbx": "Pbx-pass-42"}))
    reg = parts["agency-pbx-registration"]
    assert "type = registration" in reg
    assert "outbound_auth = agency-pbx-outbound-auth" in reg
    assert "server_uri = sip:127.0.0.1:5070" in reg
    assert "client_uri = sip:hotline-1999@127.0.0.1:5070" in reg


def test_registration_without_a_user_name_is_refused(tmp_path: Path) -> None:
    profile = copy_of(tmp_path)
    edit(
        profile / "directory.yaml", "port: 5070, transport: udp}", "port: 5070, registration: true}"
    )
    with pytest.raises(RoutingError) as caught:
        load_profile(profile)
    assert any(
        p.path.startswith("trunks[0]") and "auth_username" in p.reason
        for p in caught.value.problems
    ), caught.value.problems


@pytest.mark.parametrize("name", ["hotline 1999", "a;b", 'x"y', "使用者"])
def test_a_user_name_that_cannot_go_into_sip_or_config_is_refused(
    tmp_path: Path, name: str
) -> None:
    profile = copy_of(tmp_path)
    edit(
        profile / "directory.yaml",
        "port: 5070, transport: udp}",
        f"port: 5070, auth_username: {yaml.safe_dump(name, default_style=chr(34)).strip()}}}",
    )
    with pytest.raises(RoutingError) as caught:
        load_profile(profile)
    assert [p.path for p in caught.value.problems] == ["trunks[0].auth_username"]


def test_a_password_in_the_tables_is_refused(tmp_path: Path) -> None:
    profile = with_trunk_auth(tmp_path, ", password: Pbx-pass-42")
    with pytest.raises(RoutingError) as caught:
        load_profile(profile)
    assert [p.path for p in caught.value.problems] == ["trunks[0].password"]


def test_a_missing_password_names_the_trunk_and_where_to_put_it(tmp_path: Path) -> None:
    tables = load_profile(with_trunk_auth(tmp_path))
    with pytest.raises(RoutingError) as caught:
        trunk_passwords(tables, tmp_path / "state", environ={})
    (problem,) = caught.value.problems
    assert problem.file.endswith("directory.yaml")
    assert problem.path == "trunks[0].auth_username"
    assert "trunks.yaml" in problem.reason
    assert "HOTLINE_TRUNK_SECRET_AGENCY_PBX" in problem.reason


def test_a_secrets_file_others_can_read_is_refused(tmp_path: Path) -> None:
    tables = load_profile(with_trunk_auth(tmp_path))
    path = write_trunk_secrets(tmp_path / "state", {"agency-pbx": "Pbx-pass-42"}, mode=0o644)
    with pytest.raises(RoutingError) as caught:
        trunk_passwords(tables, tmp_path / "state", environ={})
    assert any(p.file == str(path) and "chmod 600" in p.reason for p in caught.value.problems)


@pytest.mark.parametrize("password", ["two words", "semi;colon", 'quo"te', ""])
def test_a_password_that_cannot_go_into_pjsip_conf_is_refused(
    tmp_path: Path, password: str
) -> None:
    tables = load_profile(with_trunk_auth(tmp_path))
    env = {env_name("agency-pbx"): password}
    with pytest.raises(RoutingError) as caught:
        trunk_passwords(tables, tmp_path / "state", env)
    assert [p.file for p in caught.value.problems] == ["$HOTLINE_TRUNK_SECRET_AGENCY_PBX"]


def test_the_secrets_file_may_name_only_known_trunks(tmp_path: Path) -> None:
    tables = load_profile(with_trunk_auth(tmp_path))
    write_trunk_secrets(tmp_path / "state", {"agency-pbx": "ok-pass", "nope": "x"})
    with pytest.raises(RoutingError) as caught:
        trunk_passwords(tables, tmp_path / "state", environ={})
    assert [p.path for p in caught.value.problems] == ["nope"]


# ---------------------------------------------------------------- the commands


@pytest.fixture
def _logging_restored() -> Iterator[None]:
    yield
    # cli.main points logging at this test's captured stderr, which closes with the test.
    ivr_logging.configure(stream=sys.__stderr__)


@pytest.mark.usefixtures("_logging_restored")
@pytest.mark.parametrize("command", [["asterisk", "config"], ["routing", "reload"]])
def test_config_and_reload_refuse_a_trunk_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    state = tmp_path / "state"
    stack_config.init(state, stack_config.Ports(sip=15060), None, str(with_trunk_auth(tmp_path)))
    assert cli.main(["--state-dir", str(state), *command]) == 1
    err = capsys.readouterr().err
    assert "directory.yaml: trunks[0].auth_username: trunk agency-pbx authenticates" in err
    assert not (state / "etc" / "asterisk" / "pjsip_hotline.conf").exists()


@pytest.mark.usefixtures("_logging_restored")
def test_asterisk_config_writes_the_trunks_password_from_the_secrets_file_only(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    profile = with_trunk_auth(tmp_path)
    stack_config.init(state, stack_config.Ports(sip=15060), None, str(profile))
    write_trunk_secrets(state, {"agency-pbx": "Pbx-pass-42"})
    assert cli.main(["--state-dir", str(state), "asterisk", "config"]) == 0
    conf = state / "etc" / "asterisk" / "pjsip_hotline.conf"
    assert "password = Pbx-pass-42" in conf.read_text(encoding="utf-8")
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    assert "Pbx-pass-42" not in "".join(p.read_text() for p in profile.glob("*.yaml"))


def test_reload_renders_secrets_kept_outside_the_tables_as_config_does(tmp_path: Path) -> None:
    """`ivr routing reload` writes what `ivr asterisk config` writes: on a live profile,
    agents' and trunks' secrets come from the stack's secrets files."""
    profile = with_trunk_auth(tmp_path)
    edit(profile / "profile.yaml", "demo: true\n", "")
    agents = profile / "agents.yaml"
    agents.write_text(re.sub(r' secret: "[^"]*",', "", agents.read_text("utf-8")), "utf-8")
    state = tmp_path / "state"
    cfg = stack_config.init(state, stack_config.Ports(sip=15060), None, str(profile))
    extensions = [a.extension for a in load_profile(profile).agents.agents]
    agent_secrets = {ext: f"Vq7%mR2!xLp9@wZt4&{i}" for i, ext in enumerate(extensions)}
    write_trunk_secrets(state, {"agency-pbx": "Pbx-pass-42"})
    (state / "secrets" / "agents.yaml").write_text(
        yaml.safe_dump(agent_secrets, default_style='"'), encoding="utf-8"
    )
    (state / "secrets" / "agents.yaml").chmod(0o600)
    conf = sections(apply.desired(cfg)["pjsip_hotline.conf"])
    assert f"password = {agent_secrets['7001']}" in conf["7001-auth"]
    assert "password = Pbx-pass-42" in conf["agency-pbx-outbound-auth"]
