"""A `case_check` destination: the caller keys a case number and its password, and hears
the case's state and due date.

Each entry is one `Read` (ivr.adapters.agi.keys), ending at `#` or at its full length.
A number whose check digit fails is asked again at once and costs no password try;
the decision after a password (found, wrong, locked out after three) is
`ivr.domain.cases.check`, and every password try is written to the audit log by
`ivr.cases_check`. What is said comes from the store: the case's state and the due
time of its earliest running clock, spoken with the digit and date prompts.

The step ends one of three ways (`Ended`); `ivr.flow.destinations` takes the caller
on: heard (goodbye), gave up (the menu's `on_exhausted`, a person), or the store could
not be read (the caller is told and goes back to the menu).
"""

from __future__ import annotations

from enum import StrEnum

from ivr.adapters.durable import database_of
from ivr.cases_check import CheckResult, check_case
from ivr.domain.cases.check import CheckAttempt, status_prompts
from ivr.domain.cases.numbers import PASSWORD_DIGITS, SEQUENCE_DIGITS, BadCaseNumber
from ivr.domain.cases.numbers import parse_case_number as _parse
from ivr.domain.menu import Listen
from ivr.domain.vocabulary import CallOutcome, CheckOutcome
from ivr.flow.call import Call
from ivr.store import CaseStore
from ivr.store.cases import CaseBook
from ivr.store.outage import as_unavailable

ASK_NUMBER = "case-check-number"
ASK_PASSWORD = "case-check-password"  # noqa: S105 - a prompt name
BAD_NUMBER = "case-check-bad-number"
NO_SUCH_CASE = "case-check-no-such-case"
WRONG_PASSWORD = "case-check-wrong-password"  # noqa: S105 - a prompt name
LOCKED = "case-check-locked"
UNAVAILABLE = "case-check-unavailable"
GOODBYE = "goodbye"

# Room past the longest entry, so the caller's closing `#` ends the same Read and is
# never left over to end the next one empty; `#` (or a pause) ends an entry.
NUMBER_KEYS = SEQUENCE_DIGITS + 1 + 4
PASSWORD_KEYS = PASSWORD_DIGITS + 2
# Tries at the number (nothing keyed, a bad check digit, no such case), as in a menu.
NUMBER_TRIES = 3
# A caller reads the number off a letter or a text message: time to find it, and
# pauses between digits.
FIRST_KEY_S = 10.0
BETWEEN_KEYS_S = 3.0


class Ended(StrEnum):
    HEARD = "heard"
    GAVE_UP = "gave_up"
    UNAVAILABLE = "unavailable"


async def case_check(call: Call, *, at_most: int = NUMBER_TRIES) -> Ended:
    """Ask for a case number and its password until the case is said or the tries end."""
    call.steps.append("case_check")
    book = CaseBook.of(_cases(call), call.view.profile)
    attempt = CheckAttempt()
    lead: tuple[str, ...] = ()
    number = ""
    number_tries = 0
    while True:
        if not number:
            if number_tries >= at_most:
                call.event("case_check", outcome="gave_up", number_tries=number_tries)
                return Ended.GAVE_UP
            number_tries += 1
            keyed = await call.read(
                (*lead, ASK_NUMBER), Listen(FIRST_KEY_S, BETWEEN_KEYS_S, NUMBER_KEYS)
            )
            lead = ()
            if not _well_formed(keyed.digits):
                call.event("case_check", outcome="bad_number", keyed=len(keyed.digits))
                lead = (BAD_NUMBER,)
                continue
            number = keyed.digits
        keyed = await call.read(
            (*lead, ASK_PASSWORD), Listen(FIRST_KEY_S, BETWEEN_KEYS_S, PASSWORD_KEYS)
        )
        lead = ()
        try:
            result = await check_case(
                _cases(call), book, attempt, number=number, password=keyed.digits,
                caller=call.caller, language=call.language, at=call.now(), tz=call.view.office.tz,
            )  # fmt: skip
        except Exception as exc:
            if as_unavailable(exc) is None:
                raise
            call.event("case_check", outcome="unavailable", number=number)
            await call.play(UNAVAILABLE, "case_check")
            return Ended.UNAVAILABLE
        attempt = result.attempt
        # The password is never written anywhere; the number and the outcome are.
        call.event("case_check", outcome=str(result.outcome), number=number, wrong=attempt.wrong)
        match result.outcome:
            case CheckOutcome.FOUND:
                await _say(call, number, result)
                return Ended.HEARD
            case CheckOutcome.NO_SUCH_CASE:
                number, lead = "", (NO_SUCH_CASE,)
            case CheckOutcome.WRONG_PASSWORD:
                lead = (WRONG_PASSWORD,)
            case CheckOutcome.LOCKED_OUT:
                await call.play(LOCKED, "case_check")
                return Ended.GAVE_UP


async def heard(call: Call) -> None:
    """The case was said: goodbye, and the dialplan hangs up."""
    await call.play(GOODBYE, "case_check")
    await call.finish(CallOutcome.ANNOUNCED)


async def _say(call: Call, number: str, result: CheckResult) -> None:
    prompts = status_prompts(
        number, result.state, result.due, call.now(), call.language, call.view.office.tz
    )
    call.event("case_status", number=number, state=result.state, prompts=prompts)
    await call.play_all(prompts, "case_check")


def _well_formed(digits: str) -> bool:
    try:
        _parse(digits)
    except BadCaseNumber:
        return False
    return True


def _cases(call: Call) -> CaseStore:
    # Reads go to the database itself: an outage is told to the caller, never spooled.
    return database_of(call.store)
