"""SIP over TLS and SRTP, switched on in the stack file, as the real Asterisk loads them."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from ivr import config as stack_config
from ivr.asterisk import install, process
from tests.harness import asterisk_stack, free_port
from tests.integration.conftest import copy_profile

pytestmark = pytest.mark.asterisk


def test_tls_transport_and_srtp_phones_are_loaded(tmp_path: Path) -> None:
    state = tmp_path / "stack"
    cfg = stack_config.init(state)
    tls_dir = state / "tls"
    tls_dir.mkdir(mode=0o700)
    # The certificate and key live in the state directory: the chroot sees only it.
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=hotline.test",
            "-keyout",
            str(tls_dir / "key.pem"),
            "-out",
            str(tls_dir / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    tls_port = free_port()
    stack_config.save(
        replace(
            cfg,
            sip_tls_port=tls_port,
            tls_cert_file=str(tls_dir / "cert.pem"),
            tls_key_file=str(tls_dir / "key.pem"),
            srtp=True,
        )
    )
    profile = copy_profile("taipei", tmp_path / "taipei")
    with asterisk_stack(state, profile=profile.directory) as running:
        runtime = install.ensure()
        transports = process.rx(runtime, running, "pjsip show transports")
        assert "transport-tls" in transports
        assert f"{running.sip_bind}:{tls_port}" in transports
        agent = process.rx(runtime, running, "pjsip show endpoint 7001")
        assert "media_encryption" in agent
        assert "sdes" in agent
        carrier = process.rx(runtime, running, "pjsip show endpoint carrier")
        assert "sdes" not in carrier
