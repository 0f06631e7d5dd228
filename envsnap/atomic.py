"""The one way envsnap writes a file: all of it, or none of it.

A write goes to a temporary file beside its target, named for the writing process
(``.NAME.PID.RANDOM.tmp``, created with ``O_EXCL | O_NOFOLLOW``), is fsynced, and is then renamed
over the target. A symlinked target is written through: the file the link names is replaced and
the link is kept. Anything but a regular file (a directory, a FIFO, a symlink loop) is refused
with an ``OSError`` naming the path, and nothing is left behind.

Folders envsnap keeps for itself (the crash log's, the caches') go through
:func:`private_folder`: created 0700, and refused when they exist but are not a real directory
owned by the current user and closed to group and others.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from pathlib import Path

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]{1,10})\.[0-9a-f]{8}\.tmp$")
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temporary_for(target: Path) -> Path:
    """A fresh temporary name beside *target*, owned by this process (its pid is in the name)."""
    return target.parent / f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"


def writer_pid(name: str, target_name: str) -> int | None:
    """The pid in a temporary file's *name* if it is one of *target_name*'s, else None."""
    match = _TEMPORARY.match(name)
    if match is None or match["name"] != target_name:
        return None
    return int(match["pid"])


def is_alive(pid: int) -> bool:
    """True when a process *pid* exists (another user's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, OSError):
        return False
    return True


def remove_dead_temporaries(target: Path) -> list[str]:
    """Delete the temporaries of *target* whose writer is no longer running; their names.

    A live writer's temporary is never touched, whatever mutex it did or did not take.
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        pid = writer_pid(entry.name, target.name)
        if pid is None or pid == os.getpid() or is_alive(pid):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(entry.name)
    return removed


def _refused(path: Path, code: int, reason: str) -> OSError:
    return OSError(code, reason, str(path))


def write_target(path: Path) -> Path:
    """The file a write of *path* replaces: *path*, or the file its symlink names.

    A symlink loop raises ``OSError(ELOOP)``; a dangling link names the file it would create.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path
    if not stat.S_ISLNK(info.st_mode):
        return path
    try:
        os.stat(path)
    except FileNotFoundError:
        pass  # dangling: the write creates the file it points at
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refused(path, errno.ELOOP, "is a symlink loop") from None
        raise
    return Path(os.path.realpath(path))


def _existing(target: Path, shown: Path, follow: bool) -> os.stat_result | None:
    """The stat of the file about to be replaced, None if there is none; refuses non-files."""
    try:
        info = os.stat(target) if follow else os.lstat(target)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(info.st_mode):
        raise _refused(shown, errno.EISDIR, "is a directory")
    if not stat.S_ISREG(info.st_mode) and not stat.S_ISLNK(info.st_mode):
        raise _refused(shown, errno.EEXIST, "is not a regular file")
    return info


def atomic_write(
    path: Path,
    data: bytes,
    *,
    mode: int | None = None,
    follow_symlinks: bool = True,
    keep_owner: bool = True,
) -> None:
    """Replace *path* with *data* so that a crash leaves either the old file or the new one.

    The old file's permission bits are kept unless *mode* is given, and with *keep_owner* its
    owner too, when allowed; a new file gets the umask's default. With *follow_symlinks* a
    symlink at *path* is written through; without it the link itself is replaced. On any
    failure the temporary file is removed and the ``OSError`` names *path*.
    """
    try:
        target = write_target(path) if follow_symlinks else path
        old = _existing(target, path, follow_symlinks)
        if old is not None and stat.S_ISLNK(old.st_mode):
            old = None  # a link replaced by a file (caches): the umask decides
        if mode is None:
            mode = old.st_mode & 0o7777 if old else 0o666 & ~_current_umask()
        _replace(target, data, mode, old if keep_owner else None)
    except OSError as exc:
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    _fsync_dir(target.parent)


def _replace(target: Path, data: bytes, mode: int, old: os.stat_result | None) -> None:
    tmp = temporary_for(target)
    fd = os.open(tmp, _CREATE, 0o600)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
            _keep_owner(fd, old)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _keep_owner(fd: int, old: os.stat_result | None) -> None:
    """Give the new file the old one's owner and group when allowed (root rewriting a user's
    lock must not leave a file the user cannot replace)."""
    if old is None or (old.st_uid, old.st_gid) == (os.geteuid(), os.getegid()):
        return
    with contextlib.suppress(OSError):
        os.fchown(fd, old.st_uid, old.st_gid)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def private_folder(folder: Path, *, parents: bool = False) -> Path:
    """*folder*, created 0700 if missing; refused (``PermissionError``) unless it is a real
    directory (not a symlink) owned by this user and not writable by group or others."""
    if parents:
        folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise PermissionError(errno.EPERM, "is not a real directory (a symlink?)", str(folder))
    if info.st_uid != os.geteuid():
        raise PermissionError(errno.EPERM, f"is owned by uid {info.st_uid}", str(folder))
    if info.st_mode & 0o022:
        raise PermissionError(
            errno.EPERM, f"is writable by others (mode {info.st_mode & 0o777:o})", str(folder)
        )
    return folder
