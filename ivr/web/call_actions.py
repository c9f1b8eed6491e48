"""What an agent does with the call on the screen: open a case from it, transfer it.

A case is opened through the same service as `ivr cases new` (`ivr.cases_service`),
linked to the call (its id, from the store) and committed before the page says so. The
form carries an idempotency key: a double submit, or a reload of the answer, opens the
case once and says it was made before.

A transfer sends the caller's channel into the transfer engine with an AMI Redirect,
as `ivr transfer CHANNEL UNIT` does, but into the agents' context (as feature code 8):
the engine rings the unit and its lines, or takes a callback ticket, with the same
records. It is audited, and refused with a reason when the call is gone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import structlog

from ivr import cases_service as svc
from ivr.adapters.ami import AmiActionFailed, AmiUnavailable
from ivr.cases_context import CaseKeyReused
from ivr.domain.vocabulary import CaseKind
from ivr.errors import ExitStatus, HotlineError
from ivr.store import audit
from ivr.store.cases import CaseBook
from ivr.store.views import CallRecord
from ivr.web.context import Console
from ivr.web.pop import cases_of_call as pop_cases

log = structlog.get_logger()

# The agent's own transfer context (as feature code 8): the call's record says an agent
# asked for it, where `ivr transfer` says an admin did.
AGENT_TRANSFER_CONTEXT = "hotline-transfer-agent"

# The kinds of case an agent opens from a call (the others come from the CLI or the IVR).
FORM_KINDS = (CaseKind.PETITION, CaseKind.DISPATCH)
MAX_SUMMARY = 4000


class CallActionError(HotlineError):
    """The action on the call cannot be done; `key` names the page's message."""

    code = "web.call_action_refused"
    exit_status = ExitStatus.REFUSED

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(detail or key)
        self.key = key
        self.detail = detail


def new_form_key() -> str:
    """A fresh idempotency key for one rendering of a form."""
    return uuid.uuid4().hex


def form_context(ctx: Console) -> dict[str, Any]:
    """The choices the case and transfer forms offer, from the tables the console holds."""
    tables = ctx.tables()
    agencies = [(a.id, a.name, a.name_en) for a in tables.directory.agencies]
    units = [(u.id, u.name, u.name_en, a.name) for a in tables.directory.agencies for u in a.units]
    items = [(i.item, i.name, i.name_en) for i in tables.dispatch.items]
    return {
        "case_kinds": [str(k) for k in FORM_KINDS],
        "case_agencies": agencies,
        "case_items": items,
        "transfer_units": units,
        # The emergency three-way call's lines (ivr/web/threeway.py): service, number.
        "threeway_lines": [(str(x.service), x.number) for x in tables.directory.emergency_lines],
        "case_key": new_form_key(),
    }


def on_screen(ctx: Console, agent_id: str, uniqueid: str) -> dict[str, Any]:
    """The agent's current pop, if it is the call `uniqueid`; else refused."""
    pop = ctx.hub.last_pop.get(agent_id)
    if pop is None or pop.get("uniqueid") != uniqueid:
        raise CallActionError("call_not_on_screen")
    return pop


async def _call(ctx: Console, uniqueid: str) -> CallRecord:
    call = await ctx.store.get_call_by_uniqueid(uniqueid)
    if call is None:
        raise CallActionError("call_not_found")
    return call


async def case_context(ctx: Console) -> svc.CaseContext:
    """The case context `ivr cases` builds, over the console's store and tables."""
    tables = ctx.tables()
    view = ctx.routing_view()
    since = (ctx.clock() - svc.ONE_DAY * 400).astimezone(view.office.tz).date()
    closures = [c for c in (await ctx.store.closures(since)).values() if c.closed]
    book = CaseBook.of(ctx.store, tables.profile.name)
    return svc.context_for(book, tables, view.office, None, closures)


@dataclass(frozen=True)
class CaseForm:
    kind: str
    summary: str
    agency: str = ""
    item: str = ""
    address: str = ""
    district: str = ""
    caller_name: str = ""


def _case_input(form: CaseForm, call: CallRecord, language: str) -> svc.CaseInput:
    if form.kind not in {str(k) for k in FORM_KINDS}:
        raise CallActionError("case_refused", f"no case kind {form.kind!r}")
    summary = form.summary.strip()
    if not summary:
        raise CallActionError("case_summary_needed")
    item = None
    if form.kind == CaseKind.DISPATCH:
        if not form.item.strip().isdigit():
            raise CallActionError("case_item_needed")
        item = int(form.item)
        if not form.address.strip():
            raise CallActionError("case_address_needed")
    elif not form.agency:
        raise CallActionError("case_agency_needed")
    return svc.CaseInput(
        kind=CaseKind(form.kind),
        summary=summary[:MAX_SUMMARY],
        agency_id=form.agency or None,
        item=item,
        caller_number=call.caller_number,
        caller_name=form.caller_name.strip() or None,
        language=language if language and language != "-" else None,
        address=form.address.strip() or None,
        district=form.district.strip() or None,
    )


async def open_from_call(
    ctx: Console, agent_id: str, who: str, uniqueid: str, key: str, form: CaseForm
) -> svc.Opened:
    """Open (or find, for a key used before) the case of the call on the agent's screen."""
    pop = on_screen(ctx, agent_id, uniqueid)
    call = await _call(ctx, uniqueid)
    data = _case_input(form, call, str(pop.get("language", "")))
    cctx = await case_context(ctx)
    try:
        opened = await svc.open_case(
            cctx,
            data,
            at=ctx.clock(),
            who=who,
            # Per user: one agent's key never answers with another agent's case.
            key=f"web:{who}:{key}"[:64],
            call_id=call.id,
        )
    except CaseKeyReused as exc:
        # The form's key opened another call's case: nothing written, and a new form.
        raise CallActionError("case_key_reused", str(exc)) from exc
    except svc.CaseError as exc:
        raise CallActionError("case_refused", str(exc)) from exc
    case = opened.case
    # The pop now (the call may have moved on to its wrap-up while the case was made)
    # lists the cases of this call, on this page and on a reload: those the store links
    # to the call. A key used before answers with its case only on the same call.
    now = ctx.hub.last_pop.get(agent_id)
    if now is not None and now.get("uniqueid") == uniqueid:
        now["cases"] = await pop_cases(ctx, call.id)
    log.info("console_case_opened", agent=agent_id, case=case.number, made=opened.made)
    return opened


async def transfer(ctx: Console, agent_id: str, who: str, uniqueid: str, unit: str) -> str:
    """Send the caller of the call on screen into the transfer engine for `unit`."""
    pop = on_screen(ctx, agent_id, uniqueid)
    if pop.get("transferred"):
        # A second click (or a reload) must not move a caller already on their way.
        raise CallActionError("transfer_done_before")
    view = ctx.routing_view()
    spec = view.units.get(unit)
    if spec is None:
        raise CallActionError("transfer_no_unit")
    call = await _call(ctx, uniqueid)
    if call.ended_at is not None:
        raise CallActionError("call_gone")
    if ctx.ami is None or not ctx.ami.connected:
        raise CallActionError("phone_down")
    code = spec.primary.number
    # Audited before the move, as a callback is: the caller's call is acted on.
    await audit.record(
        ctx.store,
        at=ctx.clock(),
        who=who,
        action="transfer",
        subject=f"call:{uniqueid}",
        detail=f"to unit {unit} ({code}) from the agent's page",
    )
    request = {
        "Action": "Redirect",
        "Channel": call.channel,
        "Context": AGENT_TRANSFER_CONTEXT,
        "Exten": code,
        "Priority": "1",
    }
    # Marked before the move: the move ends the agent's leg, and the wrap-up's pop
    # (a copy of this one) must already say so.
    pop["transferred"] = unit
    try:
        await ctx.ami.action(request, single=True)
    except (AmiActionFailed, AmiUnavailable) as exc:
        pop.pop("transferred", None)
        if isinstance(exc, AmiUnavailable):
            raise CallActionError("phone_down") from exc
        # "Channel does not exist": the caller hung up between the page and the click.
        log.info("console_transfer_refused", agent=agent_id, error=str(exc))
        raise CallActionError("call_gone") from exc
    log.info("console_transfer", agent=agent_id, unit=unit, code=code)
    return code
