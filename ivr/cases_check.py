"""The store side of a caller's case check: find the case, verify the password, log it.

`check_case` is what an IVR step calls with the digits the caller keyed; the decision
is `ivr.domain.cases.check`. Every try is written to the audit log (a caller reading a
case is a view of personal data), with the caller's number masked and no password.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog

from ivr.domain.cases.check import CheckAttempt, next_step, status_text
from ivr.domain.cases.numbers import BadCaseNumber, parse_case_number
from ivr.domain.cases.secret import password_matches
from ivr.domain.masking import mask_number
from ivr.domain.vocabulary import CheckOutcome
from ivr.store import CaseStore, audit
from ivr.store.cases import CaseBook

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CheckResult:
    attempt: CheckAttempt
    outcome: CheckOutcome
    # What to say: the state and due date when found, else empty (the flow's prompts).
    text: str = ""
    # The found case's state and earliest running due time, for the IVR's prompts.
    state: str = ""
    due: datetime | None = None


async def check_case(
    store: CaseStore,
    book: CaseBook,
    attempt: CheckAttempt,
    *,
    number: str,
    password: str,
    caller: str | None,
    language: str,
    at: datetime,
    tz: ZoneInfo,
) -> CheckResult:
    """One try of a caller at a case: the attempt after it, the outcome, what to say."""
    case = None
    try:
        parse_case_number(number)
        case = await book.by_number(number)
    except BadCaseNumber:
        case = None
    ok = False
    if case is not None:
        ok = await asyncio.to_thread(password_matches, case.password_hash, password)
    after, outcome = next_step(attempt, case_exists=case is not None, password_ok=ok)
    shown = mask_number(caller) if caller else "unknown"
    await audit.record(
        store,
        at=at,
        who=f"ivr:{shown}"[:64],
        action="view",
        subject=f"case:{number}"[:64],
        detail=f"ivr case check: {outcome} (wrong passwords {after.wrong})",
    )
    log.info("case_check", case=number, outcome=str(outcome), wrong=after.wrong)
    if outcome is not CheckOutcome.FOUND or case is None:
        return CheckResult(after, outcome)
    running = [c for c in case.clocks if c.stopped_at is None and c.clock != "deidentify"]
    due = min((c.due_at for c in running), default=None)
    said = status_text(case.number, case.state, due, language, tz)
    return CheckResult(after, outcome, said, state=case.state, due=due)
