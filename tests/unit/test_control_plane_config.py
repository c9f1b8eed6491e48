"""Control-plane config: what listens where, and what a reload can apply live. Pure."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ivr import config as stack_config
from ivr.adapters.ari import AriClient
from ivr.asterisk import render
from ivr.asterisk.apply import module_for, plan
from ivr.config import ConfigError, StackConfig, check_exposure, is_loopback


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("127.0.0.2")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.0.2.10")


def test_control_plane_must_stay_on_loopback_whatever_sip_binds() -> None:
    cfg = StackConfig(state_dir=Path("/nonexistent"), sip_bind="0.0.0.0")
    check_exposure(cfg)
    with pytest.raises(ConfigError, match="loopback"):
        check_exposure(replace(cfg, host="0.0.0.0"))
    with pytest.raises(ConfigError, match="agi_permit"):
        check_exposure(replace(cfg, agi_bind="192.0.2.10"))
    check_exposure(replace(cfg, agi_bind="192.0.2.10", agi_permit=("192.0.2.20/32",)))


def test_stack_file_round_trips_the_new_fields(tmp_path: Path) -> None:
    cfg = StackConfig(state_dir=tmp_path, agi_permit=("10.0.0.0/8",), sip_bind="192.0.2.1")
    again = StackConfig.from_json(cfg.to_json(), tmp_path / "stack.json")
    assert again.agi_permit == ("10.0.0.0/8",)
    assert again.sip_bind == "192.0.2.1"


def test_ari_websocket_url_carries_no_password() -> None:
    client = AriClient("http://127.0.0.1:8088/ari", "hotline", "s3cret-pw", "app")
    assert "s3cret-pw" not in client._ws_url
    assert "api_key" not in client._ws_url
    assert client._ws_auth.startswith("Basic ")


def test_each_generated_file_has_its_reloading_module() -> None:
    assert module_for("pjsip_hotline.conf") == "res_pjsip.so"
    assert module_for("pjsip.conf") == "res_pjsip.so"
    assert module_for("queues_hotline.conf") == "app_queue.so"
    assert module_for("dialplan-hotline.conf") == "pbx_config.so"
    assert module_for("extensions.conf") == "pbx_config.so"
    assert module_for("asterisk.conf") is None
    assert module_for("modules.conf") is None


TRANSPORT = "[transport-udp]\ntype = transport\nprotocol = udp\nbind = 127.0.0.1:{port}\n"
TRUNK = "[t]\ntype = aor\ncontact = sip:127.0.0.1:{port}\n"


def test_plan_reloads_only_what_changed() -> None:
    old = {"pjsip.conf": TRANSPORT.format(port=5060), "pjsip_hotline.conf": TRUNK.format(port=1)}
    new = {"pjsip.conf": TRANSPORT.format(port=5060), "pjsip_hotline.conf": TRUNK.format(port=2)}
    report = plan(old, new)
    assert report.changed == ["pjsip_hotline.conf"]
    assert report.reloaded == ["res_pjsip.so"]
    assert report.ok
    assert plan(new, new).reloaded == []


def test_plan_says_a_transport_change_needs_a_restart() -> None:
    old = {"pjsip.conf": TRANSPORT.format(port=5060)}
    new = {"pjsip.conf": TRANSPORT.format(port=5062)}
    report = plan(old, new)
    assert not report.ok
    assert any("restart" in line for line in report.not_live)


def test_plan_says_a_file_no_module_reloads_needs_a_restart() -> None:
    report = plan({"modules.conf": "a"}, {"modules.conf": "b"})
    assert not report.ok
    assert report.not_live == ["modules.conf changed: no module reloads it; restart Asterisk"]


def test_sip_binds_its_own_address_while_ami_ari_and_agi_stay_on_loopback(
    tmp_path: Path,
) -> None:
    cfg = stack_config.init(tmp_path / "stack", sip_bind="0.0.0.0")
    assert stack_config.load(tmp_path / "stack").sip_bind == "0.0.0.0"
    files = render.outputs(cfg)
    assert f"bind = 0.0.0.0:{cfg.ports.sip}" in files["pjsip.conf"]
    assert "bindaddr = 127.0.0.1" in files["manager.conf"]
    assert "bindaddr = 127.0.0.1" in files["http.conf"]
    assert f"agi://127.0.0.1:{cfg.ports.agi}" in files["extensions.conf"]


def test_engine_ami_user_has_no_system_command_or_config_class(tmp_path: Path) -> None:
    cfg = stack_config.init(tmp_path / "stack")
    manager = render.outputs(cfg)["manager.conf"]
    engine_section = manager.split(f"[{cfg.ami_user}]", 1)[1].split("\n[", 1)[0]
    grants = {
        line.split("=", 1)[0].strip(): {c.strip() for c in line.split("=", 1)[1].split(",")}
        for line in engine_section.splitlines()
        if line.split("=", 1)[0].strip() in ("read", "write")
    }
    # reporting: CoreShowChannels, for the watchdog to find callers on a hung engine;
    # agent: the web console's QueueAdd/QueuePause/QueueRemove, as the feature codes do.
    assert grants == {
        "read": {"call", "user", "agent"},
        "write": {"call", "originate", "reporting", "agent"},
    }


def test_state_directory_and_store_file_are_created_owner_only(tmp_path: Path) -> None:
    cfg = stack_config.init(tmp_path / "stack")
    assert (cfg.state_dir.stat().st_mode & 0o777) == 0o700
    assert (cfg.sqlite_path.stat().st_mode & 0o777) == 0o600
    assert ((cfg.state_dir / "stack.json").stat().st_mode & 0o777) == 0o600
