"""What a case owes the citizen: one notice, queued in the outbox with the move.

Every notice (e-mail, SMS or phone) goes to the notifications outbox
(docs/notifications.md) in the same transaction as the move that owes it:
`outbox_rows` makes its row, and `CaseBook.apply` writes it with the move. A move is
never recorded without its notice, and an action retried with its key (after a
crash, or a double click) finds both written and queues nothing twice. Nothing is
sent from here: the engine's sender (or `ivr outbox run`) delivers, with retries, so
a mail server that is down delays a notice instead of losing it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from ivr.domain.masking import mask_number
from ivr.store.cases import CaseRecord
from ivr.store.outbox import OutboxError, message_values

log = structlog.get_logger(__name__)

# Channels the outbox delivers for cases: all of a citizen's.
OUTBOX_CHANNELS = frozenset({"email", "sms", "phone"})


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
    """The outbox row of a keyed notice, to write with the move; () without one.

    A notice that cannot be queued (no key, an address de-identified to "○") is
    logged, the number masked, and the move stands: it must not block the officer.
    """
    if notice is None:
        return ()
    if notice.channel not in OUTBOX_CHANNELS or notice.key is None or not _reachable(notice):
        _not_queued(notice, "no key or no address")
        return ()
    if notice.channel == "email":
        # An e-mail carries its subject in the header; a notice without text still
        # tells the citizen its news by the subject, so that is its body.
        body = notice.body.strip() or notice.subject
    else:
        body = f"{notice.subject}\n{notice.body}".strip()
    try:
        row = message_values(
            key=notice.key,
            channel=notice.channel,
            recipient=notice.to,
            body=body,
            purpose=notice.purpose,
            at=at,
            subject=notice.subject,
            ref=f"case:{notice.case_number}",
        )
    except OutboxError as exc:
        _not_queued(notice, str(exc))
        return ()
    log.info("case_notice_queued", case=notice.case_number, channel=notice.channel)
    return (row,)


def _reachable(notice: Notice) -> bool:
    # De-identification leaves "○" for an e-mail address: nobody to write to.
    return notice.channel != "email" or "@" in notice.to


def _not_queued(notice: Notice, why: str) -> None:
    shown = notice.to if "@" in notice.to else mask_number(notice.to)
    log.warning(
        "case_notice_not_queued",
        case=notice.case_number,
        role=notice.role,
        channel=notice.channel,
        to=shown,
        error=why,
    )


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
