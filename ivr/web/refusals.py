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

from ivr.domain.vocabulary import UiLanguage
from ivr.errors import HotlineError

WORDS: dict[str, tuple[str, str | None]] = {
    # code: (zh-TW, en); en None: the message, the rule's own English line, says more.
    "case.needs_text": ("回覆或辦理結果需要填寫內容。", "A reply or a result needs its text."),
    "case.needs_result": ("結案需要填寫辦理結果。", "Closing needs the result."),
    "case.needs_agency": ("案件需要主管機關。", "A case needs its responsible agency."),
    "case.needs_place": (
        "派工案件需要地點（地址）。",  # noqa: RUF001 - full-width, as zh-TW is written
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
    "case.move_refused": ("案件目前的狀態不允許這項處理。", None),
    "case.changed": (
        "案件剛被他人更新，請重新整理後再試。",  # noqa: RUF001 - full-width, as zh-TW is written
        "The case was changed meanwhile: reload the page and try again.",
    ),
    "case.key_reused": (
        "這個識別碼已用於另一通來電的案件 {number}，這次沒有寫入任何資料。",  # noqa: RUF001 - full-width
        "This key was used for case {number}, not from this call; nothing was written.",
    ),
    "cases.no_working_day": (
        "找不到可計算期限的上班日。",
        "No working day was found to count the deadline from.",
    ),
    "cases.bad_number": ("案件編號格式不正確。", "That is not a case number."),
}


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
    index = 0 if str(language) == UiLanguage.ZH_TW else 1
    words = WORDS[found.code][index]
    if words is None:
        return str(exc)
    try:
        return words.format(**found.details)
    except (KeyError, IndexError, ValueError):
        # Words whose blanks the error did not fill: its own message says more.
        return str(exc)
