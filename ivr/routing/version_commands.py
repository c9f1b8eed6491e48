"""The `ivr routing` version commands (registered by `ivr.routing_versions_cli`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

from ivr import config as stack_config
from ivr.domain.clock import system_clock
from ivr.routing import publish as pub
from ivr.routing import sites
from ivr.routing.versions import DocumentError, diff, digest, read_document
from ivr.routing_versions_cli import draft_id
from ivr.store import CaseStore, audit
from ivr.store import routing_versions as rv

EXIT_OK = 0
EXIT_FAIL = 1


# ---------------------------------------------------------------- running a command

Handler = Callable[[argparse.Namespace, CaseStore, pub.Site], Coroutine[Any, Any, Any]]


def run(args: argparse.Namespace, name: str) -> int:
    """Run the command `name` (a handler below) for the stack; errors are reasons."""
    handler: Handler = _HANDLERS[name]
    cfg = stack_config.load(stack_config.resolve_state_dir(args.state_dir))

    async def go() -> Any:
        store = await CaseStore.open(cfg.database_url)
        try:
            await store.migrate()
            return await handler(args, store, sites.stack_site(cfg))
        finally:
            await store.close()

    try:
        result = asyncio.run(go())
    except pub.PublishRefused as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        if args.json:
            print(json.dumps({"refused": [p.as_json() for p in exc.problems]}, ensure_ascii=False))
        print(f"ivr: {exc}; nothing was published", file=sys.stderr)
        return EXIT_FAIL
    except (rv.VersionError, DocumentError) as exc:
        if args.json:
            print(json.dumps({"error": str(exc), "kind": type(exc).__name__}, ensure_ascii=False))
        print(f"ivr: {exc}", file=sys.stderr)
        return EXIT_FAIL
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    else:
        print(_text(result))
    ok = not (isinstance(result, dict) and result.get("ok") is False)
    return EXIT_OK if ok else EXIT_FAIL


def _text(result: Any) -> str:
    if isinstance(result, dict) and "text" in result:
        return str(result["text"])
    return json.dumps(result, ensure_ascii=False, indent=2, default=str)


def _who() -> str:
    return audit.os_user()


# ---------------------------------------------------------------- the commands


async def _versions(args: argparse.Namespace, store: CaseStore, site: pub.Site) -> Any:
    running = await pub.ensure_imported(store, site, by=_who(), now=system_clock())
    on_disk = digest(read_document(site.routing_dir))
    listed = await rv.versions(store, site.profile)
    open_drafts = await rv.drafts(store, site.profile)
    rule = await rv.two_person_rule(store, site.profile)
    lines = [
        f"{site.profile}: version {running.number} is running"
        + ("" if on_disk == running.digest else " (the files on disk differ: edited by hand)")
        + (", two-person rule on" if rule else ""),
    ]
    for v in listed:
        extra = f" (rollback to v{v.rollback_of})" if v.rollback_of else ""
        approved = f", approved by {v.approved_by}" if v.approved_by else ""
        lines.append(
            f"  v{v.number}  {v.published_at:%Y-%m-%d %H:%M} UTC  {v.published_by}{approved}"
            f"{extra}: {v.comment}"
        )
    for d in open_drafts:
        state = "approved" if d.approved else "not approved"
        when = f", to publish at {d.scheduled_at:%Y-%m-%d %H:%M} UTC" if d.scheduled_at else ""
        refused = f"\n      last refused: {d.refusal.splitlines()[0]}" if d.refusal else ""
        lines.append(
            f"  draft:{d.id} from v{d.base}, r{d.revision}, by {d.updated_by}, {state}{when}"
            f"{refused}"
        )
    return {
        "profile": site.profile,
        "running": running.number,
        "disk_matches": on_disk == running.digest,
        "two_person_rule": rule,
        "versions": [v.summary() for v in listed],
        "drafts": [d.summary() for d in open_drafts],
        "text": "\n".join(lines),
    }


def _draft_text(d: rv.DraftRecord, head: str) -> dict[str, Any]:
    return {"draft": d.summary(), "text": f"{head}: draft:{d.id} (from v{d.base}, r{d.revision})"}


async def _draft(args: argparse.Namespace, store: CaseStore, site: pub.Site) -> Any:
    made = await pub.new_draft(store, site, by=_who(), now=system_clock(), note=args.note)
    return _draft_text(made, "made")


async def _import(args: argparse.Namespace, store: CaseStore, site: pub.Site) -> Any:
    made = await pub.import_directory(store, site, Path(args.dir), by=_who(), now=system_clock())
    running = await rv.version(store, site.profile, made.base)
    changes = diff(running.files, made.files)
    problems = await asyncio.to_thread(pub.check_files, site, made.files)
    result = _draft_text(made, "imported")
    result["changes"] = [c.as_json() for c in changes]
    result["problems"] = [p.as_json() for p in problems]
    lines = [result["text"], *(f"  {c}" for c in changes)]
    if problems:
        lines.append(f"  {len(problems)} problem(s) to fix before it can be published:")
        lines += [f"  {p}" for p in problems]
    result["text"] = "\n".join(lines)
    return result


async def _files_of(ref: str, store: CaseStore, site: pub.Site) -> Mapping[str, str]:
    if ref == "disk":
        return read_document(site.routing_dir)
    if ref.startswith("draft:"):
        return (await rv.draft(store, draft_id(ref))).files
    if not ref.removeprefix("v").isdigit():
        raise rv.VersionError(f"{ref!r}: give a version number, draft:N or disk")
    await pub.ensure_imported(store, site, by=_who(), now=system_clock())
    return (await rv.version(store, site.profile, int(ref.removeprefix("v")))).files


async def _export(args: argparse.Namespace, store: CaseStore, site: pub.Site) -> Any:
    files = await _files_of(args.version, store, site)
    written = pub.export_files(files, Path(args.dir))
    return {"written": [str(p) for p in written], "text": "\n".join(str(p) for p in written)}


async def _diff(args: argparse.Namespace, store: CaseStore, site: pub.Site) -> Any:
    changes = diff(await _files_of(args.a, store, site), await _files_of(args.b, store, site))
    return {
        "changes": [c.as_json() for c in changes],
        "text": "\n".join(str(c) for c in changes) or "no changes",
    }


async def _check(args: argparse.Namespace, store: CaseStore, site: pub.Site) -> Any:
    d = await rv.draft(store, args.draft)
    problems = await asyncio.to_thread(pub.check_files, site, d.files)
    return {
        "ok": not problems,
        "problems": [p.as_json() for p in problems],
        "text": "\n".join(str(p) for p in problems) or f"draft:{d.id}: ok",
    }


async def _approve(args: argparse.Namespace, store: CaseStore, site: pub.Site) -> Any:
    d = await rv.draft(store, args.draft)
    done = await rv.approve(store, d.id, revision=d.revision, by=_who(), at=system_clock())
    return _draft_text(done, f"approved by {done.approved_by}")


def _published(done: pub.Published) -> dict[str, Any]:
    result = done.as_json()
    lines = [f"version {done.version.number} published: {done.version.comment}"]
    lines += [f"  {c}" for c in done.changes]
    lines += list(done.reload.lines)
    result["ok"] = done.reload.ok
    result["text"] = "\n".join(lines)
    return result


async def _publish(args: argparse.Namespace, store: CaseStore, site: pub.Site) -> Any:
    now = system_clock()
    if args.at is not None:
        if args.at <= now:
            raise rv.VersionError(f"--at {args.at.isoformat()} is not in the future")
        # Checked now too, so a draft that cannot go live is known before its time.
        d = await rv.draft(store, args.draft)
        problems = await asyncio.to_thread(pub.check_files, site, d.files)
        if problems:
            raise pub.PublishRefused(problems)
        done = await rv.schedule(
            store, args.draft, when=args.at, comment=args.comment, by=_who(), at=now
        )
        return _draft_text(done, f"to be published at {args.at.isoformat()} (checked again then)")
    return _published(
        await pub.publish(store, site, args.draft, by=_who(), comment=args.comment, now=now)
    )


async def _rollback(args: argparse.Namespace, store: CaseStore, site: pub.Site) -> Any:
    return _published(
        await pub.rollback(
            store,
            site,
            args.version,
            by=_who(),
            comment=args.comment,
            now=system_clock(),
            expected_head=args.expect,
        )
    )


async def _discard(args: argparse.Namespace, store: CaseStore, site: pub.Site) -> Any:
    await rv.discard(store, args.draft, by=_who(), at=system_clock())
    return {"discarded": args.draft, "text": f"draft:{args.draft} discarded"}


async def _two(args: argparse.Namespace, store: CaseStore, site: pub.Site) -> Any:
    on = args.state == "on"
    await rv.set_two_person_rule(store, site.profile, on=on, by=_who(), at=system_clock())
    return {"two_person_rule": on, "text": f"{site.profile}: two-person rule {args.state}"}


async def _due(args: argparse.Namespace, store: CaseStore, site: pub.Site) -> Any:
    outcomes = await pub.publish_due(store, site, system_clock())
    lines = []
    for o in outcomes:
        if o.published is not None:
            lines.append(f"draft:{o.draft_id}: published as version {o.published.version.number}")
        else:
            lines.append(f"draft:{o.draft_id}: refused: {o.refused}")
            lines += [f"  {p}" for p in o.problems]
    return {
        "ok": all(o.published is not None for o in outcomes),
        "outcomes": [
            {
                "draft": o.draft_id,
                "version": o.published.version.number if o.published else None,
                "refused": o.refused,
                "problems": [p.as_json() for p in o.problems],
            }
            for o in outcomes
        ],
        "text": "\n".join(lines) or "nothing due",
    }


_HANDLERS: dict[str, Handler] = {
    "versions": _versions,
    "draft": _draft,
    "import": _import,
    "export": _export,
    "diff": _diff,
    "check": _check,
    "approve": _approve,
    "publish": _publish,
    "rollback": _rollback,
    "discard": _discard,
    "two": _two,
    "due": _due,
}
