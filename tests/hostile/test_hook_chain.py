"""The pre-commit hook against hooks that lead back to it and an environment that points Python
elsewhere: a symlinked hook is replaced, never written through; a chained hook that would run
envsnap's own is refused at install and never run at commit time; ``PYTHONPATH`` never reaches
the hook's Python. Every commit runs in a session of its own, killed (and the test failed) the
moment it holds more processes than a hook chain can, so a hook that runs itself cannot hang the
tests or the machine."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from envsnap import hooks
from tests.conftest import envsnap
from tests.test_git_hook import drifted, gui_env, install, repo
from tests.test_git_repo import git

__all__ = ["gui_env", "repo"]  # fixtures, used by name

MOST_PROCESSES = 40  # git, the hooks, python and the tools verify runs stay far below
MATCHES = "matches envsnap.lock"


def _session_members(session: int) -> int:
    """How many live processes belong to *session* (zombies are already dead)."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        count += fields[3] == str(session).encode() and fields[0] != b"Z"
    return count


def _kill_session(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the whole process group of *proc* until no member is left (a forking chain may
    add one while the first signal is delivered)."""
    for _ in range(200):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            break
        if _session_members(proc.pid) == 0:
            break
        time.sleep(0.01)
    proc.wait(timeout=30)


def bounded(args: list[str], env: Mapping[str, str], limit: float = 180) -> tuple[int, str]:
    """Run *args* in a session of its own: its exit code and its output (stdout and stderr).
    The test fails, with the whole session killed, past *limit* seconds or past
    :data:`MOST_PROCESSES` processes at once."""
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(
            args, stdout=output, stderr=subprocess.STDOUT, env=dict(env), start_new_session=True
        )
        started = time.monotonic()
        while proc.poll() is None:
            members, took = _session_members(proc.pid), time.monotonic() - started
            if members > MOST_PROCESSES or took > limit:
                _kill_session(proc)
                pytest.fail(f"{args}: {members} processes after {took:.1f} s, killed")
            time.sleep(0.02)
        output.seek(0)
        return proc.returncode, output.read().decode(errors="replace")


def commit(work_tree: Path, env: Mapping[str, str]) -> tuple[int, str]:
    """Stage a change and try to commit it, bounded (the pre-commit hook decides)."""
    note = work_tree / "notes.txt"
    note.write_text(note.read_text() + "x\n" if note.exists() else "x\n")
    git(work_tree, "add", "notes.txt")
    return bounded(["git", "-C", str(work_tree), "commit", "-q", "-m", "notes"], env)


SHARED_HOOK = "#!/bin/sh\n# a hook shared by many repositories\necho ran >> {log}\n"


@pytest.fixture
def shared_hook(repo: Path, tmp_path: Path) -> tuple[Path, Path]:
    """``.git/hooks/pre-commit`` as a symlink to a hook kept elsewhere, which logs each run."""
    shared = tmp_path / "shared-hooks" / "pre-commit"
    shared.parent.mkdir()
    log = tmp_path / "shared.log"
    shared.write_text(SHARED_HOOK.format(log=log))
    shared.chmod(0o755)
    (repo / ".git" / "hooks" / "pre-commit").symlink_to(shared)
    return shared, log


def test_a_symlinked_hook_is_replaced_never_written_through(
    repo: Path, gui_env: dict[str, str], shared_hook: tuple[Path, Path]
) -> None:
    shared, log = shared_hook
    before = (shared.read_bytes(), shared.stat().st_mode, shared.stat().st_mtime_ns)
    install(repo / "svc")
    assert (shared.read_bytes(), shared.stat().st_mode, shared.stat().st_mtime_ns) == before
    paths = hooks.HookPaths.in_dir(repo / ".git" / "hooks")
    assert hooks.is_ours(paths.hook)  # a file of its own, no longer the link
    assert paths.chained.is_symlink() and paths.chained.resolve() == shared
    assert "already installed" in install(repo / "svc")  # the link stays chained

    code, output = commit(repo, gui_env)
    assert code == 0, output
    assert (log.read_text(), output.count(MATCHES)) == ("ran\n", 1)  # each hook ran once
    code, output = commit(repo, drifted(gui_env))
    assert code != 0 and "CGO_CFLAGS (go env): added -DDRIFT" in output
    assert log.read_text() == "ran\n" * 2

    assert envsnap("hook", "uninstall", "-C", str(repo / "svc")).returncode == 0
    assert paths.hook.is_symlink() and paths.hook.resolve() == shared
    assert (shared.read_bytes(), shared.stat().st_mode, shared.stat().st_mtime_ns) == before


def _old_envsnap_hook(repo: Path) -> bytes:
    return hooks.hook_script("/usr/bin/python3", "svc")


@pytest.mark.parametrize("leads_to", ["the hook itself", "another envsnap hook"])
def test_a_chained_hook_leading_back_to_envsnap_never_runs(
    repo: Path, gui_env: dict[str, str], tmp_path: Path, leads_to: str
) -> None:
    install(repo / "svc")
    paths = hooks.HookPaths.in_dir(repo / ".git" / "hooks")
    if leads_to == "the hook itself":
        paths.chained.symlink_to(hooks.HOOK_NAME)
    else:  # the state an older envsnap left: its hook written through the link, into the target
        target = tmp_path / "shared-hooks" / "pre-commit"
        target.parent.mkdir()
        target.write_bytes(_old_envsnap_hook(repo))
        target.chmod(0o755)
        paths.chained.symlink_to(target)
    code, output = commit(repo, gui_env)
    assert code == 0, output
    assert output.count(MATCHES) == 1 and "not running" in output
    code, output = commit(repo, drifted(gui_env))
    assert code != 0 and output.count("added -DDRIFT") == 1


@pytest.mark.parametrize("state", ["a link to envsnap's hook", "a chained link to the hook"])
def test_install_refuses_a_chain_that_would_run_itself(
    repo: Path, tmp_path: Path, state: str
) -> None:
    paths = hooks.HookPaths.in_dir(repo / ".git" / "hooks")
    if state == "a link to envsnap's hook":
        target = tmp_path / "shared-hooks" / "pre-commit"
        target.parent.mkdir()
        target.write_bytes(_old_envsnap_hook(repo))
        target.chmod(0o755)
        paths.hook.symlink_to(target)
    else:
        install(repo / "svc")
        paths.chained.symlink_to(hooks.HOOK_NAME)
    before = {
        p.name: (os.readlink(p) if p.is_symlink() else p.read_bytes())
        for p in paths.hook.parent.iterdir()
    }
    refused = envsnap("hook", "install", "-C", str(repo / "svc"))
    assert refused.returncode == 2, refused.stderr
    (line,) = refused.stderr.strip().splitlines()
    assert "would run itself" in line and "remove" in line
    after = {
        p.name: (os.readlink(p) if p.is_symlink() else p.read_bytes())
        for p in paths.hook.parent.iterdir()
    }
    assert after == before


# Each writes the marker when it runs in the hook's Python (`verify` is on its command line; the
# go of a virtualenv is a Python script too, and reads PYTHONPATH as it should).
PLANTED = """import pathlib, sys
if "verify" in sys.orig_argv:
    pathlib.Path({marker!r}).open("a").write({what!r} + "\\n")
"""


def test_pythonpath_never_reaches_the_hook(
    repo: Path, gui_env: dict[str, str], tmp_path: Path
) -> None:
    """A ``PYTHONPATH`` naming an ``envsnap`` and a ``sitecustomize`` of its own: neither runs
    (``-I``; ``-P`` would import the first, or run the second at start-up)."""
    install(repo / "svc")
    elsewhere, marker = tmp_path / "elsewhere", tmp_path / "marker"
    (elsewhere / "envsnap").mkdir(parents=True)
    for name in ("envsnap/__init__.py", "envsnap/__main__.py", "sitecustomize.py"):
        (elsewhere / name).write_text(PLANTED.format(marker=str(marker), what=name))
    env = {**drifted(gui_env), "PYTHONPATH": str(elsewhere)}
    code, output = commit(repo, env)
    assert not marker.exists(), marker.read_text()
    assert code != 0 and "CGO_CFLAGS (go env): added -DDRIFT" in output  # verify itself ran
