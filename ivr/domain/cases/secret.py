"""The petition password's hash (argon2id) and the caller key that survives masking.

The password is told to the citizen once (P6(2)1) and stored only as an argon2id hash
from `argon2-cffi`, so a stolen database does not give away who may read which case.

Parameters are OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane) rather than the
library's default (64 MiB, 3 passes, 4 lanes): a petition is made while the citizen is
on the line, on a 2-core server that is also carrying calls, and the default costs about
a second of CPU there. The password is 6 digits either way; what keeps it safe is that
the hash never leaves the store and the IVR ends an attempt after 3 wrong tries.
"""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    """An argon2id hash of `password`, with its salt and parameters, as one string."""
    return _HASHER.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """True when `password` is the one hashed; False for a wrong one or no hash."""
    if not stored_hash:
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def caller_key(number: str | None) -> str | None:
    """A stable key for the citizen's number, kept after the number itself is masked.

    Three strikes (T6(6)2) counts reports by the same citizen; after de-identification
    the number is gone, so the count goes by this key. Only the digits count: the same
    number keyed with or without +886 or dashes is the same citizen.
    """
    if not number:
        return None
    digits = "".join(ch for ch in number if ch.isdigit())
    if digits.startswith("886"):
        digits = "0" + digits[3:]
    if not digits:
        return None
    return hashlib.sha256(f"hotline1999-caller:{digits}".encode()).hexdigest()
