"""The shipped systemd units pass `systemd-analyze verify` and restart what dies."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = sorted((REPO / "systemd").glob("*.service"))
INSTALLED_IVR = "/opt/hotline1999/.venv/bin/ivr"


def _settings(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_units_are_shipped() -> None:
    assert [u.name for u in UNITS] == [
        "hotline1999-asterisk.service",
        "hotline1999-engine.service",
    ]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """Verified as installed, with the `ivr` of this checkout where the VM has its own."""
    ivr = Path(sys.executable).with_name("ivr")
    assert ivr.exists(), ivr
    copies = []
    for unit in UNITS:
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text(encoding="utf-8").replace(INSTALLED_IVR, str(ivr)))
        copies.append(str(copy))
    proc = subprocess.run(
        ["systemd-analyze", "verify", *copies], capture_output=True, text=True, check=False
    )
    # Any complaint about our units (an unknown key, a bad value) fails the check.
    ours = [line for line in proc.stderr.splitlines() if "hotline1999" in line]
    assert proc.returncode == 0, proc.stderr
    assert ours == [], proc.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_unit_restarts_what_dies_and_is_hardened(unit: Path) -> None:
    s = _settings(unit)
    assert s["Restart"] == ["always"]
    assert s["StartLimitIntervalSec"] == ["0"]
    assert s["NoNewPrivileges"] == ["yes"]
    assert s["ProtectHome"] == ["yes"]
    assert s["PrivateTmp"] == ["yes"]
    assert s["Environment"] == ["HOTLINE_STATE_DIR=/var/lib/hotline1999"]


def test_the_engine_runs_with_only_its_file_and_kill_capabilities_under_its_supervisor() -> None:
    """Root in a sandbox: no capability beyond reading Asterisk's files and signalling."""
    s = _settings(REPO / "systemd" / "hotline1999-engine.service")
    assert "User" not in s
    assert s["ExecStart"] == [f"{INSTALLED_IVR} supervise --no-asterisk"]
    assert s["CapabilityBoundingSet"] == [
        "CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_CHOWN CAP_KILL"
    ]
    assert s["ProtectSystem"] == ["strict"]
    assert s["ReadWritePaths"] == ["/var/lib/hotline1999"]
