"""Reading a file envsnap was pointed at (the lock, envsnap.toml, a recording) with a bound.

A path may name a FIFO, a device, a directory, a symlink loop or a huge file: it is opened without
blocking, refused unless it is a regular file, and read only up to a limit, so no such file can
hang a command or fill the memory. A refusal is an :class:`OSError` whose ``strerror`` says why,
so that a caller reports it as it reports any other unreadable file. A missing file is
:class:`FileNotFoundError`, as with ``open``.

Only ``os``, ``stat`` and ``errno`` are imported.
"""

from __future__ import annotations

import errno
import os
import stat

MIB = 1024 * 1024


def describe(mode: int) -> str:
    """What kind of file a non-regular *mode* is, for an error message."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file *path*, at most *limit* of them.

    Raises FileNotFoundError when it does not exist, and OSError (with a readable ``strerror``)
    when it cannot be opened, is not a regular file (symlinks are followed) or is larger than
    *limit*.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"it is {describe(info.st_mode)}, not a regular file")
        data = handle.read(limit + 1)  # a file growing while it is read is caught here too
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"it is larger than {_size(limit)}")
    return data


def _size(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit} bytes"
