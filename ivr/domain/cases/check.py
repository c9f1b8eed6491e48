"""A caller checks a case by phone: case number, password, then state and due date. Pure.

The IVR (or any front end) keys the case number and the password; `next_step` says
what happens after each try and `status_text` what the caller hears, in their
language. Three wrong passwords end the attempt (the caller is told to call an agent);
a number whose check digit fails is "no such case" at once and costs no try, since it
names no case whose password could be guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ivr.domain.callback_promise import said_when
from ivr.domain.vocabulary import CaseState, CheckOutcome

MAX_WRONG_PASSWORDS = 3


COMMA = "\N{FULLWIDTH COMMA}"


@dataclass(frozen=True)
class CheckAttempt:
    """What one call has tried so far."""

    wrong: int = 0
    ended: bool = False


def next_step(
    attempt: CheckAttempt, *, case_exists: bool, password_ok: bool
) -> tuple[CheckAttempt, CheckOutcome]:
    """The attempt after one try, and what the caller is told."""
    if attempt.ended:
        return attempt, CheckOutcome.LOCKED_OUT
    if not case_exists:
        return attempt, CheckOutcome.NO_SUCH_CASE
    if password_ok:
        return CheckAttempt(attempt.wrong, ended=True), CheckOutcome.FOUND
    wrong = attempt.wrong + 1
    if wrong >= MAX_WRONG_PASSWORDS:
        return CheckAttempt(wrong, ended=True), CheckOutcome.LOCKED_OUT
    return CheckAttempt(wrong), CheckOutcome.WRONG_PASSWORD


_STATES = {
    "zh-TW": {
        "open": "已受理", "assigned": "處理中", "replied": "已先行回復" + COMMA + "持續辦理中",
        "closed": "已結案", "review": "複查中", "merged": "已併案", "converted": "已改立陳情案",
    },
    "en": {
        "open": "received", "assigned": "being handled",
        "replied": "replied with a plan, in progress",
        "closed": "closed", "review": "under review", "merged": "merged with another report",
        "converted": "filed as a petition",
    },
}  # fmt: skip
_DIGITS_ZH = "零一二三四五六七八九"


def _zh_number(n: int) -> str:
    # Digit by digit: the TTS reads 2026 as a number otherwise (see FACTS: voice prompts).
    return "".join(_DIGITS_ZH[int(d)] for d in str(n))


def status_text(number: str, state: str, due: datetime | None, language: str, tz: ZoneInfo) -> str:
    """What the caller hears: the case's state and, while it runs, its due date.

    Languages without their own text (Taiwanese, Hakka: recordings only) hear Mandarin.
    """
    lang = "en" if language == "en" else "zh-TW"
    said = _STATES[lang].get(state, state)
    spaced = " ".join(number)
    local = due.astimezone(tz) if due is not None else None
    if lang == "en":
        text = f"Case {spaced} is {said}."
        if local is not None and state not in ("closed", "merged", "converted"):
            text += f" It is due by {local:%B} {local.day}, {local:%H:%M}."
        return text
    digits = "".join(_DIGITS_ZH[int(d)] for d in number)
    text = f"案件編號{digits}{COMMA}目前{said}。"
    if local is not None and state not in ("closed", "merged", "converted"):
        text += (
            f"預定於{_zh_number(local.month)}月{_zh_number(local.day)}日"
            f"{_zh_number(local.hour)}點{_zh_number(local.minute)}分前辦理完成。"
        )
    return text


# The prompts the IVR plays for a found case (their words are in the catalogue).
CASE_IS = "case-check-case"
DUE_BY = "case-check-due"
DUE_BY_END = "case-check-due-end"
PAST_DUE = "case-check-past-due"
# States whose work is over: no due date is said for them.
_FINISHED = frozenset({CaseState.CLOSED, CaseState.MERGED, CaseState.CONVERTED})


def state_prompt(state: str) -> str:
    return f"case-check-state-{state}"


# Every prompt `status_prompts` can return besides the day and time pieces.
STATUS_PROMPTS: tuple[str, ...] = (
    CASE_IS,
    DUE_BY,
    DUE_BY_END,
    PAST_DUE,
    *(state_prompt(s) for s in CaseState),
    *(f"digit-{d}" for d in range(10)),
)


def status_prompts(
    number: str, state: str, due: datetime | None, now: datetime, language: str, tz: ZoneInfo
) -> list[str]:
    """What the caller hears, as prompts: the number read back, the state, the due date.

    The due date is said only while the case's work runs; a due date already past is
    said as past, never as "by today" (that would be untrue).
    """
    said = [CASE_IS, *(f"digit-{d}" for d in number), state_prompt(state)]
    if due is None or state in _FINISHED:
        return said
    if due <= now:
        return [*said, PAST_DUE]
    return [*said, DUE_BY, *said_when(due, now, language, tz), DUE_BY_END]
