# ruff: noqa: RUF001 - Traditional Chinese is written with full-width punctuation.
"""The agents and queues editor's words (issue 17), zh-TW and English."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "edit_agents": ("編輯話務人員與佇列", "Edit the agents and queues"),
    "agents_title": (
        "話務人員與佇列：草稿 {id}（自第 {base} 版，修訂 {rev}）",
        "Agents and queues: draft {id} (from version {base}, revision {rev})",
    ),
    "agents_intro": (
        "新增、修改或移除話務人員與佇列。留空的欄位使用預設值。"
        "SIP 密碼不在此顯示，修改時保留原值。",
        "Add, change or remove agents and queues. A field left empty takes the default. "
        "SIP secrets are never shown here, and a change keeps them as they were.",
    ),
    "ag_agents": ("話務人員", "Agents"),
    "ag_queues": ("佇列", "Queues"),
    "ag_caption": ("此草稿中的 {n} 筆", "{n} in this draft"),
    "ag_none": ("沒有。", "None."),
    "ag_id": ("代碼", "Id"),
    "ag_id_hint": ("英文字母、數字與連字號", "Letters, digits and hyphens"),
    "ag_name": ("名稱", "Name"),
    "ag_extension": ("分機", "Extension"),
    "ag_extension_hint": ("只有數字，不可與其他分機重複", "Digits only, not used by anyone else"),
    "ag_settings": ("設定", "Settings"),
    "ag_change": ("修改 {name}", "Change {name}"),
    "ag_skills": ("技能", "Skills"),
    "ag_skills_hint": (
        "以逗號分隔：zh-TW, en, nan, hak, dispatch, petition, sign-language, supervisor",
        "Separated by commas: zh-TW, en, nan, hak, dispatch, petition, sign-language, supervisor",
    ),
    "ag_language": ("提示語言", "Prompt language"),
    "ag_language_hint": (
        "技能中的一種語言；留空為第一個語言",
        "One of the agent's language skills; empty: the first listed",
    ),
    "ag_phone_networks": ("話機網段", "Phone networks"),
    "ag_phone_networks_hint": (
        "以逗號分隔的網段，例如 10.20.0.0/16；留空為整個表的網段",
        "Networks separated by commas, e.g. 10.20.0.0/16; empty: the table's networks",
    ),
    "ag_strategy": ("分配方式", "Strategy"),
    "ag_strategy_hint": ("rrmemory、leastrecent 或 ringall", "rrmemory, leastrecent or ringall"),
    "ag_announce_position": ("告知等候順位", "Announce the caller's position"),
    "ag_max_wait_s": ("最長等候（秒）", "Longest wait (seconds)"),
    "ag_max_wait_s_hint": ("30 到 3600", "30 to 3600"),
    "ag_offer_after_s": ("提供選擇前等候（秒）", "Offer a choice after (seconds)"),
    "ag_offer_after_s_hint": ("20 到 3600；留空為 180", "20 to 3600; empty: 180"),
    "ag_other_language_queue": ("按 3 轉接的其他語言佇列", "Other-language queue on key 3"),
    "ag_other_language_queue_hint": ("佇列代碼；留空為不提供", "A queue's id; empty: none"),
    "ag_whisper": ("給話務人員的提示音", "Whisper to the agent"),
    "ag_whisper_hint": ("提示音名稱；留空為無", "A prompt's name; empty: none"),
    "ag_wrapup_s": ("話後整理時間（秒）", "Wrap-up time (seconds)"),
    "ag_wrapup_s_hint": ("0 到 600；留空為 0", "0 to 600; empty: 0"),
    "ag_wrapup_form": ("需填寫話後整理表單", "Hold the agent until the wrap-up form is sent"),
    "ag_wrapup_form_hint": (
        "勾選時，話務人員在送出話後整理表單前保持暫停",
        "When checked, the agent stays paused after each call until they send the form",
    ),
    "ag_announce_every_s": ("告知等候間隔（秒）", "Announce the wait every (seconds)"),
    "ag_announce_every_s_hint": ("20 到 600；留空為 60", "20 to 600; empty: 60"),
    "ag_offer_when_estimate_over_s": (
        "預估等候超過此秒數即提供選擇",
        "Offer a choice at once when the estimate is over (seconds)",
    ),
    "ag_offer_when_estimate_over_s_hint": (
        "30 到 3600；留空為不依預估",
        "30 to 3600; empty: never",
    ),
    "ag_callback_attempts": ("保留順位回撥次數", "Callback attempts for a kept place"),
    "ag_callback_attempts_hint": ("1 到 10", "1 to 10"),
    "ag_callback_retry_s": ("回撥間隔（秒）", "Between callback attempts (seconds)"),
    "ag_callback_retry_s_hint": ("30 到 3600", "30 to 3600"),
    "ag_callback_hold_s": ("保留順位時間（秒）", "How long a place is kept (seconds)"),
    "ag_callback_hold_s_hint": ("60 到 14400", "60 to 14400"),
    "ag_video_codecs": ("手語視訊編碼", "Sign-language video codecs"),
    "ag_video_codecs_hint": (
        "vp8、h264，以逗號分隔；留空為一般語音佇列",
        "vp8, h264, separated by commas; empty: a voice queue",
    ),
    "ag_add_agents": ("新增話務人員", "Add an agent"),
    "ag_add_agents_button": ("新增話務人員", "Add the agent"),
    "ag_add_queues": ("新增佇列", "Add a queue"),
    "ag_add_queues_button": ("新增佇列", "Add the queue"),
    "ag_remove": ("移除 {name}", "Remove {name}"),
    "ag_back": ("回到話務人員與佇列", "Back to the agents and queues"),
    "ag_refs_title": ("用到 {name} 的地方", "What refers to {name}"),
    "ag_refs_intro": (
        "下列設定或帳號用到它；移除佇列後草稿無法發布，直到這些設定改好；"
        "移除話務人員後，這些帳號的話務頁面不再有分機。",
        "These refer to it. Once a queue is removed the draft cannot be published until "
        "they are changed; once an agent is removed, these accounts' agent pages lose "
        "their phone.",
    ),
    "ag_remove_anyway": ("仍要移除 {name}", "Remove {name} all the same"),
    "ag_keep": ("保留", "Keep it"),
}
