"""``ENVSNAP_TRACE=FILE``: one JSON line per question a host was asked (docs/cache.md).

A line is written for every tool run (its argv, working directory, exit status or failure, and
how long it took), file read, stat, stamp, path resolution, PATH lookup, digest and environment
lookup, by the machine itself and by a replayed recording alike. Every word is scrubbed as
``envsnap record`` scrubs a recording (:func:`envsnap.redact.scrub`, with the secret values of
the environment), and an environment lookup is traced by name only, never with its value.

The file is opened once, for appending; when it cannot be written, one warning names it and the
command goes on untraced. This module is imported only when the variable is set.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Mapping

from envsnap import redact

Field = str | int | float | bool | None | list[str]


class HostTrace:
    """Appends one line per host call to a file, from any thread."""

    def __init__(self, file: str, secrets: set[str], host: str) -> None:
        self.file = file
        self.host = host
        self._secrets = secrets
        self._fd: int | None = None
        self._broken = False
        self._lock = threading.Lock()

    def note(self, call: str, **fields: Field) -> None:
        """Trace one *call* with its *fields* (strings are scrubbed)."""
        line: dict[str, Field] = {"host": self.host, "call": call, "at": round(time.time(), 6)}
        line.update({name: self._scrub(value) for name, value in fields.items()})
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")
        with self._lock:
            if self._broken:
                return
            try:
                fd = self._open()
                os.write(fd, data)
            except OSError as exc:
                self._give_up(exc)

    def _scrub(self, value: Field) -> Field:
        if isinstance(value, str):
            return redact.scrub(value, self._secrets)
        if isinstance(value, list):
            return [redact.scrub(word, self._secrets) for word in value]
        return value

    def _open(self) -> int:
        if self._fd is None:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC
            fd = os.open(self.file, flags | getattr(os, "O_NOCTTY", 0), 0o600)
            os.set_blocking(fd, True)  # a FIFO without a reader was refused, not waited on
            self._fd = fd
        return self._fd

    def _give_up(self, exc: OSError) -> None:
        self._broken = True
        reason = exc.strerror or str(exc)
        shown = self.file.replace("\n", " ")
        sys.stderr.write(
            f"envsnap: warning: cannot write the trace to {shown}: {reason} (ENVSNAP_TRACE); "
            "going on without it\n"
        )


def from_environment(environ: Mapping[str, str], host: str) -> HostTrace | None:
    """The trace ``ENVSNAP_TRACE`` asks for, or None when it is unset or empty."""
    file = environ.get("ENVSNAP_TRACE", "")
    if not file:
        return None
    return HostTrace(file, redact.secret_values(dict(environ)), host)
