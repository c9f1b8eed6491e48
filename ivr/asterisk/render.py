"""Render `asterisk-conf/` and `dialplans/` into a stack's state directory."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from ivr.config import StackConfig

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


class RenderError(Exception):
    """A template names a value the stack does not have."""


def template_values(cfg: StackConfig, dialplan_files: list[str]) -> dict[str, str]:
    p = cfg.ports
    return {
        "etc_dir": str(cfg.etc_dir),
        "state_dir": str(cfg.state_dir),
        "run_dir": str(cfg.run_dir),
        "log_dir": str(cfg.log_dir),
        "sounds_dir": str(cfg.sounds_dir),
        "host": cfg.host,
        "sip_port": str(p.sip),
        "ami_port": str(p.ami),
        "http_port": str(p.http),
        "rtp_start": str(p.rtp_start),
        "rtp_end": str(p.rtp_end),
        "ami_user": cfg.ami_user,
        "ami_secret": cfg.ami_secret,
        "ari_user": cfg.ari_user,
        "ari_password": cfg.ari_password,
        "agi_url": cfg.agi_url,
        "dialplan_includes": "\n".join(f"#include {name}" for name in dialplan_files),
    }


def fill(text: str, values: Mapping[str, str], source: Path) -> str:
    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise RenderError(f"{source}: unknown placeholder {{{{ {key} }}}}")
        return values[key]

    return _PLACEHOLDER.sub(sub, text)


def render(cfg: StackConfig, extra: Mapping[str, str] | None = None) -> list[Path]:
    """Write every config file; `extra` adds generated files (name -> content).

    Files are written beside a temporary name and renamed, so an Asterisk reload
    never reads a half-written file.
    """
    conf_dir = cfg.repo_dir / "asterisk-conf"
    dialplan_dir = cfg.repo_dir / "dialplans"
    dialplans = sorted(dialplan_dir.glob("*.conf"))
    # Dialplan files are rendered under a prefix so they cannot shadow a module config.
    dialplan_names = [f"dialplan-{p.name}" for p in dialplans]
    values = template_values(cfg, dialplan_names)
    outputs: dict[str, str] = {}
    for src in sorted(conf_dir.glob("*.conf")):
        outputs[src.name] = fill(src.read_text(encoding="utf-8"), values, src)
    for src, name in zip(dialplans, dialplan_names, strict=True):
        outputs[name] = fill(src.read_text(encoding="utf-8"), values, src)
    outputs.update(extra or {})

    # cdr_csv does not create its directory: without it, calls are not logged at all.
    for d in (cfg.etc_dir, cfg.log_dir, cfg.log_dir / "cdr-csv", cfg.run_dir, cfg.sounds_dir):
        d.mkdir(parents=True, exist_ok=True)
    for sub in ("var/lib", "spool"):
        (cfg.state_dir / sub).mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, content in outputs.items():
        target = cfg.etc_dir / name
        tmp = target.with_name(f".{name}.tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(target)
        written.append(target)
    return written
