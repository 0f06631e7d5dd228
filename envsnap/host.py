"""The only door to the machine.

Every probe asks a :class:`Host` to run a command, read or stat a file, resolve a path or read an
environment variable. :class:`LocalHost` does it for real; :class:`RecordingHost` does it for real
and keeps a copy of every answer (``envsnap record``); :class:`ReplayHost` answers from such a
copy, which is how macOS probes run on any machine. The recording format is described in
``docs/recording-format.md``.
"""

from __future__ import annotations

import abc
import copy
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

from envsnap import hashing, redact, runner
from envsnap.errors import HostError, RecordingError
from envsnap.platforms import KNOWN, goos_of_uname

TYPE_CHECKING = False
if TYPE_CHECKING:
    from subprocess import Popen

    from envsnap.hosttrace import Field, HostTrace
    from envsnap.stamps import Stamp

DEFAULT_TIMEOUT = 10.0
# The time one envsnap command may spend in tools, all calls together (ENVSNAP_TIMEOUT lowers it).
DEFAULT_BUDGET = 180.0
# Bytes kept per stream per call; a tool printing more fails (docs/security.md).
OUTPUT_LIMIT = 4 * 1024 * 1024
VERSION_OUTPUT_LIMIT = 64 * 1024  # a `--version` call
MAX_READ = 4 * 1024 * 1024
RECORDING_FORMAT = "envsnap-recording"
RECORDING_VERSION = 1

# Children whose output is parsed get a stable locale, and go must never download a toolchain.
CHILD_ENV = {"LC_ALL": "C", "GOTOOLCHAIN": "local"}


@dataclass(frozen=True)
class CommandResult:
    """What one finished command printed and how it exited."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    # when it started (time.time_ns()), on this machine: a run started early for a probe
    # (envsnap.prefetch) began before the probe did
    started_ns: int | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def shown(self) -> str:
        return shown_command(self.argv)

    def crash(self) -> str | None:
        """'killed by signal 11 (SIGSEGV)' when a signal ended the command, else None."""
        return signal_words(-self.returncode) if self.returncode < 0 else None

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")

    def describe_failure(self, first_lines: int = 0) -> str:
        """The command, its status and the last line of what it said; with *first_lines*, the
        first lines instead, one per line (go prints what failed first and the fix after)."""
        said = (self.err.strip() or self.out.strip()).splitlines()
        head = f"`{self.shown}` {self.crash() or f'exited {self.returncode}'}"
        if first_lines and said:
            more = len(said) - first_lines
            kept = [line.rstrip()[:300] for line in said[:first_lines]]
            return "\n".join([f"{head}:", *kept, *([f"… ({more} more lines)"] if more > 0 else [])])
        tail = said[-1:] or [""]
        return f"{head}: {tail[0][:200]}" if tail[0] else head


@dataclass(frozen=True)
class FileInfo:
    """The parts of ``stat()`` envsnap cares about (symlinks followed)."""

    kind: Literal["file", "dir", "other"]
    size: int
    mtime_ns: int
    inode: int
    mode: int


class ProbeTimeout(HostError):
    """A command did not finish within its timeout (or the command's budget) and was killed."""


class ToolCrashed(HostError):
    """A command was ended by a signal (SIGSEGV, SIGABRT...): what it printed is not an answer."""


class OutputTooLarge(HostError):
    """A command printed more than the bytes envsnap keeps for one stream of one call."""


class ToolOutOfMemory(HostError):
    """A command failed for want of memory (envsnap caps each tool's, see runner.MEMORY_CAP)."""


def shown_command(argv: Sequence[str]) -> str:
    """A command line as messages show it: one line, at most 200 characters."""
    text = " ".join(argv).replace("\n", " ")
    return text if len(text) <= 200 else text[:199] + "…"


def signal_words(number: int) -> str:
    try:
        name = f" ({signal.Signals(number).name})"
    except ValueError:
        name = ""
    return f"was killed by signal {number}{name}"


def seconds(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def size_words(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


def checked(result: CommandResult) -> CommandResult:
    """*result*, unless a signal ended it: a crash is never read as a tool's answer."""
    crash = result.crash()
    if crash is not None:
        raise ToolCrashed(
            f"`{result.shown}` {crash}", "run it by hand; the tool itself is broken or was killed"
        )
    return result


class ToolNotFound(HostError):
    """An executable is not on PATH (or not in the recording)."""


class Host(abc.ABC):
    """What probes may ask of a machine."""

    system: str  # "linux" or "darwin" (Go's GOOS spelling)
    machine: str  # as uname -m prints it
    trace: HostTrace | None = None  # ENVSNAP_TRACE (envsnap.hosttrace)
    replayed = False  # answers from a recording (which holds the listings it was made with)

    def trace_call(self, call: str, **fields: Field) -> None:
        """Trace one call when ENVSNAP_TRACE asks for it."""
        if self.trace is not None:
            self.trace.note(call, **fields)

    def note_run(self, argv: Sequence[str], cwd: str | None, started: float, **end: Field) -> None:
        """Trace one tool run that began at *started* (``time.monotonic()``)."""
        took = round(time.monotonic() - started, 6)
        self.trace_call("run", argv=list(argv), cwd=cwd, seconds=took, **end)

    def stamp(self, path: str) -> Stamp:
        """The stamp (:mod:`envsnap.stamps`) of *path*, for the probe memo's manifests."""
        from envsnap.stamps import stamp

        return stamp(path)

    def memo_key(self) -> str | None:
        """What the probe memo keys this host's answers by (its environment), or None when its
        answers are never memoised."""
        return None

    @abc.abstractmethod
    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
        limit: int = OUTPUT_LIMIT,
    ) -> CommandResult:
        """Run *argv*, keeping at most *limit* bytes of each stream; raise :class:`ToolNotFound`,
        :class:`ProbeTimeout`, :class:`OutputTooLarge` or :class:`ToolCrashed` if it cannot
        answer."""

    def stop_running(self) -> None:
        """Kill the commands in flight (an essential probe failed; the rest is not needed)."""
        return None

    @abc.abstractmethod
    def read_bytes(self, path: str, limit: int = MAX_READ) -> bytes | None:
        """Contents of the regular file *path*, or None if it is missing or not a regular file."""

    @abc.abstractmethod
    def stat(self, path: str) -> FileInfo | None:
        """Information on *path* (symlinks followed), or None if it does not exist."""

    @abc.abstractmethod
    def realpath(self, path: str) -> str:
        """*path* with every symlink resolved."""

    @abc.abstractmethod
    def which(self, name: str) -> str | None:
        """The executable *name* resolves to on the host's PATH, or None."""

    @abc.abstractmethod
    def getenv(self, name: str) -> str | None:
        """One environment variable; probes never see the whole environment."""

    @abc.abstractmethod
    def file_digest(self, path: str) -> str | None:
        """``sha256:<hex>`` of a regular file, or None when it cannot be hashed."""

    def module_dir(self, local_dir: str) -> str:
        """The module directory as this host sees it (a replay maps it to the recorded one)."""
        return local_dir

    def read_text(self, path: str, limit: int = MAX_READ) -> str | None:
        data = self.read_bytes(path, limit)
        return None if data is None else data.decode("utf-8", errors="replace")

    def exists(self, path: str) -> bool:
        return self.stat(path) is not None


def _refuse_out_of_memory(argv: Sequence[str], outcome: runner.Outcome) -> None:
    """Raise ToolOutOfMemory when *outcome* is a failure that says memory ran out."""
    said = runner.out_of_memory(outcome.stderr) if outcome.returncode != 0 else None
    if said is not None:
        raise ToolOutOfMemory(
            f"`{shown_command(argv)}` ran out of memory ({said}); envsnap lets a tool use "
            f"{runner.MEMORY_CAP // 1024**3} GiB",
            "run it by hand: a tool it runs (such as $CC) may be printing without end",
        )


class LocalHost(Host):
    """This machine, for real."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = dict(os.environ if environ is None else environ)
        uname = os.uname()  # what platform.system() and .machine() read, without importing it
        self.system = goos_of_uname(uname.sysname)
        self.machine = uname.machine
        self._hashes = hashing.HashCache.for_user(self._environ)
        self.timeout_cap = _timeout_cap(self._environ.get("ENVSNAP_TIMEOUT"))
        self.budget = runner.Budget(min(DEFAULT_BUDGET, self.timeout_cap))
        if self._environ.get("ENVSNAP_TRACE"):
            from envsnap.hosttrace import from_environment

            self.trace = from_environment(self._environ, "local")
        self._prefetched: dict[_RunKey, _Prefetched] = {}  # shared with the twins

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
        limit: int = OUTPUT_LIMIT,
    ) -> CommandResult:
        return checked(self.execute(argv, cwd=cwd, timeout=timeout, env=env, limit=limit))

    def execute(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
        limit: int = OUTPUT_LIMIT,
    ) -> CommandResult:
        """Run *argv* within its share of the budget; a signal's end is returned, not raised.
        The very run started early by :meth:`prefetch` is waited for instead."""
        early = self._prefetched_run(argv, cwd, timeout, self._child_env(cwd, env), limit)
        if early is not None:
            return early.wait()
        return self._traced(argv, cwd=cwd, timeout=timeout, env=env, limit=limit)

    def prefetch(self, argv: Sequence[str], *, cwd: str, timeout: float, limit: int) -> None:
        """Start *argv* now, in a thread of its own, for a probe that will ask for exactly this
        run (the same argv, directory, environment, timeout and limit) later."""
        key = _run_key(argv, cwd, timeout, self._child_env(cwd, None), limit)

        def run(on_start: Callable[[Popen[bytes]], None]) -> CommandResult:
            return self._traced(argv, cwd=cwd, timeout=timeout, limit=limit, on_start=on_start)

        self._prefetched[key] = _Prefetched(run, self.budget)

    def _prefetched_run(
        self,
        argv: Sequence[str],
        cwd: str | None,
        timeout: float,
        child_env: Mapping[str, str],
        limit: int,
    ) -> _Prefetched | None:
        """The early run of exactly this command, taken (once); an early run of the same tool
        in the same place and environment that this command is not will not be asked for: it
        is stopped."""
        if not self._prefetched:
            return None
        key = _run_key(argv, cwd, timeout, child_env, limit)
        early = self._prefetched.pop(key, None)
        if early is None:
            for other in [k for k in self._prefetched if _same_tool(k, key)]:
                self._prefetched.pop(other).stop()
        return early

    def _child_env(self, cwd: str | None, env: Mapping[str, str] | None) -> dict[str, str]:
        return {**self._environ, **CHILD_ENV, **_pwd(cwd), **(env or {})}

    def _traced(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
        limit: int = OUTPUT_LIMIT,
        on_start: Callable[[Popen[bytes]], None] = lambda _: None,
    ) -> CommandResult:
        """Run *argv*, traced when ENVSNAP_TRACE asks for it; *on_start* is given its process."""
        if self.trace is None:
            return self._execute(argv, cwd, timeout, env, limit, on_start)
        started = time.monotonic()
        try:
            result = self._execute(argv, cwd, timeout, env, limit, on_start)
        except HostError as exc:
            self.note_run(argv, cwd, started, error=type(exc).__name__)
            raise
        self.note_run(argv, cwd, started, exit=result.returncode)
        return result

    def _execute(
        self,
        argv: Sequence[str],
        cwd: str | None,
        timeout: float,
        env: Mapping[str, str] | None,
        limit: int,
        on_start: Callable[[Popen[bytes]], None],
    ) -> CommandResult:
        allowed, budget_bound = self._allowed_time(argv, timeout)
        started = time.time_ns()
        try:
            proc = runner.start(argv, cwd, self._child_env(cwd, env))
        except (FileNotFoundError, PermissionError, NotADirectoryError, OSError) as exc:
            raise ToolNotFound(
                f"cannot run `{argv[0]}`: {exc.strerror}", "check that it is installed and on PATH"
            ) from None
        except ValueError:  # a NUL byte, which only a tool's output can have put there
            raise HostError(
                f"cannot run `{shown_command(argv)}`: a word of it holds a NUL byte",
                "a tool printed it: run the ones that gave its flags by hand (go env, pkg-config)",
            ) from None
        on_start(proc)
        outcome = runner.run_bounded(proc, allowed, limit, self.budget)
        if outcome.ending != "exited":
            raise self._failure(argv, outcome, allowed, budget_bound, limit)
        _refuse_out_of_memory(argv, outcome)
        return CommandResult(
            tuple(argv), outcome.returncode, outcome.stdout, outcome.stderr, started
        )

    def _allowed_time(self, argv: Sequence[str], timeout: float) -> tuple[float, bool]:
        """The seconds *argv* may take, and whether the command's budget is what limits it."""
        hung = self.budget.hung
        if argv and argv[0] in hung:
            raise ProbeTimeout(
                hung[argv[0]],  # the same tool is not given a second timeout to hang in
                "run it by hand to see what it waits for",
            )
        left = self.budget.remaining()
        if left <= 0:
            spent = f"{self._budget_words()} is spent"
            culprit = next(iter(hung.values()), spent)
            said = culprit if self._budget_words() in culprit else f"{culprit}; {spent}"
            raise ProbeTimeout(f"{said}: `{shown_command(argv)}` was not run", BUDGET_HINT)
        own = min(timeout, self.timeout_cap)
        return min(own, left), left < own

    def _budget_words(self) -> str:
        return f"the {seconds(self.budget.seconds)}s this envsnap command may spend in tools"

    def _failure(
        self,
        argv: Sequence[str],
        outcome: runner.Outcome,
        allowed: float,
        budget_bound: bool,
        limit: int,
    ) -> HostError:
        shown = shown_command(argv)
        if outcome.ending == "too-large":
            return OutputTooLarge(
                f"`{shown}` printed more than {size_words(limit)} on {outcome.stream} "
                "and was stopped",
                "run it by hand: envsnap reads version lines and short listings, not that much",
            )
        if outcome.ending == "stopped":
            return ProbeTimeout(
                f"`{shown}` was stopped: an essential probe failed",
                "fix the failure named first, then run envsnap again",
            )
        # a call cut short by the budget names the budget, not its own share (which varies)
        within = self._budget_words() if budget_bound else f"{seconds(allowed)}s"
        what = f"`{shown}` did not finish within {within} and was stopped"
        if argv:
            self.budget.hung.setdefault(argv[0], what)
        waiting = " → ".join(f"`{c}`" for c in outcome.still_running[1:])
        also = f"; it was waiting for {waiting}" if waiting else ""
        return ProbeTimeout(f"{what}{also}", BUDGET_HINT if budget_bound else TIMEOUT_HINT)

    def stop_running(self) -> None:
        self.budget.stop_running()

    def read_bytes(self, path: str, limit: int = MAX_READ) -> bytes | None:
        data = _read_regular(path, limit)
        self.trace_call("read", path=path, found=data is not None)
        return data

    def stat(self, path: str) -> FileInfo | None:
        self.trace_call("stat", path=path)
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return None
        return _file_info(st)

    def stamp(self, path: str) -> Stamp:
        from envsnap.stamps import stamp

        self.trace_call("stamp", path=path)
        return stamp(path)

    def memo_key(self) -> str:
        from envsnap.stamps import environment_key

        return environment_key(self._environ)

    def realpath(self, path: str) -> str:
        self.trace_call("realpath", path=path)
        return os.path.realpath(path)

    def which(self, name: str) -> str | None:
        self.trace_call("which", name=name)
        return look_path(name, self._environ.get("PATH", os.defpath))

    def getenv(self, name: str) -> str | None:
        self.trace_call("getenv", name=name)
        return self._environ.get(name)

    @property
    def environment(self) -> dict[str, str]:
        """The whole environment, for cache fingerprints only (never stored, only hashed)."""
        return dict(self._environ)

    def with_environment(self, overrides: Mapping[str, str]) -> LocalHost:
        """This machine with some variables changed (a build variant's GOFLAGS); it shares the
        file-hash cache, which only this host saves (do not close the twin)."""
        import copy

        twin = copy.copy(self)
        twin._environ = {**self._environ, **overrides}
        return twin

    def file_digest(self, path: str) -> str | None:
        self.trace_call("digest", path=path)
        return self._hashes.digest(path)

    def close(self) -> None:
        for early in list(self._prefetched.values()):  # asked for by no probe
            early.stop()
        self._prefetched.clear()
        self._hashes.save()


# a run as a probe asks for it: argv, directory, environment, timeout, output limit
_RunKey = tuple[tuple[str, ...], str | None, tuple[tuple[str, str], ...], float, int]


def _run_key(
    argv: Sequence[str], cwd: str | None, timeout: float, env: Mapping[str, str], limit: int
) -> _RunKey:
    return tuple(argv), cwd, tuple(sorted(env.items())), timeout, limit


def _same_tool(one: _RunKey, other: _RunKey) -> bool:
    """The same tool and subcommand, in the same directory and environment."""
    return one[0][:2] == other[0][:2] and one[1:3] == other[1:3]


class _Prefetched:
    """A run going on in a thread of its own until a probe asks for it (LocalHost.prefetch),
    or it is stopped (within *budget*, as a failed probe's siblings are)."""

    def __init__(
        self, run: Callable[[Callable[[Popen[bytes]], None]], CommandResult], budget: runner.Budget
    ) -> None:
        self._budget = budget
        self._lock = threading.Lock()
        self._proc: Popen[bytes] | None = None
        self._stopped = False
        self._outcome: CommandResult | BaseException = HostError(
            "an early run ended before it started", "run the command again"
        )
        self._thread = threading.Thread(target=self._run, args=(run,), daemon=True)
        self._thread.start()

    def _run(self, run: Callable[[Callable[[Popen[bytes]], None]], CommandResult]) -> None:
        try:
            self._outcome = run(self._started)
        except BaseException as exc:  # noqa: BLE001 - raised again in the thread that asks
            self._outcome = exc

    def _started(self, proc: Popen[bytes]) -> None:
        with self._lock:
            self._proc = proc
            stopped = self._stopped
        if stopped:
            self._budget.stop(proc)

    def stop(self) -> None:
        """Kill it: no probe will ask for it (now or as soon as it starts)."""
        with self._lock:
            self._stopped = True
            proc = self._proc
        if proc is not None:
            self._budget.stop(proc)

    def wait(self) -> CommandResult:
        """Its result (its own deadline bounds the wait), or what it raised."""
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome


def _pwd(cwd: str | None) -> dict[str, str]:
    """``PWD`` for a child started in *cwd*, as a shell sets it after ``cd``: go reports paths
    under ``$PWD`` when it names its directory (``os.Getwd``), so go names the module directory
    as envsnap does, through a symlink or not."""
    return {"PWD": cwd} if cwd is not None and os.path.isabs(cwd) else {}


def _read_regular(path: str, limit: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not _is_regular(os.fstat(fd).st_mode):
            return None
        return handle.read(limit)


def look_path(name: str, path: str) -> str | None:
    """The executable *name* names on the search path *path*, as go's ``exec.LookPath`` finds
    it, and never relative to the working directory (which may be a repository's top): a name
    with a directory part is taken only when absolute, and a first match through a relative
    entry (``.``, an empty entry) counts as none, as go's ``ErrDot`` does. So a toolchain, a
    compiler or a ``go`` that only the current directory provides is never run."""
    if os.path.dirname(name):
        return name if os.path.isabs(name) and _runnable(name) else None
    for directory in path.split(os.pathsep):
        candidate = os.path.join(directory or os.curdir, name)
        if _runnable(candidate):
            return candidate if os.path.isabs(candidate) else None
    return None


def _runnable(path: str) -> bool:
    return os.access(path, os.X_OK) and not os.path.isdir(path)


def _timeout_cap(raw: str | None) -> float:
    """ENVSNAP_TIMEOUT caps every command's timeout in seconds (for a hook that must be quick)."""
    try:
        value = float(raw) if raw else float("inf")
    except ValueError:
        return float("inf")
    return value if value > 0 else float("inf")


def _is_regular(mode: int) -> bool:
    import stat as stat_module

    return stat_module.S_ISREG(mode)


def _file_info(st: os.stat_result) -> FileInfo:
    import stat as stat_module

    kind: Literal["file", "dir", "other"] = (
        "file"
        if stat_module.S_ISREG(st.st_mode)
        else "dir"
        if stat_module.S_ISDIR(st.st_mode)
        else "other"
    )
    return FileInfo(kind, st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode & 0o7777)


@dataclass
class _Tape:
    """Everything a RecordingHost saw, in the shape written to ``host.json``."""

    commands: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str | None] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    stat: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    realpath: dict[str, str] = field(default_factory=dict)
    which: dict[str, str | None] = field(default_factory=dict)
    environ: dict[str, str | None] = field(default_factory=dict)
    digests: dict[str, str | None] = field(default_factory=dict)


TIMEOUT_HINT = "run it by hand to see what it waits for (a licence prompt, a network call)"
BUDGET_HINT = (
    "run the slow tool by hand; ENVSNAP_TIMEOUT=SECONDS sets the budget (docs/security.md)"
)


class RecordingHost(Host):
    """A LocalHost that keeps a redacted copy of every answer, for :meth:`save`."""

    def __init__(self, inner: LocalHost, environ: Mapping[str, str] | None = None) -> None:
        self.inner = inner
        self.system, self.machine = inner.system, inner.machine
        self._secrets = redact.secret_values(dict(os.environ if environ is None else environ))
        self._tape = _Tape()
        self._lock = threading.Lock()
        self.recorded_module_dir: str | None = None

    def _scrub(self, data: bytes) -> bytes:
        text = data.decode("utf-8", errors="surrogateescape")
        return redact.scrub(text, self._secrets).encode("utf-8", errors="surrogateescape")

    def _blob(self, kind: str, data: bytes) -> str:
        name = f"{kind}/{len(self._tape.blobs):04d}"
        self._tape.blobs[name] = self._scrub(data)
        return name

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
        limit: int = OUTPUT_LIMIT,
    ) -> CommandResult:
        entry: dict[str, Any] = {"argv": list(argv), "cwd": cwd}
        try:
            result = self.inner.execute(argv, cwd=cwd, timeout=timeout, env=env, limit=limit)
        except ProbeTimeout:
            entry["error"] = "timeout"
            raise
        except ToolNotFound:
            entry["error"] = "not-found"
            raise
        except OutputTooLarge:
            entry["error"] = "too-large"
            raise
        finally:
            with self._lock:
                if "error" in entry:
                    self._tape.commands.append(entry)
        with self._lock:
            entry["exit"] = result.returncode
            entry["stdout"] = self._blob("commands", result.stdout)
            entry["stderr"] = self._blob("commands", result.stderr)
            self._tape.commands.append(entry)
        return checked(result)

    def stop_running(self) -> None:
        self.inner.stop_running()

    def read_bytes(self, path: str, limit: int = MAX_READ) -> bytes | None:
        data = self.inner.read_bytes(path, limit)
        with self._lock:
            self._tape.files[path] = None if data is None else self._blob("files", data)
        return data

    def stat(self, path: str) -> FileInfo | None:
        info = self.inner.stat(path)
        with self._lock:
            self._tape.stat[path] = None if info is None else _info_to_json(info)
        return info

    def realpath(self, path: str) -> str:
        real = self.inner.realpath(path)
        with self._lock:
            self._tape.realpath[path] = real
        return real

    def which(self, name: str) -> str | None:
        found = self.inner.which(name)
        with self._lock:
            self._tape.which[name] = found
        return found

    def getenv(self, name: str) -> str | None:
        value = self.inner.getenv(name)
        with self._lock:
            self._tape.environ[name] = None if value is None else redact.scrub(value, self._secrets)
        return value

    def stamp(self, path: str) -> Stamp:
        return self.inner.stamp(path)

    def file_digest(self, path: str) -> str | None:
        digest = self.inner.file_digest(path)
        with self._lock:
            self._tape.digests[path] = digest
        return digest

    def module_dir(self, local_dir: str) -> str:
        self.recorded_module_dir = local_dir
        return local_dir

    def save(self, directory: Path) -> None:
        """Write the recording into *directory* (created; existing recordings are replaced)."""
        from envsnap.atomic import atomic_write

        directory.mkdir(parents=True, exist_ok=True)
        for name, data in self._tape.blobs.items():
            target = directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, data)
        manifest = {
            "format": RECORDING_FORMAT,
            "version": RECORDING_VERSION,
            "system": self.system,
            "machine": self.machine,
            "module_dir": self.recorded_module_dir,
            "environ": self._tape.environ,
            "which": self._tape.which,
            "realpath": self._tape.realpath,
            "stat": self._tape.stat,
            "files": self._tape.files,
            "digests": self._tape.digests,
            "commands": self._tape.commands,
        }
        text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
        atomic_write(directory / "host.json", self._scrub(text.encode()) + b"\n")


def _info_to_json(info: FileInfo) -> dict[str, Any]:
    return {"kind": info.kind, "size": info.size, "mode": info.mode}


class ReplayHost(Host):
    """Answers every question from a recording directory; nothing touches the real machine."""

    replayed = True

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        manifest = _load_manifest(directory)
        self.system = str(manifest["system"])
        self.machine = str(manifest["machine"])
        self.recorded_module_dir: str | None = manifest.get("module_dir")
        self._m = manifest
        self._commands: list[dict[str, Any]] = list(manifest.get("commands", []))
        self.misses: list[str] = []  # what was asked but not recorded, for fixture authors
        # answers that replace a recorded blob (by its name): a change applied to the replay
        self._answers: dict[str, bytes] = {}
        self.changed: tuple[str, ...] = ()  # the changes applied, in order (in the memo key)
        if os.environ.get("ENVSNAP_TRACE"):
            from envsnap.hosttrace import from_environment

            self.trace = from_environment(os.environ, "replay")

    # --- a change applied to the replayed machine (what a person would do on it) ------------

    def _changed(self, what: str, manifest: dict[str, Any], answers: Mapping[str, bytes]) -> Self:
        twin = copy.copy(self)
        twin._m = manifest
        twin._commands = list(manifest.get("commands", []))
        twin._answers = {**self._answers, **answers}
        twin.misses = []
        twin.changed = (*self.changed, what)
        return twin

    def with_environ(self, name: str, value: str | None) -> Self:
        """This machine with *name* set to *value* in the environment (None: unset). A variable
        that ``go env`` reports shows the new value there too, as go's own environment wins over
        its settings file; unsetting one is refused, since what go falls back to is not recorded.
        """
        manifest = copy.deepcopy(self._m)
        environ = manifest.setdefault("environ", {})
        answers: dict[str, bytes] = {}
        for command in self._commands:
            if command["argv"][1:] == ["env"] and command.get("stdout"):
                old = self._blob(command["stdout"]).decode()
                new = _go_env_with(old, name, value)
                if new is None:
                    raise ValueError(f"go env reports {name}; unsetting it is not replayable")
                answers[command["stdout"]] = new.encode()
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
        return self._changed(f"env {name}={value}", manifest, answers)

    def with_developer_dir(self, path: str, like: ReplayHost) -> Self:
        """This machine after ``sudo xcode-select --switch PATH``: ``xcode-select -p`` and the
        ``/var/db/xcode_select_link`` symlink name *path*, and the tools that answer from the
        developer dir (xcrun, the ``cc`` shim, xcodebuild) answer as on *like*, a recording where
        *path* is the selected developer dir."""
        manifest = copy.deepcopy(self._m)
        link = "/var/db/xcode_select_link"
        manifest.setdefault("realpath", {})[link] = path
        manifest.setdefault("stat", {})[link] = {"kind": "dir", "size": 0, "mode": 0o755}
        answers = {"xcode-select -p": f"{path}\n".encode()}
        # what this recording never looked at inside the developer dir, as *like* saw it there
        app = like.realpath(path).removesuffix("/Contents/Developer")
        for table in ("stat", "digests", "realpath"):
            mine: dict[str, Any] = manifest.setdefault(table, {})
            for key, value in like._m.get(table, {}).items():
                if key.startswith((app, path)) and key not in mine:
                    mine[key] = value
        for key, name in like._m.get("files", {}).items():
            if key.startswith((app, path)) and key not in manifest.setdefault("files", {}):
                manifest["files"][key] = f"{like.directory}:{name}" if name else None
                if name:
                    answers[f"{like.directory}:{name}"] = like._blob(name)
        answers.update(like._developer_tool_answers())
        return self._changed(f"developer dir {path}", manifest, answers)

    def developer_tool_commands(self) -> list[list[str]]:
        """The recorded commands that answered from the selected developer dir (xcrun,
        xcodebuild, the ``/usr/bin`` shims such as ``cc``)."""
        found = []
        for command in self._commands:
            argv = command["argv"]
            asks_devdir = argv[0] in ("xcodebuild", "xcrun") or argv[0].startswith("/usr/bin/")
            if asks_devdir and command.get("stdout") and not command.get("exit"):
                found.append(list(argv))
        return found

    def _developer_tool_answers(self) -> dict[str, bytes]:
        return self._answers_to(self.developer_tool_commands())

    def _answers_to(self, commands: Sequence[Sequence[str]]) -> dict[str, bytes]:
        """The recorded answers to *commands*, by command line (ValueError: one has none)."""
        answers: dict[str, bytes] = {}
        for argv in commands:
            found = self._find_command(argv, None)
            if found is None or found.get("exit") or not found.get("stdout"):
                raise ValueError(f"{self.directory.name} has no answer to `{' '.join(argv)}`")
            answers[" ".join(argv)] = self._blob(found["stdout"])
        return answers

    def with_answers_of(self, like: ReplayHost, commands: Sequence[Sequence[str]]) -> Self:
        """This machine where each of *commands* answers as it did on *like* (ValueError: *like*
        has no successful answer to one: the replay cannot show it)."""
        shown = ", ".join(" ".join(argv) for argv in commands)
        return self._changed(
            f"{shown} as on {like.directory.name}", self._m, like._answers_to(commands)
        )

    def with_files_of(self, other: ReplayHost, prefix: str) -> Self:
        """This machine with what *other* has under *prefix* (a package installed at another
        version, an SDK): its files, stats, digests and real paths there replace these."""
        manifest = copy.deepcopy(self._m)
        answers: dict[str, bytes] = {}
        for table in ("files", "stat", "digests", "realpath"):
            mine: dict[str, Any] = manifest.setdefault(table, {})
            for path in [p for p in mine if p.startswith(prefix)]:
                del mine[path]
            for path, value in other._m.get(table, {}).items():
                if path.startswith(prefix):
                    mine[path] = value
                    if table == "files" and value is not None:
                        answers[f"{other.directory}:{value}"] = other._blob(value)
                        mine[path] = f"{other.directory}:{value}"
        return self._changed(f"files of {other.directory.name} under {prefix}", manifest, answers)

    def _blob(self, name: str) -> bytes:
        if name in self._answers:
            return self._answers[name]
        from envsnap.safeio import read_regular

        path = (self.directory / name).resolve()
        if self.directory.resolve() not in path.parents:
            raise RecordingError(
                f"recording entry {name!r} points outside the recording",
                "a blob must be a file inside it; record it again with `envsnap record`",
            )
        try:
            return read_regular(path, MAX_BLOB)
        except OSError as exc:
            raise RecordingError(
                f"recording {self.directory} lacks {name}: {exc.strerror}",
                "the recording is incomplete; record it again with `envsnap record`",
            ) from None

    def _find_command(self, argv: Sequence[str], cwd: str | None) -> dict[str, Any] | None:
        same_argv = [c for c in self._commands if c.get("argv") == list(argv)]
        exact = [c for c in same_argv if c.get("cwd") == cwd]
        matches = exact or same_argv
        return matches[0] if matches else None

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
        limit: int = OUTPUT_LIMIT,
    ) -> CommandResult:
        started = time.monotonic()
        try:
            result = self._answer(argv, cwd, limit)
        except HostError as exc:
            self.note_run(argv, cwd, started, error=type(exc).__name__)
            raise
        self.note_run(argv, cwd, started, exit=result.returncode)
        return result

    def _answer(self, argv: Sequence[str], cwd: str | None, limit: int) -> CommandResult:
        entry = self._find_command(argv, cwd)
        shown = " ".join(argv)
        if shown in self._answers:  # a change applied to the replay gave it this answer
            return CommandResult(tuple(argv), 0, self._answers[shown], b"")
        if entry is None:
            self.misses.append(f"run {shown}")
            raise ToolNotFound(
                f"`{shown}` is not in the recording {self.directory.name}",
                "record the machine again with `envsnap record DIR` (this envsnap asks more)",
            )
        if entry.get("error") == "timeout":
            raise ProbeTimeout(
                f"`{shown}` did not finish within its timeout (recorded)",
                "the recorded machine had a hanging tool; record it again once it answers",
            )
        if entry.get("error") == "not-found":
            raise ToolNotFound(
                f"cannot run `{argv[0]}` (recorded: not found)",
                "the recorded machine lacked this tool; install it there and record again",
            )
        if entry.get("error") == "too-large":
            raise OutputTooLarge(
                f"`{shown}` printed more than envsnap reads (recorded)",
                "the recorded tool flooded its output; record the machine again once it is fixed",
            )
        stdout = self._blob(entry["stdout"]) if entry.get("stdout") else b""
        stderr = self._blob(entry["stderr"]) if entry.get("stderr") else b""
        if max(len(stdout), len(stderr)) > limit:
            raise OutputTooLarge(
                f"`{shown}` printed more than {size_words(limit)} (recorded)",
                "the recorded tool flooded its output; record the machine again once it is fixed",
            )
        return checked(CommandResult(tuple(argv), int(entry.get("exit", 0)), stdout, stderr))

    def read_bytes(self, path: str, limit: int = MAX_READ) -> bytes | None:
        files: dict[str, str | None] = self._m.get("files", {})
        self.trace_call("read", path=path, found=files.get(path) is not None)
        if path not in files:
            self.misses.append(f"read {path}")
            return None
        name = files[path]
        return None if name is None else self._blob(name)[:limit]

    def stamp(self, path: str) -> Stamp:
        """The stamp a recording gives *path*: its ``stat`` entry's numbers (a recording's own,
        see docs/recording-format.md; 0 where it has none), a recorded file's size, or None."""
        import stat as stat_module

        self.trace_call("stamp", path=path)
        info = self._m.get("stat", {}).get(path)
        name = self._m.get("files", {}).get(path)
        if info is None and name is None:
            return None
        found = info or {"kind": "file"}
        kind = {"file": stat_module.S_IFREG, "dir": stat_module.S_IFDIR}.get(found["kind"], 0)
        size = int(found["size"]) if "size" in found else len(self._blob(name)) if name else 0
        numbers = (int(found.get(field, 0)) for field in STAMP_FIELDS)
        dev, inode, mtime_ns, ctime_ns = numbers
        return (kind, dev, inode, size, mtime_ns, ctime_ns)

    def memo_key(self) -> str:
        """The recording (by its directory) and the environment it records."""
        environ = json.dumps(self._m.get("environ", {}), sort_keys=True)
        parts = ("replay", str(self.directory.resolve()), self.system, environ, *self.changed)
        return "\0".join(parts)

    def stat(self, path: str) -> FileInfo | None:
        self.trace_call("stat", path=path)
        stats: dict[str, dict[str, Any] | None] = self._m.get("stat", {})
        info = stats.get(path)
        if info is None:
            if path in self._m.get("files", {}) and self._m["files"][path] is not None:
                size = len(self._blob(self._m["files"][path]))
                return FileInfo("file", size, 0, 0, 0o644)
            if path not in stats:
                self.misses.append(f"stat {path}")
            return None
        return FileInfo(info["kind"], int(info.get("size", 0)), 0, 0, int(info.get("mode", 0)))

    def realpath(self, path: str) -> str:
        self.trace_call("realpath", path=path)
        mapping: dict[str, str] = self._m.get("realpath", {})
        return mapping.get(path, path)

    def which(self, name: str) -> str | None:
        self.trace_call("which", name=name)
        found: str | None = self._m.get("which", {}).get(name)
        return found

    def getenv(self, name: str) -> str | None:
        self.trace_call("getenv", name=name)
        value: str | None = self._m.get("environ", {}).get(name)
        return value

    def file_digest(self, path: str) -> str | None:
        self.trace_call("digest", path=path)
        digest: str | None = self._m.get("digests", {}).get(path)
        return digest

    def module_dir(self, local_dir: str) -> str:
        return self.recorded_module_dir or local_dir


def _go_env_with(text: str, name: str, value: str | None) -> str | None:
    """``go env``'s answer (``NAME='value'`` lines, as go prints them on Unix) with *name* at
    *value*; the text unchanged when go does not report *name*; None to unset one it does."""
    lines = text.splitlines(keepends=True)
    at = [i for i, line in enumerate(lines) if line.startswith(f"{name}=")]
    if not at:
        return text
    if value is None:
        return None
    quoted = "'" + value.replace("'", "'\\''") + "'"
    lines[at[0]] = f"{name}={quoted}\n"
    return "".join(lines)


# What a recording may hold, so that a hand-edited or damaged one is refused at load time rather
# than crashing a probe: a host.json of at most MAX_MANIFEST bytes, blobs of at most MAX_BLOB.
MAX_MANIFEST = 16 * 1024 * 1024
MAX_BLOB = 64 * 1024 * 1024
# A stat entry's optional numbers, envsnap's own (no tool prints them): what a replay stamps.
STAMP_FIELDS = ("dev", "inode", "mtime_ns", "ctime_ns")
_STR_OR_NULL = (str, type(None))
_MAPPINGS = ("environ", "which", "realpath", "files", "digests")  # path or name → str or null
_COMMAND_FIELDS: dict[str, tuple[type, ...]] = {
    "cwd": _STR_OR_NULL,
    "exit": (int,),
    "stdout": _STR_OR_NULL,
    "stderr": _STR_OR_NULL,
    "error": _STR_OR_NULL,
}


def _shape_problem(manifest: dict[str, Any]) -> str | None:
    """What is wrong with the shape of a recording's host.json, or None."""
    if not isinstance(manifest.get("module_dir"), _STR_OR_NULL):
        return "module_dir is not a string"
    for name in _MAPPINGS:
        table = manifest.get(name, {})
        if not isinstance(table, dict) or not all(
            isinstance(v, _STR_OR_NULL) for v in table.values()
        ):
            return f"{name} is not an object of strings or nulls"
    stats = manifest.get("stat", {})
    if not isinstance(stats, dict) or not all(_is_stat(info) for info in stats.values()):
        return 'stat is not an object of {"kind", "size", "mode", ...} or nulls'
    commands = manifest.get("commands", [])
    if not isinstance(commands, list):
        return "commands is not a list"
    bad = next((n for n, command in enumerate(commands) if not _is_command(command)), None)
    return None if bad is None else f"commands[{bad}] is not a recorded command"


def _is_stat(info: Any) -> bool:
    if info is None:
        return True
    return (
        isinstance(info, dict)
        and isinstance(info.get("kind"), str)
        and all(_is_int(info.get(name, 0)) for name in ("size", "mode", *STAMP_FIELDS))
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_command(command: Any) -> bool:
    if not isinstance(command, dict):
        return False
    argv = command.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        return False
    if "exit" in command and not _is_int(command["exit"]):
        return False
    return all(
        isinstance(command.get(k), kinds) for k, kinds in _COMMAND_FIELDS.items() if k != "exit"
    )


def _load_manifest(directory: Path) -> dict[str, Any]:
    from envsnap.safeio import read_regular

    hint = "pass a directory written by `envsnap record`"
    try:
        raw = read_regular(directory / "host.json", MAX_MANIFEST)
    except OSError as exc:
        raise RecordingError(f"cannot read recording {directory}: {exc.strerror}", hint) from None
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise RecordingError(f"{directory}/host.json is not valid JSON", hint) from None
    if not isinstance(manifest, dict) or manifest.get("format") != RECORDING_FORMAT:
        raise RecordingError(f"{directory} is not an envsnap recording", hint)
    if manifest.get("version") != RECORDING_VERSION:
        raise RecordingError(
            f"recording format {manifest.get('version')!r} is not supported",
            "record it again with this envsnap",
        )
    if manifest.get("system") not in KNOWN or not manifest.get("machine"):
        raise RecordingError(f"{directory}/host.json lacks system/machine", hint)
    problem = _shape_problem(manifest)
    if problem is not None:
        raise RecordingError(f"{directory}/host.json is malformed: {problem}", hint)
    return manifest
