"""Asterisk runs as its own unprivileged user, never as root.

The user is a system account on the host (`hotline-asterisk`), so its uid is
reserved there and no other daemon owns the hotline's files. The chrooted Asterisk
knows the same account (same uid and gid in the root's /etc/passwd and /etc/group),
and is started with `-U`/`-G`. It gets exactly the parts of the state directory it
reads or writes: its config, logs, run files, database, spool of recorded messages
and prompts. The engine runs as root and reaches every file; the stack file, the
case store and the engine's own spool stay root's, 0600.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import structlog

from ivr.asterisk.install import AsteriskRuntime
from ivr.config import StackConfig
from ivr.errors import HotlineError

log = structlog.get_logger()

USER = "hotline-asterisk"


class UserError(HotlineError):
    """The Asterisk user cannot be created or given its files."""

    code = "asterisk.user_failed"


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int


def ensure_account() -> Account:
    """The host's `hotline-asterisk` system account, created once."""
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        if shutil.which("useradd") is None:
            raise UserError(f"no user {USER} and no useradd to create it") from None
        subprocess.run(
            [
                "useradd", "--system", "--user-group", "--no-create-home",
                "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", USER,
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        entry = pwd.getpwnam(USER)
        log.info("asterisk_user_created", user=USER, uid=entry.pw_uid)
    return Account(USER, entry.pw_uid, entry.pw_gid)


def _ensure_line(path: Path, name: str, line: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if any(existing.split(":", 1)[0] == name for existing in text.splitlines()):
        return
    with path.open("a", encoding="utf-8") as fh:
        fh.write(("" if text.endswith("\n") or not text else "\n") + line + "\n")


def ensure_in_root(runtime: AsteriskRuntime, account: Account) -> None:
    """The chroot knows the account under the host's uid and gid."""
    if runtime.root is None:
        return
    group = grp.getgrgid(account.gid).gr_name
    _ensure_line(runtime.root / "etc" / "group", group, f"{group}:x:{account.gid}:")
    _ensure_line(
        runtime.root / "etc" / "passwd",
        account.name,
        f"{account.name}:x:{account.uid}:{account.gid}:hotline1999 Asterisk:"
        "/nonexistent:/usr/sbin/nologin",
    )


def _own_tree(path: Path, account: Account) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.chown(Path(root, name), account.uid, account.gid, follow_symlinks=False)
    os.chown(path, account.uid, account.gid)


def grant(cfg: StackConfig, account: Account) -> None:
    """Give Asterisk the state directory's parts it reads or writes, and nothing else."""
    # It must traverse the state directory (0700) to reach them; it cannot read the
    # root-owned files in it (stack.json, the case store).
    os.chown(cfg.state_dir, account.uid, account.gid)
    for tree in (cfg.etc_dir, cfg.log_dir, cfg.run_dir, cfg.state_dir / "var", cfg.sounds_dir):
        _own_tree(tree, account)
    os.chown(cfg.etc_dir.parent, account.uid, account.gid)
    spool = cfg.state_dir / "spool"
    spool.mkdir(mode=0o700, exist_ok=True)
    os.chown(spool, account.uid, account.gid)
    # Recorded messages only: the engine's own spool file beside it stays root's.
    _own_tree(spool / "messages", account)
    # The SIP TLS certificate and key, which Asterisk loads itself.
    for name in (cfg.tls_cert_file, cfg.tls_key_file):
        path = Path(name) if name else None
        if path is not None and path.exists():
            os.chown(path, account.uid, account.gid)
            if cfg.state_dir in path.parents and path.parent != cfg.state_dir:
                os.chown(path.parent, account.uid, account.gid)


def open_path_in_root(runtime: AsteriskRuntime, cfg: StackConfig) -> None:
    """The directories leading to the state directory's mount point in the chroot
    must be traversable by the account (they are empty mount-point parents)."""
    if runtime.root is None:
        return
    inner = runtime.root / str(cfg.state_dir).lstrip("/")
    for parent in inner.parents:
        if parent == runtime.root or runtime.root not in parent.parents:
            break
        if parent.exists():
            # Search permission only, keeping the rest (the root's /tmp stays 1777).
            parent.chmod(stat.S_IMODE(parent.stat().st_mode) | 0o011)


def prepare(cfg: StackConfig, runtime: AsteriskRuntime) -> list[str]:
    """Everything the account needs; the `asterisk` arguments that switch to it."""
    account = ensure_account()
    ensure_in_root(runtime, account)
    open_path_in_root(runtime, cfg)
    grant(cfg, account)
    return ["-U", account.name, "-G", grp.getgrgid(account.gid).gr_name]
