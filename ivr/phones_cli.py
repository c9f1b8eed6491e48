"""`ivr phones EXT`: what one agent's SIP phone needs to register, and nothing more.

The secret comes from where the generated config takes it (`ivr.routing.agent_secrets`):
the environment, the stack's secrets file, or a demo profile's tables. `--new-secret`
generates a strong one into the secrets file (0600); the operator then regenerates the
Asterisk config (`ivr asterisk config`, or a reload) so the phone's account uses it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ivr.config import StackConfig
from ivr.routing.agent_secrets import resolve, store_new_secret
from ivr.routing.loader import Problem, RoutingError, load_profile


def register(sub: Any) -> None:
    """`ivr phones EXT` on the `ivr` parser."""
    ph = sub.add_parser("phones", help="provisioning details for one agent's SIP phone")
    ph.add_argument("extension", help="the agent's extension, e.g. 7001")
    ph.add_argument(
        "--new-secret",
        action="store_true",
        help="generate a strong secret into the stack's secrets file (0600) first",
    )
    ph.add_argument("--json", action="store_true", help="JSON output (errors too)")
    ph.set_defaults(func=_cmd_phones)


def _cmd_phones(args: argparse.Namespace) -> int:
    from ivr.cli.common import load

    details = provisioning(load(args), args.extension, new_secret=args.new_secret)
    print(render(details, as_json=args.json))
    return 0


# The only transport the generated config offers agents' phones today.
TRANSPORT = "udp"


def provisioning(cfg: StackConfig, extension: str, *, new_secret: bool = False) -> dict[str, str]:
    """server, port, user, password and transport for the phone at `extension`.

    Raises `RoutingError` (file, field, reason) when the tables or the secret are wrong.
    """
    tables = load_profile(cfg.routing_dir)
    index = next((i for i, a in enumerate(tables.agents.agents) if a.extension == extension), None)
    if index is None:
        known = ", ".join(a.extension for a in tables.agents.agents)
        raise RoutingError(
            [
                Problem(
                    str(tables.source / "agents.yaml"),
                    "agents",
                    f"no agent has extension {extension!r}; agents' extensions: {known}",
                )
            ]
        )
    if new_secret:
        store_new_secret(cfg.state_dir, extension)
    found, problems = resolve(tables, cfg.state_dir)
    if extension not in found:
        # Only this phone's problems: another agent's missing secret is not in the way.
        mine = [p for p in problems if p.path in (extension, f"agents[{index}].secret")]
        raise RoutingError(mine or problems)
    return {
        "agent": tables.agents.agents[index].id,
        "server": cfg.host,
        "port": str(cfg.ports.sip),
        "user": extension,
        "password": found[extension],
        "transport": TRANSPORT,
        # The phone must register from one of these, or Asterisk refuses it (its ACL).
        "allowed_from": ", ".join(tables.agents.networks_of(tables.agents.agents[index])),
    }


def render(details: dict[str, str], *, as_json: bool) -> str:
    if as_json:
        return json.dumps(details, indent=2, ensure_ascii=False)
    width = max(len(k) for k in details)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in details.items())
