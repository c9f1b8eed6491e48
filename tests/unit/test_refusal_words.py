# ruff: noqa: RUF001 - Traditional Chinese is written with full-width punctuation.
"""The case services' refusals in the console's two languages: every worded code is a
real error's code, both languages fill the same blanks, a generic refusal is worded by
its cause, and what has no words is shown as its message."""

from __future__ import annotations

import ast
import inspect
import re
from datetime import UTC, datetime, time
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from ivr import cases_context, cases_opening, cases_service
from ivr.adapters import threeway as threeway_adapter
from ivr.adapters.threeway import ThreewayFailed
from ivr.cases_context import CaseError, CaseUnknownAgency
from ivr.domain.calendar import Calendar, TimeRange
from ivr.domain.cases import move_refusals, workflow
from ivr.domain.cases.move_refusals import CaseMoveRefused
from ivr.domain.cases.workflow import CaseFacts, decide
from ivr.domain.vocabulary import CaseAction, CaseKind, CaseState
from ivr.errors import HotlineError
from ivr.store.case_records import CaseChanged
from ivr.web import call_actions, threeway, work_cases
from ivr.web.call_actions import CallActionError
from ivr.web.i18n import word_keys
from ivr.web.refusals import NAMES_ZH, WORDS, refusal_text

T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # Monday 10:00 in Taipei
TAIPEI = Calendar(
    tz=ZoneInfo("Asia/Taipei"), weekly={d: [TimeRange(time(8, 30), time(17, 30))] for d in range(5)}
)


def _codes() -> set[str]:
    found: set[str] = set()
    todo: list[type[HotlineError]] = [HotlineError]
    while todo:
        cls = todo.pop()
        found.add(cls.code)
        todo += cls.__subclasses__()
    return found


def test_every_worded_code_is_an_errors_code_with_both_languages() -> None:
    assert set(WORDS) <= _codes()
    for code, (zh, en) in WORDS.items():
        assert re.search(r"[\u4e00-\u9fff]", zh), code
        if en is not None:
            assert set(re.findall(r"{\w+}", zh)) == set(re.findall(r"{\w+}", en)), code


def test_a_refusal_is_worded_in_the_users_language_with_its_details() -> None:
    exc = CaseUnknownAgency("no agency 'x' in the directory", details={"agency": "x"})
    assert refusal_text("zh-TW", exc) == "通訊錄中沒有機關「x」。"
    assert refusal_text("en", exc) == "There is no agency “x” in the directory."


def test_a_generic_refusal_is_worded_by_its_cause() -> None:
    wrapped = CaseError("case 1: a petition is closed by its reply")
    wrapped.__cause__ = CaseMoveRefused("a petition is closed by its reply")
    assert refusal_text("zh-TW", wrapped) == "案件目前的狀態不允許這項處理。"
    # The rule's own English line says more than a generic one.
    assert refusal_text("en", wrapped) == "case 1: a petition is closed by its reply"
    changed = CaseError("changed; try again")
    changed.__cause__ = CaseChanged("changed")
    assert refusal_text("zh-TW", changed) == "案件剛被他人更新，請重新整理後再試。"


def test_what_has_no_words_is_shown_as_its_message() -> None:
    assert refusal_text("zh-TW", CaseError("something new")) == "something new"
    # Words whose blanks the error left empty: the message, not a KeyError.
    assert refusal_text("zh-TW", CaseUnknownAgency("no agency")) == "no agency"


# The modules whose refusals the console's pages and API show: the case services they
# call and the rules those apply.
SERVICE_MODULES = (
    cases_service,
    cases_context,
    cases_opening,
    workflow,
    move_refusals,
    work_cases,
)
# The generic refusals: raised only to wrap a cause (worded by the cause), or for what
# cannot happen (an action outside the closed list).
GENERIC = {CaseError.code, CaseMoveRefused.code}


def _family() -> list[type[HotlineError]]:
    found: list[type[HotlineError]] = []
    todo: list[type[HotlineError]] = [CaseError, CaseMoveRefused]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    names = {m.__name__ for m in SERVICE_MODULES}
    return [c for c in found if c.__module__ in names]


def test_every_code_the_case_services_raise_has_words_in_both_languages() -> None:
    family = _family()
    assert len(family) > 20
    for cls in family:
        if cls.code in GENERIC:
            continue
        assert cls.code in WORDS, f"{cls.__name__}: no words for {cls.code}"
        _, en = WORDS[cls.code]
        assert en is not None, f"{cls.__name__}: no English words for {cls.code}"


def _raises(module: ModuleType) -> list[tuple[int, object, ast.Call, bool]]:
    """(line, what is raised, the call, has a cause) of every `raise X(...)` in `module`."""
    tree = ast.parse(inspect.getsource(module))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            func = node.exc.func
            if isinstance(func, ast.Name):
                raised = getattr(module, func.id, None)
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                raised = getattr(getattr(module, func.value.id, None), func.attr, None)
            else:
                raised = None
            found.append((node.lineno, raised, node.exc, node.cause is not None))
    return found


def test_the_services_raise_no_generic_refusal_without_its_cause() -> None:
    """A refusal the services make themselves has its own code; the generic ones only
    wrap another error, whose code then words it."""
    bare = []
    for module in SERVICE_MODULES:
        source = inspect.getsource(module).splitlines()
        for line, error, _, caused in _raises(module):
            if not (isinstance(error, type) and issubclass(error, HotlineError)):
                continue
            if error.code in GENERIC and not caused and "pragma: no cover" not in source[line - 1]:
                bare.append(f"{module.__name__}:{line} {error.__name__}")
            elif error.code not in GENERIC:
                assert error.code in WORDS, f"{module.__name__}:{line} {error.__name__}"
    assert bare == []


def test_every_refusal_of_the_call_actions_has_its_words() -> None:
    """The call's actions (case, transfer, three-way call) refuse by a key of the
    page's words, in both languages (i18n checks every key has both)."""
    keys = set()
    for module in (call_actions, threeway, threeway_adapter):
        for _, error, call, _ in _raises(module):
            if error in (CallActionError, ThreewayFailed) and isinstance(
                call.args[0], ast.Constant
            ):
                keys.add(call.args[0].value)
            elif error is CallActionError:
                # Passed on from the adapter's ThreewayFailed, whose keys are counted.
                assert ast.unparse(call.args[0]) == "exc.key"
    assert {"call_gone", "transfer_no_unit", "case_key_reused"} <= keys
    assert keys <= set(word_keys())


def _move(kind: CaseKind, state: CaseState, action: CaseAction, **kw: object) -> HotlineError:
    facts = CaseFacts(kind, state, T0)
    with pytest.raises(CaseMoveRefused) as refused:
        decide(facts, action, T0, TAIPEI, **kw)  # type: ignore[arg-type]
    return refused.value


@pytest.mark.parametrize(
    ("kind", "state", "action", "kw", "zh", "en"),
    [
        (
            CaseKind.PETITION,
            CaseState.CLOSED,
            CaseAction.REPLIED,
            {},
            "「已結案」的案件不能回覆。",
            "“replied” is not allowed on a case that is closed.",
        ),
        (
            CaseKind.DISPATCH,
            CaseState.MERGED,
            CaseAction.CLOSED,
            {},
            "「已併案」的案件不能再處理，請處理它併入或改立後的案件。",
            "A case that is merged is final: act on the case it became.",
        ),
        (
            CaseKind.DISPATCH,
            CaseState.OPEN,
            CaseAction.REPLIED,
            {},
            "只有陳情案件可以回覆。",
            "Only a petition can be given “replied”.",
        ),
        (
            CaseKind.PETITION,
            CaseState.OPEN,
            CaseAction.STAGE1_DONE,
            {},
            "只有派工案件可以完成第一階段。",
            "Only a dispatch order can be given “stage1 done”.",
        ),
        (
            CaseKind.PETITION,
            CaseState.ASSIGNED,
            CaseAction.CLOSED,
            {},
            "陳情案件以回覆結案：請回覆並評定 A 級（已辦結），或 B 級並附辦理計畫。",
            "A petition is closed by its reply: reply with grade A (done), or B with a plan.",
        ),
        (
            CaseKind.PETITION,
            CaseState.OPEN,
            CaseAction.REPLIED,
            {},
            "回覆需要評定等級：A（已辦結）或 B（附辦理計畫）。",
            "A reply needs its grade: A (done) or B (a plan).",
        ),
        (
            CaseKind.PETITION,
            CaseState.CLOSED,
            CaseAction.SURVEY,
            {"score": 9},
            "滿意度分數為 1 到 5，不能是 9。",
            "A survey score is 1 to 5, not 9.",
        ),
    ],
)
def test_each_move_the_rules_refuse_is_worded_with_its_reason(
    kind: CaseKind,
    state: CaseState,
    action: CaseAction,
    kw: dict[str, object],
    zh: str,
    en: str,
) -> None:
    refused = _move(kind, state, action, **kw)
    # As the services raise it: wrapped in a generic refusal that names the case.
    wrapped = CaseError(f"case 1: {refused}")
    wrapped.__cause__ = refused
    assert refusal_text("zh-TW", wrapped) == zh
    assert refusal_text("en", wrapped) == en


def test_every_state_and_action_has_its_chinese_name() -> None:
    assert set(NAMES_ZH["state"]) == set(CaseState)
    assert set(NAMES_ZH["action"]) == set(CaseAction)
