"""Asterisk config generated from the routing tables: agent phones, trunks, queues.

Agents' PJSIP endpoints and the app_queue queues come from `agents.yaml`; agency
PBX trunks and local unit phones from `directory.yaml`. The static files in
`asterisk-conf/` include what is written here.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from pathlib import Path

from ivr.asterisk import render
from ivr.asterisk.conf_text import ConfValueError, conf_value
from ivr.asterisk.media import MEDIA_FILE, agent_video, codec_lines, media_conf
from ivr.asterisk.queue_sounds import (
    AFTER,
    BEFORE,
    ESTIMATE,
    MORE_AFTER,
    MORE_BEFORE,
    NEXT,
    queue_sounds,
)
from ivr.asterisk.say_conf import SAY_FILE, say_conf
from ivr.asterisk.tls import PHONE_TEMPLATE, TLS_FILE, tls_conf
from ivr.config import StackConfig
from ivr.prompts import buildable
from ivr.routing import trunk_secrets
from ivr.routing.agent_language import agent_prompt_language
from ivr.routing.agent_secrets import with_agent_secrets
from ivr.routing.loader import load_profile
from ivr.routing.tables import LANGUAGE_CODES, LOCAL, RoutingTables, Trunk

PJSIP_FILE = "pjsip_hotline.conf"
QUEUES_FILE = "queues_hotline.conf"
AGENT_CONTEXT = "hotline-agent-phone"
UNIT_CONTEXT = "hotline-unit-phone"
# Every agent who logs in also serves the fallback queue, so a caller who reached it
# through the dialplan's safety net still meets a person.
FALLBACK_QUEUE = "hotline-agents"

# The highest position said as a number (a single digit; see ivr.asterisk.say_conf).
POSITION_LIMIT = 9

_CODECS = codec_lines()


def queue_name(queue_id: str) -> str:
    """The app_queue name of a table queue: `general` is reserved in queues.conf."""
    return f"hotline-{queue_id}"


def unit_phone_secret(stack_secret: str, number: str) -> str:
    """A local unit phone's SIP password, derived so the tables never hold one."""
    digest = hmac.new(stack_secret.encode(), number.encode(), hashlib.sha256).hexdigest()
    return digest[:20]


def _acl(networks: list[str] | None) -> str:
    """An endpoint ACL: requests, and contacts registered, from `networks` only.

    Asterisk checks it before the password (a 403 from anywhere else), so a stolen or
    guessed password is of no use off the admin's networks. The last matching rule
    wins; an IPv4 rule never matches an IPv6 source, hence a deny for each family.
    """
    if networks is None:
        return ""
    lines = ["deny = 0.0.0.0/0", "deny = ::/0", *(f"permit = {n}" for n in networks)]
    lines += ["contact_deny = 0.0.0.0/0", "contact_deny = ::/0"]
    lines += [f"contact_permit = {n}" for n in networks]
    return "".join(f"{conf_value(line)}\n" for line in lines)


def _phone(
    name: str,
    context: str,
    secret: str,
    callerid: str,
    networks: list[str] | None = None,
    language: str | None = None,
    codecs: str = _CODECS,
) -> str:
    # The channel's language: what the agent hears in [hotline-agent-whisper].
    spoken = f"language = {conf_value(language)}\n" if language else ""
    return (
        # The template (tls.py) carries the stack's SRTP setting for every phone.
        f"[{name}]({PHONE_TEMPLATE})\ntype = endpoint\ntransport = transport-udp\n"
        f"context = {context}\n{spoken}{codecs}{_acl(networks)}"
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


def _trunk(trunk: Trunk, password: str | None) -> str:
    auth = reg = ""
    if trunk.auth_username is not None:
        if password is None:  # render_stack fills it from the secrets file or env
            raise ConfValueError(f"trunk {trunk.id} has no password")
        auth = f"outbound_auth = {trunk.id}-outbound-auth\n"
        reg = (
            f"[{trunk.id}-outbound-auth]\ntype = auth\nauth_type = userpass\n"
            f"username = {conf_value(trunk.auth_username)}\npassword = {password}\n\n"
        )
        if trunk.registration:
            server = f"{_match(trunk.host, trunk.port)}"
            reg += (
                f"[{trunk.id}-registration]\ntype = registration\ntransport = transport-udp\n"
                f"outbound_auth = {trunk.id}-outbound-auth\nserver_uri = sip:{server}\n"
                f"client_uri = sip:{trunk.auth_username}@{server}\n"
                "retry_interval = 60\nforbidden_retry_interval = 600\n\n"
            )
    return (
        f"[{trunk.id}]\ntype = endpoint\ntransport = transport-udp\n"
        f"context = hotline-from-agency\n{_CODECS}aors = {trunk.id}\n{auth}"
        # Calls from the PBX carry no password: it is known only by where its
        # requests come from, so a From header naming it proves nothing.
        "identify_by = ip\n\n"
        f"[{trunk.id}]\ntype = aor\ncontact = sip:{_match(trunk.host, trunk.port)}\n\n"
        f"[{trunk.id}]\ntype = identify\nendpoint = {trunk.id}\n"
        f"match = {_match(trunk.host, trunk.port)}\n\n{reg}"
    )


def pjsip_conf(
    tables: RoutingTables, stack_secret: str, trunk_passwords: Mapping[str, str] | None = None
) -> str:
    parts = ["; Generated from the routing tables by hotline1999. Do not edit.\n\n"]
    for agent in tables.agents.agents:
        # The endpoint forces the caller id: the agent feature codes trust it.
        callerid = conf_value(f'"{agent.name}" <{agent.extension}>')
        if agent.secret is None:  # render_stack fills it from the secrets file or env
            raise ConfValueError(f"agent {agent.id} has no SIP secret")
        networks = tables.agents.networks_of(agent)
        language = agent_prompt_language(tables, agent)
        # A sign-language agent's phone is offered the video queue's codecs too (media.py).
        codecs = codec_lines(agent_video(tables.agents, agent))
        parts.append(
            _phone(
                agent.extension,
                AGENT_CONTEXT,
                agent.secret,
                callerid,
                networks,
                language=language,
                codecs=codecs,
            )
        )
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
    passwords = trunk_passwords or {}
    for trunk in tables.directory.trunks:
        parts.append(_trunk(trunk, passwords.get(trunk.id)))
    return "".join(parts)


def queues_conf(tables: RoutingTables, sounds_dir: Path | None = None) -> str:
    parts = ["; Generated from the routing tables by hotline1999. Do not edit.\n\n"]
    for queue in tables.agents.queues:
        parts.append(
            f"[{queue_name(queue.id)}]\n"
            f"strategy = {queue.strategy}\n"
            "joinempty = yes\nleavewhenempty = no\n"
            f"{_position(queue.announce_position, sounds_dir)}"
            f"announce-frequency = {queue.announce_every_s}\n"
            # Every N seconds, not again each time the position changes.
            f"min-announce-frequency = {queue.announce_every_s}\n"
            # Asterisk's hold time is its own running average of waits, not the last
            # hour's handle times: the estimate is ours (ivr.domain.wait_estimate).
            "announce-holdtime = no\n"
            f"{_wait_sounds(queue.id, queue.announce_every_s, sounds_dir)}"
            "musicclass = default\ntimeout = 20\nretry = 2\n"
            # MEMBERNAME on the caller's channel tells the survey who answered.
            "ringinuse = no\nsetinterfacevar = yes\n"
            # An agent's time after each call before this queue offers another.
            f"wrapuptime = {queue.wrapup_s}\n\n"
        )
    return "".join(parts)


def _position(announce: bool, sounds_dir: Path | None) -> str:
    if not announce:
        return "announce-position = no\n"
    if sounds_dir is None:
        return "announce-position = yes\n"
    # Past 9 a caller hears "more than 9 callers are waiting, counting you": every
    # position said is one digit, read with our own digit prompts (say_conf.py).
    return f"announce-position = more\nannounce-position-limit = {POSITION_LIMIT}\n"


def _wait_sounds(queue_id: str, every_s: int, sounds_dir: Path | None) -> str:
    """The position's words and the estimate, in the queue's language: files the
    engine keeps current (ivr.asterisk.queue_sounds), played inside Queue()."""
    if sounds_dir is None:
        return ""
    folder = conf_value(str(queue_sounds(sounds_dir, queue_id)))
    return (
        f"queue-youarenext = {folder}/{NEXT}\n"
        f"queue-thereare = {folder}/{BEFORE}\n"
        f"queue-callswaiting = {folder}/{AFTER}\n"
        f"queue-quantity1 = {folder}/{MORE_BEFORE}\n"
        f"queue-quantity2 = {folder}/{MORE_AFTER}\n"
        # Asterisk's English "thank you for your patience" is not in the caller's language.
        "queue-thankyou =\n"
        f"periodic-announce = {folder}/{ESTIMATE}\n"
        f"periodic-announce-frequency = {every_s}\n"
        # The first estimate on entering the queue, right after the position.
        "periodic-announce-startdelay = 0\n"
    )


def agent_queues(tables: RoutingTables, agent_extension: str) -> tuple[str, list[str]]:
    """The agent id and the queues an agent serves: those whose skills the agent has."""
    for agent in tables.agents.agents:
        if agent.extension == agent_extension:
            queues = [
                queue_name(q.id) for q in tables.agents.queues if set(q.skills) <= set(agent.skills)
            ]
            return agent.id, [*queues, FALLBACK_QUEUE]
    raise KeyError(agent_extension)


def generated_files(
    tables: RoutingTables,
    stack_secret: str,
    trunk_passwords: Mapping[str, str] | None = None,
    sounds_dir: Path | None = None,
    voiced: Iterable[str] = (),
) -> dict[str, str]:
    """Every generated file, by name, for `render.render(cfg, extra=…)`.

    With `sounds_dir`, queues announce with our prompts, and say.conf reads positions
    with the digit prompts of the `voiced` languages (the others: the default's)."""
    files = {
        PJSIP_FILE: pjsip_conf(tables, stack_secret, trunk_passwords),
        QUEUES_FILE: queues_conf(tables, sounds_dir),
        MEDIA_FILE: media_conf(tables.agents),
    }
    if sounds_dir is not None:
        default = tables.profile.default_language
        files[SAY_FILE] = say_conf(sounds_dir, LANGUAGE_CODES, voiced, default)
    return files


def stack_files(cfg: StackConfig) -> dict[str, str]:
    """The generated files of a stack: its tables with the secrets kept outside them."""
    tables = with_agent_secrets(load_profile(cfg.routing_dir), cfg.state_dir)
    passwords = trunk_secrets.trunk_passwords(tables, cfg.state_dir)
    voiced = {lang for lang, name in buildable(cfg.recordings_dir) if name == "digit-1"}
    files = generated_files(tables, cfg.ari_password, passwords, cfg.sounds_dir, voiced)
    return {**files, TLS_FILE: tls_conf(cfg)}


def render_stack(cfg: StackConfig) -> list[Path]:
    """Asterisk's config from the templates plus what the routing tables generate."""
    return render.render(cfg, extra=stack_files(cfg))
