"""Render `asterisk-conf/` and `dialplans/` into a stack's state directory."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from ivr.config import StackConfig, check_exposure, private_dir
from ivr.errors import HotlineError

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


class RenderError(HotlineError):
    """A template names a value the stack does not have."""

    code = "asterisk.render_failed"


def template_values(cfg: StackConfig, dialplan_files: list[str]) -> dict[str, str]:
    p = cfg.ports
    return {
        "etc_dir": str(cfg.etc_dir),
        "state_dir": str(cfg.state_dir),
        "run_dir": str(cfg.run_dir),
        "log_dir": str(cfg.log_dir),
        "sounds_dir": str(cfg.sounds_dir),
        "host": cfg.host,
        "sip_bind": cfg.sip_bind,
        "carrier_match": cfg.carrier_match,
        "sip_port": str(p.sip),
        "ami_port": str(p.ami),
        "http_port": str(p.http),
        "rtp_start": str(p.rtp_start),
        "rtp_end": str(p.rtp_end),
        "ami_user": cfg.ami_user,
        "ami_secret": cfg.ami_secret,
        "ami_admin_user": cfg.ami_admin_user,
        "ami_admin_secret": cfg.ami_admin_secret,
        "ari_user": cfg.ari_user,
        "ari_password": cfg.ari_password,
        "ari_app": cfg.ari_app,
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


def outputs(cfg: StackConfig, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every config file's content, by name, without writing anything."""
    check_exposure(cfg)
    if not cfg.ami_admin_secret:
        raise RenderError(f"{cfg.state_dir}: no ami_admin_secret in the stack file; run `ivr init`")
    conf_dir = cfg.repo_dir / "asterisk-conf"
    dialplan_dir = cfg.repo_dir / "dialplans"
    dialplans = sorted(dialplan_dir.glob("*.conf"))
    # Dialplan files are rendered under a prefix so they cannot shadow a module config.
    dialplan_names = [f"dialplan-{p.name}" for p in dialplans]
    values = template_values(cfg, dialplan_names)
    result: dict[str, str] = {}
    for src in sorted(conf_dir.glob("*.conf")):
        result[src.name] = fill(src.read_text(encoding="utf-8"), values, src)
    for src, name in zip(dialplans, dialplan_names, strict=True):
        result[name] = fill(src.read_text(encoding="utf-8"), values, src)
    result.update(extra or {})
    return result


def write(cfg: StackConfig, files: Mapping[str, str]) -> list[Path]:
    """Write config files owner-only (they hold the AMI, ARI and SIP secrets).

    Files are written beside a temporary name and renamed, so an Asterisk reload
    never reads a half-written file.
    """
    # cdr_csv does not create its directory: without it, calls are not logged at all.
    for d in (cfg.etc_dir, cfg.log_dir, cfg.log_dir / "cdr-csv", cfg.run_dir, cfg.sounds_dir):
        private_dir(d)
    for sub in ("var/lib", "spool"):
        private_dir(cfg.state_dir / sub)
    tighten(cfg.state_dir)
    # A file belongs to whoever owns the config directory: Asterisk's own account
    # (ivr/asterisk/user.py) must still read what a reload rewrites.
    owner = cfg.etc_dir.stat()
    written: list[Path] = []
    for name, content in files.items():
        target = cfg.etc_dir / name
        tmp = target.with_name(f".{name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        if os.geteuid() == 0:
            os.chown(tmp, owner.st_uid, owner.st_gid)
        tmp.replace(target)
        written.append(target)
    return written


def tighten(state_dir: Path) -> None:
    """Owner-only modes on a state directory written by an older, looser release."""
    for root, dirs, files in os.walk(state_dir):
        for d in dirs:
            path = Path(root, d)
            if not path.is_symlink():
                path.chmod(0o700)
        for f in files:
            path = Path(root, f)
            if path.is_file() and not path.is_symlink():
                path.chmod(path.stat().st_mode & 0o700)
    state_dir.chmod(0o700)


def render(cfg: StackConfig, extra: Mapping[str, str] | None = None) -> list[Path]:
    """Write every config file; `extra` adds generated files (name -> content)."""
    return write(cfg, outputs(cfg, extra))
