"""Every closed word list of the hotline, in one place. Pure.

A word that the routing tables, the store, the handlers and the mails all speak must
be spelled once: when four modules each kept their own list of ticket reasons, the
tables allowed `voicemail` and the store refused it, and a caller's message was lost.
Each list is a StrEnum, so a member is also the plain string that is stored, logged
and compared; `values(E)` gives the tuple that the store checks against.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AgentState",
    "AttemptRole",
    "CallOutcome",
    "CaseAction",
    "CaseClock",
    "CaseGrade",
    "CaseKind",
    "CaseState",
    "CheckOutcome",
    "ConferenceParty",
    "DialStatus",
    "EmergencyService",
    "FallbackReason",
    "Role",
    "ServiceMode",
    "ThreewayOutcome",
    "TicketReason",
    "TicketStatus",
    "TransferInitiator",
    "TransferResult",
    "UiLanguage",
    "values",
]


class TicketReason(StrEnum):
    """Why a callback ticket was opened."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    LIAISON_REGISTERED = "liaison_registered"
    OFF_HOURS = "off_hours"
    DISPUTED_JURISDICTION = "disputed_jurisdiction"
    # The caller chose to leave a message for a callback (a menu's record option).
    VOICEMAIL = "voicemail"
    # A waiting caller chose a callback in their language, or waited the queue's longest.
    QUEUE_CALLBACK = "queue_callback"
    # An officer asked for the citizen of a case to be called back (the case links it).
    CASE_CALLBACK = "case_callback"


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CALLED_BACK = "called_back"
    CLOSED = "closed"


class CallOutcome(StrEnum):
    """What happened to the caller, as the call record says it."""

    # Waited in a queue for an agent (and may have been served).
    QUEUED = "queued"
    # Hung up before anyone took the call: in the menus, or while a unit's or an
    # emergency line rang.
    ABANDONED = "abandoned"
    BLOCKED = "blocked"
    # Connected to a unit, a liaison window or an emergency line.
    TRANSFERRED = "transferred"
    ANNOUNCED = "announced"
    # A callback ticket was committed (whether or not its number was heard in full).
    TICKET = "ticket"
    SURVEYED = "surveyed"
    # The dialplan's fallback took the caller: the engine was unreachable or failed.
    FALLBACK = "fallback"
    # The line was closed and the table had no closed destination.
    CLOSED_UNHANDLED = "closed-unhandled"


class AgentState(StrEnum):
    LOGGED_IN = "logged_in"
    LOGGED_OUT = "logged_out"
    PAUSED = "paused"
    UNPAUSED = "unpaused"


class ServiceMode(StrEnum):
    NORMAL = "normal"
    DISASTER = "disaster"


class TransferInitiator(StrEnum):
    IVR = "ivr"
    AGENT = "agent"
    ADMIN = "admin"


class TransferResult(StrEnum):
    ANSWERED = "answered"
    LIAISON_ANSWERED = "liaison_answered"
    TICKET = "ticket"
    CALLER_LEFT = "caller_left"
    FAILED = "failed"


class AttemptRole(StrEnum):
    PRIMARY = "primary"
    ADJACENT = "adjacent"
    LIAISON = "liaison"
    CALLBACK = "callback"


class DialStatus(StrEnum):
    """Every DIALSTATUS app_dial documents, not only the common six: a value Asterisk
    really reported must never be refused and lost."""

    ANSWER = "ANSWER"
    BUSY = "BUSY"
    NOANSWER = "NOANSWER"
    CANCEL = "CANCEL"
    CONGESTION = "CONGESTION"
    CHANUNAVAIL = "CHANUNAVAIL"
    DONTCALL = "DONTCALL"
    TORTURE = "TORTURE"
    INVALIDARGS = "INVALIDARGS"


class FallbackReason(StrEnum):
    """Why the dialplan's fallback took a call (HOTLINE_FALLBACK_REASON).

    The dialplan spells these too; a contract test holds it to this list.
    """

    # AGI() could not connect to the engine (AGISTATUS FAILURE).
    ENGINE_UNREACHABLE = "engine-unreachable"
    # The engine's connection ended before it reported an outcome: it died or was
    # killed mid-call (Asterisk still says AGISTATUS SUCCESS).
    ENGINE_LOST = "engine-lost"
    # The engine finished without naming a next step the dialplan knows.
    UNKNOWN_NEXT = "unknown-next"
    # Otherwise the reason is the engine's own HOTLINE_AGI_ERROR: "unknown-script", or
    # the name of the exception its handler raised.


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """The members' strings, in declaration order: what a store check allows."""
    return tuple(member.value for member in enum)


# --- Notifications: the outbox (issue 15) -------------------------------------------


class NotifyChannel(StrEnum):
    """How a message reaches a citizen or an official."""

    EMAIL = "email"
    SMS = "sms"
    # An outbound call over the outbound trunk that reads the message.
    PHONE = "phone"


class OutboxState(StrEnum):
    """Where a message in the outbox stands."""

    # Waiting for its next attempt (`next_attempt_at`).
    PENDING = "pending"
    # An attempt was recorded and its network call may be under way.
    SENDING = "sending"
    DELIVERED = "delivered"
    # Out of attempts, or refused for good (a 4xx from the gateway, a bad address).
    DEAD = "dead"
    # An attempt was interrupted by a crash on a channel that must not repeat itself
    # (phone): whether it reached the citizen is unknown; `ivr outbox retry` resends.
    UNKNOWN = "unknown"


class OutboxOutcome(StrEnum):
    """The result of one delivery attempt."""

    # Recorded before the network call; replaced by the outcome when it returns.
    SENDING = "sending"
    DELIVERED = "delivered"
    # A failure worth another try (timeout, 5xx, refused connection, busy line).
    FAILED = "failed"
    # A failure no retry will cure (4xx, a malformed address).
    REJECTED = "rejected"
    # Found still "sending" after its sender died.
    INTERRUPTED = "interrupted"


# --- cases: petitions and dispatch orders (issue 15) ------------------------------------


class CaseKind(StrEnum):
    """A case's kind, which is also the service type an agent logs for a call (T2(1), K2)."""

    CONSULTATION = "consultation"
    TRANSFER = "transfer"
    PETITION = "petition"
    DISPATCH = "dispatch"
    REFERRAL = "referral"
    EMERGENCY = "emergency"


class CaseState(StrEnum):
    """Where a case stands; `ivr.domain.cases.workflow` says which moves are allowed."""

    OPEN = "open"
    ASSIGNED = "assigned"
    # A petition replied to with a plan (grade B), still being worked on (P7(4)).
    REPLIED = "replied"
    CLOSED = "closed"
    # The citizen said "dissatisfied": the agency reviews the reply (P11).
    REVIEW = "review"
    # Folded into an open order at the same place (T6(6)1).
    MERGED = "merged"
    # A dispatch order re-made as a petition (T6(4)).
    CONVERTED = "converted"


class CaseGrade(StrEnum):
    """A petition reply's grade (P8): A done, B replied with a plan."""

    A = "A"
    B = "B"


class CaseClock(StrEnum):
    """Each deadline a case runs against; a case may run several, one after another."""

    REPLY = "reply"  # petition: 6 working days (P7(4))
    GRADE_B = "grade_b"  # petition graded B: 30 calendar days (P7(4))
    JURISDICTION = "jurisdiction"  # query to another agency: 4 working hours (P9(2))
    REVIEW = "review"  # dissatisfied: 1 working day (P11(3))
    RETURNED = "returned"  # returned by the review: 6 working days (P11(3))
    STAGE1 = "stage1"  # dispatch, hours (T6, K7)
    STAGE2 = "stage2"  # dispatch, days (item 21: hours)
    DEIDENTIFY = "deidentify"  # by the next working day after the reply (P7(3))


class CaseAction(StrEnum):
    """What someone did to a case, as its history records it."""

    CREATED = "created"
    ASSIGNED = "assigned"
    REASSIGNED = "reassigned"
    NOTE = "note"
    JURISDICTION_QUERY = "jurisdiction_query"
    JURISDICTION_ANSWER = "jurisdiction_answer"
    STAGE1_DONE = "stage1_done"
    CONTACT_ATTEMPT = "contact_attempt"
    REPLIED = "replied"
    GRADED = "graded"
    CLOSED = "closed"
    SURVEY = "survey"
    REOPENED = "reopened"
    REVIEW_UPHELD = "review_upheld"
    CONVERTED = "converted"
    MERGED = "merged"
    ABSORBED = "absorbed"
    DEIDENTIFIED = "deidentified"
    NOTIFIED = "notified"
    # The case spawned a callback ticket (linked both ways in case_links).
    CALLBACK = "callback"


class CheckOutcome(StrEnum):
    """What a caller checking a case by phone is told after a try."""

    FOUND = "found"
    NO_SUCH_CASE = "no_such_case"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an outcome, not a secret
    LOCKED_OUT = "locked_out"  # the third wrong password ends the attempt


# -- web console: users and their roles (issue 16) --------------------------------------


class Role(StrEnum):
    """What a console user may do; one role per user."""

    # Takes calls: state, screen pop, wrap-up.
    AGENT = "agent"
    # A unit's case officer: works the unit's tickets and cases.
    OFFICER = "officer"
    # An agency's liaison window: works the agency's tickets.
    LIAISON = "liaison"
    # Watches queues and deadlines: the wallboard.
    SUPERVISOR = "supervisor"
    # Manages users and routing.
    ADMIN = "admin"
    # Reads everything, changes nothing.
    AUDITOR = "auditor"


class UiLanguage(StrEnum):
    """The console's interface languages, chosen per user."""

    ZH_TW = "zh-TW"
    EN = "en"


# ---------------------------------------------------------------- routing versions (issue 17)


class DraftState(StrEnum):
    """Where a routing draft stands."""

    OPEN = "open"
    PUBLISHED = "published"
    DISCARDED = "discarded"


class RoutingAudit(StrEnum):
    """Audit actions of routing versions: every change to what callers are routed by."""

    DRAFT = "routing_draft"
    EDIT = "routing_edit"
    APPROVE = "routing_approve"
    PUBLISH = "routing_publish"
    ROLLBACK = "routing_rollback"
    REFUSED = "routing_refused"
    SCHEDULE = "routing_schedule"
    DISCARD = "routing_discard"
    SETTING = "routing_setting"


# ---- queues (issue 18): how a caller's stay in one queue ended (queue_legs.outcome)


class QueueLegOutcome(StrEnum):
    # Still in the queue.
    WAITING = "waiting"
    # An agent answered (the conversation may still be going on).
    ANSWERED = "answered"
    # The agent moved the caller on (transfer key 8, or a blind transfer).
    TRANSFERRED = "transferred"
    # The caller hung up while waiting.
    ABANDONED = "abandoned"
    # The engine took the caller out to ask them (keep waiting, callback, another
    # language), or the longest wait ended: not an abandonment.
    LEFT = "left"


class PauseReason(StrEnum):
    """Why an agent paused: `*47` then a digit on the phone (agent_states.reason)."""

    # *47 alone: a pause with no reason given.
    UNSPECIFIED = "unspecified"
    BREAK = "break"
    MEAL = "meal"
    AFTER_CALL_WORK = "after_call_work"
    TRAINING = "training"
    MEETING = "meeting"
    TECHNICAL = "technical"


# The digit an agent keys after *47 (as the agents' card prints it).
PAUSE_REASON_DIGITS = {
    "1": PauseReason.BREAK,
    "2": PauseReason.MEAL,
    "3": PauseReason.AFTER_CALL_WORK,
    "4": PauseReason.TRAINING,
    "5": PauseReason.MEETING,
    "6": PauseReason.TECHNICAL,
}


# ---- the call cap (issue 18): how long one conversation with a person may last


class CapAction(StrEnum):
    """What happens at the cap (profile.yaml call_cap.at_limit)."""

    # Both legs are told; the conversation ends and so does the call.
    END = "end"
    # Both legs are told; the caller is put through to the direct line.
    TRANSFER = "transfer"


class CapLeg(StrEnum):
    """Which side of a conversation a cap prompt is for."""

    CALLER = "caller"
    # The agent, or the unit's line a transfer reached.
    AGENT = "agent"


# ---- queued callbacks: a waiting caller's place kept while they hang up (issue 18) ----


class QueuedCallbackState(StrEnum):
    """Where a queued callback stands (queued_callbacks.state)."""

    # The place is held; the next attempt is due (or waits for its retry time).
    WAITING = "waiting"
    # An attempt is in Asterisk: the virtual entry waits in the queue, or the agent
    # who took it is calling the citizen.
    CALLING = "calling"
    # An agent and the citizen were bridged.
    COMPLETED = "completed"
    # Given up: a callback ticket in the caller's language was opened instead.
    TICKETED = "ticketed"


class CallbackAttemptOutcome(StrEnum):
    """How one attempt of a queued callback ended (queued_callback_attempts.outcome)."""

    # Recorded before the origination; no end known yet.
    IN_FLIGHT = "in_flight"
    # The agent answered first, then the citizen: bridged.
    CONNECTED = "connected"
    # The virtual entry left the queue with no agent (the queue's wait ran out).
    NO_AGENT = "no_agent"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    # The trunk refused or failed the call (congestion, unavailable, cancelled).
    FAILED = "failed"
    # The attempt reached Asterisk but its end is unknown (the engine was down when it
    # ended): the citizen may have been called, so the machine never dials again.
    LOST = "lost"


# ---- Sign-language video calls (issue 18, ivr.domain.video)


class VideoWaitEnd(StrEnum):
    """Why a video caller's wait for a signing agent ended without one."""

    # Nobody with the sign-language skill signed in (at entry, or after a round).
    NO_AGENTS = "no_agents"
    # The queue's longest wait (max_wait_s) was used up.
    MAX_WAIT = "max_wait"


# ---- Service switches from the console (issue 16, ivr.service_switches)


class ServiceAudit(StrEnum):
    """Audit actions of the switches a supervisor throws on the service page."""

    DISASTER_MODE = "disaster_mode"
    CLOSURE = "calendar_closure"


# ---- Emergency three-way calls from the agent's page (issue 16, ivr.domain.threeway)


class EmergencyService(StrEnum):
    """The emergency services an agent may conference into a live call (K2(1), K4(1))."""

    # 110
    POLICE = "police"
    # 119: fire and ambulance
    FIRE = "fire"


class ConferenceParty(StrEnum):
    """Who is on an emergency three-way call."""

    CITIZEN = "citizen"
    AGENT = "agent"
    EMERGENCY = "emergency"


class ThreewayOutcome(StrEnum):
    """How the emergency line's leg of a three-way call went."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    # Refused, congested or unreachable: the trunk or the carrier did not connect it.
    FAILED = "failed"
    # Nobody was left to hear it: the citizen and the agent both left while it rang.
    CANCELLED = "cancelled"
