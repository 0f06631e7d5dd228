"""A binary file read with bounds: no read past its end, no read larger than asked and there.

A hostile header can claim a section of 2⁴⁰ bytes or a table past the end of the file; a read
through :class:`Bounded` is capped at what the file holds, so a parser handed one never allocates
more than the file's size, and :meth:`Bounded.at` refuses a range outside the file outright.
Every byte read counts against one budget per file, so no loop over a crafted table can run on.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

from envsnap.safeio import describe

READ_BUDGET = 256 * 1024 * 1024  # bytes one inspection may read from one file, all reads together


class FormatError(ValueError):
    """The file is not a binary envsnap can read, or its headers contradict its size."""


class Bounded:
    """A read-only, seekable view of a regular file that never reads past its end."""

    def __init__(self, handle: BinaryIO, size: int, budget: int = READ_BUDGET) -> None:
        self._handle = handle
        self.size = size
        self._pos = 0
        self._budget = [budget]  # shared by the views of one file
        self._base = 0

    def view(self, offset: int, size: int, what: str) -> Bounded:
        """The *size* bytes at *offset* (a slice of a universal binary) as a file of their own."""
        if offset < 0 or size < 0 or offset + size > self.size:
            raise FormatError(f"{what} lies outside the file (offset {offset}, {size} bytes)")
        part = Bounded(self._handle, size)
        part._budget, part._base = self._budget, self._base + offset
        return part

    # the file-object methods parsers use (pyelftools reads through these)
    def read(self, n: int = -1) -> bytes:
        available = max(0, self.size - self._pos)
        n = available if n is None or n < 0 else min(n, available)
        data = self._take(self._pos, n)
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def at(self, offset: int, n: int, what: str) -> bytes:
        """Exactly *n* bytes at *offset*, or FormatError naming *what* lies outside the file."""
        if offset < 0 or n < 0 or offset + n > self.size:
            raise FormatError(f"{what} lies outside the file (offset {offset}, {n} bytes)")
        return self._take(offset, n)

    def _take(self, offset: int, n: int) -> bytes:
        if n == 0:  # a read at or past the end: the OS may refuse to seek there (EINVAL, overflow)
            return b""
        if n > self._budget[0]:
            raise FormatError("its headers ask for more data than envsnap reads from one file")
        self._budget[0] -= n
        self._handle.seek(self._base + offset)
        data = self._handle.read(n)
        if len(data) != n:
            raise FormatError("the file changed while it was read")
        return data


def open_binary(path: str) -> tuple[BinaryIO, int]:
    """*path* opened for reading (symlinks followed, never blocking), with its size; OSError
    with a readable ``strerror`` unless it is a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"it is {describe(info.st_mode)}, not a regular file")
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return handle, info.st_size
