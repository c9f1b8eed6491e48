"""Sending `Mail` over SMTP: the stdlib's smtplib, run in a worker thread.

One connection per message: a mail goes out every few minutes at most, and a fresh
connection never trips over a server that dropped an idle one. Every failure to hand a
message over becomes `MailNotSent`, which the scheduler treats as "try again later".

Message bodies carry (masked) caller numbers and case details, so nothing here logs a
body; log lines name the recipients and the server only.

A configured SMTP user means a password goes over the wire: the connection is then
always upgraded with STARTTLS, whatever `smtp_starttls` says, and a server that does
not offer it gets no password and no message.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import structlog

from ivr.config import StackConfig
from ivr.domain.tickets import Mail, MailNotSent

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SmtpMailer:
    """Hands mails to one SMTP server, optionally upgrading with STARTTLS and logging in."""

    host: str
    port: int
    from_addr: str
    starttls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_s: float = 10.0
    # Certificates to trust instead of the system's (a site's own CA); "" for the system's.
    cafile: str = ""

    @classmethod
    def from_config(cls, cfg: StackConfig) -> SmtpMailer:
        return cls(
            host=cfg.smtp_host,
            port=cfg.smtp_port,
            from_addr=cfg.mail_from,
            starttls=cfg.smtp_starttls,
            username=cfg.smtp_user,
            password=cfg.smtp_password,
        )

    async def send(self, mail: Mail, *, message_id: str | None = None) -> None:
        """Return once the server accepted the message; MailNotSent otherwise.

        `message_id` fixes the Message-ID (the outbox derives it from the message's
        idempotency key, so a repeat after a crash is recognisably the same mail).
        """
        message = self._message(mail, message_id)
        try:
            refused = await asyncio.to_thread(self._deliver, message, mail.to)
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailNotSent(
                f"{self.host}:{self.port} refused every recipient: {sorted(exc.recipients)}"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise MailNotSent(
                f"{self.host}:{self.port} answered {exc.smtp_code} {exc.smtp_error!r}"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # OSError covers refused connections, timeouts and TLS failures.
            raise MailNotSent(f"{self.host}:{self.port}: {type(exc).__name__}: {exc}") from exc
        if refused:
            # Some recipients were taken: sending again would repeat the mail to them, so
            # the message counts as sent and the refusals are for the operator to fix.
            log.warning("mail_recipients_refused", refused=sorted(refused), to=list(mail.to))
        log.info("mail_sent", to=list(mail.to), server=f"{self.host}:{self.port}")

    def _message(self, mail: Mail, message_id: str | None = None) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.from_addr
        message["To"] = ", ".join(mail.to)
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        domain = self.from_addr.rpartition("@")[2] or None
        message["Message-ID"] = message_id or make_msgid(domain=domain)
        # base64, not 8bit: a relay without 8BITMIME must still carry the Chinese text.
        message.set_content(mail.body, charset="utf-8", cte="base64")
        return message

    def _deliver(self, message: EmailMessage, to: tuple[str, ...]) -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            smtp.ehlo()
            if self.starttls or self.username:
                if not smtp.has_extn("starttls"):
                    # smtplib would log in over the open connection: refuse before AUTH.
                    raise smtplib.SMTPNotSupportedError(
                        "the server offers no STARTTLS; the password is not sent in clear"
                    )
                context = ssl.create_default_context(cafile=self.cafile or None)
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
            return smtp.send_message(message, from_addr=self.from_addr, to_addrs=list(to))
