"""Stack files, config rendering and the Debian mirror lookup: pure, file-level logic."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ivr import config as stack_config
from ivr.asterisk import install
from ivr.asterisk.render import RenderError, fill, render
from ivr.config import ConfigError, Ports

DEB822 = """\
Types: deb
# a comment inside the stanza must not end it
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


def test_mirror_from_deb822_sources_skips_comments_and_security() -> None:
    """The archive that can serve sid is the plain Debian one, found across comments."""
    assert install.debian_mirror([DEB822]) == "http://mirror.example/debian"


def test_mirror_from_one_line_sources_and_third_party_entries() -> None:
    """Third-party archives and security suites are never taken for Debian's."""
    text = (
        "deb https://packages.vendor.example/apt cloud-sdk main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://m.example/debian/ bookworm main\n"
    )
    assert install.debian_mirror([text]) == "http://m.example/debian"
    assert install.debian_mirror(["deb http://m.example/debian bookworm-security main\n"]) is None


def test_stack_file_round_trip_keeps_secrets_and_updates_ports(tmp_path: Path) -> None:
    """A second init changes ports but keeps the generated AMI and ARI secrets."""
    first = stack_config.init(tmp_path, Ports(sip=1, ami=2, http=3, agi=4))
    second = stack_config.init(tmp_path, Ports(sip=5, ami=6, http=7, agi=8))
    assert first.ami_secret
    assert first.ami_secret == second.ami_secret
    assert second.ports.sip == 5
    assert stack_config.load(tmp_path) == second
    assert oct((tmp_path / "stack.json").stat().st_mode & 0o777) == "0o600"
    assert second.database_url.endswith(str(tmp_path / "hotline.sqlite3"))


def test_missing_or_broken_stack_file_names_the_file(tmp_path: Path) -> None:
    """The CLI's error tells which file and what to do."""
    with pytest.raises(ConfigError, match=r"stack\.json: no stack here"):
        stack_config.load(tmp_path)
    (tmp_path / "stack.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"stack\.json: not valid JSON"):
        stack_config.load(tmp_path)


def test_unknown_placeholder_is_refused_with_its_file() -> None:
    """A typo in a template fails the render instead of reaching Asterisk."""
    with pytest.raises(RenderError, match=r"x\.conf: unknown placeholder \{\{ nope \}\}"):
        fill("port = {{ nope }}", {"port": "1"}, Path("x.conf"))


def test_render_writes_every_port_into_the_config(tmp_path: Path) -> None:
    """Every port of the stack reaches the file of the module that binds it."""
    cfg = stack_config.init(tmp_path, Ports(sip=15061, ami=15039, http=18089, agi=14574))
    render(cfg)
    etc = cfg.etc_dir
    assert "bind = 127.0.0.1:15061" in (etc / "pjsip.conf").read_text()
    assert "port = 15039" in (etc / "manager.conf").read_text()
    assert "bindport = 18089" in (etc / "http.conf").read_text()
    ext = (etc / "extensions.conf").read_text()
    assert "HOTLINE_AGI_URL = agi://127.0.0.1:14574" in ext
    assert "#include dialplan-hotline.conf" in ext
    assert (etc / "dialplan-hotline.conf").exists()
    assert cfg.ami_secret in (etc / "manager.conf").read_text()
    assert not list(etc.glob(".*.tmp"))


def test_install_refuses_clearly_without_debootstrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no asterisk and no debootstrap on PATH, the error says what to install."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(install.CACHE_ENV, str(tmp_path / "root"))
    if os.geteuid() != 0:
        with pytest.raises(install.InstallError, match="needs root"):
            install.ensure()
    else:
        with pytest.raises(install.InstallError, match="debootstrap is missing"):
            install.ensure()


def test_install_refuses_clearly_when_the_disk_is_too_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Short of space for the Asterisk root, the error gives the figures and a way out."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # Present on PATH but never run: the disk check comes before any debootstrap.
    (bin_dir / "debootstrap").write_text("#!/bin/sh\nexit 99\n")
    (bin_dir / "debootstrap").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv(install.CACHE_ENV, str(tmp_path / "root"))
    monkeypatch.setattr(install, "REQUIRED_FREE_BYTES", 2**62)
    if os.geteuid() != 0:
        pytest.skip("the root check comes first for non-root users")
    with pytest.raises(install.InstallError, match=r"not enough disk .* MB free"):
        install.ensure()
