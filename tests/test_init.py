"""`envsnap init` and what `lock` says: a module set up in one step, safe to run twice, and a
lock that tells what it locked and, on a re-lock or `--check`, what changed."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.conftest import envsnap, write_module
from tests.test_git_repo import git, init_repo


def _state(paths: list[Path]) -> dict[str, tuple[bytes, int, int]]:
    """Bytes, inode and mtime of each file: a second run that rewrote one changes it."""
    state = {}
    for path in paths:
        info = path.stat()
        state[str(path)] = (path.read_bytes(), info.st_ino, info.st_mtime_ns)
    return state


def test_init_in_a_fresh_git_module_sets_everything_up_and_says_what_to_commit(
    cgo_module: Path,
) -> None:
    init_repo(cgo_module)
    result = envsnap("init", "--direnv", "-C", str(cgo_module))
    assert result.returncode == 0, result.stderr
    lock, envrc = cgo_module / "envsnap.lock", cgo_module / ".envrc"
    hook = cgo_module / ".git" / "hooks" / "pre-commit"
    assert lock.is_file() and envrc.is_file() and os.access(hook, os.X_OK)
    assert "merge=envsnap" in (cgo_module / ".gitattributes").read_text()
    assert "merge-driver" in git(cgo_module, "config", "--local", "merge.envsnap.driver")
    assert re.search(
        r"locked linux-\w+: go1\.\d+\S*, gcc \d+\.\d+\.\d+, 2 cgo packages", result.stderr
    )
    assert "2 libraries (m, zlib " in result.stderr
    said = result.stderr.splitlines()[-1]
    assert said.startswith("envsnap: commit ")
    for name in ("envsnap.lock", ".envrc", ".gitattributes"):
        assert name in said, said
    verified = envsnap("verify", "--strict", "-C", str(cgo_module))
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_init_run_twice_changes_nothing(cgo_module: Path) -> None:
    init_repo(cgo_module)
    assert envsnap("init", "--direnv", "-C", str(cgo_module)).returncode == 0
    files = [
        cgo_module / "envsnap.lock",
        cgo_module / ".envrc",
        cgo_module / ".gitattributes",
        cgo_module / ".git" / "hooks" / "pre-commit",
        cgo_module / ".git" / "config",
    ]
    before = _state(files)
    again = envsnap("init", "--direnv", "-C", str(cgo_module))
    assert again.returncode == 0, again.stderr
    assert _state(files) == before
    assert "up to date" in again.stderr and "already installed" in again.stderr
    git(cgo_module, "add", "-A")
    git(cgo_module, "commit", "-q", "-m", "envsnap")  # the installed hook runs verify: clean
    third = envsnap("init", "--direnv", "-C", str(cgo_module))
    assert third.stderr.splitlines()[-1] == (
        "envsnap: nothing to commit: the lock and its setup are committed"
    )


def test_init_outside_git_locks_and_says_how_to_get_the_rest(cgo_module: Path) -> None:
    result = envsnap("init", "-C", str(cgo_module))
    assert result.returncode == 0, result.stderr
    assert (cgo_module / "envsnap.lock").is_file()
    assert "not in a git repository" in result.stderr and "git init" in result.stderr
    assert not (cgo_module / ".gitattributes").exists()


def test_init_stops_when_the_lock_cannot_be_taken(cgo_module: Path) -> None:
    init_repo(cgo_module)
    env = {**os.environ, "CC": "nosuchcc-envsnap"}
    result = envsnap("init", "-C", str(cgo_module), env=env)
    assert result.returncode != 0
    assert not (cgo_module / ".git" / "hooks" / "pre-commit").exists()
    assert "Traceback" not in result.stderr


def test_relock_and_check_say_what_changed_in_verifys_words(cgo_module: Path) -> None:
    assert envsnap("lock", "-C", str(cgo_module)).returncode == 0
    env = {**os.environ, "CGO_CFLAGS": "-O2 -g -DRELEASE=1"}
    check = envsnap("lock", "--check", "-C", str(cgo_module), env=env)
    assert check.returncode == 1
    assert "changed: CGO_CFLAGS (go env): added -DRELEASE=1" in check.stderr
    relock = envsnap("lock", "-C", str(cgo_module), env=env)
    assert relock.returncode == 0
    assert "changed: CGO_CFLAGS (go env): added -DRELEASE=1" in relock.stderr


def test_a_module_without_cgo_is_locked_and_said_to_have_none(tmp_path: Path) -> None:
    from tests.conftest import require_tool

    require_tool("go")
    module = write_module(tmp_path / "pure", {"main.go": "package main\n\nfunc main() {}\n"})
    result = envsnap("lock", "-C", str(module))
    assert result.returncode == 0, result.stderr
    assert "no cgo package: the module builds without C" in result.stderr
