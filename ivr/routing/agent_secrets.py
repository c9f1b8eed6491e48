"""Where a live hotline keeps its agents' SIP secrets: never in the routing tables.

Each agent phone's secret comes from, first to last:

1. the environment variable `HOTLINE_AGENT_SECRET_<extension>` (for a service manager
   that injects credentials, such as systemd's `LoadCredential=` or a vault agent);
2. the stack's secrets file, `<state dir>/secrets/agents.yaml`: a mapping of extension
   to secret, mode 0600 in a 0700 directory (a file others can read is refused, as ssh
   refuses a readable key);
3. `agents.yaml` itself, only when the profile is marked `demo: true`.

The secret belongs to the phone's SIP account, whose user name is the extension, so
both the file and the variable are keyed by extension. On a live profile every secret
must also pass `validate_secrets.weakness`. Problems are reported like table problems:
file, field, reason.
"""

from __future__ import annotations

import os
import secrets as token
import stat
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import yaml

from ivr.routing.loader import AGENTS, Problem, RoutingError, render_loc
from ivr.routing.tables import Agent, RoutingTables, _secret
from ivr.routing.validate_secrets import weakness
from ivr.routing.yaml_read import read_table

SECRETS_DIR = "secrets"
AGENT_SECRETS_FILE = "agents.yaml"
ENV_PREFIX = "HOTLINE_AGENT_SECRET_"


def secrets_file(state_dir: Path) -> Path:
    return state_dir / SECRETS_DIR / AGENT_SECRETS_FILE


def env_name(extension: str) -> str:
    return f"{ENV_PREFIX}{extension}"


def _mode_problem(path: Path) -> str | None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return (
            f"mode {mode:04o} lets other users read the agents' secrets: "
            f"chmod 600 {path} (and 700 its directory)"
        )
    return None


def read_secrets_file(path: Path, extensions: set[str]) -> tuple[dict[str, str], list[Problem]]:
    """The secrets file's extension → secret mapping, with every problem in it."""
    file = str(path)
    if not path.exists():
        return {}, []
    unsafe = _mode_problem(path)
    if unsafe is not None:
        return {}, [Problem(file, "", unsafe)]
    data, found, _ = read_table(path)
    problems = [Problem(file, render_loc(loc), reason) for loc, reason in found]
    if data is None:
        return {}, problems
    if not isinstance(data, dict):
        return {}, [*problems, Problem(file, "", "expected a mapping of extension to secret")]
    out: dict[str, str] = {}
    for key, value in data.items():
        where = str(key)
        if not isinstance(key, str) or not isinstance(value, str):
            problems.append(Problem(file, where, 'write both in quotes: "7001": "the-secret"'))
            continue
        if key not in extensions:
            problems.append(Problem(file, where, f"no agent has extension {key} in agents.yaml"))
            continue
        try:
            out[key] = _secret(value)
        except ValueError as exc:
            problems.append(Problem(file, where, str(exc)))
    return out, problems


def resolve(
    tables: RoutingTables, state_dir: Path, environ: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[Problem]]:
    """Each agent extension's secret, or the problems that keep a phone from having one."""
    env = os.environ if environ is None else environ
    agents_file = str(tables.source / AGENTS)
    path = secrets_file(state_dir)
    extensions = {a.extension for a in tables.agents.agents}
    stored, problems = read_secrets_file(path, extensions)
    live = not tables.profile.demo
    found: dict[str, str] = {}
    for i, agent in enumerate(tables.agents.agents):
        name = env_name(agent.extension)
        where, secret = _source(agent, env, stored, path, live)
        if secret is None:
            problems.append(
                Problem(
                    agents_file,
                    f"agents[{i}].secret",
                    f"agent {agent.id} (extension {agent.extension}) has no SIP secret: "
                    f'add "{agent.extension}": "<secret>" to {path} (mode 0600), or set {name}',
                )
            )
            continue
        try:
            _secret(secret)
        except ValueError as exc:
            problems.append(Problem(where, agent.extension, str(exc)))
            continue
        weak = weakness(secret, extension=agent.extension, agent_id=agent.id) if live else None
        if weak is not None:
            problems.append(Problem(where, agent.extension, f"the secret {weak}"))
            continue
        found[agent.extension] = secret
    return found, problems


def _source(
    agent: Agent, env: Mapping[str, str], stored: Mapping[str, str], path: Path, live: bool
) -> tuple[str, str | None]:
    name = env_name(agent.extension)
    if name in env:
        return f"${name}", env[name]
    if agent.extension in stored:
        return str(path), stored[agent.extension]
    if not live and agent.secret is not None:
        return "agents.yaml", agent.secret
    return str(path), None


def with_agent_secrets(
    tables: RoutingTables, state_dir: Path, environ: Mapping[str, str] | None = None
) -> RoutingTables:
    """The tables with every agent's secret filled in, or `RoutingError` naming the gaps."""
    found, problems = resolve(tables, state_dir, environ)
    if problems:
        raise RoutingError(problems)
    agents = [a.model_copy(update={"secret": found[a.extension]}) for a in tables.agents.agents]
    return replace(tables, agents=tables.agents.model_copy(update={"agents": agents}))


def store_new_secret(state_dir: Path, extension: str) -> str:
    """Generate a strong secret for one phone and keep it in the secrets file (0600)."""
    path = secrets_file(state_dir)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    current: dict[str, str] = {}
    if path.exists():
        data, _, _ = read_table(path)
        if isinstance(data, dict):
            current = {str(k): str(v) for k, v in data.items()}
    # URL-safe base64 holds only characters pjsip.conf takes as they are.
    secret = token.token_urlsafe(24)
    while weakness(secret, extension=extension, agent_id="") is not None:
        secret = token.token_urlsafe(24)  # e.g. it happened to hold the extension
    current[extension] = secret
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("# SIP secrets of the agents' phones, by extension. Keep this file 0600.\n")
        yaml.safe_dump(current, out, allow_unicode=True, default_style='"')
    tmp.replace(path)
    return secret
