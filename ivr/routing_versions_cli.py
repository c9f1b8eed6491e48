"""`ivr routing versions|draft|import|export|diff|approve|publish|rollback|…`.

The stack's profile is kept as versions in the case store (see
`ivr.routing.publish`). Who did a thing is the account at the keyboard (the real uid),
as for the audit log's other rows. Every command takes `--json`. The commands
themselves are in `ivr.routing.version_commands`, imported only when one runs, so
`ivr --help` does not load the case store.
"""

from __future__ import annotations

import argparse
from datetime import datetime


def register(routing: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the version commands under `ivr routing`."""

    def add(name: str, help_text: str, handler: str) -> argparse.ArgumentParser:
        p = routing.add_parser(name, help=help_text)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=lambda args: _run(args, handler))
        return p

    add("versions", "published versions, open drafts, and what runs", "versions")
    d = add("draft", "a new draft of the running version", "draft")
    d.add_argument("--note", default=None)
    im = add("import", "a profile directory's table files as a new draft", "import")
    im.add_argument("dir")
    ex = add("export", "write a version's (or draft:N's) table files into DIR", "export")
    ex.add_argument("version", help="a version number, or draft:N")
    ex.add_argument("dir")
    df = add("diff", "field-level changes from A to B (numbers, draft:N, or disk)", "diff")
    df.add_argument("a")
    df.add_argument("b")
    ck = add("check-draft", "check a draft as publishing would, without publishing", "check")
    ck.add_argument("draft", type=draft_id)
    ap = add("approve", "approve a draft (two-person rule): not its author", "approve")
    ap.add_argument("draft", type=draft_id)
    pb = add("publish", "check a draft and make it the running version", "publish")
    pb.add_argument("draft", type=draft_id)
    pb.add_argument("--comment", required=True, help="what changed and why (kept forever)")
    pb.add_argument(
        "--at", type=_moment, default=None, help="publish then instead (ISO time with offset)"
    )
    rb = add("rollback", "publish an earlier version again, as a new version", "rollback")
    rb.add_argument("version", type=int)
    rb.add_argument("--comment", required=True)
    rb.add_argument("--expect", type=int, default=None, help="the version you saw running")
    dc = add("discard", "close a draft unpublished", "discard")
    dc.add_argument("draft", type=draft_id)
    tp = add("two-person", "a supervisor approves each draft before it is published", "two")
    tp.add_argument("state", choices=["on", "off"])
    add("publish-due", "publish the drafts whose scheduled time has come (for a timer)", "due")


def draft_id(text: str) -> int:
    value = text.removeprefix("draft:")
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a draft number (e.g. 3 or draft:3)")
    return int(value)


def _moment(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: write e.g. 2026-12-31T18:00:00+08:00"
        ) from None
    if when.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset: add e.g. +08:00")
    return when


def _run(args: argparse.Namespace, handler: str) -> int:
    from ivr.routing import version_commands

    return version_commands.run(args, handler)
