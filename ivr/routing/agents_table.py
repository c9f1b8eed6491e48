"""agents.yaml: agents, their skills and phone networks, and the queues they serve."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from ivr.domain import queued_callback as qcb
from ivr.routing.menus import Digits, Ident, PromptName, Strict
from ivr.routing.profile_table import LANGUAGE_CODES, LanguageCode
from ivr.routing.table_fields import Name

Skill = Literal["zh-TW", "en", "nan", "hak", "dispatch", "petition", "sign-language", "supervisor"]
# Video codecs Asterisk passes through (it never transcodes video): ivr.domain.video.
VideoCodec = Literal["vp8", "h264"]


def _secret(value: str) -> str:
    if len(value) < 12:
        raise ValueError(f"a SIP secret needs at least 12 characters, found {len(value)}")
    # It is written into pjsip.conf, where ";" starts a comment and quotes nest badly.
    if not re.fullmatch(r"[A-Za-z0-9!$%&()*+,\-./:<=>?@\[\]^_{|}~]+", value):
        raise ValueError('a SIP secret may not hold spaces, ";", "#", quotes or backslashes')
    return value


Secret = Annotated[str, Field(max_length=128), AfterValidator(_secret)]


def _network(value: str) -> str:
    """One network in CIDR form (a bare address is one host), as Asterisk's ACL takes it."""
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not a network: write an address and prefix length with no host "
            f'bits, e.g. "10.20.0.0/16" or "127.0.0.1/32" ({exc})'
        ) from None


Network = Annotated[str, Field(max_length=50), AfterValidator(_network)]
# At least one network: a phone allowed from nowhere is a phone to remove instead.
Networks = Annotated[list[Network], Field(min_length=1, max_length=100)]
# Secure by default: phones on the machine itself only, until an admin names networks.
LOOPBACK = ["127.0.0.0/8", "::1/128"]


class Agent(Strict):
    id: Ident
    name: Name
    extension: Digits
    # Only a demo profile may keep secrets here; a live one uses the stack's secrets
    # file or environment (ivr.routing.agent_secrets).
    secret: Secret | None = None
    skills: list[Skill]
    # Where this phone may register and call from, instead of the table's phone_networks.
    phone_networks: Networks | None = None
    # What the agent hears (feature-code confirmations, whispers): one of the agent's
    # language skills; by default the first one listed.
    language: LanguageCode | None = None

    @field_validator("language")
    @classmethod
    def _language_is_a_skill(cls, value: str | None, info: ValidationInfo) -> str | None:
        skills = info.data.get("skills")
        if value is not None and skills is not None and value not in skills:
            raise ValueError(
                f"{value} is not one of the agent's skills: an agent hears prompts only "
                "in a language they speak"
            )
        return value

    @property
    def own_language(self) -> str | None:
        """The agent's language: as set, or the first language among the skills."""
        if self.language is not None:
            return self.language
        return next((s for s in self.skills if s in LANGUAGE_CODES), None)

    def __repr__(self) -> str:
        # Secrets never reach logs or test output through a repr.
        return f"Agent(id={self.id!r}, extension={self.extension!r}, skills={self.skills!r})"


class Queue(Strict):
    id: Ident
    name: Name
    # A queue serves callers who need all of these skills.
    skills: Annotated[list[Skill], Field(min_length=1)]
    strategy: Literal["rrmemory", "leastrecent", "ringall"] = "rrmemory"
    announce_position: bool = True
    max_wait_s: Annotated[int, Field(ge=30, le=3600)] = 600
    # Queue waiting (issue 18, ivr.domain.queueing): ask the caller after this long in
    # one go; the queue offered on key 3 to a caller who accepts agents without this
    # queue's language; a prompt played to the agent alone before the bridge.
    offer_after_s: Annotated[int, Field(ge=20, le=3600)] = 180
    other_language_queue: Ident | None = None
    whisper: PromptName | None = None
    # After each call the agent has this long before the queue offers them another
    # (app_queue's wrapuptime); 0: at once.
    wrapup_s: Annotated[int, Field(ge=0, le=600)] = 0
    # The agent stays paused after each call of this queue until they submit the
    # wrap-up form on the console (ivr/web/wrapup.py); wrapup_s still applies.
    wrapup_form: bool = False
    # Honest waiting (ivr.domain.wait_estimate): a waiting caller hears their position
    # and the estimated wait on entering the queue and every this many seconds.
    announce_every_s: Annotated[int, Field(ge=20, le=600)] = 60
    # A caller about to join (and at each round's end) is told the estimated wait and
    # offered the choice at once when that estimate is longer than this; unset: never
    # on the estimate alone (an unknown estimate never triggers it).
    offer_when_estimate_over_s: Annotated[int, Field(ge=30, le=3600)] | None = None
    # Queued callbacks (ivr.domain.queued_callback): tries before a kept place becomes a
    # callback ticket, the wait between tries, how long the virtual entry holds the place.
    callback_attempts: Annotated[int, Field(ge=1, le=10)] = qcb.DEFAULT_MAX_ATTEMPTS
    callback_retry_s: Annotated[int, Field(ge=30, le=3600)] = qcb.DEFAULT_RETRY_AFTER_S
    callback_hold_s: Annotated[int, Field(ge=60, le=14400)] = qcb.DEFAULT_HOLD_S
    # A sign-language video queue (issue 18): the video codecs allowed on the inbound
    # side and on its agents' phones. Calls whose negotiated stream carries one of them
    # come here past the voice menus (ivr.flow.video); checked in video_check.py.
    video_codecs: Annotated[list[VideoCodec], Field(min_length=1, max_length=2)] | None = None


class AgentsTable(Strict):
    agents: Annotated[list[Agent], Field(min_length=1)]
    queues: Annotated[list[Queue], Field(min_length=1)]
    # The networks agents' phones may register and call from (Asterisk's endpoint ACL).
    phone_networks: Networks = Field(default_factory=lambda: list(LOOPBACK))

    def networks_of(self, agent: Agent) -> list[str]:
        return agent.phone_networks if agent.phone_networks is not None else self.phone_networks

    def queue(self, queue_id: str) -> Queue:
        for queue in self.queues:
            if queue.id == queue_id:
                return queue
        raise KeyError(queue_id)

    def agents_for(self, queue: Queue) -> list[Agent]:
        return [a for a in self.agents if set(queue.skills) <= set(a.skills)]

    def video_queue(self) -> Queue | None:
        """The sign-language video queue, if the table has one (the check allows one)."""
        return next((q for q in self.queues if q.video_codecs is not None), None)
