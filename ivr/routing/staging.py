"""The files side of a publish: the per-profile lock, the staging directory the draft is
checked in, and the one-step swap that makes it the profile's directory.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import fcntl
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from ivr.routing.loader import Problem
from ivr.routing.publish_types import FieldProblem, Site
from ivr.routing.versions import TABLE_FILES, DocumentError, write_document

# ---------------------------------------------------------------- the lock


@asynccontextmanager
async def publish_lock(site: Site) -> AsyncIterator[None]:
    """One publisher per profile on this machine, across processes (flock)."""
    site.lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(
        site.lock_dir / f"routing-publish-{site.profile}.lock", os.O_CREAT | os.O_RDWR, 0o600
    )
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# ---------------------------------------------------------------- staging and swapping


def stage(site: Site, files: Mapping[str, str]) -> Path:
    """The files in a new directory beside the profile's, with the profile's modes."""
    parent = site.routing_dir.parent
    staging = Path(tempfile.mkdtemp(prefix=f".{site.routing_dir.name}.publish-", dir=parent))
    try:
        write_document(files, staging)
        old = site.routing_dir
        for name in files:
            previous = old / name
            mode = previous.stat().st_mode & 0o777 if previous.is_file() else 0o600
            (staging / name).chmod(mode)
        if old.is_dir():
            # Anything else kept in the profile directory (a README, a .gitkeep) stays.
            for extra in old.iterdir():
                if extra.is_file() and extra.name not in TABLE_FILES:
                    shutil.copy2(extra, staging / extra.name)
            staging.chmod(old.stat().st_mode & 0o777)
    except (OSError, DocumentError):
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one step (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result != 0:
        err = ctypes.get_errno()
        if err in {22, 38, 95}:  # EINVAL, ENOSYS, EOPNOTSUPP: this filesystem cannot
            return False
        raise OSError(err, os.strerror(err), str(b))
    return True


def swap_in(staging: Path, target: Path) -> None:
    """Make `staging` the profile directory; a reader sees the old files or the new."""
    if target.is_dir() and _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # it holds the old files now
        return
    # Fallback: two renames; a reader in between finds no directory and is refused,
    # which a reload survives (the running table keeps serving).
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------- checking


def _placed(problem: Problem, staging: Path) -> FieldProblem:
    path = Path(problem.file)
    file = path.name if staging in (path.parent, path) else problem.file
    return FieldProblem(file, problem.path, problem.reason)


def check_staged(site: Site, staging: Path) -> list[FieldProblem]:
    return [_placed(p, staging) for p in site.check(staging)]


def check_files(site: Site, files: Mapping[str, str]) -> list[FieldProblem]:
    """Every problem `ivr routing check` finds in these files; empty: publishable."""
    staging = stage(site, files)
    try:
        return check_staged(site, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
