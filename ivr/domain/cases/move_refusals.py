"""Why the case state machine refuses a move: one error per rule, each its own code.

Every refusal is a `CaseMoveRefused` (code `case.move_refused` for a caller that only
cares that it was refused); each rule's subclass has a stable code of its own and its
blanks in `details` (the action, the state, the score), so a page can say the reason
in its user's language (`ivr/web/refusals.py`). The message stays the CLI's English
line.
"""

from __future__ import annotations

from ivr.domain.vocabulary import CaseAction, CaseState
from ivr.errors import ExitStatus, HotlineError


class CaseMoveRefused(HotlineError, ValueError):
    """An action the state machine does not allow for this case, with the reason."""

    code = "case.move_refused"
    exit_status = ExitStatus.REFUSED


class CaseIsFinal(CaseMoveRefused):
    code = "case.move.final"

    def __init__(self, state: CaseState) -> None:
        super().__init__(
            f"a {state} case is final; act on the case it became", details={"state": str(state)}
        )


class MoveNotFromState(CaseMoveRefused):
    code = "case.move.not_from_state"

    def __init__(self, action: CaseAction, state: CaseState) -> None:
        super().__init__(
            f"{action} is not allowed on a {state} case",
            details={"action": str(action), "state": str(state)},
        )


class MovePetitionOnly(CaseMoveRefused):
    code = "case.move.petition_only"

    def __init__(self, action: CaseAction) -> None:
        super().__init__(f"{action} applies to petitions only", details={"action": str(action)})


class MoveDispatchOnly(CaseMoveRefused):
    code = "case.move.dispatch_only"

    def __init__(self, action: CaseAction) -> None:
        super().__init__(
            f"{action} applies to dispatch orders only", details={"action": str(action)}
        )


class PetitionClosedByReply(CaseMoveRefused):
    code = "case.move.closed_by_reply"

    def __init__(self) -> None:
        super().__init__("a petition is closed by its reply: reply with grade A, or B with a plan")


class ReviewPetitionOnly(CaseMoveRefused):
    code = "case.move.review_petition_only"

    def __init__(self) -> None:
        super().__init__("only a petition goes to review")


class ReplyNeedsGrade(CaseMoveRefused):
    code = "case.move.needs_grade"

    def __init__(self) -> None:
        super().__init__("a reply needs its grade: A (done) or B (a plan, P8)")


class PlanExists(CaseMoveRefused):
    code = "case.move.plan_exists"

    def __init__(self) -> None:
        super().__init__("this petition already has its grade-B plan")


class BadSurveyScore(CaseMoveRefused):
    code = "case.move.bad_score"

    def __init__(self, score: int | None) -> None:
        super().__init__(f"a survey score is 1 to 5, got {score}", details={"score": str(score)})


class OrderNeedsItem(CaseMoveRefused):
    code = "case.move.needs_item"

    def __init__(self) -> None:
        super().__init__("a dispatch order needs its item (1-22 in the tables)")
