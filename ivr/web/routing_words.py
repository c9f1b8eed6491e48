# ruff: noqa: RUF001 - Traditional Chinese is written with full-width punctuation.
"""The routing editor's words in the console's two languages (zh-TW, en)."""

from __future__ import annotations

from ivr.web.i18n import Translate
from ivr.web.routing_words_agents import WORDS as AGENT_WORDS
from ivr.web.routing_words_lists import WORDS as LIST_WORDS

_WORDS: dict[str, tuple[str, str]] = {
    "routing": ("路由設定", "Routing"),
    "running": ("目前運作：第 {n} 版", "Running: version {n}"),
    "rule_on": (
        "雙人覆核：開啟（發布前須由督導核准）",
        "Two-person rule: on (a supervisor approves before publishing)",
    ),
    "rule_off": ("雙人覆核：關閉", "Two-person rule: off"),
    "rule_turn_on": ("開啟雙人覆核", "Turn the two-person rule on"),
    "rule_turn_off": ("關閉雙人覆核", "Turn the two-person rule off"),
    "new_draft": ("建立草稿", "New draft"),
    "drafts": ("草稿", "Drafts"),
    "drafts_caption": ("尚未發布的草稿", "Drafts not yet published"),
    "no_drafts": ("沒有草稿。", "No drafts."),
    "draft": ("草稿", "Draft"),
    "draft_title": (
        "草稿 {id}（自第 {base} 版，修訂 {rev}）",
        "Draft {id} (from version {base}, revision {rev})",
    ),
    "open": ("開啟", "Open"),
    "by": ("修改者", "By"),
    "approved": ("已核准", "Approved"),
    "not_approved": ("未核准", "Not approved"),
    "scheduled": ("排定發布", "Scheduled"),
    "last_refusal": ("上次被拒原因", "Last refused because"),
    "versions": ("版本", "Versions"),
    "versions_caption": ("已發布的版本，新的在前", "Published versions, newest first"),
    "version": ("版本", "Version"),
    "when": ("時間", "When"),
    "who": ("發布者", "Published by"),
    "comment": ("說明", "Comment"),
    "comment_hint": ("改了什麼、為什麼（永久保存）", "What changed and why (kept for ever)"),
    "changes": ("變更", "Changes"),
    "show_changes": ("第 {n} 版的變更", "Changes in version {n}"),
    "rollback": ("回復到此版", "Roll back to this version"),
    "rollback_comment": ("回復第 {n} 版的說明", "Comment for rolling back to version {n}"),
    "find_unit": ("找單位", "Find a unit"),
    "name_or_duty": ("名稱、業務或分機", "Name, duty or extension"),
    "search": ("搜尋", "Search"),
    "units_caption": ("符合「{q}」的單位", "Units matching “{q}”"),
    "no_units": ("沒有符合的單位。", "No unit matches."),
    "agency": ("機關", "Agency"),
    "unit": ("單位", "Unit"),
    "duties": ("業務", "Duties"),
    "primary_extension": ("主要分機", "Primary extension"),
    "primary_of": ("{unit} 的主要分機", "Primary extension of {unit}"),
    "save": ("儲存", "Save"),
    "refers": ("哪些設定用到它", "What refers to this"),
    "refers_title": ("用到 {name} 的設定", "What refers to {name}"),
    "refers_none": ("沒有任何設定用到它，可以刪除。", "Nothing refers to it: it can be deleted."),
    "refers_caption": ("刪除前請先修改這些設定", "Change these before deleting it"),
    "file": ("檔案", "File"),
    "field": ("欄位", "Field"),
    "what": ("用途", "What"),
    "deputies": ("聯繫窗口代理人（依序撥打）", "Liaison deputies (called in this order)"),
    "move_up": ("上移 {name}", "Move {name} up"),
    "move_down": ("下移 {name}", "Move {name} down"),
    "publish": ("發布", "Publish"),
    "publish_title": ("檢查並發布此草稿", "Check and publish this draft"),
    "needs_approval": (
        "此設定須由督導核准後才能發布。",
        "A supervisor must approve this draft before it is published.",
    ),
    "approve": ("核准此草稿", "Approve this draft"),
    "problems": (
        "檢查發現的問題（與 ivr routing check 相同）",
        "Problems the check found (as ivr routing check says)",
    ),
    "check_ok": ("檢查通過：可以發布。", "The check passed: this draft can be published."),
    "published": ("已發布第 {n} 版。", "Version {n} published."),
    "saved": ("草稿已儲存。", "Draft saved."),
    "diff_title": ("第 {a} 版到第 {b} 版的變更", "Changes from version {a} to {b}"),
    "diff_caption": ("逐欄位的變更", "Field by field"),
    "no_changes": ("沒有變更。", "No changes."),
    "before": ("原本", "Before"),
    "after": ("改為", "After"),
    "kind": ("變更", "Change"),
    "schedule_title": ("排定發布時間（屆時再檢查一次）", "Publish later (checked again then)"),
    "publish_at": ("發布時間（本地時間；留空即取消）", "Publish at (local time; empty cancels)"),
    "schedule": ("排定", "Schedule"),
    "back": ("回到路由設定", "Back to routing"),
    "reload": ("重新載入結果", "Reload"),
    # The block list editor.
    "parts": ("草稿的其他部分", "Other parts of the draft"),
    "edit_blocklist": ("編輯停止服務名單", "Edit the block list"),
    "blocklist_title": (
        "停止服務名單：草稿 {id}（自第 {base} 版，修訂 {rev}）",
        "Block list: draft {id} (from version {base}, revision {rev})",
    ),
    "blocklist_intro": (
        "名單上的來電號碼聽到停止服務的說明後掛斷。每筆須寫明原因；請設定到期日，到期自動恢復服務。",
        "Callers on this list hear that their service is suspended, then the call ends. "
        "Every entry says why; give an expiry so that service comes back by itself.",
    ),
    "back_to_draft": ("回到草稿 {id}", "Back to draft {id}"),
    "blocked_numbers": ("停止服務的號碼", "Suspended numbers"),
    "blocked_caption": ("此草稿中的 {n} 筆", "{n} in this draft"),
    "no_blocked": ("名單是空的。", "The list is empty."),
    "pattern": ("號碼或字首", "Number or prefix"),
    "pattern_hint": (
        "數字，可加開頭的 +；字首以 * 結尾，例如 0912345678 或 0204*",
        'Digits, optionally a leading "+"; a prefix ends in "*", e.g. 0912345678 or 0204*',
    ),
    "block_reason": ("原因", "Reason"),
    "reason_hint": (
        "為何停止服務（例如案號）",
        "Why the service is suspended (a case number, say)",
    ),
    "added_by": ("決定者", "Added by"),
    "added_at": ("加入時間", "Added at"),
    "expires_at": ("到期日", "Expires"),
    "expires_hint": (
        "留空表示不會自動到期（含當日）",
        "Empty: it never expires (the date itself is included)",
    ),
    "no_expiry": ("不到期", "never"),
    "action": ("動作", "Action"),
    "unblock": ("移除 {name}", "Remove {name}"),
    "block_add": ("加入號碼", "Add a number"),
    "block_add_button": ("加入草稿", "Add to the draft"),
    # The calendar overrides editor.
    "edit_calendar": ("編輯行事曆例外", "Edit the calendar's exceptions"),
    "edit_menus": ("編輯語音選單", "Edit the menus"),
    "calendar_title": (
        "行事曆例外：草稿 {id}（自第 {base} 版，修訂 {rev}）",
        "Calendar exceptions: draft {id} (from version {base}, revision {rev})",
    ),
    "calendar_intro": (
        "國定假日與補假來自 holidays 套件；這裡只加上地方的放假日、半天上班日與補行上班日。"
        "它們決定回電時限何時計時，不影響 1999 的接聽時間。",
        "National holidays and their observed days come from the holidays package; "
        "here you add local days off, half days and make-up working days. They decide "
        "when the callback clock runs, not when 1999 answers.",
    ),
    "cal_holidays": ("地方放假日", "Local days off"),
    "cal_half_days": ("半天上班日", "Half days"),
    "cal_makeup_workdays": ("補行上班日", "Make-up working days"),
    "cal_caption": ("此草稿中的 {n} 天", "{n} in this draft"),
    "cal_none": ("沒有。", "None."),
    "cal_field_date": ("日期", "Date"),
    "cal_field_name": ("名稱", "Name"),
    "cal_field_closes_at": ("下班時間", "Closes at"),
    "cal_hint_date": ("年-月-日，例如 2027-05-03", "Year-month-day, e.g. 2027-05-03"),
    "cal_hint_name": ("例如 市府停止上班", "e.g. 市府停止上班 (city offices closed)"),
    "cal_hint_closes_at": ("時:分，例如 12:00", "Hours:minutes, e.g. 12:00"),
    "cal_add_holidays": ("加入地方放假日", "Add a local day off"),
    "cal_add_half_days": ("加入半天上班日", "Add a half day"),
    "cal_add_makeup_workdays": ("加入補行上班日", "Add a make-up working day"),
    "cal_add_button": ("加入草稿", "Add to the draft"),
    "cal_remove": ("移除 {name}", "Remove {name}"),
}
_WORDS.update(LIST_WORDS)
_WORDS.update(AGENT_WORDS)


def routing_translator(language: str) -> Translate:
    index = 0 if language == "zh-TW" else 1

    def w(key: str, **values: object) -> str:
        text = _WORDS[key][index]
        return text.format(**values) if values else text

    return w


def keys() -> tuple[str, ...]:
    return tuple(_WORDS)
