"""Probes read one layer of the cgo toolchain each, through a Host, and return plain data.

:func:`envsnap.probes.collect.take_snapshot` runs them concurrently (each command has its own
timeout) and assembles the platform entry that the lock stores. A probe that fails returns a
section with ``error`` set instead of raising; only the Go probe is essential, since without
``go`` there is no platform.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar, cast

from envsnap.errors import EnvsnapError, HostError, SecretRefused
from envsnap.redact import scrub_message

if TYPE_CHECKING:
    from envsnap.host import CommandResult

# A section a probe returns, whose every field may be absent but ``error`` (envsnap.entry's
# Tool and AppleSection, envsnap.probes.system's OsFacts).
S = TypeVar("S", bound=Mapping[str, object])
# A version line kept in the lock is cut to this many characters (a tool printing a 20 MB first
# line must not put it in the lock; docs/security.md).
VERSION_CHARS = 200


def capped(line: str) -> str:
    """*line* (a tool's version line) with any credential hidden, cut to VERSION_CHARS characters
    (with an ellipsis when cut)."""
    line = scrub_message(line)
    return line if len(line) <= VERSION_CHARS else line[: VERSION_CHARS - 1] + "…"


def guarded(probe: Callable[[], S]) -> S:
    """Run *probe*; an expected failure becomes ``{"error": ...}`` rather than an exception
    (a section of the shape *probe* returns: each of those has ``error`` and no field it
    requires)."""
    try:
        return probe()
    except SecretRefused:
        raise
    except EnvsnapError as exc:
        failed: dict[str, str] = {"error": scrub_message(exc.message)}
        return cast(S, failed)


def printed_text(result: CommandResult, hint: str) -> str:
    """What *result* printed on stdout; refused (HostError with *hint*) when it holds a NUL
    byte: no flag, path or version has one, and no program or file name can take one."""
    if "\0" in result.out:
        raise HostError(f"`{result.shown}` printed a NUL byte", hint)
    return result.out
