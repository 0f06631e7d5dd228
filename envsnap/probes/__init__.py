"""Probes read one layer of the cgo toolchain each, through a Host, and return plain data.

:func:`envsnap.probes.collect.take_snapshot` runs them concurrently (each command has its own
timeout) and assembles the platform entry that the lock stores. A probe that fails returns a
section with ``error`` set instead of raising; only the Go probe is essential, since without
``go`` there is no platform.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from envsnap.errors import EnvsnapError, SecretRefused
from envsnap.redact import scrub_message

Section = dict[str, Any]
# A version line kept in the lock is cut to this many characters (a tool printing a 20 MB first
# line must not put it in the lock; docs/security.md).
VERSION_CHARS = 200


def capped(line: str) -> str:
    """*line* cut to VERSION_CHARS characters (with an ellipsis when cut)."""
    return line if len(line) <= VERSION_CHARS else line[: VERSION_CHARS - 1] + "…"


def guarded(probe: Callable[[], Section]) -> Section:
    """Run *probe*; an expected failure becomes ``{"error": ...}`` rather than an exception."""
    try:
        return probe()
    except SecretRefused:
        raise
    except EnvsnapError as exc:
        return {"error": scrub_message(exc.message)}
