"""Passwords of agency PBX trunks that ask for digest auth: never in the routing tables.

A trunk in `directory.yaml` with `auth_username` answers the PBX's challenge with that
user name and a password from, first to last:

1. the environment variable `HOTLINE_TRUNK_SECRET_<ID>` (the trunk id upper-cased,
   `-` written `_`), for a service manager that injects credentials;
2. the stack's secrets file, `<state dir>/secrets/trunks.yaml`: a mapping of trunk id
   to password, mode 0600 in a 0700 directory (a file others can read is refused).

The PBX chose the password, so it is not held to the agents' strength rules; it must
only be writable into pjsip.conf. Problems are reported like table problems.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from ivr.routing.loader import DIRECTORY, Problem, RoutingError, render_loc
from ivr.routing.tables import RoutingTables
from ivr.routing.yaml_read import read_table

TRUNK_SECRETS_FILE = "trunks.yaml"
ENV_PREFIX = "HOTLINE_TRUNK_SECRET_"
# pjsip.conf reads ";" as a comment and has no quoting: what is left is taken as is.
_PASSWORD = re.compile(r"[A-Za-z0-9!$%&()*+,\-./:<=>?@\[\]^_{|}~]{1,128}")


def secrets_file(state_dir: Path) -> Path:
    return state_dir / "secrets" / TRUNK_SECRETS_FILE


def env_name(trunk_id: str) -> str:
    return ENV_PREFIX + trunk_id.upper().replace("-", "_")


def _password_problem(value: str) -> str | None:
    if _PASSWORD.fullmatch(value):
        return None
    return (
        "a trunk password needs 1 to 128 characters, without spaces, "
        '";", "#", quotes or backslashes'
    )


def _read(path: Path, ids: set[str]) -> tuple[dict[str, str], list[Problem]]:
    file = str(path)
    if not path.exists():
        return {}, []
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        reason = f"mode {mode:04o} lets other users read the trunks' passwords: chmod 600 {path}"
        return {}, [Problem(file, "", reason)]
    data, found, _ = read_table(path)
    problems = [Problem(file, render_loc(loc), reason) for loc, reason in found]
    if data is None:
        return {}, problems
    if not isinstance(data, dict):
        return {}, [*problems, Problem(file, "", "expected a mapping of trunk id to password")]
    out: dict[str, str] = {}
    for key, value in data.items():
        where = str(key)
        if not isinstance(key, str) or not isinstance(value, str):
            problems.append(Problem(file, where, 'write both in quotes: "agency-pbx": "pw"'))
        elif key not in ids:
            problems.append(Problem(file, where, f"no trunk {key!r} in directory.yaml"))
        else:
            out[key] = value
    return out, problems


def trunk_passwords(
    tables: RoutingTables, state_dir: Path, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Each authenticating trunk's password, or `RoutingError` naming what is missing."""
    found, problems = resolve(tables, state_dir, environ)
    if problems:
        raise RoutingError(problems)
    return found


def resolve(
    tables: RoutingTables, state_dir: Path, environ: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[Problem]]:
    """Each authenticating trunk's password, and the problems that keep one from having it."""
    env = os.environ if environ is None else environ
    path = secrets_file(state_dir)
    trunks = tables.directory.trunks
    stored, problems = _read(path, {t.id for t in trunks})
    found: dict[str, str] = {}
    for i, trunk in enumerate(trunks):
        if trunk.auth_username is None:
            continue
        name = env_name(trunk.id)
        where, password = (f"${name}", env.get(name)) if name in env else (str(path), None)
        if password is None:
            password = stored.get(trunk.id)
        if password is None:
            problems.append(
                Problem(
                    str(tables.source / DIRECTORY),
                    f"trunks[{i}].auth_username",
                    f"trunk {trunk.id} authenticates but has no password: add "
                    f'"{trunk.id}": "<password>" to {path} (mode 0600), or set {name}',
                )
            )
            continue
        bad = _password_problem(password)
        if bad is not None:
            problems.append(Problem(where, trunk.id, bad))
            continue
        found[trunk.id] = password
    return found, problems
