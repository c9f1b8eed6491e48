"""The one base class of every error the project raises on purpose.

An error the hotline expects (a refused table, an unknown ticket, a store that is down)
is a `HotlineError`: it carries a stable `code` that scripts can match on, `details`
that say what and where, and the process exit status the CLI returns for it. The CLI
shows it in one place (`ivr.cli.errors`): one line for a person, or JSON with `--json`;
never a traceback.

This module imports nothing from the project, so every package (the pure domain
included) may derive its errors from it without depending on anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any, ClassVar


class ExitStatus(IntEnum):
    """What `ivr` returns; documented in docs/cli.md and in `ivr --help`."""

    OK = 0
    FAILURE = 1  # the command failed, or found problems (a refused table, a check)
    USAGE = 2  # the command line is wrong (argparse's own status)
    NOT_FOUND = 3  # the thing named does not exist (ticket, call, extension)
    REFUSED = 4  # refused by a rule, or in conflict with the current state
    UNAVAILABLE = 5  # a service needed is down or unreachable (store, Asterisk, AMI, ARI)


class HotlineError(Exception):
    """An expected failure, with a stable code, details, and an exit status.

    Subclasses set `code` (dotted, lower case, never renamed once released) and
    `exit_status`; they may pass `details=` or override the `details` property. The
    constructor takes the same positional arguments as `Exception`, so existing
    subclasses keep their signatures.
    """

    code: ClassVar[str] = "error"
    exit_status: ClassVar[ExitStatus] = ExitStatus.FAILURE

    def __init__(self, *args: object, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(*args)
        self._details: dict[str, Any] = dict(details or {})

    @property
    def details(self) -> dict[str, Any]:
        # getattr: a subclass whose __init__ does not call ours still has details.
        return dict(getattr(self, "_details", {}))

    def lines(self) -> list[str]:
        """What a person reads, one line each; the CLI prefixes the last with `ivr:`."""
        return str(self).splitlines() or [type(self).__name__]

    def as_dict(self) -> dict[str, Any]:
        """The JSON body `ivr --json` prints: `{"error": as_dict()}`."""
        return {
            "code": self.code,
            "message": str(self) or type(self).__name__,
            "details": self.details,
        }


class NotFound(HotlineError):
    """The thing named does not exist."""

    code = "not_found"
    exit_status = ExitStatus.NOT_FOUND


class Refused(HotlineError):
    """A rule forbids what was asked, or it conflicts with the current state."""

    code = "refused"
    exit_status = ExitStatus.REFUSED


class Unavailable(HotlineError):
    """A service the command needs is down or unreachable."""

    code = "unavailable"
    exit_status = ExitStatus.UNAVAILABLE
