"""One state directory per running stack: generated config, logs, SQLite file, ports.

Everything the CLI needs to find a running stack lives in `stack.json` inside the
state directory, so two stacks (a developer's and a test's) can run side by side.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ivr.errors import HotlineError

STATE_DIR_ENV = "HOTLINE_STATE_DIR"
DEFAULT_STATE_DIR = Path("/var/lib/hotline1999")
STACK_FILE = "stack.json"


class ConfigError(HotlineError):
    """The stack's configuration is missing or malformed."""

    code = "config.invalid"


@dataclass(frozen=True)
class Ports:
    """Every TCP/UDP port a stack uses; all on loopback unless `host` says otherwise."""

    sip: int = 5060
    ami: int = 5038
    http: int = 8088
    agi: int = 4573
    rtp_start: int = 10000
    rtp_end: int = 20000
    # The web console (ivr/web), served by the engine.
    web: int = 8080


@dataclass(frozen=True)
class StackConfig:
    """What one hotline stack needs: where its state lives and how its parts meet."""

    state_dir: Path
    ports: Ports = field(default_factory=Ports)
    host: str = "127.0.0.1"
    database_url: str = ""
    ami_user: str = "hotline"
    ami_secret: str = ""
    ari_user: str = "hotline"
    ari_password: str = ""
    ari_app: str = "hotline1999"
    # A directory under routing/ (taipei, kinmen) or an absolute path to one.
    routing_profile: str = "taipei"
    repo_dir: Path = field(default_factory=lambda: Path(__file__).resolve().parent.parent)
    # Overdue-callback mail (T4(2)1, K7(3)). Defaults suit a local MTA and keep stack
    # files written before these fields existed loadable.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    mail_from: str = "hotline1999@localhost"
    # Receives the overdue mails of the call centre's own tickets (agency "hotline").
    hotline_supervisor: str = "supervisor@localhost"
    # SIP's own address: the one service that may face a network. AMI, ARI and
    # FastAGI stay on `host`, which must be loopback, whatever this says.
    sip_bind: str = "127.0.0.1"
    # Where the carrier's SIP comes from (pjsip `identify` match syntax, comma
    # separated). Only a request from here is taken for the carrier.
    carrier_match: str = "127.0.0.1"
    # FastAGI: loopback by default; any other bind needs `agi_permit` (addresses or
    # networks allowed to connect), which the server enforces on every accept.
    agi_bind: str = "127.0.0.1"
    agi_permit: tuple[str, ...] = ()
    # A second AMI user, used only by `ivr routing reload` for module reloads: the
    # engine's own user has no `system` class.
    ami_admin_user: str = "hotline-admin"
    ami_admin_secret: str = field(default="", repr=False)
    # SIP over TLS and SRTP for phones (0: off). The certificate and key are files
    # the operator provides; see docs/security.md.
    sip_tls_port: int = 0
    tls_cert_file: str = ""
    tls_key_file: str = ""
    srtp: bool = False
    # The web console's address: loopback by default; put a TLS proxy in front of it
    # (docs/web.md) before giving it an office network's address.
    web_bind: str = "127.0.0.1"

    @property
    def etc_dir(self) -> Path:
        return self.state_dir / "etc" / "asterisk"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "log"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def sounds_dir(self) -> Path:
        return self.state_dir / "sounds"

    @property
    def asterisk_conf(self) -> Path:
        return self.etc_dir / "asterisk.conf"

    @property
    def routing_dir(self) -> Path:
        profile = Path(self.routing_profile)
        return profile if profile.is_absolute() else self.repo_dir / "routing" / profile

    @property
    def recordings_dir(self) -> Path:
        return self.repo_dir / "recordings"

    @property
    def sqlite_path(self) -> Path:
        return self.state_dir / "hotline.sqlite3"

    @property
    def agi_url(self) -> str:
        host = self.host if is_loopback(self.agi_bind) else self.agi_bind
        return f"agi://{host}:{self.ports.agi}"

    @property
    def web_url(self) -> str:
        return f"http://{self.web_bind}:{self.ports.web}/"

    @property
    def ari_base_url(self) -> str:
        return f"http://{self.host}:{self.ports.http}/ari"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state_dir"] = str(self.state_dir)
        data["repo_dir"] = str(self.repo_dir)
        data["agi_permit"] = list(self.agi_permit)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], source: Path) -> StackConfig:
        try:
            ports = Ports(**data.pop("ports"))
            if "agi_permit" in data:
                data["agi_permit"] = tuple(data["agi_permit"])
            return cls(
                state_dir=Path(data.pop("state_dir")),
                repo_dir=Path(data.pop("repo_dir")),
                ports=ports,
                **data,
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"{source}: malformed stack file: {exc}") from exc


def is_loopback(host: str) -> bool:
    """Whether an address is on this machine only (127.0.0.0/8, ::1, `localhost`)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(cfg: StackConfig) -> None:
    """Refuse a stack whose control plane would listen beyond this machine."""
    if not is_loopback(cfg.host):
        raise ConfigError(
            f"host {cfg.host!r}: AMI and ARI listen on `host`, which must be loopback; "
            "set `sip_bind` to expose SIP"
        )
    if not is_loopback(cfg.agi_bind) and not cfg.agi_permit:
        raise ConfigError(
            f"agi_bind {cfg.agi_bind!r} is not loopback: set `agi_permit` to the "
            "addresses of the Asterisk servers allowed to connect"
        )


def private_dir(path: Path) -> None:
    """Create a directory only its owner can enter (state, config, logs, recordings)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def resolve_state_dir(explicit: Path | str | None) -> Path:
    """The --state-dir option wins, then $HOTLINE_STATE_DIR, then the system default."""
    if explicit:
        return Path(explicit).resolve()
    env = os.environ.get(STATE_DIR_ENV)
    return Path(env).resolve() if env else DEFAULT_STATE_DIR


def load(state_dir: Path) -> StackConfig:
    path = state_dir / STACK_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: no stack here; run `ivr init --state-dir {state_dir}` or `make run`"
        ) from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return StackConfig.from_json(raw, path)


def init(
    state_dir: Path,
    ports: Ports | None = None,
    database_url: str | None = None,
    routing_profile: str | None = None,
    sip_bind: str | None = None,
) -> StackConfig:
    """Create the stack file once; later calls keep its secrets and update only ports/URL."""
    # Secrets, the case store, logs and recordings all live below: owner only.
    private_dir(state_dir)
    path = state_dir / STACK_FILE
    if path.exists():
        cfg = load(state_dir)
        if ports is not None:
            cfg = replace(cfg, ports=ports)
        if database_url:
            cfg = replace(cfg, database_url=database_url)
        if routing_profile:
            cfg = replace(cfg, routing_profile=routing_profile)
    else:
        cfg = StackConfig(
            state_dir=state_dir,
            ports=ports or Ports(),
            database_url=database_url or "",
            ami_secret=secrets.token_urlsafe(18),
            ari_password=secrets.token_urlsafe(18),
            routing_profile=routing_profile or "taipei",
        )
    if sip_bind:
        cfg = replace(cfg, sip_bind=sip_bind)
    if not cfg.ami_admin_secret:
        # Stack files written before the reload user existed get one now.
        cfg = replace(cfg, ami_admin_secret=secrets.token_urlsafe(18))
    if not cfg.database_url:
        cfg = replace(cfg, database_url=f"sqlite+aiosqlite:///{cfg.sqlite_path}")
    if cfg.database_url == f"sqlite+aiosqlite:///{cfg.sqlite_path}":
        # SQLite creates the file (and its -wal and -shm, which copy its mode) with the
        # creating process's umask: make it owner-only before anything opens it.
        os.close(os.open(cfg.sqlite_path, os.O_WRONLY | os.O_CREAT, 0o600))
        cfg.sqlite_path.chmod(0o600)
    save(cfg)
    return cfg


def save(cfg: StackConfig) -> None:
    path = cfg.state_dir / STACK_FILE
    tmp = path.with_suffix(".tmp")
    # The file holds the AMI and ARI secrets.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(cfg.to_json(), fh, indent=2)
    tmp.replace(path)
