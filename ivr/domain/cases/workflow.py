"""The case state machine and the clocks each move starts and stops. Pure.

`decide` takes what a case is now (its kind, state, receipt time, item, running
clocks), one action and the instant it happens, and returns the state after it, the
clocks it stops and the clocks it starts with their due times. It refuses a move the
rules do not allow with `CaseMoveRefused`, whose message says what is allowed instead.

The store applies a `Move` in one transaction; nothing here reads the clock or the
tables: the calendar of the responsible agency and the dispatch item are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from ivr.domain.calendar import Calendar
from ivr.domain.cases.deadlines import (
    DispatchItem,
    deidentify_due,
    dispatch_deadlines,
    grade_b_due,
    jurisdiction_reply_due,
    petition_reply_due,
    returned_work_due,
    review_due,
)
from ivr.domain.cases.move_refusals import (
    BadSurveyScore,
    CaseIsFinal,
    CaseMoveRefused,
    MoveDispatchOnly,
    MoveNotFromState,
    MovePetitionOnly,
    OrderNeedsItem,
    PetitionClosedByReply,
    PlanExists,
    ReplyNeedsGrade,
    ReviewPetitionOnly,
)
from ivr.domain.vocabulary import CaseAction, CaseClock, CaseGrade, CaseKind, CaseState

A = CaseAction
S = CaseState

# States no action leads out of: the case lives on as the one it was merged into or
# converted to.
FINAL = frozenset({S.MERGED, S.CONVERTED})
WORKING = frozenset({S.OPEN, S.ASSIGNED})
# Actions that only add to the history: allowed in any state but a final one.
RECORD_ONLY = frozenset(
    {A.NOTE, A.ABSORBED, A.NOTIFIED, A.CONTACT_ATTEMPT, A.DEIDENTIFIED, A.CALLBACK}
)

# Which states each action may start from. Kind-specific limits are in `decide`.
ALLOWED_FROM: Mapping[CaseAction, frozenset[CaseState]] = MappingProxyType(
    {
        A.ASSIGNED: WORKING,
        A.REASSIGNED: WORKING | {S.REPLIED},
        A.JURISDICTION_QUERY: WORKING,
        A.JURISDICTION_ANSWER: WORKING | {S.REPLIED},
        A.STAGE1_DONE: WORKING,
        A.REPLIED: WORKING,
        A.GRADED: WORKING,
        A.CLOSED: WORKING | {S.REPLIED},
        A.SURVEY: frozenset({S.CLOSED}),
        A.REVIEW_UPHELD: frozenset({S.REVIEW}),
        A.REOPENED: frozenset({S.CLOSED, S.REVIEW}),
        A.CONVERTED: WORKING,
        A.MERGED: WORKING,
        **{action: frozenset(set(S) - FINAL) for action in RECORD_ONLY},
    }
)
PETITION_ONLY = frozenset({A.REPLIED, A.GRADED, A.SURVEY, A.REVIEW_UPHELD, A.JURISDICTION_QUERY})
DISPATCH_ONLY = frozenset({A.STAGE1_DONE, A.CONVERTED, A.MERGED, A.CONTACT_ATTEMPT})
# A survey score at or under this is "dissatisfied" (1 to 5, P10-P11).
DISSATISFIED_AT_MOST = 2


@dataclass(frozen=True, slots=True)
class ClockStart:
    clock: CaseClock
    started_at: datetime
    due_at: datetime


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What `decide` needs to know about a case."""

    kind: CaseKind
    state: CaseState
    received_at: datetime
    item: DispatchItem | None = None
    running: frozenset[CaseClock] = frozenset()
    grade: CaseGrade | None = None


@dataclass(frozen=True, slots=True)
class Move:
    state: CaseState
    stop: frozenset[CaseClock] = frozenset()
    start: tuple[ClockStart, ...] = ()
    grade: CaseGrade | None = None
    # Who must hear of it: "citizen" (completion, reply, survey) or nobody.
    notify_citizen: bool = False
    survey: bool = False
    extra: Mapping[str, object] = field(default_factory=dict)


def opening_clocks(
    kind: CaseKind,
    received_at: datetime,
    cal: Calendar,
    item: DispatchItem | None = None,
    variant: str | None = None,
) -> tuple[ClockStart, ...]:
    """The clocks a new case starts: a petition's reply, a dispatch order's two stages."""
    if kind is CaseKind.PETITION:
        return (ClockStart(CaseClock.REPLY, received_at, petition_reply_due(cal, received_at)),)
    if kind is CaseKind.DISPATCH:
        if item is None:
            raise OrderNeedsItem()
        due = dispatch_deadlines(item, received_at, cal.tz, variant)
        starts = []
        if due.stage1 is not None:
            starts.append(ClockStart(CaseClock.STAGE1, received_at, due.stage1))
        if due.stage2 is not None:
            starts.append(ClockStart(CaseClock.STAGE2, received_at, due.stage2))
        return tuple(starts)
    return ()


def allowed_actions(facts: CaseFacts) -> list[CaseAction]:
    """The actions `decide` would accept for this case now, in declaration order."""
    return [a for a in ALLOWED_FROM if _refusal(facts, a) is None]


def _refusal(facts: CaseFacts, action: CaseAction) -> CaseMoveRefused | None:  # noqa: PLR0911 - a reason per rule
    if facts.state in FINAL:
        return CaseIsFinal(facts.state)
    if facts.state not in ALLOWED_FROM.get(action, frozenset()):
        return MoveNotFromState(action, facts.state)
    petition = facts.kind is CaseKind.PETITION
    if action in PETITION_ONLY and not petition:
        return MovePetitionOnly(action)
    if action in DISPATCH_ONLY and facts.kind is not CaseKind.DISPATCH:
        return MoveDispatchOnly(action)
    if action is A.CLOSED and petition and facts.state in WORKING:
        return PetitionClosedByReply()
    if action is A.CLOSED and not petition and facts.state is S.REPLIED:
        return MoveNotFromState(action, facts.state)
    if action is A.REOPENED and facts.state is S.REVIEW and not petition:
        return ReviewPetitionOnly()
    return None


def decide(  # noqa: PLR0911, PLR0912 - one branch per action reads as the rules do
    facts: CaseFacts,
    action: CaseAction,
    at: datetime,
    cal: Calendar,
    *,
    grade: CaseGrade | None = None,
    score: int | None = None,
    new_item: DispatchItem | None = None,
    variant: str | None = None,
) -> Move:
    """The move `action` at `at` makes; CaseMoveRefused when the rules forbid it.

    `cal` is the working calendar of the agency responsible after the action (for a
    re-assignment, the new agency's). `grade` goes with REPLIED, `score` (1-5) with
    SURVEY, `new_item` with a dispatch order's REASSIGNED to another item.
    """
    refused = _refusal(facts, action)
    if refused is not None:
        raise refused
    running = facts.running
    same = facts.state
    if action in RECORD_ONLY:
        stop = frozenset({CaseClock.DEIDENTIFY}) if action is A.DEIDENTIFIED else frozenset()
        return Move(same, stop=stop & running)
    if action is A.ASSIGNED:
        return Move(S.ASSIGNED)
    if action is A.REASSIGNED:
        return _reassign(facts, cal, new_item, variant)
    if action is A.JURISDICTION_QUERY:
        due = jurisdiction_reply_due(cal, at)
        return Move(same, start=(ClockStart(CaseClock.JURISDICTION, at, due),))
    if action is A.JURISDICTION_ANSWER:
        return Move(same, stop=running & {CaseClock.JURISDICTION})
    if action is A.STAGE1_DONE:
        return Move(same, stop=running & {CaseClock.STAGE1})
    if action in (A.REPLIED, A.GRADED):
        if action is A.GRADED:
            grade = CaseGrade.B
        if grade is None:
            raise ReplyNeedsGrade()
        stop = running & {CaseClock.REPLY, CaseClock.RETURNED, CaseClock.JURISDICTION}
        starts: tuple[ClockStart, ...] = (
            ClockStart(CaseClock.DEIDENTIFY, at, deidentify_due(cal, at)),
        )
        if grade is CaseGrade.B:
            if facts.grade is CaseGrade.B or CaseClock.GRADE_B in running:
                raise PlanExists()
            due = grade_b_due(facts.received_at, cal.tz)
            starts += (ClockStart(CaseClock.GRADE_B, at, due),)
            return Move(S.REPLIED, stop=stop, start=starts, grade=grade, notify_citizen=True)
        return Move(
            S.CLOSED,
            stop=stop | (running & {CaseClock.GRADE_B}),
            start=starts,
            grade=grade,
            notify_citizen=True,
            survey=True,
        )
    if action is A.CLOSED:
        # A dispatch order's result is entered and the citizen told (T6(2)); a grade-B
        # petition's final reply closes it (P7(4)).
        stop = running - {CaseClock.DEIDENTIFY}
        petition = facts.kind is CaseKind.PETITION
        starts = ()
        if petition and CaseClock.DEIDENTIFY not in running:
            starts = (ClockStart(CaseClock.DEIDENTIFY, at, deidentify_due(cal, at)),)
        return Move(S.CLOSED, stop=stop, start=starts, notify_citizen=True, survey=petition)
    if action is A.SURVEY:
        if score is None or not 1 <= score <= 5:
            raise BadSurveyScore(score)
        if score > DISSATISFIED_AT_MOST:
            return Move(same, extra={"score": score})
        due = review_due(cal, at)
        return Move(
            S.REVIEW, start=(ClockStart(CaseClock.REVIEW, at, due),), extra={"score": score}
        )
    if action is A.REVIEW_UPHELD:
        return Move(S.CLOSED, stop=running & {CaseClock.REVIEW})
    if action is A.REOPENED:
        stop = running & {CaseClock.REVIEW}
        if facts.kind is CaseKind.PETITION:
            due = returned_work_due(cal, at)
            return Move(S.ASSIGNED, stop=stop, start=(ClockStart(CaseClock.RETURNED, at, due),))
        return Move(S.ASSIGNED, stop=stop)
    if action is A.CONVERTED:
        return Move(S.CONVERTED, stop=running)
    if action is A.MERGED:
        return Move(S.MERGED, stop=running)
    raise CaseMoveRefused(f"unknown action {action!r}")  # pragma: no cover - enum is closed


def _reassign(
    facts: CaseFacts, cal: Calendar, new_item: DispatchItem | None, variant: str | None
) -> Move:
    """Re-assignment keeps the history and the receipt time (see `deadlines`)."""
    if facts.kind is CaseKind.PETITION:
        if CaseClock.REPLY not in facts.running:
            return Move(facts.state if facts.state is S.REPLIED else S.ASSIGNED)
        due = petition_reply_due(cal, facts.received_at)
        return Move(
            S.ASSIGNED,
            stop=frozenset({CaseClock.REPLY}),
            start=(ClockStart(CaseClock.REPLY, facts.received_at, due),),
        )
    if facts.kind is CaseKind.DISPATCH:
        item = new_item or facts.item
        stages = frozenset({CaseClock.STAGE1, CaseClock.STAGE2})
        # Deadlines still run from creation (K7(2)); a stage already met stays met.
        starts = tuple(
            s
            for s in opening_clocks(facts.kind, facts.received_at, cal, item, variant)
            if s.clock in facts.running
        )
        return Move(S.ASSIGNED, stop=facts.running & stages, start=starts)
    return Move(S.ASSIGNED)


def is_dissatisfied(score: int) -> bool:
    return score <= DISSATISFIED_AT_MOST
