"""Find an Asterisk on this machine, or build a cached Debian sid root that has one.

Debian 12 ships no Asterisk; Debian sid does. Rather than compile, we debootstrap a
minimal sid root once, install `asterisk` there, and run it with chroot. Everything
the engine needs crosses the chroot boundary over loopback TCP.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import structlog

from ivr.errors import HotlineError

log = structlog.get_logger()

CACHE_ENV = "HOTLINE_ASTERISK_ROOT"
MIRROR_ENV = "HOTLINE_DEBIAN_MIRROR"
DEFAULT_ROOT = Path("/var/cache/hotline1999/asterisk-sid")
READY_MARKER = ".hotline1999-ready"
# debootstrap (about 250 MB) plus asterisk and its modules (about 400 MB), with margin.
REQUIRED_FREE_BYTES = 1536 * 1024 * 1024
APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
PACKAGES = ("asterisk", "asterisk-modules")


class InstallError(HotlineError):
    """Asterisk could not be found or installed; the message says what to do."""

    code = "asterisk.install_failed"


@dataclass(frozen=True)
class AsteriskRuntime:
    """How to run `asterisk`: directly, or inside a chroot root."""

    root: Path | None

    def command(self, args: Sequence[str]) -> list[str]:
        if self.root is None:
            return ["asterisk", *args]
        return ["chroot", str(self.root), "asterisk", *args]

    def describe(self) -> str:
        return "asterisk on PATH" if self.root is None else f"asterisk in chroot {self.root}"


def root_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else DEFAULT_ROOT


def find() -> AsteriskRuntime | None:
    """An installed Asterisk, preferring one on PATH; None when neither exists."""
    if shutil.which("asterisk"):
        return AsteriskRuntime(root=None)
    root = root_dir()
    if (root / READY_MARKER).exists():
        return AsteriskRuntime(root=root)
    return None


def ensure() -> AsteriskRuntime:
    """Idempotent: reuse what exists, otherwise build the sid root once."""
    found = find()
    if found is not None:
        return found
    root = root_dir()
    with _lock(root.parent / f".{root.name}.lock"):
        # Another process may have finished the build while we waited for the lock.
        found = find()
        if found is not None:
            return found
        _build_root(root)
    return AsteriskRuntime(root=root)


def _build_root(root: Path) -> None:
    _check_preconditions(root.parent)
    mirror = os.environ.get(MIRROR_ENV) or debian_mirror(_read_apt_sources())
    if mirror is None:
        raise InstallError(
            "no Debian mirror found in /etc/apt/sources.list{,.d}; "
            f"set {MIRROR_ENV} to the URL of a Debian archive"
        )
    work = root.with_name(root.name + ".partial")
    if work.exists():
        _unmount_below(work)
        shutil.rmtree(work)
    log.info("asterisk_root_build_start", root=str(root), mirror=mirror)
    _run(["debootstrap", "--variant=minbase", "sid", str(work), mirror], "debootstrap")
    _run(
        [
            "chroot",
            str(work),
            "apt-get",
            "-o",
            "Acquire::Check-Valid-Until=false",
            "install",
            "-y",
            "--no-install-recommends",
            *PACKAGES,
        ],
        "apt-get install asterisk (inside the sid root)",
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    # apt's downloaded archives are a few hundred MB we never need again.
    _run(["chroot", str(work), "apt-get", "clean"], "apt-get clean")
    (work / READY_MARKER).write_text("asterisk sid root built by hotline1999\n", encoding="utf-8")
    work.rename(root)
    log.info("asterisk_root_build_done", root=str(root))


def _check_preconditions(parent: Path) -> None:
    if os.geteuid() != 0:
        raise InstallError(
            "building the Asterisk root needs root (debootstrap and chroot); "
            "run as root, or install an `asterisk` binary on PATH"
        )
    if shutil.which("debootstrap") is None:
        raise InstallError("debootstrap is missing: apt-get install debootstrap")
    parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(parent).free
    if free < REQUIRED_FREE_BYTES:
        raise InstallError(
            f"not enough disk under {parent}: {free // 2**20} MB free, "
            f"{REQUIRED_FREE_BYTES // 2**20} MB needed for the Asterisk root; "
            f"free some space or point {CACHE_ENV} at a larger disk"
        )


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        if "No space left on device" in tail:
            raise InstallError(f"{what} failed: the disk is full\n{tail}")
        raise InstallError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def _read_apt_sources() -> list[str]:
    texts: list[str] = []
    for src in APT_SOURCES:
        files = sorted(src.glob("*")) if src.is_dir() else [src]
        for f in files:
            if f.suffix in {".list", ".sources"} or f == src:
                try:
                    texts.append(f.read_text(encoding="utf-8"))
                except OSError:
                    continue
    return texts


_SUITE_SKIP = re.compile(r"-(security|updates|backports|proposed-updates)$")


def debian_mirror(texts: Sequence[str]) -> str | None:
    """The first Debian archive URL in apt sources (one-line or deb822 style).

    Security and third-party archives cannot serve sid, so only entries for a plain
    Debian suite whose URL path ends in /debian count.
    """
    for text in texts:
        for uri, suites in _entries(text):
            if not uri.rstrip("/").endswith("/debian"):
                continue
            if any(not _SUITE_SKIP.search(s) for s in suites):
                return uri.rstrip("/")
    return None


def _entries(text: str) -> Iterator[tuple[str, list[str]]]:
    stanza: dict[str, str] = {}
    for raw in [*text.splitlines(), ""]:
        if raw.lstrip().startswith("#"):
            # A comment inside a deb822 stanza does not end the stanza.
            continue
        line = raw.split("#", 1)[0].strip()
        if line.startswith(("deb ", "deb\t")):
            # Options in brackets may contain spaces; drop them before reading URL/suite.
            parts = re.sub(r"\[[^\]]*\]", "", line).split()
            if len(parts) >= 3:
                yield parts[1], [parts[2]]
            continue
        if not line:
            if stanza.get("types", "").split() and "deb" in stanza["types"].split():
                for uri in stanza.get("uris", "").split():
                    yield uri, stanza.get("suites", "").split()
            stanza = {}
            continue
        if ":" in line:
            key, value = line.split(":", 1)
            stanza[key.strip().lower()] = value.strip()


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _unmount_below(path: Path) -> None:
    for mnt in reversed(mounts_below(path)):
        subprocess.run(["umount", "-l", mnt], check=False, capture_output=True)


def mounts_below(path: Path) -> list[str]:
    prefix = str(path.resolve())
    found: list[str] = []
    with open("/proc/mounts", encoding="utf-8") as fh:
        for line in fh:
            mnt = line.split()[1].replace("\\040", " ")
            if mnt == prefix or mnt.startswith(prefix + "/"):
                found.append(mnt)
    return found
