# ruff: noqa: RUF001 - Traditional Chinese is written with full-width punctuation.
"""The menu editor's words in the console's two languages (zh-TW, en)."""

from __future__ import annotations

from ivr.web.i18n import Translate

_WORDS: dict[str, tuple[str, str]] = {
    "title": (
        "語音選單：草稿 {id}（自第 {base} 版，修訂 {rev}）",
        "Menus: draft {id} (from version {base}, revision {rev})",
    ),
    "intro": (
        "每個選單的按鍵、各鍵的去處、提示音、重試次數與等待秒數。去處可選現有的選單、"
        "佇列、單位或語言；儲存後即檢查，問題顯示在欄位旁。",
        "Each menu's keys, where each key leads, its prompts, tries and timeout. Choose "
        "where a key leads from the menus, queues, units and languages that exist; the "
        "draft is checked when saved and problems are shown at their field.",
    ),
    "contents": ("選單", "Menus"),
    "entry": ("來電先聽到：{name}", "Callers start in: {name}"),
    "menu": ("選單 {name}", "Menu {name}"),
    "settings": ("{name} 的提示與重試", "Prompts and tries of {name}"),
    "prompt": ("提示音", "Prompt"),
    "retry_prompt": ("按錯時的提示音", "Prompt after a wrong key"),
    "timeout_s": ("等待按鍵秒數", "Seconds to wait for a key"),
    "max_tries": ("最多嘗試次數", "Most tries"),
    "save_settings": ("儲存 {name} 的設定", "Save the settings of {name}"),
    "routes": ("{name} 的按鍵", "Keys of {name}"),
    "key": ("按鍵 {key}", "Key {key}"),
    "on_exhausted": ("都沒按或一直按錯", "No key, or wrong keys, until tries run out"),
    "kind": ("去處類型", "Leads to a"),
    "target": ("去處", "Where"),
    "target_hint": (
        "選單、佇列、單位、分機、語言或提示音的名稱",
        "The name of a menu, queue, unit, extension, language or prompt",
    ),
    "then": ("之後回到選單", "Then the menu"),
    "then_hint": ("語言與查詢案件：之後的選單", "For a language or a case check: the menu after"),
    "save_route": ("儲存 {what}", "Save {what}"),
    "remove_route": ("移除 {what}", "Remove {what}"),
    "add_route": ("在 {name} 加一個按鍵", "Add a key to {name}"),
    "new_key": ("按鍵（0-9、*、#）", "Key (0-9, * or #)"),
    "add_button": ("加入草稿", "Add to the draft"),
    "refs": ("哪些設定通往 {name}", "What leads to {name}"),
    "refs_none": ("沒有設定通往它，可以刪除。", "Nothing leads to it: it can be deleted."),
    "refs_first": ("刪除前請先修改這些設定。", "Change these before deleting it."),
    "remove_menu": ("刪除選單 {name}", "Delete menu {name}"),
    "new_menu": ("新增選單", "Add a menu"),
    "new_name": ("選單名稱（小寫英數字與 -）", "Menu name (lower-case letters, digits, -)"),
    "new_queue": (
        "按 0 與沒有按鍵時轉到的佇列",
        "The queue for key 0 and when tries run out",
    ),
    "choices": ("現有的去處", "What exists to lead to"),
    "type_queue": ("佇列", "queue"),
    "type_menu": ("選單", "menu"),
    "type_unit": ("單位", "unit"),
    "type_extension": ("分機", "extension"),
    "type_language": ("語言", "language"),
    "type_case_check": ("查詢案件", "case check"),
    "type_record": ("留言錄音", "recorded message"),
    "type_announcement": ("播放後結束", "announcement, then end"),
    "type_emergency": ("緊急建議", "emergency advice"),
}


def menu_translator(language: str) -> Translate:
    index = 0 if language == "zh-TW" else 1

    def m(word: str, /, **values: object) -> str:
        text = _WORDS[word][index]
        return text.format(**values) if values else text

    return m


def keys() -> tuple[str, ...]:
    return tuple(_WORDS)
