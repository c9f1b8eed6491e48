"""What publishing a routing version is given and gives back: the site it runs on, the
problems it finds, its refusals and its outcomes.

`ivr.routing.publish` does the publishing; these are kept apart so the web and the
stack can name a site without loading the whole of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.errors import ExitStatus
from ivr.routing.loader import Problem
from ivr.routing.versions import Change
from ivr.store.routing_versions_records import VersionError, VersionRecord

SYSTEM = "system"


@dataclass(frozen=True)
class FieldProblem:
    """A checker problem placed in a draft: table file name, field path, reason."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.path}: {self.reason}"
            if self.path
            else f"{self.file}: {self.reason}"
        )

    def as_json(self) -> dict[str, str]:
        return {"file": self.file, "path": self.path, "reason": self.reason, "text": str(self)}


@dataclass(frozen=True)
class ReloadOutcome:
    """What reloading the running stack said: ok, and its lines for the admin."""

    ok: bool
    lines: tuple[str, ...] = ()


# The `ivr routing check` code, run on a profile directory.
Check = Callable[[Path], list[Problem]]
# The `ivr routing reload` code path, run once the new files are in place.
Reload = Callable[[], Awaitable[ReloadOutcome]]


@dataclass(frozen=True)
class Site:
    """Where a profile runs: its directory, how it is checked and how it is reloaded."""

    profile: str
    routing_dir: Path
    lock_dir: Path
    check: Check
    reload: Reload


class PublishRefused(VersionError):
    """The checker found problems: nothing was published."""

    code = "routing.publish_refused"

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__(f"refused: {len(self.problems)} problem(s) in the draft")


class NeedsApproval(VersionError):
    """The profile's two-person rule: a supervisor approves the draft first."""

    code = "routing.needs_approval"
    exit_status = ExitStatus.REFUSED


@dataclass(frozen=True)
class Published:
    version: VersionRecord
    changes: list[Change]
    reload: ReloadOutcome

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version.summary(),
            "changes": [c.as_json() for c in self.changes],
            "reload": {"ok": self.reload.ok, "lines": list(self.reload.lines)},
        }


@dataclass(frozen=True)
class DueOutcome:
    draft_id: int
    published: Published | None = None
    refused: str | None = None
    problems: list[FieldProblem] = field(default_factory=list)
