"""Menu tables and their destinations: a typed union, never free strings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ivr.domain.vocabulary import TicketReason

# A DTMF key a menu option can be bound to.
Key = Annotated[str, Field(pattern=r"^[0-9*#]$")]
# Bounded: ids and prompt names become Asterisk section and file names.
PromptName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Ident = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
Digits = Annotated[str, Field(pattern=r"^[0-9]{2,8}$")]


class Strict(BaseModel):
    """Every table model refuses unknown fields and is immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ToMenu(Strict):
    type: Literal["menu"]
    menu: Ident


class ToQueue(Strict):
    type: Literal["queue"]
    queue: Ident


class ToUnit(Strict):
    """A transfer to an agency unit through the transfer engine."""

    type: Literal["unit"]
    unit: Ident


class ToExtension(Strict):
    type: Literal["extension"]
    extension: Digits


class ToEmergency(Strict):
    """Advice to dial 110/119, optionally offering a connection over an emergency trunk."""

    type: Literal["emergency"]
    prompt: PromptName
    connect_key: Key | None = None
    trunk: Ident | None = None
    number: Digits | None = None


class ToAnnouncement(Strict):
    """Play a prompt, then hang up."""

    type: Literal["announcement"]
    prompt: PromptName


class ToRecord(Strict):
    """Record the caller's matter (voicemail) and open a callback ticket."""

    type: Literal["record"]
    prompt: PromptName
    max_seconds: Annotated[int, Field(ge=5, le=300)] = 120
    # The store's own list: a reason the tables accept is one the store keeps.
    reason: TicketReason = TicketReason.VOICEMAIL


class ToCaseCheck(Strict):
    """A caller checks a case: its number, its password, then its state and due date.

    `then` is the menu the caller goes back to when the case store cannot be read;
    without it, the profile's entry menu.
    """

    type: Literal["case_check"]
    then: Ident | None = None


class ToLanguage(Strict):
    """Set the caller's language, then continue to `then`."""

    type: Literal["language"]
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]
    then: Ident


Destination = Annotated[
    ToMenu
    | ToQueue
    | ToUnit
    | ToExtension
    | ToEmergency
    | ToAnnouncement
    | ToRecord
    | ToLanguage
    | ToCaseCheck,
    Field(discriminator="type"),
]


class Menu(Strict):
    prompt: PromptName
    options: dict[Key, Destination]
    timeout_s: Annotated[float, Field(gt=0, le=30)] = 5.0
    max_tries: Annotated[int, Field(ge=1, le=9)] = 3
    retry_prompt: PromptName = "invalid-retry"
    on_exhausted: Destination
    # Callers may key a unit extension ("1999 轉 分機") instead of a menu option.
    extension_dialing: bool = True
    # Digits collected after the first key when dialling an extension.
    extension_digits_max: Annotated[int, Field(ge=2, le=8)] = 4


class MenuTable(Strict):
    entry: Ident
    menus: dict[Ident, Menu]
