"""A transfer to a unit: ring its lines, then its liaison window; nobody → a ticket.

The sequence is `ivr.domain.transfer`; whether a person's answer opens a ticket is
`ivr.domain.ticket_policy`. Every dial attempt is written to the transfer's record.
"""

from __future__ import annotations

from ivr.adapters.fastagi.protocol import AGIHangup
from ivr.domain import ticket_policy as policy
from ivr.domain.screening import callback_number
from ivr.domain.transfer import (
    Answered,
    CallerLeft,
    Dial,
    RecordForWorkingDay,
    TransferSpec,
    next_step,
    plan_transfer,
)
from ivr.domain.vocabulary import CallOutcome, TransferInitiator, TransferResult
from ivr.flow.call import CONVERSATION_LIMIT_S, Call
from ivr.flow.call_cap import capped
from ivr.flow.tickets import for_transfer, open_ticket, transfer_ticket
from ivr.flow.tickets import terms as ticket_terms
from ivr.routing.view import dialstring

CONNECTING = "connecting"


async def transfer(
    call: Call, spec: TransferSpec, initiated_by: str = TransferInitiator.IVR
) -> None:
    """Ring the unit's lines, then its liaison window; nobody → a callback ticket."""
    session = call.session
    transfer_id = await call.store.start_transfer(
        call.call_id,
        initiated_by=initiated_by,
        agency_id=spec.agency_id,
        unit_id=spec.unit_id,
        at=call.now(),
    )
    call.event(
        "transfer",
        unit=spec.unit_id,
        agency=spec.agency_id,
        transfer_id=transfer_id,
        initiated_by=initiated_by,
    )
    now = call.now()
    # The working calendar with today's declared closures: a typhoon day is off-hours.
    plan = plan_transfer(
        await call.services.working(call.view, now), now, call.view.off_hours_transfers
    )
    if isinstance(plan, RecordForWorkingDay):
        # K4(4): the offices are empty; ring nobody, record for the next working day.
        call.event("transfer_off_hours", due_at=plan.due.isoformat())
        await transfer_ticket(call, spec, transfer_id, plan)
        return
    await call.play(CONNECTING, "transfer")
    results: list[str] = []
    while True:
        step = next_step(spec, results)
        if not isinstance(step, Dial):
            break
        if step.pause_s:
            # Ringback between attempts: the caller hears the line is still trying.
            await session.exec_("Playtones", "ring")
            await session.exec_("Wait", f"{step.pause_s:g}")
            await session.exec_("StopPlaytones", "")
        results.append(await _dial(call, transfer_id, step))
    if isinstance(step, Answered):
        await _answered(call, spec, transfer_id, step)
        return
    if isinstance(step, CallerLeft):
        await call.store.finish_transfer(
            transfer_id, at=call.now(), result=TransferResult.CALLER_LEFT
        )
        # Dialling on would ring the next lines for a caller who is gone.
        raise AGIHangup("caller hung up while the unit's line rang")
    await transfer_ticket(call, spec, transfer_id, step)


async def _dial(call: Call, transfer_id: int, step: Dial) -> str:
    """One attempt on one line, written to the transfer's record; its DIALSTATUS."""
    session = call.session
    target = dialstring(step.line)
    attempt_id = await call.store.start_attempt(
        transfer_id=transfer_id,
        target=target,
        role=step.role,
        attempt=step.attempt,
        at=call.now(),
    )
    # g: the caller comes back here when the unit hangs up, to close the record.
    # The call cap keeps the time of the conversation, if any (Dial's U() option).
    async with capped(call, transfer_id=transfer_id) as cap:
        await session.command(
            "EXEC",
            "Dial",
            f"{target},{step.ring_timeout_s},g{cap.dial_option}",
            timeout=step.ring_timeout_s + CONVERSATION_LIMIT_S,
        )
        # Read before the cap's own Dial to the direct line (on the way out) resets them.
        dial = await session.get_variables(
            "DIALSTATUS", "HANGUPCAUSE", "DIALEDTIME", "ANSWEREDTIME"
        )
    status = dial["DIALSTATUS"] or "UNKNOWN"
    cause = _int(dial["HANGUPCAUSE"])
    dialed = _float(dial["DIALEDTIME"])
    answered = _float(dial["ANSWEREDTIME"])
    ring = dialed - answered if dialed is not None and answered is not None else dialed
    await call.store.finish_attempt(
        attempt_id,
        at=call.now(),
        dialstatus=status,
        hangup_cause=cause,
        ring_seconds=ring,
    )
    call.event(
        "dial_attempt",
        number=step.line.number,
        role=step.role,
        attempt=step.attempt,
        dialstatus=status,
    )
    return status


async def _answered(call: Call, spec: TransferSpec, transfer_id: int, step: Answered) -> None:
    await call.store.finish_transfer(
        transfer_id,
        at=call.now(),
        result=policy.answered_result(step),
        answered_by=step.line.number,
    )
    if policy.answer_opens_ticket(step):
        now = call.now()
        terms = await ticket_terms(call, step, now)
        # Unchecked, a spoofed premium or foreign caller id would be dialled by the
        # officer's routine callback.
        number = callback_number(call.caller)
        ticket = await open_ticket(call, for_transfer(spec, transfer_id, number, terms, now))
        if ticket is None:
            return
    await call.finish(CallOutcome.TRANSFERRED)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
