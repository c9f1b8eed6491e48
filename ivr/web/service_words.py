# ruff: noqa: RUF001 - Traditional Chinese is written with full-width punctuation.
"""The service page's words (disaster mode, typhoon closures) in zh-TW and en."""

from __future__ import annotations

from ivr.web.i18n import Translate

_WORDS: dict[str, tuple[str, str]] = {
    "title": ("服務模式與停班日", "Service mode and closures"),
    "link": ("服務模式與颱風停班日", "Service mode and typhoon closures"),
    "intro": (
        "切換會記錄操作者、時間與來源位址；話務系統自下一通電話起套用。",
        "Each switch is recorded with who, when and from where; the hotline applies it "
        "from its next call.",
    ),
    "disaster_h": ("災害模式", "Disaster mode"),
    "disaster_on": (
        "災害模式：開啟（24 小時服務並播放災害訊息）",
        "Disaster mode: ON (24-hour service with the disaster announcement)",
    ),
    "disaster_off": ("災害模式：關閉", "Disaster mode: off"),
    "since": ("自 {at} 由 {by}", "since {at}, by {by}"),
    "turn_on": ("開啟災害模式", "Turn disaster mode on"),
    "turn_off": ("關閉災害模式", "Turn disaster mode off"),
    "note": ("備註（選填）", "Note (optional)"),
    "note_h": ("備註", "Note"),
    "closures_h": ("停班日（颱風等）", "Closed days (typhoons and the like)"),
    "closures_caption": ("今天起宣布停班的日子", "Days declared closed from today on"),
    "no_closures": ("今天起沒有停班日。", "No day is closed from today on."),
    "day": ("日期", "Day"),
    "from": ("起始時間", "From"),
    "all_day": ("全天", "All day"),
    "reason": ("原因", "Reason"),
    "by": ("宣布者", "Declared by"),
    "at": ("宣布時間", "Declared at"),
    "reopen": ("取消 {day} 停班", "Open {day} again"),
    "close_h": ("宣布停班", "Declare a day closed"),
    "close_day": ("日期", "Day"),
    "close_day_hint": ("年-月-日，例如 2026-09-01", "Year-month-day, e.g. 2026-09-01"),
    "close_reason": ("原因", "Reason"),
    "close_reason_hint": ("例如 颱風", "e.g. typhoon"),
    "close_from": ("自幾點起（選填，空白為全天）", "From (optional; empty: all day)"),
    "close_from_hint": ("時:分，例如 12:00", "Hours:minutes, e.g. 12:00"),
    "close_button": ("宣布停班", "Declare closed"),
    "history_h": ("最近的切換", "Recent switches"),
    "history_caption": ("災害模式最近的切換", "Recent disaster mode switches"),
    "closure_history_caption": ("最近的停班宣布與取消", "Recent closures and openings"),
    "state": ("狀態", "State"),
    "on": ("開啟", "on"),
    "off": ("關閉", "off"),
    "closed": ("停班", "closed"),
    "opened": ("取消停班", "opened again"),
    "done_disaster_on": ("已開啟災害模式。", "Disaster mode is on."),
    "done_disaster_off": ("已關閉災害模式。", "Disaster mode is off."),
    "done_closed": ("已宣布 {day} 停班。", "{day} is declared closed."),
    "done_opened": ("已取消 {day} 停班。", "{day} is open again."),
    "not_closed": ("{day} 並未停班，未變更。", "{day} was not closed; nothing changed."),
    "bad_day": ("日期請寫成 年-月-日，例如 2026-09-01。", "Write the day as 2026-09-01."),
    "bad_time": ("時間請寫成 時:分，例如 12:00。", "Write the time as 12:00."),
    # an agent's day
    "day_title": ("話務人員的一天", "An agent's day"),
    "day_link": ("話務人員的一天（狀態與來電）", "An agent's day (states and calls)"),
    "day_agent": ("話務人員", "Agent"),
    "day_date": ("日期（年-月-日）", "Date (year-month-day)"),
    "day_show": ("顯示", "Show"),
    "day_heading": ("{agent} 於 {day}", "{agent} on {day}"),
    "day_totals_caption": ("當日合計", "The day's totals"),
    "day_signed_in": ("登入時間", "Signed in"),
    "day_paused": ("暫停時間", "Paused"),
    "day_paused_reason": ("暫停：{reason}", "Paused: {reason}"),
    "day_calls": ("接聽來電", "Calls answered"),
    "day_talk": ("通話時間", "Talk time"),
    "day_caption": (
        "狀態變更與接聽來電，依時間",
        "State changes and calls answered, in time order",
    ),
    "day_time": ("時間", "Time"),
    "day_event": ("事件", "Event"),
    "day_detail": ("說明", "Detail"),
    "day_call": ("接聽來電（{queue}）", "Answered a call ({queue})"),
    "day_call_detail": ("等候 {hold} 秒，通話 {talk} 秒", "waited {hold} s, talked {talk} s"),
    "day_nothing": ("這天沒有狀態變更或來電。", "No state change or call on this day."),
    "day_state_logged_in": ("登入", "Signed in"),
    "day_state_logged_out": ("登出", "Signed out"),
    "day_state_paused": ("暫停", "Paused"),
    "day_state_unpaused": ("就緒", "Ready"),
}


def service_translator(language: str) -> Translate:
    index = 0 if language == "zh-TW" else 1

    def s(key: str, **values: object) -> str:
        text = _WORDS[key][index]
        return text.format(**values) if values else text

    return s


def keys() -> tuple[str, ...]:
    return tuple(_WORDS)
