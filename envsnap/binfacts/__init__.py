"""Reading what a binary says about the build that made it: ELF, Mach-O, universal Mach-O.

:func:`read` opens one file and returns a :class:`~envsnap.binfacts.facts.Binary`: per slice,
the Go build information (``go version -m``), and the ELF or Mach-O facts (linked libraries,
run paths, compilers, SDK, minimum OS, linker). Nothing is executed, and no native tool is
needed: a Linux machine reads a macOS binary. A file that is not a binary, or whose headers
contradict its size, raises :class:`~envsnap.errors.EnvsnapError` with one line naming it.
"""

from __future__ import annotations

import struct

from envsnap.binfacts.facts import Binary
from envsnap.binfacts.stream import Bounded, FormatError, open_binary
from envsnap.errors import EnvsnapError, expected_os_error

ELF_MAGIC = b"\x7fELF"
NOT_A_BINARY_HINT = "give the path of an executable or shared library built by `go build`"


class BinaryError(EnvsnapError):
    """A file given to ``inspect`` cannot be read as a binary."""


def read(path: str) -> Binary:
    try:
        handle, size = open_binary(path)
    except FileNotFoundError:
        raise BinaryError(f"{path}: no such file", "check the path") from None
    except OSError as exc:
        known = expected_os_error(exc)
        hint = known.hint if known else "check the path"
        raise BinaryError(f"{path}: cannot be read: {exc.strerror or exc}", hint) from None
    with handle:
        try:
            return _read(path, Bounded(handle, size))
        except FormatError as exc:
            raise BinaryError(f"{path}: {exc}", NOT_A_BINARY_HINT) from None
        except OSError as exc:
            raise BinaryError(
                f"{path}: cannot be read: {exc.strerror or exc}", "check the file"
            ) from None
        except (
            ValueError,
            struct.error,
            KeyError,
            IndexError,
            AttributeError,
            TypeError,
            AssertionError,
            RecursionError,
            MemoryError,
            UnicodeError,
        ) as exc:
            # pyelftools raises its own errors and plain ones alike on a malformed file
            raise BinaryError(
                f"{path}: a malformed binary ({_reason(exc)})", NOT_A_BINARY_HINT
            ) from None


def _read(path: str, stream: Bounded) -> Binary:
    from envsnap.binfacts import macho

    if stream.size == 0:
        raise FormatError("it is empty")
    head = stream.at(0, min(stream.size, 8), "the header")
    if head.startswith(ELF_MAGIC):
        from elftools.common.exceptions import ELFError

        from envsnap.binfacts import elf

        try:
            return Binary(path, "elf", (elf.read(stream),))
        except ELFError as exc:
            raise FormatError(f"a malformed ELF file ({_reason(exc)})") from None
    if macho.is_fat(head):
        return Binary(path, "macho-fat", macho.read(stream))
    if macho.is_thin(head):
        return Binary(path, "macho", macho.read(stream))
    raise FormatError("not an executable or library (neither ELF nor Mach-O)")


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
