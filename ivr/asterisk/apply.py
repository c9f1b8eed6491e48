"""Apply regenerated config to a running Asterisk: module reloads over AMI, never a restart.

`ivr routing reload` regenerates every config file from the templates and the
routing tables, writes the files that changed, and asks Asterisk (AMI `Reload`,
through the stack's reload-only AMI user) to reload the modules that read them:
res_pjsip for endpoints, trunks and their addresses, app_queue for queues,
pbx_config for the dialplan. Calls in progress keep their channels. Then it checks
that what the files define is what Asterisk now has. What a reload cannot change
(a SIP transport's address, a file no module reloads) is reported, never claimed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import structlog

from ivr.adapters.ami import AmiActionFailed, AmiClient, AmiUnavailable
from ivr.asterisk import process, render
from ivr.asterisk.generate import PJSIP_FILE, QUEUES_FILE, stack_files
from ivr.config import StackConfig

log = structlog.get_logger()

# Which module reloads which file; a changed file not listed needs a restart.
_MODULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^pjsip.*\.conf$"), "res_pjsip.so"),
    (re.compile(r"^queues.*\.conf$"), "app_queue.so"),
    (re.compile(r"^(extensions\.conf|dialplan-.*\.conf)$"), "pbx_config.so"),
    (re.compile(r"^features\.conf$"), "features"),
    (re.compile(r"^musiconhold\.conf$"), "res_musiconhold.so"),
    (re.compile(r"^manager\.conf$"), "manager"),
    (re.compile(r"^logger\.conf$"), "logger"),
    (re.compile(r"^cdr\.conf$"), "cdr"),
    (re.compile(r"^rtp\.conf$"), "res_rtp_asterisk.so"),
    (re.compile(r"^ari\.conf$"), "res_ari.so"),
    # How queue positions are said (ivr.asterisk.say_conf).
    (re.compile(r"^say\.conf$"), "app_playback.so"),
)
# A section header, with or without the templates it inherits (`[carrier](media)`).
_SECTION = re.compile(r"^\[([^\]]+)\](?:\([^)\n]*\))?\s*$", re.MULTILINE)


@dataclass
class ApplyReport:
    """What a reload changed in Asterisk, and what it could not change live."""

    changed: list[str] = field(default_factory=list)
    reloaded: list[str] = field(default_factory=list)
    not_live: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    asterisk_running: bool = True

    @property
    def ok(self) -> bool:
        return not self.errors and not self.not_live


def module_for(name: str) -> str | None:
    for pattern, module in _MODULES:
        if pattern.match(name):
            return module
    return None


def sections(text: str, kind: str) -> dict[str, str]:
    """Each `type = kind` section of a pjsip-style file, by name, with its body."""
    found: dict[str, str] = {}
    matches = list(_SECTION.finditer(text))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[match.end() : end]
        if re.search(rf"^type\s*=\s*{kind}\s*$", body, re.MULTILINE):
            found[match.group(1)] = found.get(match.group(1), "") + body.strip()
    return found


def plan(old: Mapping[str, str | None], new: Mapping[str, str]) -> ApplyReport:
    """Which modules to reload for the files that changed; what needs a restart. Pure."""
    report = ApplyReport()
    for name in sorted(new):
        if old.get(name) == new[name]:
            continue
        report.changed.append(name)
        module = module_for(name)
        if module is None:
            report.not_live.append(f"{name} changed: no module reloads it; restart Asterisk")
        elif module not in report.reloaded:
            report.reloaded.append(module)
    before = "\n".join(v or "" for k, v in old.items() if k.startswith("pjsip"))
    after = "\n".join(v for k, v in new.items() if k.startswith("pjsip"))
    if sections(before, "transport") != sections(after, "transport"):
        # res_pjsip does not rebind a transport on reload; the old address keeps serving.
        report.not_live.append("a SIP transport changed (address, port, TLS): restart Asterisk")
    return report


def desired(cfg: StackConfig) -> dict[str, str]:
    """Every config file as the templates and the current tables make it."""
    # The same files `ivr asterisk config` writes, secrets from outside the tables included.
    return render.outputs(cfg, extra=stack_files(cfg))


async def apply(cfg: StackConfig) -> ApplyReport:
    """Write the regenerated config and reload what changed in the running Asterisk."""
    new = desired(cfg)
    old = {name: _read(cfg, name) for name in new}
    report = plan(old, new)
    render.write(cfg, new)
    if process.read_pid(cfg) is None:
        # Nothing to reload: Asterisk reads every file when it starts.
        report.asterisk_running = False
        report.reloaded, report.not_live = [], []
        return report
    if not report.reloaded:
        return report
    ami = AmiClient(cfg.host, cfg.ports.ami, cfg.ami_admin_user, cfg.ami_admin_secret)
    await ami.start()
    try:
        await ami.wait_connected(5.0)
        for module in report.reloaded:
            try:
                await ami.action({"Action": "Reload", "Module": module})
                log.info("asterisk_module_reloaded", module=module)
            except AmiActionFailed as exc:
                report.errors.append(f"reload {module}: {exc}")
        await _verify(ami, new, report)
    except AmiUnavailable as exc:
        report.errors.append(f"AMI: {exc}")
    finally:
        await ami.stop()
    return report


async def _verify(ami: AmiClient, new: Mapping[str, str], report: ApplyReport) -> None:
    """Asterisk now has every endpoint and queue that the files define."""
    pjsip = "\n".join(v for k, v in new.items() if k.startswith("pjsip"))
    wanted = set(sections(pjsip, "endpoint"))
    listed = await ami.action_list({"Action": "PJSIPShowEndpoints"})
    have = {m["ObjectName"] for m in listed if m.get("Event") == "EndpointList"}
    missing = sorted(wanted - have)
    if missing:
        report.errors.append(f"endpoints missing after the reload: {', '.join(missing)}")
    queues = set(_SECTION.findall(new.get(QUEUES_FILE, ""))) | {
        q for q in _SECTION.findall(new.get("queues.conf", "")) if q != "general"
    }
    summary = await ami.action_list({"Action": "QueueSummary"})
    have_queues = {m["Queue"] for m in summary if m.get("Event") == "QueueSummary"}
    missing = sorted(queues - have_queues)
    if missing:
        report.errors.append(f"queues missing after the reload: {', '.join(missing)}")


def _read(cfg: StackConfig, name: str) -> str | None:
    try:
        return (cfg.etc_dir / name).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


__all__ = ["PJSIP_FILE", "ApplyReport", "apply", "module_for", "plan", "sections"]
