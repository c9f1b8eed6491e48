"""Admin and officer actions on live calls, through AMI: transfer and click-to-callback."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from ivr import dialplan_vars as dv
from ivr.adapters.ami import AmiClient
from ivr.config import StackConfig
from ivr.domain.clock import system_clock
from ivr.domain.screening import is_taiwan_callback_number, normalise_number
from ivr.domain.transfer import Line
from ivr.errors import HotlineError
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view, dialstring
from ivr.store import CaseStore, audit

ADMIN_TRANSFER_CONTEXT = "hotline-transfer-admin"
CALLBACK_CONTEXT = "hotline-callback"
OFFICER_RING_S = 30
CALLBACK_SETTLE_S = 120.0


class ControlError(HotlineError):
    """The action cannot be carried out; the message says why."""

    code = "control.failed"


def _ami(cfg: StackConfig) -> AmiClient:
    return AmiClient(cfg.host, cfg.ports.ami, cfg.ami_user, cfg.ami_secret)


def resolve_unit(cfg: StackConfig, unit: str) -> str:
    """A unit id, dial code or extension → the code the transfer context dials."""
    view = build_view(load_profile(cfg.routing_dir))
    if unit in view.extensions:
        return unit
    spec = view.units.get(unit)
    if spec is None:
        raise ControlError(f"no unit, dial code or extension {unit!r} in {cfg.routing_dir}")
    return spec.primary.number


async def transfer(cfg: StackConfig, channel: str, unit: str) -> str:
    """Move a live channel into the transfer engine for `unit` (AMI Redirect)."""
    code = resolve_unit(cfg, unit)
    ami = _ami(cfg)
    await ami.start()
    try:
        await ami.wait_connected(5.0)
        await ami.action(
            {
                "Action": "Redirect",
                "Channel": channel,
                "Context": ADMIN_TRANSFER_CONTEXT,
                "Exten": code,
                "Priority": "1",
            }
        )
    finally:
        await ami.stop()
    return code


@dataclass(frozen=True)
class CallbackResult:
    ticket: str
    dialstatus: str
    attempt: int


async def click_to_callback(cfg: StackConfig, ticket_ref: str, officer: str) -> CallbackResult:
    """Ring the officer's phone, then the citizen over the outbound trunk; log the attempt."""
    tables = load_profile(cfg.routing_dir)
    trunk = tables.directory.outbound_trunk
    if trunk is None:
        raise ControlError(f"{cfg.routing_dir}/directory.yaml: no outbound_trunk for callbacks")
    if not officer.isdigit():
        raise ControlError(f"--from must be an extension (digits), not {officer!r}")
    store = await CaseStore.open(cfg.database_url)
    try:
        ticket = await store.get_ticket_by_number(ticket_ref)
        if ticket is None and ticket_ref.isdigit():
            ticket = await store.get_ticket(int(ticket_ref))
        if ticket is None:
            raise ControlError(f"no ticket {ticket_ref}")
        # Checked again here, not only when the ticket was made: a ticket written by an
        # older version, or edited in the store, must not send a premium or foreign
        # number to the outbound trunk.
        if not is_taiwan_callback_number(ticket.caller_number):
            raise ControlError(
                f"ticket {ticket.number} has no usable callback number; nothing was dialled"
            )
        # Dialling a citizen uses their number: audited like a view, before the call.
        await audit.record(
            store,
            at=system_clock(),
            who=audit.os_user(),
            action="callback",
            subject=f"ticket:{ticket.number}",
            detail=f"from extension {officer}",
        )
        previous = sum(1 for a in ticket.attempts if a.role == "callback")
        citizen = dialstring(Line(normalise_number(ticket.caller_number), trunk))
        attempt_id = await store.start_attempt(
            ticket_id=ticket.id,
            target=citizen,
            role="callback",
            attempt=previous + 1,
            at=system_clock(),
        )
        outcome = await _originate_callback(cfg, officer, citizen, ticket.number)
        await store.finish_attempt(
            attempt_id,
            at=system_clock(),
            dialstatus=outcome.get("DialStatus") or "NOANSWER",
            hangup_cause=_int(outcome.get("HangupCause")),
            ring_seconds=None,
        )
        return CallbackResult(ticket.number, outcome.get("DialStatus") or "NOANSWER", previous + 1)
    finally:
        await store.close()


async def _originate_callback(
    cfg: StackConfig, officer: str, citizen: str, ticket: str
) -> Mapping[str, str]:
    done: asyncio.Future[Mapping[str, str]] = asyncio.get_running_loop().create_future()

    def on_event(event: Mapping[str, str]) -> None:
        if done.done():
            return
        if event.get("UserEvent") == "HotlineCallback" and event.get("Ticket") == ticket:
            done.set_result(event)
        elif event.get("Event") == "OriginateResponse" and event.get("Response") == "Failure":
            # The officer's phone did not answer: the citizen was never dialled.
            done.set_result(
                {"DialStatus": "OFFICER_NOANSWER", "HangupCause": event.get("Reason", "")}
            )

    ami = _ami(cfg)
    ami.on("UserEvent", on_event)
    ami.on("OriginateResponse", on_event)
    await ami.start()
    try:
        await ami.wait_connected(5.0)
        await ami.action(
            {
                "Action": "Originate",
                "Channel": f"PJSIP/{officer}",
                "Context": CALLBACK_CONTEXT,
                "Exten": "s",
                "Priority": "1",
                "CallerID": f'"1999 {ticket}" <1999>',
                "Timeout": str(OFFICER_RING_S * 1000),
                "Async": "true",
                "Variable": f"{dv.CALLBACK_DIAL}={citizen},{dv.CALLBACK_TICKET}={ticket}",
            }
        )
        async with asyncio.timeout(CALLBACK_SETTLE_S):
            return await done
    except TimeoutError as exc:
        raise ControlError(f"no outcome for the callback of ticket {ticket}") from exc
    finally:
        await ami.stop()


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
