"""profile.yaml: the hotline's name, time zone, languages and privacy limits."""

from __future__ import annotations

from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field

from ivr.routing.call_cap import CallCap
from ivr.routing.menus import Ident, Key, PromptName, Strict
from ivr.routing.privacy import Privacy
from ivr.routing.table_fields import Text

LanguageCode = Literal["zh-TW", "en", "nan", "hak"]
LANGUAGE_CODES: tuple[str, ...] = get_args(LanguageCode)


class ProfileLanguage(Strict):
    code: LanguageCode
    # The key that selects this language in the entry menu; the loader checks the
    # entry menu really sends that key to this language.
    key: Key | None = None
    # Stays false until every prompt has a recording in this language.
    enabled: bool


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    # OSError: a key too long for a file name, or naming a directory such as "Asia".
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone, e.g. Asia/Taipei") from exc
    return value


class Profile(Strict):
    name: Ident
    description: Text
    timezone: Annotated[str, Field(max_length=64), AfterValidator(_timezone)]
    default_language: LanguageCode
    # Each hotline greets with its own name; the catalogue's `greeting` is Taipei's.
    greeting: PromptName
    languages: Annotated[list[ProfileLanguage], Field(min_length=1)]
    # Sample data shipped with the code: it may keep published, weak SIP secrets in
    # agents.yaml. A live hotline leaves this false.
    demo: bool = False
    # Retention periods and per-caller limits (ivr.routing.privacy); defaults if absent.
    privacy: Privacy = Privacy()
    # How long one conversation with a person may last (ivr.routing.call_cap); none: no cap.
    call_cap: CallCap | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def enabled_languages(self) -> tuple[str, ...]:
        return tuple(lang.code for lang in self.languages if lang.enabled)
