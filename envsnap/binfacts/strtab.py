"""Names read from an ELF string table, with bounds: inside the table, each at most
:data:`MAX_NAME` bytes, and all the names one file's dynamic section and version needs give at
most :data:`MAX_NAMES` bytes together.

pyelftools reads a name at any offset and on until a NUL, past its table if need be, and
thousands of entries may all name one long string; :class:`StringTable` stands in for its string
tables so that a few kilobytes of entries cannot make hundreds of megabytes of names.
"""

from __future__ import annotations

from envsnap.binfacts.stream import Bounded, FormatError

MAX_NAME = 64 * 1024  # a soname, a version, or a run path list: PATH_MAX is 4096
MAX_NAMES = 1024 * 1024  # the names of one file together; a real binary's are a few kilobytes
FIRST_CHUNK = 256


class NameBudget:
    """The bytes of names one file may still give."""

    def __init__(self, total: int = MAX_NAMES) -> None:
        self.left = total

    def charge(self, size: int, what: str) -> None:
        if size > self.left:
            raise FormatError(
                f"{what} names more than {MAX_NAMES >> 20} MiB of libraries, paths and "
                "versions, more than any linker writes"
            )
        self.left -= size


class StringTable:
    """The *size* bytes at *offset* of *stream*, read as NUL-terminated names (pyelftools' string
    table interface: :meth:`get_string`)."""

    def __init__(
        self, stream: Bounded, offset: int, size: int, budget: NameBudget, what: str
    ) -> None:
        self._stream = stream
        self._offset = offset
        self._size = size
        self._budget = budget
        self._what = what

    def get_string(self, offset: int) -> str:
        if offset >= self._size:
            raise FormatError(f"{self._what} names a string past the end of its string table")
        raw = self._read(offset)
        self._budget.charge(len(raw) + 1, self._what)
        return raw.decode("utf-8", "replace")

    def _read(self, offset: int) -> bytes:
        """The name at *offset*, read in growing chunks up to its NUL."""
        room = self._size - offset
        chunks: list[bytes] = []
        read, chunk = 0, FIRST_CHUNK
        while read < room and read <= MAX_NAME:
            n = min(chunk, room - read)
            piece = self._stream.at(self._offset + offset + read, n, "a string table")
            end = piece.find(b"\0")
            if end >= 0:
                return b"".join([*chunks, piece[:end]])
            chunks.append(piece)
            read, chunk = read + n, chunk * 4
        if read > MAX_NAME:
            raise FormatError(f"{self._what} names a string longer than any name or path")
        raise FormatError(f"{self._what} names a string that runs past the end of its string table")
