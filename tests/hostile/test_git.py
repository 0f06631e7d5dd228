"""Hostile repositories against envsnap's git integration: the pre-commit hook and the merge
driver never run the repository's code, never rewrite a committed hook, survive being killed,
and accept module folders whose names look like options."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import stat
from pathlib import Path

import pytest

from envsnap import hooks
from tests.conftest import envsnap
from tests.test_git_hook import drifted, gui_env, install, try_commit
from tests.test_git_repo import commit_all, git, git_run, init_repo, plain_module

__all__ = ["gui_env"]  # a fixture, used by name

PLANTED = """import pathlib
pathlib.Path({marker!r}).write_text("the repository's code ran")
"""


def plant(repo: Path, where: str, marker: Path) -> None:
    """Commit a file that `python -m envsnap`, run at the top of *repo*, would import."""
    path = repo / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PLANTED.format(marker=str(marker)))
    if where.endswith("__main__.py"):
        (path.parent / "__init__.py").write_text(PLANTED.format(marker=str(marker)))
    commit_all(repo, f"add {where}")


@pytest.mark.parametrize("where", ["envsnap/__main__.py", "envsnap.py"])
def test_the_hook_never_runs_a_committed_envsnap(
    where: str, tmp_path: Path, gui_env: dict[str, str]
) -> None:
    repo = init_repo(tmp_path / "repo")
    module = plain_module(repo / "svc")
    locked = envsnap("lock", "-C", str(module), env=gui_env)
    assert locked.returncode == 0, locked.stderr
    marker = tmp_path / "marker"
    plant(repo, where, marker)
    install(module)
    blocked = try_commit(repo, drifted(gui_env))
    assert not marker.exists(), "the hook ran the repository's envsnap"
    assert blocked.returncode != 0  # verify ran, and the drift stopped the commit
    assert "CGO_CFLAGS" in blocked.stdout + blocked.stderr


def _digest(entry: dict[str, str]) -> str:
    text = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def lock_with(*platforms: str) -> str:
    """A lock holding a one-field entry per platform, each with its digest recomputed here."""
    text = 'schema = 1\nenvsnap_min = "0.1.0"\n'
    for platform in platforms:
        entry = {"envsnap": "0.1.0", "note": platform}
        text += (
            f'\n[platforms.{platform}]\nenvsnap = "0.1.0"\ndigest = "{_digest(entry)}"\n'
            f'note = "{platform}"\n'
        )
    return text


def test_the_merge_driver_never_runs_a_committed_envsnap_even_in_a_dash_folder(
    tmp_path: Path,
) -> None:
    repo = init_repo(tmp_path / "repo")
    module = plain_module(repo / "-dash")
    lock = module / "envsnap.lock"
    lock.write_text(lock_with())
    setup = envsnap("git", "setup", "-C", str(module))
    assert setup.returncode == 0, setup.stderr
    marker = tmp_path / "marker"
    plant(repo, "envsnap/__main__.py", marker)  # commits the lock and .gitattributes too
    git(repo, "checkout", "-q", "-b", "theirs")
    lock.write_text(lock_with("linux-amd64"))
    commit_all(repo, "theirs")
    git(repo, "checkout", "-q", "main")
    lock.write_text(lock_with("darwin-arm64"))
    commit_all(repo, "ours")
    merged = git_run(repo, "merge", "-q", "--no-edit", "theirs")
    assert not marker.exists(), "the merge driver ran the repository's envsnap"
    assert merged.returncode == 0, merged.stdout + merged.stderr  # the driver merged it
    assert lock.read_text() == lock_with("darwin-arm64", "linux-amd64")


def test_a_module_folder_named_like_an_option_does_not_block_commits(
    tmp_path: Path, gui_env: dict[str, str]
) -> None:
    repo = init_repo(tmp_path / "repo")
    module = plain_module(repo / "-dash")
    locked = envsnap("lock", "-C", str(module), env=gui_env)
    assert locked.returncode == 0, locked.stderr
    commit_all(repo, "lock")
    install(module)
    allowed = try_commit(repo, gui_env)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert try_commit(repo, drifted(gui_env)).returncode != 0


TEAM_HOOK = "#!/bin/sh\n# the team's hook, committed\nexit 0\n"


@pytest.mark.parametrize("action", ["install", "uninstall"])
def test_a_tracked_hooks_folder_is_never_rewritten(action: str, tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    module = plain_module(repo)
    hook = repo / ".githooks" / "pre-commit"
    hook.parent.mkdir()
    hook.write_text(TEAM_HOOK)
    hook.chmod(0o755)
    git(repo, "config", "core.hooksPath", ".githooks")
    commit_all(repo, "team hooks")
    result = envsnap("hook", action, "-C", str(module))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "tracked" in lines[0] and "pre-commit framework" in lines[0]
    assert hook.read_text() == TEAM_HOOK
    assert sorted(p.name for p in hook.parent.iterdir()) == ["pre-commit"]
    assert git(repo, "status", "--porcelain") == ""


# ---------------------------------------------------------------------------------------------
# Killed at any point, install and uninstall leave a working hook: the old one or the new one.

OLD_HOOK = b"#!/bin/sh\n# the team's own hook\nexit 0\n"
KILLS = 60


def _killed_during(action: str, paths: hooks.HookPaths, script: bytes, delay: float) -> None:
    """Run install or uninstall in a forked child and SIGKILL it after *delay* seconds."""
    ready_read, ready_write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        os.close(ready_read)
        os.write(ready_write, b"x")
        try:
            if action == "install":
                hooks.install(paths, script)
            else:
                hooks.uninstall(paths)
        finally:
            os._exit(0)
    os.close(ready_write)
    os.read(ready_read, 1)
    os.close(ready_read)
    if delay:
        # a busy wait: sleep() is too coarse for sub-millisecond delays
        end = _now() + delay
        while _now() < end:
            pass
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)


def _now() -> float:
    import time

    return time.perf_counter()


def _working(paths: hooks.HookPaths, script: bytes) -> str:
    """Which complete, executable hook git finds now: "old" or "new" (anything else fails)."""
    hook = paths.hook
    assert hook.is_file() and stat.S_IMODE(hook.stat().st_mode) & stat.S_IXUSR
    data = hook.read_bytes()
    assert data in (OLD_HOOK, script), data[:200]
    if data == script:  # envsnap's hook runs the chained one first: it must be the old hook
        assert paths.chained.read_bytes() == OLD_HOOK
        assert paths.chained.stat().st_mode & stat.S_IXUSR
    return "old" if data == OLD_HOOK else "new"


def _timed_install(folder: Path, script: bytes) -> float:
    """How long one whole install takes here (the kills are spread over that time)."""
    paths = hooks.HookPaths.in_dir(folder)
    folder.mkdir()
    paths.hook.write_bytes(OLD_HOOK)
    started = _now()
    hooks.install(paths, script)
    return _now() - started


def test_a_killed_install_or_uninstall_always_leaves_a_working_hook(tmp_path: Path) -> None:
    script = hooks.hook_script("/usr/bin/python3", "svc")
    rng = random.Random(20260301)
    took = _timed_install(tmp_path / "timing", script)
    seen: dict[str, set[str]] = {"install": set(), "uninstall": set()}
    for round_ in range(KILLS):
        paths = hooks.HookPaths.in_dir(tmp_path / f"hooks-{round_}")
        paths.hook.parent.mkdir()
        paths.hook.write_bytes(OLD_HOOK)
        paths.hook.chmod(0o755)
        _killed_during("install", paths, script, rng.uniform(0, took * 1.5))
        seen["install"].add(_working(paths, script))
        hooks.install(paths, script)  # a rerun finishes the job
        assert _working(paths, script) == "new"
        _killed_during("uninstall", paths, script, rng.uniform(0, took))
        seen["uninstall"].add(_working(paths, script))
        hooks.uninstall(paths)
        assert _working(paths, script) == "old"
        assert not os.path.lexists(paths.chained)
    # the kills landed both before and after the switch, in each direction; on a loaded machine
    # the random delays may all fall on one side, so the missing side is then aimed at
    for action, before in (("install", "old"), ("uninstall", "new")):
        scale = 1.0
        for round_ in range(40):
            if seen[action] == {"old", "new"}:
                break
            scale = scale * 2 if seen[action] == {before} else scale / 2
            seen[action].add(
                _kill_once(tmp_path / f"aim-{action}-{round_}", action, script, took * scale)
            )
    assert seen == {"install": {"old", "new"}, "uninstall": {"old", "new"}}


def _kill_once(folder: Path, action: str, script: bytes, delay: float) -> str:
    """The hook git finds after *action* is killed *delay* seconds in (install starts from the
    old hook, uninstall from envsnap's)."""
    paths = hooks.HookPaths.in_dir(folder)
    folder.mkdir()
    paths.hook.write_bytes(OLD_HOOK)
    paths.hook.chmod(0o755)
    if action == "uninstall":
        hooks.install(paths, script)
    _killed_during(action, paths, script, delay)
    return _working(paths, script)
