"""Case-store reads for the CLI, as plain dicts ready for JSON or a table."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from ivr import service_switches as switches
from ivr.config import StackConfig
from ivr.domain.clock import system_clock
from ivr.domain.masking import mask_numbers_deep, mask_text, shown_number
from ivr.errors import NotFound, Refused
from ivr.store import CallRecord, CaseStore, audit


class UnmaskRefused(Refused):
    """`--unmask` without a `--reason`: the view is not made."""

    code = "privacy.unmask_refused"


class CallNotFound(NotFound):
    """No call in the store has that id."""

    code = "call.not_found"


def masked_call(data: dict[str, Any], *, unmask: bool) -> dict[str, Any]:
    """A call as shown: caller number masked, name hidden, numbers in events masked."""
    if unmask:
        return data
    shown = mask_numbers_deep(data)
    shown["caller_number"] = shown_number(data.get("caller_number"), unmask=False)
    shown["caller_name"] = mask_text(data.get("caller_name")) or None
    return dict(shown)


def _require_reason(unmask: bool, reason: str | None) -> None:
    if unmask and not (reason and reason.strip()):
        raise UnmaskRefused(
            "--unmask needs --reason: say why you need the citizen's data in clear "
            "(and whose consent you have); it is written to the audit log"
        )


async def _audit(
    store: CaseStore, subject: str, *, unmask: bool, reason: str | None, detail: str
) -> None:
    await audit.record(
        store,
        at=system_clock(),
        who=audit.os_user(),
        action="unmask" if unmask else "view",
        subject=subject,
        detail=detail[:256],
        reason=reason,
    )


def call_dict(record: CallRecord) -> dict[str, Any]:
    data = {f.name: getattr(record, f.name) for f in fields(record) if f.name != "events"}
    data["events"] = [
        {"seq": e.seq, "at": e.at, "kind": e.kind, "data": dict(e.data)} for e in record.events
    ]
    return data


async def list_calls(
    cfg: StackConfig, limit: int, *, unmask: bool = False, reason: str | None = None
) -> list[dict[str, Any]]:
    _require_reason(unmask, reason)
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
        calls = [call_dict(c) for c in await store.list_calls(limit=limit)]
        ids = ",".join(str(c["id"]) for c in calls)
        await _audit(
            store, "calls", unmask=unmask, reason=reason, detail=f"list of {len(calls)}: {ids}"
        )
        return [masked_call(c, unmask=unmask) for c in calls]
    finally:
        await store.close()


async def show_call(
    cfg: StackConfig, call_id: int, *, unmask: bool = False, reason: str | None = None
) -> dict[str, Any] | None:
    _require_reason(unmask, reason)
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
        record = await store.get_call(call_id)
        if record is None:
            return None
        await _audit(store, f"call:{call_id}", unmask=unmask, reason=reason, detail="show")
        data = call_dict(record)
        # The agent who took the call sees what was made from it: a ticket made after
        # an outage, and the message it carries, were never read out to the caller.
        data["tickets"] = [
            {
                "ticket_number": t.number,
                "reason": t.reason,
                "status": t.status,
                "after_outage": t.after_outage,
                "message": t.message_path,
            }
            for t in await store.tickets_of_call(call_id)
        ]
        return masked_call(data, unmask=unmask)
    finally:
        await store.close()


async def upgrade(cfg: StackConfig) -> None:
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
    finally:
        await store.close()


async def set_mode(cfg: StackConfig, *, active: bool, by: str, note: str | None) -> str:
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
        mode = await switches.set_disaster(
            store, active=active, at=system_clock(), by=by, note=note
        )
    finally:
        await store.close()
    return (
        f"service mode: {mode} (24-hour service with the disaster announcement)"
        if (mode == "disaster")
        else f"service mode: {mode}"
    )


async def show_mode(cfg: StackConfig) -> str:
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
        mode = await store.current_mode(system_clock())
        history = await store.mode_history(limit=5)
    finally:
        await store.close()
    lines = [f"service mode: {mode}"]
    lines += [
        f"  {h.changed_at:%Y-%m-%d %H:%M} {h.mode} {'on' if h.active else 'off'} by {h.changed_by}"
        for h in history
    ]
    return "\n".join(lines)
