"""What is wrong with a routing table: `Problem` (file, field, reason), `RoutingError`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any

from ivr.errors import HotlineError

# A check that failed on data it should have refused with a reason; tests assert it
# never appears.
UNCHECKED = "could not be checked (a defect in the checker; please report it)"
MAX_REASON = 300


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a table: where (file, field path) and why."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.path}: {self.reason}"
            if self.path
            else f"{self.file}: {self.reason}"
        )


class RoutingError(HotlineError):
    """A profile was refused as a whole; `problems` lists everything found wrong."""

    code = "routing.refused"

    def __init__(self, problems: Sequence[Problem], *, summary: str | None = None) -> None:
        self.problems: list[Problem] = list(problems)
        self.summary = summary or f"{len(self.problems)} problem(s) in the routing tables"
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def details(self) -> dict[str, Any]:
        return {"problems": [_problem_dict(p) for p in self.problems]}

    def lines(self) -> list[str]:
        return [*(str(p) for p in self.problems), self.summary]

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "message": self.summary}


def _problem_dict(problem: object) -> dict[str, Any]:
    # Checks beyond the loader may report their own dataclasses, or plain text.
    if is_dataclass(problem) and not isinstance(problem, type):
        return asdict(problem)
    return {"reason": str(problem)}


def render_loc(loc: Iterable[str | int]) -> str:
    """`("agencies", 2, "liaison")` → `agencies[2].liaison`; odd keys are quoted: `options["1"]`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}" if out else part
        else:
            # JSON quoting keeps a key holding quotes or a newline on one readable line.
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def clip(reason: str) -> str:
    # A reason quotes the bad value: a 1 MB value must not make a 1 MB line.
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"
