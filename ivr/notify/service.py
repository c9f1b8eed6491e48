"""Building the sender from a stack's config: the composition root of notifications."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from ivr.adapters.ami import AmiClient
from ivr.adapters.mail import SmtpMailer
from ivr.config import StackConfig
from ivr.domain.clock import Clock
from ivr.domain.vocabulary import NotifyChannel
from ivr.notify import config as notify_config
from ivr.notify.mail import OutboxMailer
from ivr.notify.phone import PhoneCaller
from ivr.notify.sender import Sender
from ivr.notify.sms import SmsGateway
from ivr.notify.transport import NotConfigured, Transport
from ivr.store import CaseStore

log = structlog.get_logger(__name__)


def build_sender(
    cfg: StackConfig,
    store: CaseStore,
    ami: AmiClient,
    clock: Clock,
    outbound_trunk: Callable[[], str | None],
    *,
    name: str | None = None,
) -> Sender:
    """A sender for this stack; NotifyConfigError if `notify.yaml` is malformed."""
    conf = notify_config.load(cfg.state_dir)
    settings = conf.settings
    transports: dict[NotifyChannel, Transport] = {
        NotifyChannel.EMAIL: OutboxMailer(SmtpMailer.from_config(cfg)),
        NotifyChannel.SMS: (
            SmsGateway(settings.sms, conf.sms_secrets)
            if settings.sms is not None
            else NotConfigured("the SMS gateway (notify.yaml: sms)")
        ),
        NotifyChannel.PHONE: PhoneCaller(ami, settings.phone, cfg.sounds_dir, outbound_trunk),
    }
    return Sender(
        store,
        transports,
        clock,
        conf.policy,
        lease=conf.lease,
        interval_s=settings.sender.interval_s,
        batch=settings.sender.batch,
        name=name,
    )


async def run_outbox(
    cfg: StackConfig,
    store: CaseStore,
    ami: AmiClient,
    clock: Clock,
    outbound_trunk: Callable[[], str | None],
) -> None:
    """The engine's sender, until cancelled. A malformed `notify.yaml` is logged and
    leaves every message pending (nothing is lost); fixing it needs an engine restart."""
    try:
        sender = build_sender(cfg, store, ami, clock, outbound_trunk)
    except notify_config.NotifyConfigError as exc:
        log.error("outbox_not_started", error=str(exc))  # noqa: TRY400 - a config fault
        return
    try:
        await sender.run_forever()
    finally:
        await sender.close()
