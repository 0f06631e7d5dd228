"""Run one child process with a hard deadline and bounded output, whatever the child does.

:class:`envsnap.host.LocalHost` runs every command through :func:`run_bounded`. The child gets
its own process group; its output is read with a deadline (never a blocking ``communicate()``),
at most *limit* bytes per stream are kept, and when the time is up the whole group is killed and
the pipes are closed, so a grandchild that left the group (``setsid sleep 100 &``, a daemon that
keeps stdout open) cannot hold envsnap. What each guarantee means for users is in
``docs/security.md`` ("Tools that misbehave").
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Literal

CHUNK = 64 * 1024
POLL = 0.05  # seconds between looks at the child, the deadline and a stop request
AFTER_EXIT_GRACE = 0.5  # how long pipes may stay open once the child itself has exited
# The data memory each tool may use (heap, not file mappings): a go list of a large monorepo
# stays far below it; go reading a flood from the $CC it runs reaches it in seconds.
MEMORY_CAP = 2 * 1024**3

Ending = Literal["exited", "timeout", "too-large", "stopped"]


@dataclass
class Budget:
    """The time one envsnap command may spend in tools, shared by every run of its host.

    ``stop_running`` kills the calls in flight (an essential probe failed: the others are
    pointless); ``hung`` remembers each executable that timed out, so it costs one timeout only.
    """

    seconds: float
    started: float = field(default_factory=time.monotonic)
    hung: dict[str, str] = field(default_factory=dict)  # executable -> what happened
    _running: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    _stopped: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def remaining(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    def enter(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running[proc.pid] = proc

    def leave(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.pop(proc.pid, None)
            self._stopped.discard(proc.pid)

    def was_stopped(self, proc: subprocess.Popen[bytes]) -> bool:
        with self._lock:
            return proc.pid in self._stopped

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """Kill *proc* if it still runs; it then ends as ``stopped``."""
        with self._lock:
            if proc.poll() is not None:
                return
            self._stopped.add(proc.pid)
        kill_group(proc)

    def stop_running(self) -> None:
        """Kill every command in flight; each of them then ends as ``stopped``."""
        with self._lock:
            running = list(self._running.values())
            self._stopped.update(p.pid for p in running)
        for proc in running:
            kill_group(proc)


@dataclass(frozen=True)
class Outcome:
    """How a bounded run ended, what it printed (at most the limit) and, for a timeout, the
    commands still running in its process group (the one that hung is usually the last)."""

    ending: Ending
    returncode: int
    stdout: bytes
    stderr: bytes
    stream: str = ""  # for "too-large": the stream that went over
    still_running: tuple[str, ...] = ()


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def start(argv: Sequence[str], cwd: str | None, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start *argv* in a process group of its own, its data memory capped (:func:`cap_memory`).
    ValueError when a word of *argv*, *cwd* or *env* holds a NUL byte (no program can be given
    one; it came from a tool's output)."""
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    cap_memory(proc.pid)
    return proc


def cap_memory(pid: int, cap: int = MEMORY_CAP) -> None:
    """Lower the data-memory limit (RLIMIT_DATA) of *pid* to *cap*, never raise it.

    Every tool it starts inherits the limit, so a tool that reads a flood from the ones it runs
    (``go env`` reading a $CC that prints without end) fails within seconds, out of memory,
    instead of growing by gigabytes until the timeout. File mappings (a linker's inputs) and
    reserved address space do not count. Linux only (``prlimit``): elsewhere only the time
    bounds such a tool.
    """
    prlimit = getattr(resource, "prlimit", None)
    if prlimit is None:
        return
    with contextlib.suppress(OSError, ValueError):  # gone already, or not ours to limit
        soft, hard = prlimit(pid, resource.RLIMIT_DATA)
        prlimit(pid, resource.RLIMIT_DATA, (_lower(soft, cap), _lower(hard, cap)))


def _lower(limit: int, cap: int) -> int:
    return cap if limit == resource.RLIM_INFINITY or limit > cap else limit


# How tools say that an allocation failed: Go's runtime, GCC, glibc's strerror, C++, Python.
_OUT_OF_MEMORY = re.compile(
    rb"out of memory|memory exhausted|cannot allocate memory|bad_alloc|MemoryError", re.IGNORECASE
)


def out_of_memory(stderr: bytes) -> str | None:
    """The line of *stderr*'s start that says memory ran out, shortened; None if none does."""
    found = _OUT_OF_MEMORY.search(stderr, 0, 8192)
    if found is None:
        return None
    start = stderr.rfind(b"\n", 0, found.start()) + 1
    end = stderr.find(b"\n", found.end())
    line = stderr[start : end if end >= 0 else None].decode("utf-8", errors="replace").strip()
    return line if len(line) <= 200 else line[:199] + "…"


class _Reader:
    """Both pipes of one child, read without blocking, each kept up to *limit* bytes."""

    def __init__(self, proc: subprocess.Popen[bytes], limit: int) -> None:
        self.limit = limit
        self.selector = selectors.DefaultSelector()
        self.data: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
        self.over = ""
        for name, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            if pipe is None:
                continue
            os.set_blocking(pipe.fileno(), False)
            self.selector.register(pipe, selectors.EVENT_READ, name)

    @property
    def open(self) -> bool:
        return bool(self.selector.get_map())

    def pump(self, wait: float) -> None:
        """Read what is ready within *wait* seconds; note the first stream over the limit."""
        for key, _ in self.selector.select(max(wait, 0.0)):
            name = str(key.data)
            pipe: IO[bytes] = key.fileobj  # type: ignore[assignment]
            try:
                chunk = os.read(pipe.fileno(), CHUNK)
            except BlockingIOError:
                continue
            if not chunk:
                self.selector.unregister(pipe)
                continue
            self.data[name] += chunk
            if len(self.data[name]) > self.limit and not self.over:
                self.over = name

    def close(self) -> None:
        for key in list(self.selector.get_map().values()):
            self.selector.unregister(key.fileobj)
        self.selector.close()


def run_bounded(
    proc: subprocess.Popen[bytes], timeout: float, limit: int, budget: Budget
) -> Outcome:
    """Wait for *proc* at most *timeout* seconds, keeping at most *limit* bytes per stream."""
    reader = _Reader(proc, limit)
    budget.enter(proc)
    try:
        ending = _wait(proc, reader, time.monotonic() + timeout, budget)
        running = still_running(proc.pid) if ending == "timeout" else ()
        if ending != "exited" or reader.open:  # reader.open: a grandchild holds the pipes
            kill_group(proc)
        returncode = proc.wait()
    finally:
        budget.leave(proc)
        reader.close()
        _close_pipes(proc)
        if proc.poll() is None:  # interrupted: never leave a child behind
            kill_group(proc)
    out, err = (bytes(reader.data[n][:limit]) for n in ("stdout", "stderr"))
    return Outcome(ending, returncode, out, err, reader.over, running)


def _wait(
    proc: subprocess.Popen[bytes], reader: _Reader, deadline: float, budget: Budget
) -> Ending:
    exited_at: float | None = None
    while True:
        now = time.monotonic()
        if budget.was_stopped(proc):
            return "stopped"
        if reader.over:
            return "too-large"
        if exited_at is None and proc.poll() is not None:
            exited_at = now
        if not reader.open and exited_at is not None:
            return "exited"
        if exited_at is not None and now - exited_at > AFTER_EXIT_GRACE:
            return "exited"  # a grandchild holds the pipes open: abandon them
        if now >= deadline:
            return "timeout"
        if reader.open:
            reader.pump(min(POLL, deadline - now))
        else:  # the pipes closed as the child exits: wait for that, not a whole POLL
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(min(POLL, deadline - now))


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


def still_running(group: int) -> tuple[str, ...]:
    """The command lines of the process group *group*, from its leader down to the youngest
    descendant (Linux ``/proc``; empty elsewhere): what a hung command was waiting for."""
    parents: dict[int, int] = {}
    started: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                _note_process(int(entry), group, parents, started)
    chain = [group] if group in started else []
    while chain:
        children = [p for p, parent in parents.items() if parent == chain[-1] and p not in chain]
        if not children:
            break
        chain.append(max(children, key=lambda p: (started[p], p)))
    return tuple(filter(None, (_command_line(pid) for pid in chain)))


def _note_process(pid: int, group: int, parents: dict[int, int], started: dict[int, int]) -> None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return
    fields = stat.rsplit(")", 1)[-1].split()
    if len(fields) > 19 and int(fields[2]) == group:  # state ppid pgrp ... starttime
        parents[pid] = int(fields[1])
        started[pid] = int(fields[19])


SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh"})


def _command_line(pid: int) -> str:
    """One process's command, shortened; a script run by a shell is named by the script."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read(4096)
    except OSError:
        return ""
    words = [w.decode("utf-8", errors="replace") for w in raw.split(b"\0") if w]
    if len(words) > 1 and os.path.basename(words[0]) in SHELLS and words[1].startswith("/"):
        words = words[1:]
    text = " ".join(words)
    return text if len(text) <= 120 else text[:119] + "…"
