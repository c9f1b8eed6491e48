"""SMTP with a user: the password only ever travels inside STARTTLS (real aiosmtpd servers).

No Asterisk. One server offers no STARTTLS and would take AUTH in clear; the other
offers STARTTLS with a certificate made for the test.
"""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from ivr.adapters.mail import SmtpMailer
from ivr.domain.tickets import Mail, MailNotSent
from tests.harness import free_port

USER = "hotline"
PASSWORD = "s3cret-smtp-password"


@dataclass
class Server:
    """What the server saw: each login (and whether it came over TLS), each message."""

    logins: list[tuple[str, bool]] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.password.decode(), session.ssl is not None))
        ok = auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD
        return AuthResult(success=ok)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope.content)
        return "250 OK"


@contextmanager
def _serve(server: Server, **kwargs: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(
        server,
        hostname="127.0.0.1",
        port=port,
        authenticator=server.authenticate,
        **kwargs,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with openssl."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


MAIL = Mail(to=("supervisor@example.org",), subject="test", body="逾期 0912○○○678")


async def test_a_user_without_starttls_sends_no_password() -> None:
    """smtp_starttls off, a user set, a server without STARTTLS: no AUTH, no mail."""
    server = Server()
    with _serve(server, auth_require_tls=False) as port:
        mailer = SmtpMailer(
            host="127.0.0.1",
            port=port,
            from_addr="hotline@example.org",
            starttls=False,
            username=USER,
            password=PASSWORD,
        )
        with pytest.raises(MailNotSent, match="STARTTLS"):
            await mailer.send(MAIL)
    assert server.logins == []
    assert server.messages == []


async def test_a_user_logs_in_only_inside_starttls(certificate: tuple[Path, Path]) -> None:
    """With a user, the mailer upgrades even when smtp_starttls is off, then logs in."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = Server()
    with _serve(server, tls_context=context, require_starttls=True) as port:
        mailer = SmtpMailer(
            host="127.0.0.1",
            port=port,
            from_addr="hotline@example.org",
            starttls=False,
            username=USER,
            password=PASSWORD,
            cafile=str(cert),
        )
        await mailer.send(MAIL)
    assert server.logins == [(PASSWORD, True)]
    assert len(server.messages) == 1
