"""Progress on stderr for work that takes more than about a second — on a terminal only.

A command runs inside :func:`shown`; code deep in the probes says what it is doing with
:func:`phase` ("listing packages (go list)", "hashing libgtk-3.so.0"), which costs nothing when
no one is watching. After :data:`DELAY` seconds a single status line appears on stderr and is
redrawn in place; it is erased before anything else is printed and when the command ends, so a
report or an error never shares its line. Nothing is drawn when stderr is not a terminal (a
pipe, a commit hook's log, CI) or when ``TERM=dumb``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

DELAY = 1.0  # seconds of silence before the first status line
INTERVAL = 0.25
_ERASE = "\r\033[K"


class _Status:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.label = "working"
        self.started = time.monotonic()
        self.drawn = False
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def draw(self) -> None:
        with self.lock:
            elapsed = time.monotonic() - self.started
            width = 78
            text = f"envsnap: {self.label} ({elapsed:.0f}s)"
            if len(text) > width:
                text = text[: width - 1] + "…"
            _raw(self.stream, _ERASE + text)
            self.drawn = True

    def erase(self) -> None:
        with self.lock:
            if self.drawn:
                _raw(self.stream, _ERASE)
                self.drawn = False

    def run(self) -> None:
        if self.stop.wait(DELAY):
            return
        while not self.stop.is_set():
            self.draw()
            self.stop.wait(INTERVAL)


def _raw(stream: TextIO, text: str) -> None:
    """Write envsnap's own control sequence past the escaping of stdout and stderr
    (envsnap.termsafe), which escapes everything else."""
    (getattr(stream, "write_raw", None) or stream.write)(text)
    stream.flush()


class _Erasing:
    """A text stream that erases the status line before anything is written to it."""

    def __init__(self, inner: TextIO, status: _Status) -> None:
        self._inner, self._status = inner, status

    def write(self, text: str) -> int:
        self._status.erase()
        return self._inner.write(text)

    def write_raw(self, text: str) -> None:
        self._status.erase()
        _raw(self._inner, text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


_current: _Status | None = None


def phase(label: str) -> None:
    """Say what the command is doing now (shown only if the status line is up)."""
    status = _current
    if status is not None:
        status.label = "".join(c if c.isprintable() else "?" for c in label)


def wanted(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


@contextmanager
def shown(label: str) -> Iterator[None]:
    """Run the body with a status line on stderr after :data:`DELAY` seconds, if it is a
    terminal."""
    global _current
    if not wanted(sys.stderr) or _current is not None:
        yield
        return
    status = _Status(sys.stderr)
    status.label = label
    saved = sys.stdout, sys.stderr
    sys.stdout = _Erasing(saved[0], status)
    sys.stderr = _Erasing(saved[1], status)
    _current = status
    thread = threading.Thread(target=status.run, name="envsnap-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        status.stop.set()
        thread.join()
        status.erase()
        sys.stdout, sys.stderr = saved
        _current = None
