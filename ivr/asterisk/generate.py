"""Asterisk config generated from the routing tables: agent phones, trunks, queues.

Agents' PJSIP endpoints and the app_queue queues come from `agents.yaml`; agency
PBX trunks and local unit phones from `directory.yaml`. The static files in
`asterisk-conf/` include what is written here.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from ivr.asterisk import render
from ivr.asterisk.conf_text import ConfValueError, conf_value
from ivr.asterisk.tls import PHONE_TEMPLATE, TLS_FILE, tls_conf
from ivr.config import StackConfig
from ivr.routing.agent_secrets import with_agent_secrets
from ivr.routing.loader import load_profile
from ivr.routing.tables import LOCAL, RoutingTables

PJSIP_FILE = "pjsip_hotline.conf"
QUEUES_FILE = "queues_hotline.conf"
AGENT_CONTEXT = "hotline-agent-phone"
UNIT_CONTEXT = "hotline-unit-phone"
# Every agent who logs in also serves the fallback queue, so a caller who reached it
# through the dialplan's safety net still meets a person.
FALLBACK_QUEUE = "hotline-agents"

_CODECS = "disallow = all\nallow = ulaw,alaw\ndtmf_mode = rfc4733\ndirect_media = no\n"


def queue_name(queue_id: str) -> str:
    """The app_queue name of a table queue: `general` is reserved in queues.conf."""
    return f"hotline-{queue_id}"


def unit_phone_secret(stack_secret: str, number: str) -> str:
    """A local unit phone's SIP password, derived so the tables never hold one."""
    digest = hmac.new(stack_secret.encode(), number.encode(), hashlib.sha256).hexdigest()
    return digest[:20]


def _phone(name: str, context: str, secret: str, callerid: str) -> str:
    return (
        # The template (tls.py) carries the stack's SRTP setting for every phone.
        f"[{name}]({PHONE_TEMPLATE})\ntype = endpoint\ntransport = transport-udp\n"
        f"context = {context}\n{_CODECS}"
        # A phone proves who it is with its password, never by its address.
        "identify_by = username\n"
        f"auth = {name}-auth\naors = {name}\ncallerid = {callerid}\n\n"
        f"[{name}-auth]\ntype = auth\nauth_type = userpass\nusername = {name}\n"
        f"password = {secret}\n\n"
        f"[{name}]\ntype = aor\nmax_contacts = 1\nremove_existing = yes\n\n"
    )


def _match(host: str, port: int) -> str:
    """An identify match for one host and source port (IPv6 in brackets)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def pjsip_conf(tables: RoutingTables, stack_secret: str) -> str:
    parts = ["; Generated from the routing tables by hotline1999. Do not edit.\n\n"]
    for agent in tables.agents.agents:
        # The endpoint forces the caller id: the agent feature codes trust it.
        callerid = conf_value(f'"{agent.name}" <{agent.extension}>')
        if agent.secret is None:  # render_stack fills it from the secrets file or env
            raise ConfValueError(f"agent {agent.id} has no SIP secret")
        parts.append(_phone(agent.extension, AGENT_CONTEXT, agent.secret, callerid))
    seen: set[str] = set()
    for agency in tables.directory.agencies:
        refs = [r for u in agency.units for r in (u.primary, *u.adjacent)]
        refs += [d.extension for d in agency.liaison.deputies]
        for ref in refs:
            if ref.via != LOCAL or ref.number in seen:
                continue
            seen.add(ref.number)
            secret = unit_phone_secret(stack_secret, ref.number)
            parts.append(_phone(ref.number, UNIT_CONTEXT, secret, f"<{ref.number}>"))
    for trunk in tables.directory.trunks:
        parts.append(
            f"[{trunk.id}]\ntype = endpoint\ntransport = transport-udp\n"
            f"context = hotline-from-agency\n{_CODECS}aors = {trunk.id}\n"
            # No password on a PBX trunk: it is known only by where its requests come
            # from, so a From header naming it proves nothing.
            "identify_by = ip\n\n"
            f"[{trunk.id}]\ntype = aor\ncontact = sip:{trunk.host}:{trunk.port}\n\n"
            f"[{trunk.id}]\ntype = identify\nendpoint = {trunk.id}\n"
            f"match = {_match(trunk.host, trunk.port)}\n\n"
        )
    return "".join(parts)


def queues_conf(tables: RoutingTables) -> str:
    parts = ["; Generated from the routing tables by hotline1999. Do not edit.\n\n"]
    for queue in tables.agents.queues:
        parts.append(
            f"[{queue_name(queue.id)}]\n"
            f"strategy = {queue.strategy}\n"
            "joinempty = yes\nleavewhenempty = no\n"
            f"announce-position = {'yes' if queue.announce_position else 'no'}\n"
            "announce-frequency = 60\nmusicclass = default\ntimeout = 20\nretry = 2\n"
            # MEMBERNAME on the caller's channel tells the survey who answered.
            "ringinuse = no\nsetinterfacevar = yes\n\n"
        )
    return "".join(parts)


def agent_queues(tables: RoutingTables, agent_extension: str) -> tuple[str, list[str]]:
    """The agent id and the queues an agent serves: those whose skills the agent has."""
    for agent in tables.agents.agents:
        if agent.extension == agent_extension:
            queues = [
                queue_name(q.id) for q in tables.agents.queues if set(q.skills) <= set(agent.skills)
            ]
            return agent.id, [*queues, FALLBACK_QUEUE]
    raise KeyError(agent_extension)


def generated_files(tables: RoutingTables, stack_secret: str) -> dict[str, str]:
    """Every generated file, by name, for `render.render(cfg, extra=…)`."""
    return {PJSIP_FILE: pjsip_conf(tables, stack_secret), QUEUES_FILE: queues_conf(tables)}


def render_stack(cfg: StackConfig) -> list[Path]:
    """Asterisk's config from the templates plus what the routing tables generate."""
    tables = with_agent_secrets(load_profile(cfg.routing_dir), cfg.state_dir)
    extra = {**generated_files(tables, cfg.ari_password), TLS_FILE: tls_conf(cfg)}
    return render.render(cfg, extra=extra)
