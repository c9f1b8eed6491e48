"""Agents' SIP secrets: which are too weak to register a phone on a live hotline.

Pure rules, shared by the table loader (a secret written in agents.yaml) and by the
secrets file and environment reader (`ivr.routing.agent_secrets`). A profile marked
`demo: true` (the shipped samples) is exempt: its secrets are published with the code
and protect nothing but a laptop.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ivr.routing.tables import AgentsTable
    from ivr.routing.yaml_read import Loc

# Long enough that an online guesser limited by fail2ban never gets there.
MIN_LIVE_SECRET = 16
# The pattern of the shipped samples (dev-7001-Taipei!): published, so never secret.
_SAMPLE = re.compile(r"dev-[0-9]+-[A-Za-z]+!?", re.IGNORECASE)
# What people type when a form asks for a password; a guesser tries these first.
_COMMON = (
    "password",
    "passw0rd",
    "secret",
    "changeme",
    "letmein",
    "qwerty",
    "asterisk",
    "hotline",
    "1999",
    "123456",
    "admin",
    "welcome",
)
_CLASSES = (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")


def weakness(secret: str, *, extension: str, agent_id: str) -> str | None:
    """Why `secret` is not fit for a live phone, or None when it is."""
    lowered = secret.lower()
    common = [w for w in _COMMON if w in lowered]
    classes = sum(1 for c in _CLASSES if re.search(c, secret))
    rules = (
        (
            _SAMPLE.fullmatch(secret) is not None,
            "is a published sample secret (dev-<extension>-<city>!); set a real one",
        ),
        (
            len(secret) < MIN_LIVE_SECRET,
            f"is too short for a live hotline: {len(secret)} characters, "
            f"at least {MIN_LIVE_SECRET} are needed",
        ),
        (
            extension in secret or (len(agent_id) >= 3 and agent_id.lower() in lowered),
            "contains the phone's own extension or the agent's id, which a guesser tries first",
        ),
        (
            bool(common),
            f"is built on the common word {common[0] if common else ''!r}, "
            "which a guesser tries first",
        ),
        (
            classes < 3 and len(secret) < 2 * MIN_LIVE_SECRET,
            "mixes too few kinds of character: use three of lower case, upper case, digits "
            f"and symbols, or at least {2 * MIN_LIVE_SECRET} characters",
        ),
        (len(set(secret)) < MIN_LIVE_SECRET // 2, "repeats too few distinct characters"),
    )
    return next((reason for broken, reason in rules if broken), None)


SECRETS_HELP = (
    "the stack's secrets file (secrets/agents.yaml in its state directory, mode 0600) "
    "or the environment variable HOTLINE_AGENT_SECRET_<extension>"
)


def table_secret_problems(agents: AgentsTable) -> list[tuple[Loc, str]]:
    """A live profile (not `demo: true`) keeps every SIP secret out of its tables.

    Tables are shared, copied and kept in version control; a secret there leaks with
    them. The reason also says when the secret is weak, so it is not simply moved.
    """
    found: list[tuple[Loc, str]] = []
    for i, agent in enumerate(agents.agents):
        if agent.secret is None:
            continue
        reason = (
            "a live profile (profile.yaml has no demo: true) keeps SIP secrets out of the "
            f"tables: move it to {SECRETS_HELP}"
        )
        weak = weakness(agent.secret, extension=agent.extension, agent_id=agent.id)
        if weak is not None:
            reason += f"; this secret also {weak}"
        found.append((("agents", i, "secret"), reason))
    return found
