"""Probes read one layer of the cgo toolchain each, through a Host, and return plain data.

:func:`take_snapshot` runs them concurrently (each has its own timeout) and assembles the
platform entry that the lock stores. A probe that fails returns a section with ``error`` set
instead of raising; only the Go probe is essential, since without ``go`` there is no platform.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from envsnap.errors import EnvsnapError, SecretRefused

Section = dict[str, Any]
T = TypeVar("T")


def guarded(name: str, probe: Callable[[], Section]) -> Section:
    """Run *probe*; an expected failure becomes ``{"error": ...}`` rather than an exception."""
    try:
        return probe()
    except SecretRefused:
        raise
    except EnvsnapError as exc:
        return {"error": exc.message}


def submit(pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> Future[T]:
    return pool.submit(fn, *args)
