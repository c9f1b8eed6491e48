# ruff: noqa: RUF001 - Traditional Chinese is written with full-width punctuation.
"""The routing editor's words for the weekly hours and dispatch items pages (zh-TW, en);
`ivr.web.routing_words` adds them to its own."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    # The weekly hours editor.
    "edit_hours": ("編輯每週時段", "Edit the weekly hours"),
    "hours_title": (
        "每週時段：草稿 {id}（自第 {base} 版，修訂 {rev}）",
        "Weekly hours: draft {id} (from version {base}, revision {rev})",
    ),
    "hours_intro": (
        "每天可有數個時段，以逗號分隔；留空表示整天不開放。儲存後檢查結果顯示在該天，發布前須修正。",
        "A day has one or more ranges, separated by commas; empty is closed all day. "
        "After saving, what the check finds is shown at the day; publishing needs it fixed.",
    ),
    "hours_weekly": ("1999 接聽時段", "When the line answers"),
    "hours_weekly_intro": (
        "時段外的來電依 hours.yaml 的 closed 設定處理。",
        "Outside these hours, callers go where the closed route of hours.yaml says.",
    ),
    "hours_office_hours": ("機關上班時段", "Office hours"),
    "hours_office_hours_intro": (
        "回電時限只在上班時段內計時（工作日）。",
        "The callback clock runs only in these hours (on working days).",
    ),
    "hours_always_open": (
        "此設定 24 小時接聽（always_open），沒有每週時段。",
        "This line answers around the clock (always_open): it has no weekly hours.",
    ),
    "hours_mode": ("接聽方式", "When the line answers: always, or by the week"),
    "hours_always_open_label": ("全天候接聽（24 小時）", "Always open (24 hours a day)"),
    "hours_always_open_hint": (
        "勾選後刪除接聽時段表；取消勾選時若沒有時段表，會以機關上班時段建立一份供修改。",
        "Checked: the weekly table goes. Unchecked: a weekly table is made from the office "
        "hours if there is none, to edit from there.",
    ),
    "hours_by_week": ("依每週時段接聽。", "The line answers by the weekly table."),
    "hours_create_weekly": (
        "以機關上班時段建立接聽時段表",
        "Make the weekly table from the office hours",
    ),
    "hours_closed_route": ("非服務時段的去處", "Outside service hours, callers go to"),
    "hours_closed_route_intro": (
        "依每週時段接聽時必填；全天候接聽時不使用。",
        "Needed when the line answers by the week; unused when it is always open.",
    ),
    "hours_closed_none": ("（尚未設定）", "(none yet)"),
    "hours_absent": ("檔案中沒有這個表。", "The file has no such table."),
    "hours_caption": ("每天的時段", "Each day's ranges"),
    "hours_day": ("星期", "Day"),
    "hours_ranges": ("時段", "Ranges"),
    "hours_hint": (
        "時:分-時:分，以逗號分隔，例如 08:30-12:30, 13:30-17:30；留空為不開放",
        "HH:MM-HH:MM, separated by commas, e.g. 08:30-12:30, 13:30-17:30; empty: closed",
    ),
    "hours_of_weekly": ("{name}接聽時段", "Line hours on {name}"),
    "hours_of_office_hours": ("{name}上班時段", "Office hours on {name}"),
    "hours_closed": ("不開放", "closed"),
    "day_mon": ("星期一", "Monday"),
    "day_tue": ("星期二", "Tuesday"),
    "day_wed": ("星期三", "Wednesday"),
    "day_thu": ("星期四", "Thursday"),
    "day_fri": ("星期五", "Friday"),
    "day_sat": ("星期六", "Saturday"),
    "day_sun": ("星期日", "Sunday"),
    # The dispatch items editor.
    "edit_dispatch": ("編輯派工項目", "Edit the dispatch items"),
    "dispatch_title": (
        "派工項目：草稿 {id}（自第 {base} 版，修訂 {rev}）",
        "Dispatch items: draft {id} (from version {base}, revision {rev})",
    ),
    "dispatch_intro": (
        "每個項目由執行機關與單位處理，第一階段以小時、第二階段以日或小時計時（自派工起算）。",
        "Each item is handled by an agency's unit; stage 1 runs in hours, stage 2 in days "
        "or hours, from the order's creation.",
    ),
    "dispatch_items": ("派工項目", "Dispatch items"),
    "dispatch_caption": ("此草稿中的 {n} 項", "{n} in this draft"),
    "dispatch_none": ("沒有派工項目。", "No dispatch items."),
    "dispatch_add": ("新增派工項目", "Add a dispatch item"),
    "dispatch_add_button": ("加入草稿", "Add to the draft"),
    "dispatch_remove": ("移除項目 {name}", "Remove item {name}"),
    "dispatch_edit": ("修改項目 {name}", "Change item {name}"),
    "dispatch_edit_title": (
        "修改派工項目 {name}（草稿 {id}，修訂 {rev}）",
        "Change dispatch item {name} (draft {id}, revision {rev})",
    ),
    "dispatch_save": ("儲存到草稿", "Save to the draft"),
    "dispatch_radius": ("案件合併距離", "Merging reports into open orders"),
    "dispatch_radius_label": ("合併距離（公尺）", "Merge radius (metres)"),
    "dispatch_radius_hint": (
        "同一項目的新報案在此距離內有未結案派工單時併案；0 到 5000，預設 30",
        "A new report of an item this near an open order of the same item merges into it; "
        "0 to 5000, default 30",
    ),
    "dispatch_back": ("回到派工項目", "Back to the dispatch items"),
    "dispatch_refs_title": ("用到項目 {name} 的地方", "What refers to item {name}"),
    "dispatch_refs_intro": (
        "下列設定或未結案的派工單用到此項目；移除後它們會失去此項目的時限。",
        "These refer to the item; once it is removed they lose its deadlines.",
    ),
    "dispatch_refs_caption": ("用到此項目的地方", "What refers to the item"),
    "dispatch_remove_anyway": ("仍要移除項目 {name}", "Remove item {name} all the same"),
    "dispatch_keep": ("保留此項目", "Keep the item"),
    "df_item": ("項次", "Item"),
    "df_name": ("名稱", "Name"),
    "df_name_en": ("英文名稱", "Name in English"),
    "df_agency": ("執行機關代碼", "Agency id"),
    "df_unit": ("執行單位代碼", "Unit id"),
    "df_stage1_hours": ("第一階段（小時）", "Stage 1 (hours)"),
    "df_stage2_days": ("第二階段（日）", "Stage 2 (days)"),
    "df_stage2_hours": ("第二階段（小時）", "Stage 2 (hours)"),
    "df_stage2_variants": ("第二階段分類（日）", "Stage 2 variants (days)"),
    "df_same_day_rule": ("當日規則（16 時前通報當日完成）", "Same-day rule (before 16:00)"),
    "df_contact_attempts": ("聯繫次數", "Contact attempts"),
    "df_note": ("備註", "Note"),
    "dh_item": ("1 到 999，不可重複", "1 to 999, once each"),
    "dh_agency": ("directory.yaml 的機關 id，例如 pwd", "An agency id in directory.yaml, e.g. pwd"),
    "dh_unit": ("該機關的單位 id", "A unit id of that agency"),
    "dh_stage": ("數字；留空表示沒有", "A number; empty: none"),
    "dh_stage2_variants": (
        "名稱=日數，以逗號分隔，例如 wiring=3, total=7",
        "name=days, separated by commas, e.g. wiring=3, total=7",
    ),
    "dh_contact_attempts": ("0 到 10", "0 to 10"),
}
