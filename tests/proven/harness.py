"""The proven-fix harness: a finding's action applied to the replayed machine, then verify again.

A lock is taken on one recording and verified on another (as a teammate's Mac would be); each
finding either offers an action this harness can carry out on the replay (a variable set or
unset, another developer dir selected, a package's files swapped in from a recording that has
it at the locked version, the Command Line Tools of a recording that has the ones a download
names installed over them) after which that finding is gone, or its actions are all a person's
to do (``manual``: a download no recording holds, a re-lock to review) and say exactly what to
run. An action carried out that leaves its finding is never a pass.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path

from envsnap import checking
from envsnap.cli import main
from envsnap.config import THE_DEFAULT, load_config
from envsnap.drift import Finding
from envsnap.drift.actions import Action
from envsnap.drift.xcodes import clt_download_name
from envsnap.host import ReplayHost
from envsnap.probes.apple import CLT_PACKAGE, CLT_RECEIPT, clt_version, developer_dir
from envsnap.workspace import Workspace
from tests.conftest import RECORDINGS

# Where Apple's Command Line Tools package installs.
CLT_DIR = "/Library/Developer/CommandLineTools"


def recordings(system: str = "darwin") -> list[Path]:
    return sorted(p for p in RECORDINGS.iterdir() if ReplayHost(p).system == system)


def pairs(system: str = "darwin") -> Iterator[tuple[Path, Path]]:
    """(lock on A, verify on B) for recordings of one module on one kind of machine."""

    def module(path: Path) -> tuple[str | None, str]:
        host = ReplayHost(path)
        return host.recorded_module_dir, host.machine

    yield from ((a, b) for a, b in permutations(recordings(system), 2) if module(a) == module(b))


def lock_on(recording: Path, module: Path) -> None:
    """``envsnap --replay RECORDING lock`` for the module (go.mod only: the recording answers);
    on a recording where a probe fails, ``lock --allow-incomplete``, as a person would."""
    module.mkdir(parents=True, exist_ok=True)
    (module / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    quiet = io.StringIO()
    argv = ["--replay", str(recording), "lock", "-C", str(module)]
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        code = main(argv)
        if code != 0 and "--allow-incomplete" in quiet.getvalue():
            code = main([*argv, "--allow-incomplete"])
    assert code == 0, f"lock on {recording.name}: {quiet.getvalue()}"


def verify_on(host: ReplayHost, module: Path) -> list[Finding]:
    """What ``envsnap verify`` finds on *host* (the actions kept are those it can carry out)."""
    ws = Workspace(module, load_config(module), host)
    lock, name = checking.load_lock(ws.lock_path, None)
    return checking.check_variant(ws, lock, name, THE_DEFAULT, False, notes=False).findings or []


def gone(finding: Finding, after: Sequence[Finding], clears: str = "") -> bool:
    """Whether *finding* (its own field and those grouped under it; only those matching the glob
    *clears* when given) is no longer found."""
    left = {f.id for f in after} | {i for f in after for i in f.also}
    ids = {finding.id, *finding.also}
    if clears:
        ids = {i for i in ids if fnmatch.fnmatchcase(i, clears)}
        assert ids, f"{clears} names none of {sorted({finding.id, *finding.also})}"
    return not ids & left


def _donor(host: ReplayHost, directory: str) -> ReplayHost | None:
    """A recording of this kind of machine where *directory* is the selected developer dir."""
    real = host.realpath(directory)
    for path in recordings(host.system):
        other = ReplayHost(path)
        selected, _ = developer_dir(other)
        if other.machine == host.machine and selected and other.realpath(selected) == real:
            return other
    return None


def _clt_donor(host: ReplayHost, name: str) -> ReplayHost | None:
    """A recording of this kind of machine whose Command Line Tools are the ones Apple's
    downloads page calls *name* ("Command Line Tools for Xcode 16.4"), selected there (so that
    it holds what they answer)."""
    for path in recordings(host.system):
        other = ReplayHost(path)
        clt, (selected, _) = clt_version(other), developer_dir(other)
        named = clt is not None and name == clt_download_name(clt)
        if other.machine == host.machine and named and selected == CLT_DIR:
            return other
    return None


def applied(host: ReplayHost, action: Action) -> ReplayHost | None:
    """*host* after *action* is carried out on it; None where a replay cannot show it."""
    if action.kind in ("set", "unset") and action.via == "go-env" and host.getenv(action.target):
        return None  # the environment wins over `go env -w`: the action would not take
    if (action.kind, action.target) == ("set", "DEVELOPER_DIR"):
        like = _donor(host, action.value)  # the tools then answer from that developer dir
        if like is None:
            return None
        return host.with_developer_dir(action.value, like).with_environ(action.target, action.value)
    try:
        if action.kind == "set":
            return host.with_environ(action.target, action.value)
        if action.kind == "unset":
            return host.with_environ(action.target, None)
    except ValueError:
        return None
    if action.kind == "developer-dir":
        like = _donor(host, action.target)
        return None if like is None else host.with_developer_dir(action.target, like)
    if action.kind == "install" and action.via == "apple":
        donor = _clt_donor(host, action.target)  # an Xcode download alone selects nothing
        with contextlib.suppress(ValueError):
            return None if donor is None else with_clt_of(host, donor)
    return None


def with_clt_of(host: ReplayHost, like: ReplayHost) -> ReplayHost:
    """*host* after installing the Command Line Tools *like* has: their tree under
    /Library/Developer/CommandLineTools and their package receipt (what ``pkgutil --pkg-info``
    answers) replace these; where the Command Line Tools are the selected developer dir, the
    tools that answer from it (xcrun, the ``cc`` shim) answer as on *like*, where they must be
    the selected developer dir too and have answered each (ValueError: the replay cannot show
    it)."""
    theirs, _ = developer_dir(like)
    if theirs is None or not like.realpath(theirs).startswith(CLT_DIR):
        raise ValueError(f"{like.directory.name} did not build with its Command Line Tools")
    asked = [["pkgutil", f"--pkg-info={CLT_PACKAGE}"]]
    selected, _ = developer_dir(host)
    if selected is not None and host.realpath(selected).startswith(CLT_DIR):
        # every answer the tools gave on *like*, and each one *host* recorded must be among them
        answered = like.developer_tool_commands()
        asked += answered + [c for c in host.developer_tool_commands() if c not in answered]
    installed = host.with_files_of(like, CLT_DIR).with_files_of(like, CLT_RECEIPT)
    return installed.with_answers_of(like, asked)


@dataclass(frozen=True)
class Outcome:
    finding: Finding
    verdict: str  # "proven", "manual", "nothing", "unproven", "no action"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict in ("proven", "manual", "nothing")


def judge(host: ReplayHost, module: Path, finding: Finding) -> Outcome:
    """Whether *finding* has a proven action, or only manual ones that say what to do. Every
    action the replay can carry out (a download of the Command Line Tools too) is carried out,
    and each must clear what it says it brings back."""
    proven: list[str] = []
    partly: list[str] = []
    tried: list[str] = []
    for action in finding.actions:
        if action.kind in ("nothing", "relock"):
            continue
        after = applied(host, action)
        if after is None and action.manual:
            continue  # a person's to do: judged below by what it says
        if after is not None and gone(finding, verify_on(after, module), action.clears):
            (partly if action.clears else proven).append(action.command)
        else:
            tried.append(action.command)
    if tried:
        return Outcome(finding, "unproven", "; ".join(tried))
    if proven:
        return Outcome(finding, "proven", proven[0])
    manual = [a for a in finding.actions if a.manual and a.command]
    if partly and not manual:
        return Outcome(finding, "unproven", "only part of it: " + "; ".join(partly))
    if finding.actions and all(a.kind == "nothing" for a in finding.actions):
        return Outcome(finding, "nothing")
    if manual:
        return Outcome(finding, "manual", manual[0].command)
    return Outcome(finding, "no action")


def systems() -> list[str]:
    """The kinds of machine the project's recordings are of (darwin, linux)."""
    return sorted({ReplayHost(p).system for p in RECORDINGS.iterdir()})


def every_pair() -> Iterator[tuple[Path, Path]]:
    """Each (lock on A, verify on B) pair of every kind of recorded machine."""
    for system in systems():
        yield from pairs(system)


def every_outcome(tmp: Path) -> Iterator[tuple[str, Outcome]]:
    """Each finding of each (lock on A, verify on B) pair, judged."""
    for number, (a, b) in enumerate(every_pair()):
        module = tmp / f"m{number}"
        lock_on(a, module)
        host = ReplayHost(b)
        for finding in verify_on(host, module):
            yield f"{a.name} → {b.name}", judge(host, module, finding)
