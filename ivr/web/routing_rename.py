"""A queue or an agent renamed while something still refers to it is refused (issue 17).

A queue's id is what menus, closed-hours routes and other queues (key 3) name; an
agent's is what console accounts sign in as. Renaming one of them in a draft would
leave those pointing at nothing: the draft would save, and fail its check only at
publish. So a rename is judged as a removal is: if anything refers to the old id, it
is refused at the id field, nothing saved, with every place that refers to it and, for
each, what `ivr routing check` says of it after the rename (`no queue 'general' in
agents.yaml`). References are not renamed with it: an admin changes each one (or adds
the new queue beside the old, moves them over, then removes the old) knowingly.

The checker's side is found by running it on the renamed draft, so a table field that
names a queue or an agent and that `ivr.routing.references` does not know yet is
caught all the same (its problem is listed on its own).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ivr.routing import publish as pub
from ivr.routing.loader import render_loc
from ivr.routing.references import Reference
from ivr.store import routing_versions as rv
from ivr.web import routing_admin as admin
from ivr.web import routing_lists as lists


class RenameRefused(lists.FormRefused):
    """The id of a queue or agent that something refers to was changed: refused."""

    code = "web.rename_referred"

    def __init__(
        self,
        detail: str,
        at_field: dict[str, list[str]],
        problems: list[pub.FieldProblem],
        refs: Sequence[Reference],
    ) -> None:
        super().__init__(detail, at_field, problems)
        self.refs = list(refs)


def _under(problem: pub.FieldProblem, ref: Reference) -> bool:
    return problem.file == ref.file and (
        problem.path == ref.path
        or problem.path.startswith(ref.path + ".")
        or problem.path.startswith(ref.path + "[")
    )


def lines(refs: Sequence[Reference], made: Sequence[pub.FieldProblem]) -> list[str]:
    """Each place that refers to the old id, with what the checker says of it after the
    rename; then what the checker says of places no reference names. Pure."""
    out: list[str] = []
    said: set[pub.FieldProblem] = set()
    for ref in refs:
        mine = [p for p in made if _under(p, ref)]
        said.update(mine)
        checker = "; ".join(f"{p.path}: {p.reason}" for p in mine)
        out.append(f"{ref} (ivr routing check: {checker})" if checker else str(ref))
    out.extend(str(p) for p in made if p not in said)
    return out


def summary(kind: str, old: str, new: str, count: int) -> str:
    """Why a rename is refused, and what to do instead. Pure."""
    if kind == "agent":
        instead = (
            f"keep {old}; add agent {new} beside it and a console account for it, "
            f"disable the old account, then remove {old}"
        )
    else:
        instead = (
            f"point them at another queue first, or add queue {new} beside {old}, "
            f"move them to it, then remove {old}"
        )
    return (
        f"{kind} {old} cannot be renamed to {new}: {count} place(s) still refer to {old} "
        f"and would lead to no {kind}; nothing was saved. Instead, {instead}"
    )


async def refuse_if_referred(
    console_site: pub.Site,
    draft: rv.DraftRecord,
    *,
    file: str,
    loc: tuple[str | int, ...],
    kind: str,
    old: str,
    new: str,
    new_text: str,
    refs: Sequence[Reference],
) -> None:
    """Refuse the rename of `old` to `new` (row `loc` of `file`, written as `new_text`)
    if anything refers to `old`: `refs` (what `references` or the console's accounts
    name), or a problem the checker finds outside the row once it is renamed."""
    before = set(await admin.check(console_site, draft))
    after = await asyncio.to_thread(pub.check_files, console_site, {**draft.files, file: new_text})
    made = [p for p in after if p not in before and not lists.at(p, file, loc)]
    if not refs and not made:
        return
    found = lines(refs, made)
    at_id = pub.FieldProblem(file, render_loc((*loc, "id")), summary(kind, old, new, len(found)))
    raise RenameRefused(
        f"{file}: {kind} {old} is still referred to; the rename is refused, nothing was saved",
        {"id": [at_id.reason, *found]},
        [at_id, *made],
        refs,
    )
