"""What a case owes the citizen: one notice, and the single place notices are sent."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from ivr.cases_context import CaseContext
from ivr.domain.masking import mask_number
from ivr.domain.tickets import Mail, MailNotSent
from ivr.store.cases import CaseRecord

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Notice:
    """One message a case owes someone: to whom (role and address), subject, text."""

    case_number: str
    to: str
    role: str  # "citizen", "supervisor" or "head"
    channel: str  # "email", "sms" or "phone"
    subject: str
    body: str


async def queue_notification(ctx: CaseContext, notice: Notice) -> bool:
    """Send one message a case owes: the single place every case notification goes.

    E-mail goes out now through the stack's SMTP mailer, as the ticket digest does. A
    notice by SMS or phone, or one with no mailer configured, is logged as waiting, with
    the number masked, and returns False: the notifications outbox delivers those, with
    retries, from this same call site. Returns True once the mail server accepted it.
    """
    if notice.channel == "email" and ctx.mailer is not None and "@" in notice.to:
        try:
            await ctx.mailer.send(Mail((notice.to,), notice.subject, notice.body))
        except MailNotSent as exc:
            log.warning("case_notice_not_sent", case=notice.case_number, error=str(exc))
            return False
        log.info("case_notice_sent", case=notice.case_number, role=notice.role)
        return True
    shown = notice.to if "@" in notice.to else mask_number(notice.to)
    log.info(
        "case_notice_waiting",
        case=notice.case_number,
        role=notice.role,
        channel=notice.channel,
        to=shown,
    )
    return False


def citizen_notice(case: CaseRecord, subject: str, body: str) -> Notice | None:
    if case.caller_email:
        return Notice(case.number, case.caller_email, "citizen", "email", subject, body)
    if case.caller_number:
        # T6(2): the citizen hears by SMS (a mobile) or by a phone call (a landline).
        channel = (
            "sms"
            if case.caller_number.lstrip("+").removeprefix("886").lstrip("0")[:1] == "9"
            else "phone"
        )
        return Notice(case.number, case.caller_number, "citizen", channel, subject, body)
    return None
