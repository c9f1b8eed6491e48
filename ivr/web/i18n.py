"""The console's words in its two interface languages, zh-TW and en.

A missing key is a bug the unit tests catch (every key has both languages), never a
blank on a page.
"""

from __future__ import annotations

from collections.abc import Callable

from ivr.domain.vocabulary import PauseReason, UiLanguage

Translate = Callable[..., str]

_WORDS: dict[str, tuple[str, str]] = {
    # key: (zh-TW, en)
    "app_name": ("1999 話務主控台", "1999 hotline console"),
    "skip": ("跳到主要內容", "Skip to main content"),
    "nav": ("主選單", "Main menu"),
    "signin": ("登入", "Sign in"),
    "signout": ("登出", "Sign out"),
    "username": ("帳號", "User name"),
    "password": ("密碼", "Password"),
    "signed_in_as": ("已登入：{name}（{role}）", "Signed in as {name} ({role})"),
    "bad_credentials": ("帳號或密碼錯誤。", "The user name or password is wrong."),
    "locked": (
        "登入失敗次數過多，請於 {until} 後再試。",
        "Too many failed sign-ins. Try again after {until}.",
    ),
    "disabled": ("此帳號已停用。", "This account is disabled."),
    "error": ("錯誤", "Error"),
    "error_summary": ("發生問題", "There is a problem"),
    "forbidden": ("您的角色無法使用此頁。", "Your role may not use this page."),
    "not_found": ("找不到此頁。", "This page does not exist."),
    "expired": ("您已登出或連線逾時，請重新登入。", "You are signed out or your session expired."),
    "csrf": ("表單已過期，請重新送出。", "The form expired. Please send it again."),
    "language": ("介面語言", "Interface language"),
    "save": ("儲存", "Save"),
    # agent
    "agent_page": ("話務人員", "Agent"),
    "your_state": ("您的狀態", "Your state"),
    "state_logged_out": ("未加入佇列", "Not in the queues"),
    "state_ready": ("可接聽", "Ready"),
    "state_paused": ("暫停：{reason}", "Paused: {reason}"),
    "state_in_call": ("通話中", "On a call"),
    "go_ready": ("開始接聽", "Go ready"),
    "pause": ("暫停", "Pause"),
    "pause_reason": ("暫停原因", "Reason for the pause"),
    "resume": ("恢復接聽", "Resume"),
    "leave_queues": ("離開佇列", "Leave the queues"),
    "lookup_h": ("查詢機關電話", "Directory lookup"),
    "lookup_label": (
        "單位名稱或業務（例如：路燈、坑洞）",
        "Unit name or duty (e.g. streetlight, pothole)",
    ),
    "search": ("查詢", "Search"),
    "lookup_found": ("「{q}」找到 {n} 個單位。", "{n} units found for “{q}”."),
    "lookup_caption": (
        "先列名稱相符者，再列業務相符者",
        "Units matched by name first, then by duty",
    ),
    "lookup_number": ("電話", "Number"),
    "lookup_matched": ("相符於", "Matched by"),
    "lookup_duties": ("負責業務", "Duties"),
    "matched_name": ("名稱", "Name"),
    "matched_duty": ("業務", "Duty"),
    "dial_code": ("代碼", "Dial code"),
    "referrals_h": ("告知電話", "Referral numbers"),
    "referrals_show": ("顯示全部 {n} 個告知電話", "Show all {n} referral numbers"),
    "referrals_caption": (
        "非本府權管事項，請民眾撥打的電話",
        "Numbers for matters that are not the city's",
    ),
    "referrals_found": ("告知電話相符 {n} 筆。", "{n} referral numbers match."),
    "referrals_found_caption": ("相符的告知電話", "Matching referral numbers"),
    "referral_office": ("機關", "Office"),
    "referral_topics": ("事項", "Topics"),
    # the FAQ knowledge base (T2(1))
    "faq_h": ("常見問答", "FAQ"),
    "faq_label": ("搜尋常見問答（問題或關鍵字）", "Search the FAQ (a question or keywords)"),
    "faq_search": ("搜尋問答", "Search the FAQ"),
    "faq_found": ("常見問答相符「{q}」{n} 則。", '{n} FAQ answers match "{q}".'),
    "faq_none": ("沒有常見問答相符「{q}」。", 'No FAQ answer matches "{q}".'),
    "faq_results": ("常見問答搜尋結果", "FAQ answers found"),
    "faq_kept_by": ("提供機關", "Kept by"),
    "faq_hotline": ("1999 熱線", "the 1999 hotline"),
    "faq_reviewed": ("最後檢視", "Last reviewed"),
    "faq_back": ("回到話務人員頁", "Back to the agent page"),
    "service_page": ("服務模式與颱風停班日", "Service mode and typhoon closures"),
    "agent_day_page": ("話務人員的一天（狀態與來電）", "An agent's day (states and calls)"),
    # cases on "My work" (issues 15, 16)
    "cases_h": ("案件", "Cases"),
    "cases_caption": ("待辦案件，最早到期者在前", "Cases with work left, soonest due first"),
    "no_cases": ("沒有待辦案件。", "No cases to work."),
    "case": ("案件", "Case"),
    "case_kind_petition": ("陳情", "petition"),
    "case_kind_dispatch": ("派工", "dispatch order"),
    "case_reply": ("回覆", "Reply"),
    "case_grade": ("等級", "Grade"),
    "case_grade_a": ("甲：已辦結", "A: done"),
    "case_grade_b": ("乙：回覆處理計畫（30 日內辦結）", "B: a plan (finish within 30 days)"),
    "case_send_reply": ("送出回覆", "Send the reply"),
    "case_result": ("辦理結果", "Result"),
    "case_finish": ("結案", "Close the case"),
    "agents_h": ("話務人員", "Agents"),
    "agents_caption": (
        "已登入佇列的話務人員及其狀態",
        "Agents signed in to the queues, and their state",
    ),
    "agent": ("話務人員", "Agent"),
    "agent_state": ("狀態", "State"),
    "member_ready": ("可接聽", "Ready"),
    "member_busy": ("通話中", "On a call"),
    "member_paused": ("暫停", "Paused"),
    "no_agents_in": ("沒有話務人員登入佇列。", "No agent is signed in to a queue."),
    "reason_break": ("休息", "Break"),
    "reason_meal": ("用餐", "Meal"),
    "reason_after_call_work": ("話後處理", "After-call work"),
    "reason_training": ("訓練", "Training"),
    "reason_meeting": ("會議", "Meeting"),
    "reason_technical": ("技術問題", "Technical problem"),
    "reason_unspecified": ("未說明", "No reason given"),
    "queues": ("佇列", "Queues"),
    "no_agent": (
        "您的帳號未對應話務人員，請洽管理員。",
        "Your account is not linked to an agent; ask an admin.",
    ),
    "phone_down": (
        "電話系統暫時無法連線，請用話機功能碼。",
        "The phone system is not reachable; use the phone's feature codes.",
    ),
    "caller": ("來電者", "Caller"),
    "no_call": ("目前沒有來電。", "No call right now."),
    "ringing": ("來電響鈴", "Ringing"),
    "answered": ("通話中", "Answered"),
    "pop_summary": (
        "{event}：{number}，{language}，最近90天來電 {calls} 通，未結案單 {tickets} 件{blocked}",
        "{event}: {number}, {language}, {calls} calls in 90 days, {tickets} open tickets{blocked}",
    ),
    "blocked_note": ("，已封鎖", ", blocked"),
    "number": ("電話", "Number"),
    "call_language": ("語言", "Language"),
    "menu_path": ("選單路徑", "Menu path"),
    "calls_90": ("最近90天來電", "Calls in the last 90 days"),
    "open_tickets": ("未結案回電單", "Open callback tickets"),
    "cases": ("案件", "Cases"),
    "block_status": ("封鎖狀態", "Block status"),
    "blocked_yes": ("已封鎖：{reason}", "Blocked: {reason}"),
    "blocked_no": ("未封鎖", "Not blocked"),
    "wrap_up": ("結束話後處理", "Finish wrap-up"),
    "wrap_up_h": ("話後處理", "Wrap-up"),
    "service_type": ("服務類別", "Service type"),
    "service_inquiry": ("一般諮詢", "Inquiry"),
    "service_petition": ("陳情", "Petition"),
    "service_dispatch": ("派工報案", "Dispatch"),
    "service_transfer": ("轉接", "Transfer"),
    "service_other": ("其他", "Other"),
    "wrapped_up": ("話後處理完成。", "Wrap-up done."),
    "state_changed": ("狀態已更新：{state}", "State changed: {state}"),
    "refresh": ("重新整理", "Refresh"),
    "session_ended": (
        "您已登出或閒置過久，來電資料不再更新。請重新登入。",
        "You are signed out or were idle too long: callers are no longer shown. Sign in again.",
    ),
    "signin_again": ("重新登入", "Sign in again"),
    # officer
    "work_page": ("我的工作", "My work"),
    "tickets": ("回電單", "Callback tickets"),
    "tickets_caption": ("依到期時間排序，最早到期在前", "Soonest due first"),
    "ticket": ("單號", "Ticket"),
    "agency": ("機關", "Agency"),
    "unit": ("單位", "Unit"),
    "status": ("狀態", "Status"),
    "due": ("到期", "Due"),
    "time_left": ("剩餘時間", "Time left"),
    "overdue": ("已逾期", "Overdue"),
    "assignee": ("承辦人", "Assignee"),
    "actions": ("動作", "Actions"),
    "no_tickets": ("沒有待辦回電單。", "No tickets to work."),
    "note": ("備註", "Note"),
    "add_note": ("新增備註", "Add note"),
    "assign": ("指派", "Assign"),
    "close": ("結案", "Close"),
    "outcome": ("處理結果", "Outcome"),
    "callback": ("回電（先響您的分機）", "Call back (rings your phone first)"),
    "done": ("已完成。", "Done."),
    "hours_left": ("{h} 小時 {m} 分", "{h} h {m} min"),
    "overdue_by": ("{h} 小時 {m} 分前到期", "due {h} h {m} min ago"),
    # supervisor
    "wallboard": ("即時看板", "Wallboard"),
    "queue": ("佇列", "Queue"),
    "waiting": ("等候中", "Waiting"),
    "longest_wait": ("最久等候（秒）", "Longest wait (s)"),
    "agents_ready": ("可接聽", "Ready"),
    "agents_busy": ("通話中", "On a call"),
    "agents_paused": ("暫停", "Paused"),
    "answered_today": ("已接聽", "Answered"),
    "abandoned_today": ("放棄", "Abandoned"),
    "queues_caption": (
        "各佇列即時狀況（接聽與放棄數自電話系統啟動起算）",
        "Each queue now (answered and abandoned since the phone system started)",
    ),
    "deadlines": ("即將到期的回電單（各機關）", "Tickets near their deadline, per agency"),
    "deadlines_caption": ("24 小時內到期或已逾期", "Due within 24 hours or overdue"),
    "count": ("件數", "Count"),
    "soonest": ("最早到期", "Soonest due"),
    "none": ("無", "None"),
    "routing_admin": ("路由設定", "Routing"),
    # the call's actions on the agent's page: a case, a transfer, the wrap-up
    "call_actions_h": ("本通來電的處理", "Act on this call"),
    "call_actions_none": (
        "有來電時，可在此立案或轉接。",
        "With a call, open a case or transfer here.",
    ),
    "case_new": ("由本通來電立案", "Open a case from this call"),
    "case_kind": ("案件類別", "Kind of case"),
    "case_summary": ("案情摘要", "Summary"),
    "case_agency": ("主管機關（陳情必填）", "Responsible agency (needed for a petition)"),
    "case_agency_auto": ("依派工項目", "From the dispatch item"),
    "case_dispatch_fields": ("派工報案", "For a dispatch order"),
    "case_item": ("派工項目", "Dispatch item"),
    "case_address": ("地點（地址）", "Place (address)"),
    "case_district": ("行政區", "District"),
    "case_caller_name": ("民眾姓名（選填）", "Caller's name (optional)"),
    "case_create": ("立案", "Open the case"),
    "case_created": ("已立案：{kind}案件 {number}。", "Case {number} ({kind}) is opened."),
    "case_made_before": (
        "案件 {number} 先前已立案，未重複建立。",
        "Case {number} was opened before; nothing was added.",
    ),
    "case_merged": (
        "同地點已有派工案件 {number}，已併案：請告知民眾此案號。",
        "Merged into open order {number} at the same place: tell the caller this number.",
    ),
    "case_password": (
        "查詢密碼 {password}：請現在告知民眾，之後不再顯示。",
        "Password {password}: tell the caller now; it is not shown again.",
    ),
    "case_refused": ("無法立案：{why}", "The case was not opened: {why}"),
    # The form's key was used for another call's case: the page gives a new form.
    "case_key_reused": (
        "無法立案：{why}表單已更新，請確認內容後再送出。",
        "The case was not opened: {why} The form is renewed: check it and submit it again.",
    ),
    "case_summary_needed": ("請填寫案情摘要。", "Write the case's summary."),
    "case_agency_needed": (
        "陳情案件請選擇主管機關。",
        "Choose the responsible agency for a petition.",
    ),
    "case_item_needed": (
        "派工案件請選擇派工項目。",
        "Choose the dispatch item for a dispatch order.",
    ),
    "case_address_needed": ("派工案件請填寫地點。", "Write the place for a dispatch order."),
    "call_not_on_screen": ("這通來電已不在您的畫面上。", "This call is no longer on your screen."),
    "call_not_found": ("查無這通來電的紀錄。", "No record of this call was found."),
    "call_gone": ("來電者已掛斷，無法轉接。", "The caller has hung up; nothing was transferred."),
    "transfer_h": ("轉接來電者", "Transfer the caller"),
    "transfer_unit": ("轉接單位", "Unit to transfer to"),
    "transfer_go": ("轉接", "Transfer"),
    "transfer_done": ("已將來電者轉接至 {unit}。", "The caller is being transferred to {unit}."),
    "transfer_no_unit": ("通訊錄中沒有這個單位。", "No such unit in the directory."),
    "transfer_done_before": ("這通來電已轉接。", "This call has already been transferred."),
    # the emergency three-way call (K2(1), K4(1)): 110 or 119 into the call, the agent stays
    "threeway_h": ("緊急三方通話", "Three-way call 110/119"),
    "threeway_note": (
        "來電者與您保持通話，並加撥所選的緊急電話；您留在線上直到結束。",
        "The caller stays on with you while the emergency line is dialled; you stay on.",
    ),
    "threeway_service": ("緊急電話", "Emergency line"),
    "threeway_police": ("警察", "police"),
    "threeway_fire": ("消防、救護", "fire and ambulance"),
    "threeway_go": ("開始三方通話", "Start the three-way call"),
    "threeway_done": (
        "正在撥打 {number}（{service}）：接通後三方同在線上。",
        "Dialling {number} ({service}): once it answers, all three are on the line.",
    ),
    "threeway_done_before": (
        "這通來電已在三方通話中。",
        "This call is already in a three-way call.",
    ),
    "threeway_no_line": ("路由表中沒有這個緊急電話。", "The tables have no such emergency line."),
    "threeway_not_talking": (
        "只有正在與來電者通話時，才能開始三方通話。",
        "A three-way call starts only while you are talking to the caller.",
    ),
    # what the page says, live, of the emergency line (ivr/web/threeway_news.py)
    "threeway_news_answered": (
        "{number}（{service}）已接聽：三方同在線上。",
        "{number} ({service}) answered: all three are on the line.",
    ),
    "threeway_news_busy": (
        "{number}（{service}）忙線中。來電者仍與您通話。",
        "{number} ({service}) is busy. The caller is still on the line with you.",
    ),
    "threeway_news_no_answer": (
        "{number}（{service}）無人接聽。來電者仍與您通話。",
        "{number} ({service}) did not answer. The caller is still on the line with you.",
    ),
    "threeway_news_failed": (
        "無法接通 {number}（{service}）。來電者仍與您通話。",
        "{number} ({service}) could not be reached. The caller is still on the line with you.",
    ),
    "threeway_news_cancelled": (
        "已取消撥打 {number}（{service}）：通話中已無人。",
        "The call to {number} ({service}) was cancelled: nobody was left on the line.",
    ),
    "threeway_news_emergency_left": (
        "{number}（{service}）已掛斷。來電者仍與您通話。",
        "{number} ({service}) hung up. The caller is still on the line with you.",
    ),
    "threeway_news_citizen_left": ("來電者已掛斷。", "The caller hung up."),
    "threeway_news_over": ("三方通話已結束。", "The three-way call has ended."),
    "wrapup_required": (
        "請先完成話後處理，才會接到下一通來電。",
        "Finish the wrap-up: no call is offered until you do.",
    ),
}

LANGUAGES = tuple(UiLanguage)


def translator(language: UiLanguage | str) -> Translate:
    """A function `t(key, **values)` for one language."""
    index = 0 if str(language) == UiLanguage.ZH_TW else 1

    def t(key: str, **values: object) -> str:
        text = _WORDS[key][index]
        return text.format(**values) if values else text

    return t


def reason_text(t: Translate, reason: str | None) -> str:
    """A pause reason in the user's words; a reason the console does not know, as is."""
    if reason is None or reason == "":
        return t("reason_unspecified")
    return t(f"reason_{reason}") if reason in set(PauseReason) else reason


def word_keys() -> tuple[str, ...]:
    return tuple(_WORDS)
