"""What "the database is down" looks like, defined once for the store and the spool.

An outage is an error that says nothing about the write: the server cannot be reached,
is starting or stopping, or SQLite could not take its lock. Such a write is spooled
and written later; any other error is the write's own, and is raised to its caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from ivr.errors import ExitStatus, HotlineError


# The name is fixed by the store's published API, so N818's Error suffix does not apply.
class StoreUnavailable(HotlineError):
    """The database cannot be reached or has gone away; the call may carry on without it."""

    code = "store.unavailable"
    exit_status = ExitStatus.UNAVAILABLE


# SQLSTATE classes that mean "the server is not there right now", not "bad data":
# 08 connection exception, 53 insufficient resources, 57 operator intervention (a
# server starting or shutting down: 57P01/57P03), 58 system error.
OUTAGE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})
# asyncpg errors that carry no SQLSTATE but are the same outage.
_OUTAGE_ERROR_NAMES = frozenset({"ConnectionDoesNotExistError", "CannotConnectNowError"})


def _has_outage_state(error: object) -> bool:
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return isinstance(state, str) and state[:2] in OUTAGE_SQLSTATE_CLASSES


def as_unavailable(exc: BaseException) -> StoreUnavailable | None:  # noqa: PLR0911
    """The StoreUnavailable that an outage error stands for; None for a write's own error.

    asyncpg raises some errors while connecting, before SQLAlchemy can wrap them
    (57P03 "the database system is shutting down", 08003 "connection was closed in the
    middle of operation"); they are the same outage as their wrapped kin.
    """
    if isinstance(exc, StoreUnavailable):
        return exc
    if isinstance(exc, (OSError, TimeoutError)):
        return StoreUnavailable(f"case store unreachable: {exc}")
    if isinstance(exc, IntegrityError):
        return None
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        cause = getattr(orig, "__cause__", None)
        outage = (
            isinstance(exc, (OperationalError, InterfaceError))
            or exc.connection_invalidated
            or any(_has_outage_state(e) for e in (orig, cause))
            or type(cause or orig).__name__ in _OUTAGE_ERROR_NAMES
        )
        if outage:
            return StoreUnavailable(f"case store unavailable: {type(orig).__name__}")
        return None
    if _has_outage_state(exc) or type(exc).__name__ in _OUTAGE_ERROR_NAMES:
        return StoreUnavailable(f"case store unavailable: {type(exc).__name__}")
    return None


@contextmanager
def unavailable_on_outage() -> Iterator[None]:
    """Raise StoreUnavailable for an outage; let the write's own errors through as they are."""
    try:
        yield
    except Exception as exc:
        unavailable = as_unavailable(exc)
        if unavailable is None or unavailable is exc:
            raise
        raise unavailable from exc
