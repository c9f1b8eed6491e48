"""What a case owes the citizen: one notice, and the single place notices are sent.

SMS and phone notices go to the notifications outbox (docs/notifications.md) in the
same transaction as the move that owes them: `outbox_rows` makes their rows, and
`CaseBook.apply` writes them with the move. A move is never recorded without its
notice, and an action retried with its key (after a crash, or a double click) finds
both written and queues nothing twice. The engine's sender (or `ivr outbox run`)
delivers them, with retries.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from ivr.cases_context import CaseContext
from ivr.domain.masking import mask_number
from ivr.domain.tickets import Mail, MailNotSent
from ivr.store.cases import CaseRecord
from ivr.store.outbox import OutboxError, message_values

log = structlog.get_logger(__name__)

# Channels the outbox delivers for cases; e-mail still goes out at once (see below).
OUTBOX_CHANNELS = frozenset({"sms", "phone"})


@dataclass(frozen=True)
class Notice:
    """One message a case owes someone: to whom (role and address), subject, text."""

    case_number: str
    to: str
    role: str  # "citizen", "supervisor" or "head"
    channel: str  # "email", "sms" or "phone"
    subject: str
    body: str
    # The outbox's idempotency key: the case, the action that owes it, the channel.
    key: str | None = None
    purpose: str = "case"


def notice_key(case: CaseRecord, action: str, at: datetime, key: str | None, channel: str) -> str:
    """One message per action on a case and channel, the same on every retry.

    An action with an idempotency key is named by it; one without is named by its own
    time (a case cannot take the same action twice at one instant: the state machine
    moves it on). Hashed so the key fits the outbox's 128 characters.
    """
    what = key if key is not None else at.isoformat()
    digest = hashlib.sha256(f"{case.profile}|{what}".encode()).hexdigest()[:20]
    return f"case:{case.profile}:{case.number}:{action}:{digest}:{channel}"


def outbox_rows(notice: Notice | None, at: datetime) -> tuple[dict[str, Any], ...]:
    """The outbox row of an SMS or phone notice, to write with the move; () otherwise."""
    if notice is None or notice.channel not in OUTBOX_CHANNELS or notice.key is None:
        return ()
    try:
        row = message_values(
            key=notice.key,
            channel=notice.channel,
            recipient=notice.to,
            body=f"{notice.subject}\n{notice.body}".strip(),
            purpose=notice.purpose,
            at=at,
            subject=notice.subject,
            ref=f"case:{notice.case_number}",
        )
    except OutboxError as exc:
        # The move stands: a notice that cannot be sent must not block the officer.
        log.warning("case_notice_refused", case=notice.case_number, error=str(exc))
        return ()
    return (row,)


async def queue_notification(ctx: CaseContext, notice: Notice) -> bool:
    """After the move: the single place every case notification is accounted for.

    An SMS or phone notice was queued in the move's transaction (`outbox_rows`): True.
    E-mail goes out now through the stack's SMTP mailer, as the ticket digest does;
    True once the mail server accepted it. Anything else is logged, number masked,
    and returns False.
    """
    if notice.channel in OUTBOX_CHANNELS and notice.key is not None:
        log.info("case_notice_queued", case=notice.case_number, channel=notice.channel)
        return True
    if notice.channel == "email" and ctx.mailer is not None and "@" in notice.to:
        try:
            await ctx.mailer.send(Mail((notice.to,), notice.subject, notice.body))
        except MailNotSent as exc:
            log.warning("case_notice_not_sent", case=notice.case_number, error=str(exc))
            return False
        log.info("case_notice_sent", case=notice.case_number, role=notice.role)
        return True
    shown = notice.to if "@" in notice.to else mask_number(notice.to)
    log.warning(
        "case_notice_not_sent",
        case=notice.case_number,
        role=notice.role,
        channel=notice.channel,
        to=shown,
    )
    return False


def citizen_channel(case: CaseRecord) -> tuple[str, str] | None:
    """How the citizen hears of the case: (channel, address), or None without one."""
    if case.caller_email:
        return "email", case.caller_email
    if case.caller_number:
        # T6(2): the citizen hears by SMS (a mobile) or by a phone call (a landline).
        national = case.caller_number.lstrip("+").removeprefix("886").lstrip("0")
        return ("sms" if national[:1] == "9" else "phone"), case.caller_number
    return None


def citizen_notice(
    case: CaseRecord,
    subject: str,
    body: str,
    *,
    action: str | None = None,
    at: datetime | None = None,
    key: str | None = None,
) -> Notice | None:
    """The citizen's notice of `action` at `at` (which name its outbox key), or None."""
    found = citizen_channel(case)
    if found is None:
        return None
    channel, to = found
    outbox_key = None
    if action is not None and at is not None:
        outbox_key = notice_key(case, action, at, key, channel)
    return Notice(case.number, to, "citizen", channel, subject, body, key=outbox_key)
