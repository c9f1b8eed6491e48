# ruff: noqa: RUF001 - Traditional Chinese is written with full-width punctuation.
"""The case services' refusals in the console's two languages: every worded code is a
real error's code, both languages fill the same blanks, a generic refusal is worded by
its cause, and what has no words is shown as its message."""

from __future__ import annotations

import re

from ivr import cases_service  # noqa: F401 - loads the case errors
from ivr.cases_context import CaseError, CaseUnknownAgency
from ivr.domain.cases.workflow import CaseMoveRefused
from ivr.errors import HotlineError
from ivr.store.case_records import CaseChanged
from ivr.web import work_cases  # noqa: F401 - loads CaseNotYours
from ivr.web.refusals import WORDS, refusal_text


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
