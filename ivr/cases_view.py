"""How a case is shown: personal data masked unless unmasked, and every view audited."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from ivr.cases_service import CaseError
from ivr.domain.cases.deidentify import deidentify, mask_address, mask_name
from ivr.domain.masking import mask_numbers_in, mask_text, shown_number
from ivr.domain.tickets import LOCAL_TZ
from ivr.store import CaseStore, audit
from ivr.store.cases import CaseEventRecord, CaseRecord, LinkRecord

# Never shown, masked or not: the password's hash and the caller's linkage key.
_HIDDEN = frozenset({"password_hash", "caller_key", "idempotency_key"})


def require_reason(unmask: bool, reason: str | None) -> None:
    """Unmasking a citizen's data needs a stated reason (T10(3), P7(5)): it is audited."""
    if unmask and not (reason and reason.strip()):
        raise CaseError(
            "--unmask needs --reason: say why you need the citizen's data in clear "
            "(and whose consent you have); it is written to the audit log"
        )


async def audit_view(
    store: CaseStore, subject: str, *, unmask: bool, reason: str | None, detail: str, at: datetime
) -> None:
    await audit.record(
        store,
        at=at,
        who=audit.os_user(),
        action="unmask" if unmask else "view",
        subject=subject,
        detail=detail[:256],
        reason=reason,
    )


def masked_text(case: CaseRecord, text: str | None) -> str | None:
    """Free text with the caller's name, address, phones, IDs and e-mails masked."""
    if text is None:
        return None
    names = [case.caller_name or ""]
    addresses = [case.caller_address or ""]
    return mask_numbers_in(deidentify(text, names, addresses))


def case_dict(
    case: CaseRecord,
    events: list[CaseEventRecord] | None = None,
    links: list[LinkRecord] | None = None,
    *,
    unmask: bool,
) -> dict[str, Any]:
    """A case as plain data for JSON: masked unless `unmask`; secrets never included."""
    data: dict[str, Any] = {
        f.name: getattr(case, f.name)
        for f in fields(case)
        if f.name not in _HIDDEN and f.name != "clocks"
    }
    data["has_password"] = case.password_hash is not None
    data["clocks"] = [asdict(c) for c in case.clocks]
    if events is not None:
        data["history"] = [asdict(e) | {"data": dict(e.data)} for e in events]
    if links is not None:
        data["links"] = [asdict(link) for link in links]
    if unmask:
        return data
    data["caller_number"] = shown_number(case.caller_number, unmask=False)
    data["caller_name"] = mask_name(case.caller_name) if case.caller_name else None
    data["caller_email"] = mask_text(case.caller_email) or None
    data["caller_address"] = mask_address(case.caller_address) if case.caller_address else None
    data["summary"] = masked_text(case, case.summary)
    data["reply"] = masked_text(case, case.reply)
    for event in data.get("history", []):
        event["text"] = masked_text(case, event["text"])
        event["data"] = json.loads(
            masked_text(case, json.dumps(event["data"], ensure_ascii=False)) or "{}"
        )
    return data


def _local(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"


def format_case(
    case: CaseRecord,
    events: list[CaseEventRecord],
    links: list[LinkRecord],
    *,
    unmask: bool,
    now: datetime,
) -> str:
    shown = case_dict(case, events, links, unmask=unmask)
    where = " ".join(x for x in (case.district, shown["address"]) if x) or "-"
    rows = [
        ("kind", case.kind),
        ("state", case.state + (f", grade {case.grade}" if case.grade else "")),
        ("agency/unit", f"{case.agency_id} / {case.unit_id or '-'}"),
        ("officer", case.officer or "-"),
        ("item", str(case.item) if case.item is not None else (case.category or "-")),
        ("place", where),
        ("caller", f"{shown['caller_number']} {shown['caller_name'] or ''}".strip()),
        (
            "received",
            _local(case.created_at) + ("  (back-filled from paper)" if case.from_paper else ""),
        ),
        ("replied", _local(case.first_reply_at)),
        ("closed", _local(case.closed_at)),
        ("satisfaction", str(case.satisfaction) if case.satisfaction else "-"),
        ("de-identified", _local(case.deidentified_at)),
    ]
    lines = [f"case {case.number} (id {case.id}), times in {LOCAL_TZ.key}"]
    lines += [f"  {key:14} {value}" for key, value in rows]
    lines.append(f"  {'summary':14} {shown['summary']}")
    if case.reply:
        lines.append(f"  {'reply':14} {shown['reply']}")
    lines.append("clocks:")
    for c in case.clocks:
        if c.stopped_at is None:
            state = "OVERDUE" if c.due_at < now else "running"
        else:
            state = "met" if c.stopped_at <= c.due_at else "met late"
        lines.append(
            f"  {c.clock:12} due {_local(c.due_at)}  {state}"
            + (f" {_local(c.stopped_at)}" if c.stopped_at else "")
        )
    lines.append(f"links ({len(links)}):")
    lines += [
        f"  {link.role:9} call {link.call_id or '-'} ticket {link.ticket_id or '-'}"
        for link in links
    ]
    lines.append(f"history ({len(events)}):")
    for e in shown["history"]:
        text = f": {e['text']}" if e["text"] else ""
        lines.append(f"  {_local(e['at'])}  {e['who']:12} {e['action']:19} -> {e['state']}{text}")
    return "\n".join(lines)
