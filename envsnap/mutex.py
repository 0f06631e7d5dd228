"""The writers' mutex of envsnap.lock: one ``lock`` at a time writes a given file.

An exclusive ``flock`` on the folder holding the written file (docs/security.md, "Writes"); a
mutex file beside it where the filesystem cannot lock a folder. The lock dies with its process.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from envsnap.atomic import remove_dead_temporaries, write_target
from envsnap.errors import LockError

LOCK_WAIT_SECONDS = 60.0


def _mutex_folder(path: Path) -> Path:
    """The folder whose lock serialises writers of *path*: the one the written file is in."""
    return write_target(path).parent


def _fallback_mutex(folder: Path, name: str) -> int:
    """A mutex file beside the lock, for filesystems that refuse to lock a folder (NFS)."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
    return os.open(folder / f".{name}.mutex", flags, 0o644)


def _lockable(path: Path) -> int:
    """A descriptor to take the writers' lock on: *path*'s folder itself, so that every envsnap
    agrees on it whatever its TMPDIR, HOME or user; a mutex file beside the lock where the
    filesystem cannot lock a folder."""
    folder = _mutex_folder(path)
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # NFS refuses it on a folder
        fcntl.flock(fd, fcntl.LOCK_UN)
    except BlockingIOError:
        return fd  # held by a writer: the folder can be locked
    except OSError:
        os.close(fd)
        return _fallback_mutex(folder, path.name)
    return fd


def _acquire(fd: int, path: Path, on_wait: Callable[[], object] | None) -> None:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    waited = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if time.monotonic() >= deadline:
            raise LockError(
                f"another envsnap has been writing {path.name} for {LOCK_WAIT_SECONDS:g}s",
                "wait for it to finish, or stop it",
            )
        if not waited and on_wait is not None:
            on_wait()
        waited = True
        time.sleep(0.02)


def remove_stale_temporaries(path: Path) -> None:
    """Delete the temporaries of writers of *path* that were killed mid-write (their pid is in
    the name and no longer runs); a live writer's temporary is never touched."""
    remove_dead_temporaries(write_target(path))


@contextmanager
def exclusive(path: Path, on_wait: Callable[[], object] | None = None) -> Iterator[None]:
    """Serialise writers of *path*: an exclusive ``flock`` on the folder holding the file that
    is written (the symlink's target's folder for a symlinked lock). Nothing is created in the
    repository, and two envsnaps with different TMPDIRs, HOMEs or users still exclude each
    other. The lock dies with its process, so a killed writer never blocks the next one."""
    fd = _lockable(path)
    try:
        _acquire(fd, path, on_wait)
        remove_stale_temporaries(path)
        yield
    finally:
        os.close(fd)  # releases the flock
