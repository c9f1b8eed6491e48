# ruff: noqa: RUF001 - Traditional Chinese is written with full-width punctuation.
"""The case services' refusals in the user's language.

The case services (`ivr.cases_service`, shared with the CLI) refuse with a
`HotlineError` whose message is the CLI's English line. A page shows the refusal by its
stable `code` instead, in zh-TW or en, with the error's `details` in the blanks; a
generic refusal that wraps a rule's own error (a move the workflow refuses, a case
changed meanwhile) is shown by the code of that cause. A code without words here (or
without English words, where the rule's own line says more) is shown as its message,
so nothing is ever hidden.
"""

from __future__ import annotations

from ivr.domain.vocabulary import CaseAction, CaseState, UiLanguage
from ivr.errors import HotlineError

WORDS: dict[str, tuple[str, str | None]] = {
    # code: (zh-TW, en); en None: the message, the rule's own English line, says more.
    "case.needs_text": ("回覆或辦理結果需要填寫內容。", "A reply or a result needs its text."),
    "case.needs_result": ("結案需要填寫辦理結果。", "Closing needs the result."),
    "case.needs_agency": ("案件需要主管機關。", "A case needs its responsible agency."),
    "case.needs_place": (
        "派工案件需要地點（地址）。",
        "A dispatch order needs its place (an address).",
    ),
    "case.needs_item": ("派工案件需要派工項目。", "A dispatch order needs its item."),
    "case.unknown_item": (
        "設定中沒有派工項目 {item}。",
        "There is no dispatch item {item} in the tables.",
    ),
    "case.unknown_agency": (
        "通訊錄中沒有機關「{agency}」。",
        "There is no agency “{agency}” in the directory.",
    ),
    "case.unknown_unit": (
        "機關「{agency}」沒有單位「{unit}」。",
        "The agency “{agency}” has no unit “{unit}”.",
    ),
    "case.not_yours": ("找不到您可處理的案件 {number}。", "You have no case {number}."),
    "case.no_such_case": ("找不到案件 {ref}。", "There is no case {ref}."),
    "case.needs_officer": ("分派需要指定承辦人。", "Assigning needs the officer."),
    "case.key_reused": (
        "這個識別碼已用於另一通來電的案件 {number}，這次沒有寫入任何資料。",
        "This key was used for case {number}, not from this call; nothing was written.",
    ),
    # Moving a case: the state machine's rules (ivr.domain.cases.move_refusals) ...
    "case.move_refused": ("案件目前的狀態不允許這項處理。", None),
    "case.move.final": (
        "「{state}」的案件不能再處理，請處理它併入或改立後的案件。",
        "A case that is {state} is final: act on the case it became.",
    ),
    "case.move.not_from_state": (
        "「{state}」的案件不能{action}。",
        "“{action}” is not allowed on a case that is {state}.",
    ),
    "case.move.petition_only": (
        "只有陳情案件可以{action}。",
        "Only a petition can be given “{action}”.",
    ),
    "case.move.dispatch_only": (
        "只有派工案件可以{action}。",
        "Only a dispatch order can be given “{action}”.",
    ),
    "case.move.closed_by_reply": (
        "陳情案件以回覆結案：請回覆並評定 A 級（已辦結），或 B 級並附辦理計畫。",
        "A petition is closed by its reply: reply with grade A (done), or B with a plan.",
    ),
    "case.move.review_petition_only": (
        "只有陳情案件會進入複查。",
        "Only a petition goes to review.",
    ),
    "case.move.needs_grade": (
        "回覆需要評定等級：A（已辦結）或 B（附辦理計畫）。",
        "A reply needs its grade: A (done) or B (a plan).",
    ),
    "case.move.plan_exists": (
        "這件陳情已有 B 級辦理計畫。",
        "This petition already has its grade-B plan.",
    ),
    "case.move.bad_score": (
        "滿意度分數為 1 到 5，不能是 {score}。",
        "A survey score is 1 to 5, not {score}.",
    ),
    "case.move.needs_item": ("派工案件需要派工項目。", "A dispatch order needs its item."),
    # ... and the services' own: re-assigning (轉派), converting, merging.
    "case.reassign_needs_agency": (
        "轉派需要指定新的主管機關（派工案件也可指定派工項目）。",
        "Re-assignment needs the new agency (or, for a dispatch order, its item).",
    ),
    "case.reassign_needs_reason": ("轉派需要填寫理由。", "Re-assignment needs its reason."),
    "case.convert_dispatch_only": (
        "案件 {number} 不是派工案件；只有派工案件可以改立為陳情。",
        "Case {number} is not a dispatch order; only a dispatch order becomes a petition.",
    ),
    "case.merge_into_itself": ("案件不能併入自己。", "A case cannot merge into itself."),
    "case.merge_dispatch_only": ("只有派工案件可以併案。", "Only dispatch orders merge."),
    "case.merge_into_closed": (
        "案件 {number} 為「{state}」，只能併入處理中的派工案件。",
        "Case {number} is {state}: merge into an open order.",
    ),
    "case.changed": (
        "案件剛被他人更新，請重新整理後再試。",
        "The case was changed meanwhile: reload the page and try again.",
    ),
    "cases.no_working_day": (
        "找不到可計算期限的上班日。",
        "No working day was found to count the deadline from.",
    ),
    "cases.bad_number": ("案件編號格式不正確。", "That is not a case number."),
}

# The blanks that name a case's state or an action, in zh-TW words; en says them as
# the history does, with spaces.
NAMES_ZH: dict[str, dict[str, str]] = {
    "state": {
        CaseState.OPEN: "待分派",
        CaseState.ASSIGNED: "處理中",
        CaseState.REPLIED: "已回覆（B 級）",
        CaseState.CLOSED: "已結案",
        CaseState.REVIEW: "複查中",
        CaseState.MERGED: "已併案",
        CaseState.CONVERTED: "已改立陳情",
    },
    "action": {
        CaseAction.CREATED: "立案",
        CaseAction.ASSIGNED: "分派",
        CaseAction.REASSIGNED: "轉派",
        CaseAction.NOTE: "註記",
        CaseAction.JURISDICTION_QUERY: "詢問權責",
        CaseAction.JURISDICTION_ANSWER: "回覆權責",
        CaseAction.STAGE1_DONE: "完成第一階段",
        CaseAction.CONTACT_ATTEMPT: "聯繫民眾",
        CaseAction.REPLIED: "回覆",
        CaseAction.GRADED: "評定 B 級",
        CaseAction.CLOSED: "結案",
        CaseAction.SURVEY: "記錄滿意度",
        CaseAction.REOPENED: "重新辦理",
        CaseAction.REVIEW_UPHELD: "維持原回覆",
        CaseAction.CONVERTED: "改立陳情",
        CaseAction.MERGED: "併案",
        CaseAction.ABSORBED: "併入通報",
        CaseAction.DEIDENTIFIED: "去識別化",
        CaseAction.NOTIFIED: "通知",
        CaseAction.CALLBACK: "回電",
    },
}


def _blanks(zh: bool, details: dict[str, object]) -> dict[str, object]:
    """The error's details as the words' blanks: states and actions named in zh-TW."""
    out = dict(details)
    for name, words in NAMES_ZH.items():
        value = out.get(name)
        if isinstance(value, str):
            out[name] = words.get(value, value) if zh else value.replace("_", " ")
    return out


def _worded(exc: BaseException) -> HotlineError | None:
    """The error itself or the first of its causes whose code has words."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, HotlineError) and seen.code in WORDS:
            return seen
        seen = seen.__cause__
    return None


def refusal_text(language: UiLanguage | str, exc: BaseException) -> str:
    """What a page says of the refusal `exc`, in `language`; else its message."""
    found = _worded(exc)
    if found is None:
        return str(exc)
    zh = str(language) == UiLanguage.ZH_TW
    words = WORDS[found.code][0 if zh else 1]
    if words is None:
        return str(exc)
    try:
        return words.format(**_blanks(zh, found.details))
    except (KeyError, IndexError, ValueError):
        # Words whose blanks the error did not fill: its own message says more.
        return str(exc)
