"""E-mail from the outbox: the stack's SMTP adapter, with a Message-ID from the key.

SMTP has no idempotency field. A mail the server accepted just before the sender
died is sent again after the restart (at least once); its Message-ID is the same
both times, derived from the idempotency key, so a mail client or archive that
de-duplicates by Message-ID shows it once.
"""

from __future__ import annotations

import hashlib
import re

from ivr.adapters.mail import SmtpMailer
from ivr.domain.tickets import Mail, MailNotSent
from ivr.notify.transport import PermanentFailure, TemporaryFailure
from ivr.store.outbox import MessageRecord

# Deliberately plain: one address, no display name, no spaces. A recipient that is
# not this is a data error no retry cures.
_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


def message_id(key: str, from_addr: str) -> str:
    domain = from_addr.rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<outbox.{digest}@{domain}>"


class OutboxMailer:
    def __init__(self, mailer: SmtpMailer) -> None:
        self._mailer = mailer

    async def send(self, message: MessageRecord) -> str:
        if not _ADDRESS.fullmatch(message.recipient):
            raise PermanentFailure("the recipient is not an e-mail address")
        mail = Mail((message.recipient,), message.subject or message.purpose, message.body)
        mid = message_id(message.key, self._mailer.from_addr)
        try:
            await self._mailer.send(mail, message_id=mid)
        except MailNotSent as exc:
            raise TemporaryFailure(str(exc)) from exc
        return f"accepted by {self._mailer.host}:{self._mailer.port} as {mid}"
