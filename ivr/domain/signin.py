"""Sign-in rules of the web console: lockout with backoff, session expiry. Pure.

The clock is passed in; nothing here reads it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# Failed sign-ins allowed before the account is locked for a while.
FREE_FAILURES = 5
# The first lockout, doubled on each further failure, up to the cap.
LOCKOUT_START = timedelta(seconds=30)
LOCKOUT_MAX = timedelta(minutes=15)
# A session ends after this long without a request, and in any case after a shift.
SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=12)
# A password an agent types many times a day, yet not guessable from a list.
MIN_PASSWORD_LENGTH = 12


def lockout_after(failures: int, now: datetime) -> datetime | None:
    """When an account may try again after `failures` failures in a row; None: now."""
    if failures < FREE_FAILURES:
        return None
    extra = failures - FREE_FAILURES
    # Capped before it is computed: 2**extra grows without limit.
    delay: timedelta = LOCKOUT_START * (2 ** min(extra, 10))
    until: datetime = now + min(delay, LOCKOUT_MAX)
    return until


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def session_expired(created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
    """Idle too long, or older than a shift."""
    return now - last_seen_at > SESSION_IDLE or now - created_at > SESSION_MAX


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if password.strip() != password:
        return "a password may not start or end with a space"
    return None
