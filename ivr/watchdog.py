"""Proof that the engine answers, from outside its event loop; and rescue when it does not.

The probe is a real FastAGI session on the engine's port, for the `health` script: the
kernel accepts a TCP connection even for a stopped process, so only an AGI reply
proves that the engine's loop runs. A hung engine is killed by the supervisor; killing
resets its AGI sockets, and Asterisk sends each caller to the dialplan fallback. A
channel that is still in AGI on a killed engine's session afterwards is sent there
through AMI (Redirect), so that no caller waits on silence.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import structlog

from ivr.adapters.ami import AmiActionFailed, AmiClient, AmiUnavailable
from ivr.config import StackConfig

log = structlog.get_logger()

HEALTH_SCRIPT = "health"
FALLBACK_CONTEXT = "hotline-fallback"
# What HotlineFallback says when the watchdog moved the caller there.
HUNG_REASON = "engine-hung"
# Dialplan contexts where a channel runs the engine's AGI (dialplans/hotline.conf).
AGI_CONTEXTS = frozenset(
    {"hotline-inbound", "hotline-transfer-agent", "hotline-transfer-admin", "hotline-agent-phone"}
)


async def probe(cfg: StackConfig, timeout: float) -> bool:
    """True if the engine ran a FastAGI `health` session within `timeout` seconds."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(cfg.host, cfg.ports.agi)
            writer.write(
                b"agi_network: yes\n"
                + f"agi_request: agi://{cfg.host}/{HEALTH_SCRIPT}\n".encode()
                + b"agi_channel: watchdog\nagi_uniqueid: watchdog\n\n"
            )
            await writer.drain()
            # The engine reports the session's outcome with one SET VARIABLE.
            line = await reader.readline()
            if not line.startswith(b"SET VARIABLE"):
                return False
            writer.write(b"200 result=1\n")
            await writer.drain()
            return True
    except (OSError, TimeoutError):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()


@dataclass(frozen=True)
class AgiChannel:
    channel: str
    uniqueid: str
    context: str


async def agi_channels(cfg: StackConfig) -> list[AgiChannel]:
    """Channels running the engine's AGI now (AMI CoreShowChannels)."""
    ami = AmiClient(cfg.host, cfg.ports.ami, cfg.ami_user, cfg.ami_secret)
    await ami.start()
    try:
        await ami.wait_connected(5.0)
        events = await ami.action_list({"Action": "CoreShowChannels"})
    except (AmiUnavailable, AmiActionFailed) as exc:
        log.warning("watchdog_channels_unknown", error=str(exc))
        return []
    finally:
        await ami.stop()
    return [
        AgiChannel(e.get("Channel", ""), e.get("Uniqueid", ""), e.get("Context", ""))
        for e in events
        if e.get("Event") == "CoreShowChannel"
        and e.get("Application") == "AGI"
        and e.get("Context") in AGI_CONTEXTS
    ]


async def rescue(cfg: StackConfig, stuck: list[AgiChannel]) -> list[str]:
    """Send each channel to the fallback through AMI; returns the channels moved."""
    if not stuck:
        return []
    ami = AmiClient(cfg.host, cfg.ports.ami, cfg.ami_user, cfg.ami_secret)
    moved = []
    await ami.start()
    try:
        await ami.wait_connected(5.0)
        for ch in stuck:
            try:
                await ami.action(
                    {
                        "Action": "Setvar",
                        "Channel": ch.channel,
                        "Variable": "HOTLINE_AGI_ERROR",
                        "Value": HUNG_REASON,
                    }
                )
                await ami.action(
                    {
                        "Action": "Redirect",
                        "Channel": ch.channel,
                        "Context": FALLBACK_CONTEXT,
                        "Exten": "s",
                        "Priority": "1",
                    }
                )
            except AmiActionFailed as exc:
                # Gone meanwhile (the caller hung up, or the reset freed it): nothing to do.
                log.info("watchdog_redirect_skipped", channel=ch.channel, error=str(exc))
                continue
            moved.append(ch.channel)
            log.warning("watchdog_redirected", channel=ch.channel, uniqueid=ch.uniqueid)
    except AmiUnavailable as exc:
        log.error("watchdog_rescue_failed", error=str(exc))  # noqa: TRY400 - expected outage
    finally:
        await ami.stop()
    return moved
